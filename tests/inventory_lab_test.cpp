// The identity inventory end to end on the lab: the real `cordon serve` with
// the lab's three connectors as `cordon lab config` prints them and the
// shipped defaults, synced through `cordon inventory sync --wait`, read
// through the REST API and checked against what each provider holds, read
// directly (the DC over LDAPS as its Administrator, the Okta and Graph
// emulators with their administrators' credentials).
//
// A staff user is in AD, in Entra ID (synced: onPremisesSecurityIdentifier is
// the objectSid) and in Okta (login = the UPN): one identity with three
// accounts, found by any of its names and ids. Cloud-only and Okta-only users
// are people of their own. An action refreshes its account in the inventory
// without a sync. Each test leaves the users it touched as it found them.
#include <openssl/sha.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/ad_probe.h"
#include "support/emulator_admin.h"
#include "support/lab_info.h"
#include "support/test_server.h"

namespace cordon::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// The contract's identity id of an anchor account, computed here from its
// words (SHA-256 of "provider:id", first 16 bytes, version 5 and variant bits).
std::string IdentityIdOf(const std::string& provider, const std::string& account_id) {
  const std::string name = provider + ":" + account_id;
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(name.data()), name.size(), d);
  d[6] = static_cast<unsigned char>((d[6] & 0x0f) | 0x50);
  d[8] = static_cast<unsigned char>((d[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", d[0], d[1],
                d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15]);
  return out;
}

// The account of `provider` in an identity (null if none).
json AccountAt(const json& identity, const std::string& provider) {
  for (const json& a : identity.value("accounts", json::array()))
    if (StringAt(a, "provider") == provider) return a;
  return json();
}

class InventoryLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    okta_.ResetToDefaults();
    graph_.ResetToDefaults();
    const std::string okta = LabOktaSection(lab_), entra = LabEntraSection(lab_);
    ASSERT_FALSE(okta.empty() || entra.empty()) << "cordon lab config printed no [connectors.okta] or [connectors.entra]";
    auto server = TestServer::Create({.connectors_toml = LabAdSection(lab_) + "\n" + okta + "\n" + entra});
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = std::move(*server);
    ASSERT_TRUE(server_->Token("security_operator").has_value());
    auto started = server_->Start();
    ASSERT_TRUE(started.has_value()) << started.error().message;
    client_ = server_->Client("security_operator");
    // The server syncs at start; this joins that sync and waits for its end.
    auto synced = server_->SyncInventory();
    ASSERT_TRUE(synced.has_value()) << synced.error().message;
  }
  void TearDown() override {
    for (const std::string& sam : ad_touched_) EXPECT_TRUE(probe_->ResetUser(sam).has_value()) << sam;
    for (const std::string& upn : entra_touched_) graph_.Restore(upn);
    for (const std::string& login : okta_touched_) okta_.EnsureActive(login);
  }

  // Every identity `q` finds (up to 100).
  std::vector<json> Search(const std::string& q) {
    auto r = client_->Get("/api/v1/identities?limit=100&q=" + FormEncode(q));
    EXPECT_TRUE(r.has_value() && r->status == 200) << q;
    if (!r || r->status != 200) return {};
    return r->body.value("value", json::array()).get<std::vector<json>>();
  }
  // The ids of the identities `q` finds.
  std::set<std::string> Found(const std::string& q) {
    std::set<std::string> ids;
    for (const json& identity : Search(q)) ids.insert(StringAt(identity, "id"));
    return ids;
  }
  json Identity(const std::string& id) {
    auto r = client_->Get("/api/v1/identities/" + id);
    EXPECT_TRUE(r.has_value() && r->status == 200) << id;
    return r && r->status == 200 ? r->body : json();
  }
  // The one identity found by `q` (an exact login, UPN or id); null otherwise.
  json Only(const std::string& q) {
    const std::vector<json> found = Search(q);
    EXPECT_EQ(found.size(), 1u) << q;
    return found.size() == 1 ? Identity(StringAt(found[0], "id")) : json();
  }
  // When `provider`'s last sync began (to show that none ran in between).
  std::string LastSyncStart(const std::string& provider) {
    auto r = client_->Get("/api/v1/inventory");
    if (!r || r->status != 200) return "?";
    for (const json& run : r->body.value("providers", json::array()))
      if (StringAt(run, "provider") == provider) return StringAt(run, "startedAt");
    return "";
  }
  // Polls the identity until its `provider` account has `status`.
  json WaitForStatus(const std::string& id, const std::string& provider, const std::string& status) {
    json identity;
    for (int i = 0; i < 300; ++i) {
      identity = Identity(id);
      if (StringAt(AccountAt(identity, provider), "status") == status) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return identity;
  }
  json Run(const std::string& action, const std::string& provider, const std::string& account) {
    const std::string id = SubmitAction(*client_, action, account, "inventory lab test", provider);
    EXPECT_FALSE(id.empty()) << action << " " << account;
    return id.empty() ? json() : WaitForAction(*client_, id, IsFinished, seconds(120));
  }
  json Undo(const std::string& action_id) {
    auto r = client_->Post("/api/v1/actions/" + action_id + "/undo", json{{"reason", "false positive"}});
    EXPECT_TRUE(r.has_value() && r->status == 202) << (r ? r->body.dump() : r.error().message);
    const std::string id = r ? StringAt(r->body, "id") : "";
    return id.empty() ? json() : WaitForAction(*client_, id, IsFinished, seconds(120));
  }

  const LabInfo& lab_ = TheLab();
  std::optional<AdProbe> probe_ = [this]() -> std::optional<AdProbe> {
    auto p = AdProbe::ConnectAsAdmin(lab_);
    if (!p) throw std::runtime_error(p.error().message);
    return std::move(*p);
  }();
  OktaAdmin okta_{lab_};
  GraphAdmin graph_{lab_};
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<cli::ApiClient> client_;
  std::set<std::string> ad_touched_, entra_touched_, okta_touched_;
};

TEST_F(InventoryLabTest, AHybridPersonIsOneIdentityWithThreeAccountsFoundByEachNameAndId) {
  const std::string sam = lab_.staff_users.at(13), upn = lab_.Upn(sam);
  auto ad = probe_->ReadUser(sam);
  ASSERT_TRUE(ad.has_value()) << ad.error().message;
  const json entra = graph_.User(upn);
  const json okta = okta_.User(upn);
  ASSERT_FALSE(ad->sid.empty());
  ASSERT_EQ(StringAt(entra, "onPremisesSecurityIdentifier"), ad->sid) << "the lab syncs the SID to Entra ID";
  ASSERT_EQ(StringAt(okta["profile"], "login"), upn) << "the lab's Okta login is the UPN";

  const json person = Only(upn);
  ASSERT_TRUE(person.is_object());
  // Anchored on the AD account: its id, name and domain.
  EXPECT_EQ(StringAt(person, "id"), IdentityIdOf("ad", ad->guid));
  EXPECT_EQ(StringAt(person, "displayName"), StringAt(entra, "displayName"));
  EXPECT_EQ(StringAt(person, "domain"), "corp.example.test");
  ASSERT_EQ(person["accounts"].size(), 3u) << person.dump();

  const json a = AccountAt(person, "ad"), e = AccountAt(person, "entra"), o = AccountAt(person, "okta");
  EXPECT_EQ(StringAt(a, "id"), ad->guid);
  EXPECT_EQ(StringAt(a, "login"), sam);
  EXPECT_EQ(StringAt(a, "upn"), upn);
  EXPECT_EQ(StringAt(a, "sid"), ad->sid);
  EXPECT_EQ(StringAt(a, "status"), "enabled");
  EXPECT_FALSE(a.value("adminProtected", true));
  EXPECT_EQ(StringAt(e, "id"), StringAt(entra, "id"));
  EXPECT_EQ(StringAt(e, "login"), upn);
  EXPECT_EQ(StringAt(e, "sid"), ad->sid);
  EXPECT_TRUE(e.value("syncedFromAd", false));
  EXPECT_EQ(StringAt(e, "status"), "enabled");
  EXPECT_EQ(StringAt(o, "id"), StringAt(okta, "id"));
  EXPECT_EQ(StringAt(o, "login"), upn);
  EXPECT_EQ(StringAt(o, "providerStatus"), "ACTIVE");
  EXPECT_EQ(StringAt(o, "status"), "enabled");

  // Found by a word of the name, the whole name, the UPN, the login, the SID and each provider's id.
  const std::string id = StringAt(person, "id"), name = StringAt(person, "displayName");
  for (const std::string& q : {name.substr(0, name.find(' ')), name, upn, sam, ad->sid, ad->guid,
                               StringAt(entra, "id"), StringAt(okta, "id")})
    EXPECT_TRUE(Found(q).count(id)) << "searching for " << q;
  for (const std::string& q : {upn, sam, ad->sid, ad->guid, StringAt(entra, "id"), StringAt(okta, "id")})
    EXPECT_EQ(Found(q).size(), 1u) << q << " finds this person only";
}

TEST_F(InventoryLabTest, CloudOnlyAndOktaOnlyUsersArePeopleOfTheirOwn) {
  const json cloud = Only("chloe.cloudonly@corp.example.test");
  ASSERT_EQ(cloud.value("accounts", json::array()).size(), 1u) << cloud.dump();
  const json e = AccountAt(cloud, "entra");
  EXPECT_EQ(StringAt(e, "id"), StringAt(graph_.User("chloe.cloudonly@corp.example.test"), "id"));
  EXPECT_EQ(StringAt(e, "sid"), "");
  EXPECT_FALSE(e.value("syncedFromAd", true));
  EXPECT_EQ(StringAt(cloud, "id"), IdentityIdOf("entra", StringAt(e, "id"))) << "anchored on its Entra account";

  const json okta_only = Only("olga.oktaonly@corp.example.test");
  ASSERT_EQ(okta_only.value("accounts", json::array()).size(), 1u) << okta_only.dump();
  const json o = AccountAt(okta_only, "okta");
  EXPECT_EQ(StringAt(o, "id"), StringAt(okta_.User("olga.oktaonly@corp.example.test"), "id"));
  EXPECT_EQ(StringAt(okta_only, "id"), IdentityIdOf("okta", StringAt(o, "id")));

  const json guest = Only("gary.guest");
  EXPECT_TRUE(AccountAt(guest, "entra").value("guest", false)) << guest.dump();
}

TEST_F(InventoryLabTest, EachAccountShowsItsProvidersState) {
  // Okta's seeded users, one per status.
  for (const auto& [login, status, okta_status] :
       std::vector<std::tuple<std::string, std::string, std::string>>{{"susan.suspended", "suspended", "SUSPENDED"},
                                                                      {"dirk.deprovisioned", "deactivated", "DEPROVISIONED"},
                                                                      {"stella.staged", "other", "STAGED"},
                                                                      {"larry.locked", "other", "LOCKED_OUT"}}) {
    const std::string upn = login + "@corp.example.test";
    ASSERT_EQ(okta_.Status(upn), okta_status) << upn;
    const json o = AccountAt(Only(upn), "okta");
    EXPECT_EQ(StringAt(o, "status"), status) << upn;
    EXPECT_EQ(StringAt(o, "providerStatus"), okta_status) << upn;
  }
  // An administrator protected by AdminSDHolder.
  EXPECT_TRUE(AccountAt(Only("dana.admin"), "ad").value("adminProtected", false));

  // Disabled in AD and in Entra ID by their administrators: the next sync shows it.
  const std::string sam = lab_.staff_users.at(14), upn = lab_.Upn(sam);
  ad_touched_.insert(sam);
  entra_touched_.insert(upn);
  ASSERT_TRUE(probe_->SetDisabled(sam, true).has_value());
  const json entra = graph_.User(upn);
  ASSERT_EQ(graph_.Send("PATCH", "/v1.0/users/" + StringAt(entra, "id"), R"({"accountEnabled":false})").status, 204);
  const std::string before = StringAt(AccountAt(Only(upn), "ad"), "status");
  EXPECT_EQ(before, "enabled") << "not before a sync";
  auto synced = server_->SyncInventory();
  ASSERT_TRUE(synced.has_value()) << synced.error().message;
  const json person = Only(upn);
  EXPECT_EQ(StringAt(AccountAt(person, "ad"), "status"), "disabled") << person.dump();
  EXPECT_EQ(StringAt(AccountAt(person, "entra"), "status"), "disabled") << person.dump();
  EXPECT_EQ(StringAt(AccountAt(person, "okta"), "status"), "enabled") << person.dump();
}

TEST_F(InventoryLabTest, AnActionRefreshesItsAccountWithoutASync) {
  const std::string sam = lab_.staff_users.at(13), upn = lab_.Upn(sam);
  okta_touched_.insert(upn);
  ad_touched_.insert(sam);
  const json person = Only(upn);
  const std::string id = StringAt(person, "id");
  ASSERT_EQ(StringAt(AccountAt(person, "okta"), "status"), "enabled");
  const std::string okta_sync = LastSyncStart("okta"), ad_sync = LastSyncStart("ad");

  // Okta suspend: Okta holds SUSPENDED, and the person's Okta account says so.
  const json suspend = Run("suspend", "okta", upn);
  ASSERT_EQ(StringAt(suspend, "status"), "succeeded") << suspend.dump();
  EXPECT_EQ(okta_.Status(upn), "SUSPENDED");
  json now = WaitForStatus(id, "okta", "suspended");
  EXPECT_EQ(StringAt(AccountAt(now, "okta"), "status"), "suspended") << now.dump();
  EXPECT_EQ(StringAt(AccountAt(now, "okta"), "providerStatus"), "SUSPENDED");
  EXPECT_EQ(StringAt(AccountAt(now, "ad"), "status"), "enabled") << "the other accounts are untouched";
  bool listed = false;
  for (const json& a : now.value("recentActions", json::array())) listed |= StringAt(a, "id") == StringAt(suspend, "id");
  EXPECT_TRUE(listed) << "the suspend is among the person's recent actions";

  // Its undo: ACTIVE at Okta, enabled on the person.
  const json unsuspend = Undo(StringAt(suspend, "id"));
  ASSERT_EQ(StringAt(unsuspend, "status"), "succeeded") << unsuspend.dump();
  EXPECT_EQ(okta_.Status(upn), "ACTIVE");
  now = WaitForStatus(id, "okta", "enabled");
  EXPECT_EQ(StringAt(AccountAt(now, "okta"), "status"), "enabled") << now.dump();

  // The same for an AD disable and its undo (the DC read directly).
  const json disable = Run("disable", "ad", sam);
  ASSERT_EQ(StringAt(disable, "status"), "succeeded") << disable.dump();
  EXPECT_TRUE(probe_->ReadUser(sam)->disabled());
  EXPECT_EQ(StringAt(AccountAt(WaitForStatus(id, "ad", "disabled"), "ad"), "status"), "disabled");
  const json enable = Undo(StringAt(disable, "id"));
  ASSERT_EQ(StringAt(enable, "status"), "succeeded") << enable.dump();
  EXPECT_FALSE(probe_->ReadUser(sam)->disabled());
  EXPECT_EQ(StringAt(AccountAt(WaitForStatus(id, "ad", "enabled"), "ad"), "status"), "enabled");

  // No sync ran meanwhile: the refresh after each action did it.
  EXPECT_EQ(LastSyncStart("okta"), okta_sync);
  EXPECT_EQ(LastSyncStart("ad"), ad_sync);
}

}  // namespace
}  // namespace cordon::testing
