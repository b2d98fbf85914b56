// The user page, side panel and search through the real API (HTTPS server,
// SQLite store, ActionService) over a seeded inventory: GET /api/v1/me,
// GET /api/v1/identities[/{id}] (shapes, search by name word, UPN, SID and
// provider id, paging, each role's allowed/why, what the state makes
// applicable, the warnings for synced, adminCount=1 and guest accounts, the
// recent actions), POST /api/v1/inventory/sync and GET /api/v1/inventory
// with an inventory that syncs from fake connectors; 401, 403, 404, 400s,
// and no problem document repeating what was sent.
#include <algorithm>
#include <set>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/catalogue.h"
#include "inventory/correlate.h"
#include "support/api_fixture.h"
#include "support/inventory_seed.h"

namespace cordon::api {
namespace {

using nlohmann::json;
using testing::ApiFixture;
using testing::ApiFixtureOptions;
using testing::HttpResult;
using cordon::testing::TestAccount;
using testing::TestClient;
using ::testing::HasSubstr;

constexpr const char* kAliceGuid = "6f3c2a10-0000-4000-8000-000000000001";
constexpr const char* kBobGuid = "6f3c2a10-0000-4000-8000-000000000002";
constexpr const char* kAliceSid = "S-1-5-21-3623811015-3361044348-30300820-1104";


// The people of the seeded inventory.
std::vector<AccountView> People() {
  std::vector<AccountView> out;
  out.push_back(TestAccount(Provider::kActiveDirectory, kAliceGuid, "asmith", "Alice Smith", "alice.smith@corp.example.com",
                     kAliceSid, "alice@corp.example.com"));
  AccountView alice_entra = TestAccount(Provider::kEntra, "e0000000-0000-0000-0000-000000000001", "alice.smith@corp.example.com",
                                 "Alice Smith", "alice.smith@corp.example.com", kAliceSid);
  alice_entra.synced_from_ad = true;
  alice_entra.provider_risk = "medium";
  alice_entra.identifiers["onPremisesSyncEnabled"] = "true";
  out.push_back(alice_entra);
  out.push_back(TestAccount(Provider::kOkta, "00u1", "alice.smith@corp.example.com", "Alice Smith",
                     "alice.smith@corp.example.com", "", "alice@corp.example.com"));
  AccountView bob = TestAccount(Provider::kActiveDirectory, kBobGuid, "bob.admin", "Bob Admin", "bob.admin@corp.example.com",
                         "S-1-5-21-3623811015-3361044348-30300820-500");
  bob.admin_protected = true;
  bob.status = AccountStatus::kDisabled;
  out.push_back(bob);
  AccountView gina = TestAccount(Provider::kEntra, "e0000000-0000-0000-0000-000000000007", "gina_partner.example#EXT#@corp.onmicrosoft.com",
                          "Gina Guest", "gina_partner.example#EXT#@corp.onmicrosoft.com");
  gina.guest = true;
  gina.identifiers["userType"] = "Guest";
  out.push_back(gina);
  AccountView carol = TestAccount(Provider::kOkta, "00u3", "carol@partner.example", "Carol White", "carol@partner.example");
  carol.status = AccountStatus::kOther;
  carol.identifiers["status"] = "STAGED";
  out.push_back(carol);
  for (int i = 0; i < 25; ++i) {
    const std::string n = std::to_string(10 + i);
    out.push_back(TestAccount(Provider::kOkta, "00p" + n, "person" + n + "@corp.example.com", "Person " + n,
                       "person" + n + "@corp.example.com"));
  }
  return out;
}

const std::string& AliceId() {
  static const std::string id = IdentityIdOf(Provider::kActiveDirectory, kAliceGuid);
  return id;
}
const std::string& BobId() {
  static const std::string id = IdentityIdOf(Provider::kActiveDirectory, kBobGuid);
  return id;
}
const std::string& GinaId() {
  static const std::string id = IdentityIdOf(Provider::kEntra, "e0000000-0000-0000-0000-000000000007");
  return id;
}

const json* AccountAt(const json& identity, const std::string& provider) {
  for (const json& a : identity["accounts"])
    if (a["provider"] == provider) return &a;
  return nullptr;
}

const json* ActionOf(const json& account, const std::string& action) {
  for (const json& a : account["actions"])
    if (a["action"] == action) return &a;
  return nullptr;
}

class IdentitiesApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = ApiFixture::Start();
    ASSERT_TRUE(f.has_value()) << f.error().message;
    fixture_ = std::move(*f);
    client_.emplace(fixture_->Client());
    ASSERT_TRUE(cordon::testing::SeedInventory(fixture_->inventory_store(), People()));
    reader_ = fixture_->Token(Role::kSecurityReader);
    admin_ = fixture_->Token(Role::kGlobalAdministrator);
  }
  void TearDown() override {
    client_.reset();
    fixture_.reset();
  }

  json GetOk(const std::string& target, const std::string& token) {
    HttpResult r = client_->Get(target, token);
    EXPECT_EQ(r.status, 200u) << target << ": " << r.body;
    return r.Json();
  }
  std::vector<std::string> SearchIds(const std::string& q) {
    json page = GetOk("/api/v1/identities?q=" + q, reader_);
    std::vector<std::string> ids;
    for (const json& i : page["value"]) ids.push_back(i["id"]);
    return ids;
  }
  // Succeeds an action through the store, as a worker would, with the id it resolved to.
  void SucceedAs(const std::string& action_id, const std::string& account_id) {
    auto action = fixture_->store().GetAction(action_id);
    ASSERT_TRUE(action);
    auto claimed = fixture_->store().ClaimDue(action->provider, "w", 1000, Now(), Millis(60000));
    ASSERT_TRUE(claimed);
    for (const Action& a : *claimed) {
      AttemptReport r;
      r.action_id = a.id;
      r.worker = "w";
      r.started_at = r.finished_at = Now();
      r.outcome = a.id == action_id ? AttemptOutcome::kSucceeded : AttemptOutcome::kTransientError;
      r.retry_at = Now();
      if (a.id == action_id) r.account_id = account_id;
      ASSERT_TRUE(fixture_->store().FinishAttempt(r));
    }
  }
  std::string Submit(const std::string& action, const std::string& provider, const std::string& account) {
    HttpResult r = client_->Post("/api/v1/actions",
                                 json{{"action", action}, {"provider", provider}, {"account", account}, {"reason", "ir-7"}},
                                 admin_);
    EXPECT_EQ(r.status, 202u) << r.body;
    return r.Json().value("id", "");
  }

  std::unique_ptr<ApiFixture> fixture_;
  std::optional<TestClient> client_;
  std::string reader_, admin_;
};

TEST_F(IdentitiesApiTest, MeSaysWhoAskedAndWhatTheirRoleMayRun) {
  // Written out, from the roles table (docs/architecture.md).
  const std::map<Role, size_t> may = {{Role::kSecurityReader, 0},       {Role::kResponseManager, 9},
                                      {Role::kSecurityOperator, 9},     {Role::kSecurityAdministrator, 15},
                                      {Role::kGlobalAdministrator, 18}};
  for (const auto& [role, count] : may) {
    json me = GetOk("/api/v1/me", fixture_->Token(role));
    EXPECT_EQ(me["name"], std::string(ToString(role)) + "-token");
    EXPECT_THAT(me["tokenId"].get<std::string>(), ::testing::StartsWith("tok_"));
    EXPECT_EQ(me["role"], std::string(ToString(role)));
    ASSERT_EQ(me["may"].size(), count) << ToString(role);
    size_t at = 0;
    for (const CatalogueEntry& e : Catalogue()) {
      if (!MayRun(role, e.provider, e.type)) continue;
      EXPECT_EQ(me["may"][at]["provider"], std::string(ToString(e.provider)));
      EXPECT_EQ(me["may"][at]["action"], std::string(ToString(e.type))) << "catalogue order";
      ++at;
    }
    EXPECT_EQ(me["providers"], json::array({"ad", "entra", "okta"}));
  }
  json response = GetOk("/api/v1/me", fixture_->Token(Role::kResponseManager));
  EXPECT_EQ(response["may"][0], (json{{"provider", "ad"}, {"action", "disable"}}));
}

TEST_F(IdentitiesApiTest, ListingAndSearchGiveSummariesByNameWordUpnSidAndProviderId) {
  json page = GetOk("/api/v1/identities", reader_);
  ASSERT_EQ(page["value"].size(), 20u) << "the default page";
  EXPECT_TRUE(page["nextCursor"].is_string());
  const json& first = page["value"][0];
  EXPECT_EQ(first["displayName"], "Alice Smith") << "by display name";
  EXPECT_EQ(first["id"], AliceId());
  EXPECT_EQ(first["domain"], "corp.example.com");
  EXPECT_TRUE(first["riskLevel"].is_null());
  ASSERT_EQ(first["accounts"].size(), 3u);
  EXPECT_EQ(first["accounts"][0],
            (json{{"provider", "ad"}, {"id", kAliceGuid}, {"login", "asmith"}, {"displayName", "Alice Smith"},
                  {"status", "enabled"}, {"providerStatus", nullptr}}));
  EXPECT_EQ(first["accounts"][1]["provider"], "entra");
  EXPECT_EQ(first["accounts"][2]["provider"], "okta");

  EXPECT_EQ(SearchIds("smi"), std::vector<std::string>{AliceId()}) << "a word of the name";
  EXPECT_EQ(SearchIds("Alice%20Sm"), std::vector<std::string>{AliceId()}) << "the whole name";
  EXPECT_EQ(SearchIds("alice.smith%40corp"), std::vector<std::string>{AliceId()}) << "the UPN";
  EXPECT_EQ(SearchIds(kAliceSid), std::vector<std::string>{AliceId()}) << "the SID";
  EXPECT_EQ(SearchIds("00U1"), std::vector<std::string>{AliceId()}) << "the Okta id";
  EXPECT_EQ(SearchIds("e0000000-0000-0000-0000-000000000007"), std::vector<std::string>{GinaId()}) << "the Entra id";
  EXPECT_EQ(SearchIds("bob.ad"), std::vector<std::string>{BobId()}) << "the sAMAccountName";
  EXPECT_TRUE(SearchIds("nobody").empty());

  json carol = GetOk("/api/v1/identities?q=carol", reader_);
  ASSERT_EQ(carol["value"].size(), 1u);
  EXPECT_EQ(carol["value"][0]["accounts"][0]["status"], "other");
  EXPECT_EQ(carol["value"][0]["accounts"][0]["providerStatus"], "STAGED");
  EXPECT_TRUE(carol["nextCursor"].is_null());
}

TEST_F(IdentitiesApiTest, PagesFollowTheCursorThroughEveryIdentityOnce) {
  std::vector<std::string> seen;
  std::string target = "/api/v1/identities?limit=7";
  for (int pages = 0; pages < 20; ++pages) {
    json page = GetOk(target, reader_);
    EXPECT_LE(page["value"].size(), 7u);
    for (const json& i : page["value"]) seen.push_back(i["displayName"]);
    if (page["nextCursor"].is_null()) break;
    target = "/api/v1/identities?limit=7&cursor=" + page["nextCursor"].get<std::string>();
  }
  EXPECT_EQ(seen.size(), 29u) << "Alice (three accounts, one person), Bob, Gina, Carol and 25 people";
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size());
  json person = GetOk("/api/v1/identities?q=person&limit=100", reader_);
  EXPECT_EQ(person["value"].size(), 25u);
}

TEST_F(IdentitiesApiTest, TheUserPageShowsEveryAccountWithWhatEachRoleMayDoAndWhatItWouldDo) {
  json alice = GetOk("/api/v1/identities/" + AliceId(), fixture_->Token(Role::kResponseManager));
  EXPECT_EQ(alice["id"], AliceId());
  EXPECT_EQ(alice["displayName"], "Alice Smith");
  EXPECT_EQ(alice["domain"], "corp.example.com");
  EXPECT_TRUE(alice["riskLevel"].is_null());
  EXPECT_TRUE(alice["recentActions"].is_array());
  ASSERT_EQ(alice["accounts"].size(), 3u);
  const json& ad = alice["accounts"][0];
  for (const char* field : {"provider", "id", "login", "displayName", "upn", "sid", "mail", "status", "providerStatus",
                            "mustChangePassword", "providerRisk", "riskLevel", "adminProtected", "syncedFromAd", "guest",
                            "identifiers", "seenAt", "actions"})
    EXPECT_TRUE(ad.contains(field)) << field;
  EXPECT_EQ(ad["sid"], kAliceSid);
  EXPECT_EQ(ad["upn"], "alice.smith@corp.example.com");
  EXPECT_EQ(ad["mail"], "alice@corp.example.com");
  EXPECT_EQ(ad["identifiers"]["dn"], "CN=Alice Smith,OU=Staff,DC=corp,DC=example,DC=com");
  EXPECT_TRUE(ParseTime(ad["seenAt"].get<std::string>()).has_value());
  EXPECT_TRUE(ad["providerRisk"].is_null());
  const json& entra = alice["accounts"][1];
  EXPECT_EQ(entra["providerRisk"], "medium");
  EXPECT_EQ(entra["syncedFromAd"], true);

  // Every action the catalogue offers at the provider, in its order.
  std::vector<std::string> ad_actions;
  for (const json& a : ad["actions"]) ad_actions.push_back(a["action"]);
  EXPECT_EQ(ad_actions, (std::vector<std::string>{"disable", "enable", "force_password_reset", "clear_password_reset",
                                                  "mark_compromised", "dismiss_risk"}));
  const json* disable = ActionOf(ad, "disable");
  ASSERT_NE(disable, nullptr);
  EXPECT_EQ((*disable)["allowed"], true);
  EXPECT_TRUE((*disable)["why"].is_null());
  EXPECT_EQ((*disable)["applicable"], true);
  EXPECT_EQ((*disable)["warnings"], json::array());
  EXPECT_EQ((*disable)["alsoOnPrem"], false);
  EXPECT_EQ((*disable)["undo"], (json{{"action", "enable"}, {"limits", nullptr}}));
  EXPECT_THAT((*disable)["summary"].get<std::string>(), HasSubstr("Alice Smith (asmith)"));
  EXPECT_THAT((*disable)["summary"].get<std::string>(), HasSubstr("Active Directory"));
  EXPECT_EQ((*ActionOf(ad, "enable"))["applicable"], false) << "enabling an enabled account changes nothing";
  const json* mark = ActionOf(ad, "mark_compromised");
  EXPECT_EQ((*mark)["allowed"], false);
  EXPECT_EQ((*mark)["why"], "your role (response_manager) may not mark_compromised at ad");

  // A synced Entra user: the sync reverts a cloud-only suspend; its AD account is in the identity.
  const json* suspend = ActionOf(entra, "suspend");
  ASSERT_NE(suspend, nullptr);
  EXPECT_EQ((*suspend)["allowed"], false) << "Global Administrator only";
  EXPECT_EQ((*suspend)["alsoOnPrem"], true);
  ASSERT_EQ((*suspend)["warnings"].size(), 1u);
  EXPECT_THAT((*suspend)["warnings"][0].get<std::string>(), HasSubstr("directory sync"));
  EXPECT_THAT((*suspend)["summary"].get<std::string>(), HasSubstr("With alsoOnPrem"));
  EXPECT_THAT((*suspend)["summary"].get<std::string>(), HasSubstr("asmith"));
  EXPECT_TRUE((*ActionOf(entra, "revoke_sessions"))["undo"].is_null()) << "irreversible";
  EXPECT_EQ((*ActionOf(entra, "dismiss_risk"))["applicable"], true) << "Entra holds a risk";
  const json& okta = alice["accounts"][2];
  const json* deactivate = ActionOf(okta, "deactivate");
  ASSERT_NE(deactivate, nullptr);
  EXPECT_THAT((*deactivate)["undo"]["limits"].get<std::string>(), HasSubstr("new activation"));

  // Each role sees its own allowed/why.
  for (Role role : kAllRoles) {
    json page = GetOk("/api/v1/identities/" + AliceId(), fixture_->Token(role));
    for (const json& account : page["accounts"])
      for (const json& a : account["actions"]) {
        const bool allowed = MayRun(role, *ParseProvider(account["provider"].get<std::string>()),
                                    *ParseActionType(a["action"].get<std::string>()));
        EXPECT_EQ(a["allowed"], allowed) << ToString(role) << " " << a["action"];
        EXPECT_EQ(a["why"].is_null(), allowed);
      }
  }
}

TEST_F(IdentitiesApiTest, WarningsSayWhatAnAnalystMustKnowBeforeActing) {
  json bob = GetOk("/api/v1/identities/" + BobId(), admin_);
  const json* ad = AccountAt(bob, "ad");
  ASSERT_NE(ad, nullptr);
  EXPECT_EQ((*ad)["adminProtected"], true);
  const json* enable = ActionOf(*ad, "enable");
  EXPECT_EQ((*enable)["applicable"], true) << "Bob is disabled";
  EXPECT_EQ((*ActionOf(*ad, "disable"))["applicable"], false);
  ASSERT_EQ((*enable)["warnings"].size(), 1u);
  EXPECT_THAT((*enable)["warnings"][0].get<std::string>(), HasSubstr("AdminSDHolder"));
  EXPECT_EQ((*ActionOf(*ad, "mark_compromised"))["warnings"], json::array()) << "Cordon-only: nothing at the DC";

  json gina = GetOk("/api/v1/identities/" + GinaId(), admin_);
  const json* entra = AccountAt(gina, "entra");
  ASSERT_NE(entra, nullptr);
  EXPECT_EQ((*entra)["guest"], true);
  const json* revoke = ActionOf(*entra, "revoke_sessions");
  ASSERT_EQ((*revoke)["warnings"].size(), 1u);
  EXPECT_THAT((*revoke)["warnings"][0].get<std::string>(), HasSubstr("home tenant"));
  EXPECT_EQ((*ActionOf(*entra, "suspend"))["alsoOnPrem"], false) << "not synced";
}

TEST_F(IdentitiesApiTest, RecentActionsAreThoseOnAnyOfTheIdentitysAccountsAndRiskShows) {
  const std::string by_login = Submit("disable", "ad", "ASMITH");
  const std::string by_upn = Submit("suspend", "okta", "alice.smith@corp.example.com");
  const std::string mark = Submit("mark_compromised", "ad", "asmith");
  Submit("disable", "ad", "bob.admin");
  Submit("suspend", "entra", "asmith");  // the login, but at another provider
  SucceedAs(mark, kAliceGuid);
  json alice = GetOk("/api/v1/identities/" + AliceId(), reader_);
  std::vector<std::string> recent;
  for (const json& a : alice["recentActions"]) {
    recent.push_back(a["id"]);
    EXPECT_FALSE(a.contains("attempts"));
    EXPECT_FALSE(a.contains("audit"));
  }
  EXPECT_EQ(recent, (std::vector<std::string>{mark, by_upn, by_login})) << "newest first";
  EXPECT_EQ(alice["riskLevel"], "high");
  EXPECT_EQ((*AccountAt(alice, "ad"))["riskLevel"], "high");
  EXPECT_TRUE((*AccountAt(alice, "okta"))["riskLevel"].is_null());
  EXPECT_EQ((*ActionOf(*AccountAt(alice, "ad"), "mark_compromised"))["applicable"], false);
  EXPECT_EQ((*ActionOf(*AccountAt(alice, "ad"), "dismiss_risk"))["applicable"], true);
  json listed = GetOk("/api/v1/identities?q=alice", reader_);
  EXPECT_EQ(listed["value"][0]["riskLevel"], "high");
}

TEST_F(IdentitiesApiTest, UnknownIdentitiesAre404AndBadQueries400WithoutEchoingThem) {
  const std::string unknown = IdentityIdOf(Provider::kOkta, "00u404");
  for (const std::string& target : {"/api/v1/identities/" + unknown, std::string("/api/v1/identities/x%3Cscript%3E"),
                                    std::string("/api/v1/identities/"), "/api/v1/identities/" + AliceId() + "/x"}) {
    HttpResult r = client_->Get(target, reader_);
    EXPECT_EQ(r.status, 404u) << target;
    EXPECT_THAT(r.body, HasSubstr("no identity has this id")) << target;
    EXPECT_EQ(r.body.find("<script>"), std::string::npos);
  }
  for (const std::string& query : std::vector<std::string>{"limit=0", "limit=101", "limit=ten", "cursor=", "cursor=zz-not-ours",
                                   "sneaky=1", "q=%01evil", "q=" + std::string(300, 'a')}) {
    HttpResult r = client_->Get("/api/v1/identities?" + query, reader_);
    EXPECT_EQ(r.status, 400u) << query << ": " << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json");
    EXPECT_EQ(r.body.find("sneaky"), std::string::npos);
    EXPECT_EQ(r.body.find("zz-not-ours"), std::string::npos);
    EXPECT_EQ(r.body.find("evil"), std::string::npos);
  }
  EXPECT_EQ(client_->Get("/api/v1/identities/" + AliceId() + "?x=1", reader_).status, 400u);
  EXPECT_EQ(client_->Get("/api/v1/me?x=1", reader_).status, 400u);
  EXPECT_EQ(client_->Get("/api/v1/identities?q=", reader_).status, 200u) << "an empty search is everyone";
}

TEST_F(IdentitiesApiTest, EveryRouteNeedsAToken) {
  for (const std::string& target : {std::string("/api/v1/me"), std::string("/api/v1/identities"),
                                    "/api/v1/identities/" + AliceId(), std::string("/api/v1/inventory")}) {
    HttpResult r = client_->Get(target, "");
    EXPECT_EQ(r.status, 401u) << target;
    EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"cordon\"");
    EXPECT_EQ(client_->Get(target, "cdn_not-a-token").status, 401u) << target;
  }
  EXPECT_EQ(client_->Post("/api/v1/inventory/sync", json::object(), "").status, 401u);
  EXPECT_EQ(client_->Post("/api/v1/identities", json::object(), reader_).status, 405u);
  EXPECT_EQ(client_->Get("/api/v1/inventory/sync", reader_).status, 405u);
}

// The inventory's own state, and a sync asked for through the API, with a
// server whose inventory lists from fake connectors.
class FakeListing final : public Connector {
 public:
  explicit FakeListing(Provider p) : provider_(p) {}
  Provider provider() const override { return provider_; }
  bool Supports(ActionType) const override { return false; }
  Result<ExecutionOutcome> Execute(const Action&, const ExecutionContext&) override {
    return Fail(Error::Internal("not here"));
  }
  Status Probe(const ExecutionContext&) override { return {}; }
  Result<AccountView> Lookup(const std::string&) override { return Fail(Error::NotFound("no")); }
  Status ListAccounts(const ExecutionContext& context,
                      const std::function<Status(std::vector<AccountView>&&)>& page) override {
    if (auto paced = context.Pace(); !paced) return paced;
    std::vector<AccountView> mine;
    for (const AccountView& a : People())
      if (a.provider == provider_) mine.push_back(a);
    return page(std::move(mine));
  }

 private:
  Provider provider_;
};

TEST(InventoryApiTest, ASyncIsAskedForByAnyoneWhoActsAndItsStateIsShown) {
  ApiFixtureOptions options;
  for (Provider p : {Provider::kActiveDirectory, Provider::kOkta})
    options.inventory_connectors[p] = [p]() -> Result<std::unique_ptr<Connector>> {
      return std::unique_ptr<Connector>(new FakeListing(p));
    };
  auto f = ApiFixture::Start(options);
  ASSERT_TRUE(f.has_value()) << f.error().message;
  std::unique_ptr<ApiFixture> fixture = std::move(*f);
  TestClient client = fixture->Client();
  const std::string reader = fixture->Token(Role::kSecurityReader);
  const std::string manager = fixture->Token(Role::kResponseManager);

  HttpResult refused = client.Post("/api/v1/inventory/sync", json::object(), reader);
  EXPECT_EQ(refused.status, 403u) << refused.body;
  EXPECT_THAT(refused.body, HasSubstr("security_reader"));
  EXPECT_EQ(client.Post("/api/v1/inventory/sync", json{{"provider", "nope"}}, manager).status, 422u);
  EXPECT_EQ(client.Post("/api/v1/inventory/sync", json{{"provider", "entra"}}, manager).status, 400u)
      << "not configured";
  EXPECT_EQ(client.Post("/api/v1/inventory/sync", json{{"provider", 1}}, manager).status, 400u);
  HttpResult unknown = client.Post("/api/v1/inventory/sync", json{{"providr", "ad"}}, manager);
  EXPECT_EQ(unknown.status, 400u);
  EXPECT_EQ(unknown.body.find("providr"), std::string::npos);

  HttpResult asked = client.Post("/api/v1/inventory/sync", json{{"provider", "okta"}}, manager);
  ASSERT_EQ(asked.status, 202u) << asked.body;
  const json runs = asked.Json();
  ASSERT_EQ(runs["value"].size(), 1u);
  EXPECT_EQ(runs["value"][0]["provider"], "okta");
  EXPECT_EQ(runs["value"][0]["state"], "running");
  EXPECT_TRUE(runs["value"][0]["finishedAt"].is_null());
  EXPECT_TRUE(runs["value"][0]["nextAt"].is_null()) << "syncs on demand only";
  HttpResult all = client.Post("/api/v1/inventory/sync", json::object(), manager);
  ASSERT_EQ(all.status, 202u);
  EXPECT_EQ(all.Json()["value"].size(), 2u);

  // Wait until both are idle again (each ran at least once).
  json state;
  for (int i = 0; i < 500; ++i) {
    HttpResult r = client.Get("/api/v1/inventory", reader);
    ASSERT_EQ(r.status, 200u) << r.body;
    state = r.Json();
    bool idle = true;
    for (const json& p : state["providers"]) idle &= p["state"] == "idle" && p["finishedAt"].is_string();
    if (idle) break;
    std::this_thread::sleep_for(Millis(20));
  }
  ASSERT_EQ(state["providers"].size(), 2u);
  for (const json& p : state["providers"]) {
    EXPECT_EQ(p["state"], "idle");
    EXPECT_TRUE(p["error"].is_null()) << p;
    EXPECT_TRUE(ParseTime(p["startedAt"].get<std::string>()).has_value());
  }
  EXPECT_EQ(state["providers"][0]["provider"], "ad");
  EXPECT_EQ(state["providers"][0]["accounts"], 2);
  EXPECT_EQ(state["providers"][1]["accounts"], 27);
  EXPECT_EQ(state["accounts"], 29);
  // Alice's AD and Okta accounts are one person; Bob; Carol; 25 people.
  EXPECT_EQ(state["identities"], 28);
  HttpResult found = client.Get("/api/v1/identities?q=alice", reader);
  ASSERT_EQ(found.status, 200u);
  ASSERT_EQ(found.Json()["value"].size(), 1u);
  EXPECT_EQ(found.Json()["value"][0]["accounts"].size(), 2u);
}

}  // namespace
}  // namespace cordon::api
