// The inventory's listings on the running lab: each provider's connector,
// loaded through the registry from the sections `cordon lab config` prints
// (as `cordon serve` would load them, shipped defaults), lists every account
// page by page, and what it shows is checked against the lab's own facts as
// an administrator reads them — the DC over LDAPS (AdProbe), the Graph
// emulator with the lab app's secret, the Okta emulator with its SSWS token —
// never through Cordon.
//
// Each test leaves the emulators' settings at their defaults. What it seeds
// as an administrator would: 201 deactivated Okta users (deleted again at the
// end), one Entra ID user whose display name is markup (kept: Graph's create
// is idempotent here, an existing user is reused), one Entra ID user
// confirmed compromised (dismissed at the end).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "connectors/registry.h"
#include "support/ad_probe.h"
#include "support/lab_info.h"
#include "support/okta_wire.h"
#include "support/tcp_proxy.h"
#include "support/test_server.h"

namespace cordon::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::string_view kMarkup = "<img src=x onerror=alert(1)>";

const json& LabJson() {
  static const json lab = [] {
    json j = json::parse(ReadFile(std::string(CORDON_LAB_DIR) + "/lab.json"), nullptr, false);
    if (!j.is_object()) throw std::runtime_error("no " CORDON_LAB_DIR "/lab.json (is the lab up?)");
    return j;
  }();
  return lab;
}

// The [connectors.*] sections `cordon lab config` prints for the running lab.
const toml::table& LabConfig() {
  static const toml::table config = [] {
    const RunResult printed = Cordon({"lab", "config", "--dir", CORDON_LAB_DIR});
    if (printed.exit_code != 0) throw std::runtime_error("cordon lab config failed: " + printed.err);
    return toml::parse(printed.out);
  }();
  return config;
}

// A connector of `provider` as `cordon lab config` describes it.
std::unique_ptr<Connector> LoadFromLabConfig(Provider provider) {
  const std::string name(ToString(provider));
  const toml::table* section = LabConfig()["connectors"][name].as_table();
  if (section == nullptr) throw std::runtime_error("cordon lab config printed no [connectors." + name + "]");
  auto loaded = BuiltinConnectors().Load(provider, *section, "connectors." + name, CORDON_LAB_DIR);
  if (!loaded) throw std::runtime_error(loaded.error().message);
  auto connector = loaded->factory();
  if (!connector) throw std::runtime_error(connector.error().message);
  return std::move(*connector);
}

// A listing's pages and what it asked of the rate budget.
struct Listing {
  Status status;
  std::vector<std::vector<AccountView>> pages;
  std::map<std::string, int> paced;  // bucket -> requests
  std::vector<RateLimitReport> reports;

  [[nodiscard]] std::size_t size() const {
    std::size_t n = 0;
    for (const auto& p : pages) n += p.size();
    return n;
  }
  // Every account by `key` (which must be unique).
  [[nodiscard]] std::map<std::string, AccountView> By(std::string AccountView::*key) const {
    std::map<std::string, AccountView> out;
    for (const auto& page : pages)
      for (const auto& v : page) EXPECT_TRUE(out.emplace(v.*key, v).second) << "listed twice: " << v.*key;
    return out;
  }
  [[nodiscard]] int Paced() const {
    int n = 0;
    for (const auto& [bucket, count] : paced) n += count;
    return n;
  }
};

Listing List(Connector& connector, std::chrono::seconds budget = 300s,
             const std::function<Status(const std::vector<AccountView>&)>& after_page = {}) {
  Listing out;
  ExecutionContext context;
  context.deadline = Now() + budget;
  context.pace = [&](std::string_view bucket) {
    ++out.paced[std::string(bucket)];
    return Status{};
  };
  context.report_rate_limit = [&](const RateLimitReport& r) { out.reports.push_back(r); };
  out.status = connector.ListAccounts(context, [&](std::vector<AccountView>&& page) -> Status {
    out.pages.push_back(std::move(page));
    return after_page ? after_page(out.pages.back()) : Status{};
  });
  return out;
}

// --- Active Directory -------------------------------------------------------

// The directory as the AD connector lists it, once for the suite.
const Listing& AdListing() {
  static const Listing listing = [] {
    auto ad = LoadFromLabConfig(Provider::kActiveDirectory);
    return List(*ad);
  }();
  return listing;
}

TEST(AdListingOnTheLab, AdListsEverySeededUserOverSeveralPages) {
  const LabInfo& lab = TheLab();
  const Listing& listing = AdListing();
  ASSERT_TRUE(listing.status) << listing.status.error().message;
  EXPECT_GE(listing.pages.size(), 3u) << "500 a page";
  EXPECT_EQ(listing.Paced(), static_cast<int>(listing.pages.size())) << "each page asks the rate budget first";
  const auto by_login = listing.By(&AccountView::login);

  std::vector<std::string> seeded = lab.staff_users;
  seeded.push_back(lab.special_users.password_never_expires);
  seeded.push_back(lab.special_users.smartcard_required);
  for (int i = 1; i <= lab.bulk_count; ++i) seeded.push_back(lab.BulkUser(i));
  seeded.insert(seeded.end(), lab.other_users.begin(), lab.other_users.end());
  seeded.insert(seeded.end(), lab.domain_admins.begin(), lab.domain_admins.end());
  seeded.push_back(lab.action_account.sam);
  ASSERT_EQ(lab.bulk_count, 1000);
  ASSERT_EQ(lab.staff_users.size(), 30u);
  ASSERT_EQ(lab.other_users.size(), 3u);
  for (const std::string& sam : seeded) EXPECT_EQ(by_login.count(sam), 1u) << sam << " is not listed";
  EXPECT_GE(by_login.size(), seeded.size());

  auto admin = AdProbe::ConnectAsAdmin(lab);
  ASSERT_TRUE(admin) << admin.error().message;
  // An administrator's own read of each user but most of the bulk ones.
  std::vector<std::string> checked(seeded.begin(), seeded.begin() + 32);
  for (int i = 1; i <= lab.bulk_count; i += 37) checked.push_back(lab.BulkUser(i));
  checked.insert(checked.end(), lab.other_users.begin(), lab.other_users.end());
  checked.insert(checked.end(), lab.domain_admins.begin(), lab.domain_admins.end());
  checked.push_back(lab.action_account.sam);
  for (const std::string& sam : checked) {
    const AccountView& v = by_login.at(sam);
    auto read = admin->ReadUser(sam);
    ASSERT_TRUE(read) << sam << ": " << read.error().message;
    EXPECT_EQ(v.provider, Provider::kActiveDirectory);
    EXPECT_EQ(v.id, read->guid) << sam;
    EXPECT_EQ(v.sid, read->sid) << sam;
    EXPECT_EQ(v.sid.rfind("S-1-5-21-", 0), 0u) << sam << ": " << v.sid;
    EXPECT_EQ(v.upn, read->upn) << sam;
    EXPECT_EQ(v.identifiers.at("dn"), read->dn) << sam;
    EXPECT_EQ(v.status, read->disabled() ? AccountStatus::kDisabled : AccountStatus::kEnabled) << sam;
    EXPECT_EQ(v.must_change_password, read->pwd_last_set == 0) << sam;
    EXPECT_EQ(v.admin_protected, read->admin_count == 1) << sam;
  }
  for (const std::string& sam : lab.domain_admins) EXPECT_TRUE(by_login.at(sam).admin_protected) << sam;
  for (const std::string& sam : {lab.staff_users[0], lab.BulkUser(1), lab.action_account.sam})
    EXPECT_FALSE(by_login.at(sam).admin_protected) << sam;
  EXPECT_EQ(by_login.at(lab.staff_users[0]).upn, lab.Upn(lab.staff_users[0]));
  EXPECT_FALSE(by_login.at(lab.staff_users[0]).display_name.empty());
}

TEST(AdListingOnTheLab, AdLookupShowsWhatTheListingShows) {
  const Listing& listing = AdListing();
  ASSERT_TRUE(listing.status);
  const auto by_login = listing.By(&AccountView::login);
  auto ad = LoadFromLabConfig(Provider::kActiveDirectory);
  for (const std::string& sam : {TheLab().staff_users[3], std::string("dana.admin"), TheLab().BulkUser(500)}) {
    auto looked = ad->Lookup(sam);
    ASSERT_TRUE(looked) << sam << ": " << looked.error().message;
    const AccountView& listed = by_login.at(sam);
    EXPECT_EQ(looked->id, listed.id);
    EXPECT_EQ(looked->upn, listed.upn);
    EXPECT_EQ(looked->sid, listed.sid);
    EXPECT_EQ(looked->display_name, listed.display_name);
    EXPECT_EQ(looked->admin_protected, listed.admin_protected);
    EXPECT_EQ(looked->identifiers, listed.identifiers);
  }
}

TEST(AdListingOnTheLab, AnAdListingCutBetweenPagesFailsAndTheNextStartsOver) {
  auto proxy = TcpProxy::Start({.target_port = 636});
  ASSERT_TRUE(proxy) << proxy.error().message;
  toml::table section = *LabConfig()["connectors"]["ad"].as_table();
  section.insert_or_assign("url", "ldaps://127.0.0.1:" + std::to_string((*proxy)->port()));
  auto loaded = BuiltinConnectors().Load(Provider::kActiveDirectory, section, "connectors.ad", CORDON_LAB_DIR);
  ASSERT_TRUE(loaded) << loaded.error().message;
  auto ad = loaded->factory();
  ASSERT_TRUE(ad);
  // The DC's side of the connection goes after the first page.
  const Listing cut = List(**ad, 300s, [&](const std::vector<AccountView>&) {
    (*proxy)->CutAll();
    return Status{};
  });
  ASSERT_FALSE(cut.status);
  EXPECT_EQ(cut.pages.size(), 1u);
  EXPECT_TRUE(cut.status.error().retryable);
  EXPECT_EQ(cut.status.error().blame, Blame::kProvider);
  EXPECT_EQ(cut.status.error().code, ErrorCode::kUnavailable) << cut.status.error().message;
  // The same connector lists again, from the start, on a new connection.
  const Listing again = List(**ad);
  ASSERT_TRUE(again.status) << again.status.error().message;
  EXPECT_EQ(again.size(), AdListing().size());
}

TEST(AdListingOnTheLab, AnAdListingEndsAtItsDeadline) {
  auto ad = LoadFromLabConfig(Provider::kActiveDirectory);
  // Room for the first page: a search carries what is left of the deadline
  // to the DC as its time limit, in whole seconds.
  const Listing late = List(*ad, 6s, [](const std::vector<AccountView>&) {
    std::this_thread::sleep_for(6500ms);
    return Status{};
  });
  ASSERT_FALSE(late.status);
  EXPECT_EQ(late.status.error().code, ErrorCode::kTimeout) << late.status.error().message;
  EXPECT_EQ(late.pages.size(), 1u) << late.status.error().message;
  // A listing cut short leaves the connector fit for the next one.
  EXPECT_TRUE(List(*ad).status);
}

// --- Entra ID ---------------------------------------------------------------

// The Graph emulator as the tenant's administrator sees it, with the lab
// app's client secret.
class GraphAdmin {
 public:
  GraphAdmin() : lab_(LabJson().at("entra")) {}

  WireResponse Send(const std::string& method, const std::string& path, const std::string& body = "") {
    WireRequest r;
    r.method = method;
    r.url = url() + path;
    r.authorization = "Bearer " + Token();
    r.body = body;
    if (!body.empty()) r.content_type = "application/json";
    WireResponse answer = Call(r, lab_.value("ca_file", ""));
    for (int tries = 0; answer.status == 429 && tries < 40; ++tries) {
      std::this_thread::sleep_for(500ms);
      answer = Call(r, lab_.value("ca_file", ""));
    }
    return answer;
  }
  void Settings(const json& settings) {
    const auto r = Send("POST", "/lab/settings", settings.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    token_.clear();  // roles granted or taken show in the next token
  }
  void ResetToDefaults() {
    Settings({{"throttle", {{"requests_per_second", 0}, {"window_seconds", 10}, {"retry_after", "integer"}}},
              {"identity_protection_licence", true},
              {"app_roles", {"User.Read.All", "User.EnableDisableAccount.All", "User.RevokeSessions.All",
                             "IdentityRiskyUser.ReadWrite.All"}}});
  }
  // Every user's id, listed as the administrator does, page by page.
  std::set<std::string> UserIds() {
    std::set<std::string> ids;
    std::string next = "/v1.0/users?$select=id&$top=999";
    while (!next.empty()) {
      const json page = Send("GET", next).Json();
      for (const json& u : page.value("value", json::array())) ids.insert(u.value("id", ""));
      next = page.value("@odata.nextLink", "");
      if (!next.empty()) next = next.substr(url().size());
    }
    return ids;
  }
  json User(const std::string& upn) {
    return Send("GET", "/v1.0/users/" + FormEncode(upn) + "?$select=id,displayName,onPremisesSecurityIdentifier").Json();
  }
  [[nodiscard]] std::string url() const { return lab_.value("graph_url", ""); }

 private:
  std::string Token() {
    if (!token_.empty()) return token_;
    WireRequest r;
    r.method = "POST";
    r.url = lab_.value("authority", "") + "/" + lab_.value("tenant", "") + "/oauth2/v2.0/token";
    r.content_type = "application/x-www-form-urlencoded";
    r.body = "grant_type=client_credentials&client_id=" + FormEncode(lab_.value("client_id", "")) +
             "&scope=" + FormEncode(url() + "/.default") +
             "&client_secret=" + FormEncode(ReadSecretFile(lab_.value("client_secret_file", "")));
    const WireResponse answer = Call(r, lab_.value("ca_file", ""));
    if (answer.status != 200) throw std::runtime_error("the lab's app got no token: " + answer.body);
    token_ = answer.Json().value("access_token", "");
    return token_;
  }

  json lab_;
  std::string token_;
};

class EntraListingOnTheLab : public ::testing::Test {
 protected:
  void SetUp() override { admin_.ResetToDefaults(); }
  void TearDown() override {
    admin_.ResetToDefaults();
    if (!compromised_.empty())
      (void)admin_.Send("POST", "/v1.0/identityProtection/riskyUsers/dismiss", json{{"userIds", {compromised_}}}.dump());
  }
  // Confirms `upn` compromised, as an analyst in Entra ID would; dismissed again after the test.
  std::string Compromise(const std::string& upn) {
    compromised_ = admin_.User(upn).value("id", "");
    EXPECT_EQ(admin_.Send("POST", "/v1.0/identityProtection/riskyUsers/confirmCompromised",
                          json{{"userIds", {compromised_}}}.dump())
                  .status,
              204);
    return compromised_;
  }

  GraphAdmin admin_;
  std::string compromised_;
};

TEST_F(EntraListingOnTheLab, ListsEveryTenantUserAcrossPagesWithTheirAdSidsGuestsAndRisk) {
  const LabInfo& lab = TheLab();
  // A user whose display name is markup, created as an administrator would
  // (the lab's app needs User.ReadWrite.All for that).
  const std::string markup_upn = lab.Upn("listing.markup");
  admin_.Settings({{"app_roles", {"User.Read.All", "User.ReadWrite.All", "IdentityRiskyUser.ReadWrite.All"}}});
  const json create = {{"accountEnabled", false},
                       {"displayName", kMarkup},
                       {"mailNickname", "listing.markup"},
                       {"userPrincipalName", markup_upn},
                       {"passwordProfile", {{"password", "Listing-Markup-1"}}}};
  const auto created = admin_.Send("POST", "/v1.0/users", create.dump());
  ASSERT_TRUE(created.status == 201 || created.body.find("already exists") != std::string::npos) << created.body;
  admin_.ResetToDefaults();
  const std::string compromised = Compromise(lab.Upn(lab.staff_users[5]));

  auto entra = LoadFromLabConfig(Provider::kEntra);
  const Listing listing = List(*entra);
  ASSERT_TRUE(listing.status) << listing.status.error().message;
  const std::set<std::string> tenant = admin_.UserIds();
  ASSERT_GT(tenant.size(), 999u * 2);
  EXPECT_GE(listing.pages.size(), 3u) << "999 a page";
  const auto by_id = listing.By(&AccountView::id);
  std::set<std::string> listed;
  for (const auto& [id, v] : by_id) listed.insert(id);
  EXPECT_EQ(listed, tenant) << "every tenant user, once";
  EXPECT_GE(listing.Paced(), static_cast<int>(listing.pages.size()) + 1) << "riskyUsers and each page of users";

  const auto by_upn = listing.By(&AccountView::upn);
  const auto ad = AdListing().By(&AccountView::login);
  std::vector<std::string> synced = lab.staff_users;
  for (int i = 1; i <= lab.bulk_count; i += 111) synced.push_back(lab.BulkUser(i));
  synced.insert(synced.end(), lab.other_users.begin(), lab.other_users.end());
  synced.push_back("dana.admin");
  for (const std::string& sam : synced) {
    const AccountView& v = by_upn.at(lab.Upn(sam));
    EXPECT_TRUE(v.synced_from_ad) << sam;
    EXPECT_EQ(v.sid, ad.at(sam).sid) << sam << ": the AD objectSid as onPremisesSecurityIdentifier";
    EXPECT_FALSE(v.sid.empty()) << sam;
    EXPECT_FALSE(v.guest) << sam;
    EXPECT_EQ(v.login, lab.Upn(sam));
  }
  const AccountView& cloud = by_upn.at(lab.Upn("chloe.cloudonly"));
  EXPECT_FALSE(cloud.synced_from_ad);
  EXPECT_TRUE(cloud.sid.empty());
  const AccountView& guest = by_upn.at(lab.Upn("gary.guest_partner.example#EXT#"));
  EXPECT_TRUE(guest.guest);
  EXPECT_FALSE(guest.synced_from_ad);
  EXPECT_EQ(guest.identifiers.at("userType"), "Guest");

  EXPECT_EQ(by_id.at(compromised).provider_risk, "high");
  EXPECT_EQ(by_upn.at(lab.Upn(lab.staff_users[6])).provider_risk, "none");
  EXPECT_EQ(by_upn.at(markup_upn).display_name, kMarkup) << "as Graph holds it";
  EXPECT_EQ(by_upn.at(markup_upn).status, AccountStatus::kDisabled);

  // Lookup shows the same.
  auto looked = entra->Lookup(lab.Upn(lab.staff_users[5]));
  ASSERT_TRUE(looked) << looked.error().message;
  EXPECT_EQ(looked->provider_risk, "high");
  EXPECT_EQ(looked->sid, by_id.at(compromised).sid);
  EXPECT_TRUE(looked->synced_from_ad);
}

TEST_F(EntraListingOnTheLab, WithoutIdentityProtectionEveryUserIsListedWithNoRisk) {
  Compromise(TheLab().Upn(TheLab().staff_users[5]));
  admin_.Settings({{"identity_protection_licence", false}});
  auto entra = LoadFromLabConfig(Provider::kEntra);
  const Listing listing = List(*entra);
  ASSERT_TRUE(listing.status) << listing.status.error().message;
  EXPECT_EQ(listing.size(), admin_.UserIds().size());
  for (const auto& page : listing.pages)
    for (const auto& v : page) ASSERT_EQ(v.provider_risk, "") << v.upn;
}

TEST_F(EntraListingOnTheLab, AThrottledListingWaitsAndGoesOn) {
  // Two requests per two seconds: the listing's riskyUsers and three pages of
  // users (and the token) cannot all pass in one window.
  admin_.Settings({{"throttle", {{"requests_per_second", 1}, {"window_seconds", 2}, {"retry_after", "decimal"}}}});
  (void)admin_.Send("DELETE", "/lab/stats");
  auto entra = LoadFromLabConfig(Provider::kEntra);
  const Listing listing = List(*entra);
  const json stats = admin_.Send("GET", "/lab/stats").Json();
  admin_.ResetToDefaults();
  ASSERT_TRUE(listing.status) << listing.status.error().message;
  EXPECT_GT(stats.value("throttled", 0), 0) << stats.dump();
  EXPECT_EQ(listing.size(), admin_.UserIds().size());
}

// --- Okta -------------------------------------------------------------------

// The Okta emulator as an administrator sees it, with the lab's SSWS token.
class OktaAdmin {
 public:
  OktaAdmin() : lab_(LabJson().at("okta")), token_(ReadSecretFile(lab_.value("token_file", ""))) {}

  WireResponse Send(const std::string& method, const std::string& path, const std::string& body = "",
                    std::vector<std::string> headers = {}) const {
    WireRequest r;
    r.method = method;
    r.url = path.rfind("https://", 0) == 0 ? path : lab_.value("url", "") + path;
    r.authorization = "SSWS " + token_;
    r.body = body;
    r.extra_headers = std::move(headers);
    if (!body.empty()) r.content_type = "application/json";
    return Call(r, lab_.value("ca_file", ""));
  }
  void Settings(const json& settings) const {
    const auto r = Send("POST", "/lab/settings", settings.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  void ResetRateLimits() const {
    const json limit{{"limit", 600}, {"window_seconds", 60}};
    Settings({{"rate_limits", {{"users.read", limit}, {"users.manage", limit}, {"token", limit}}}});
  }
  // Every user Okta lists (its plain listing, then the DEPROVISIONED ones), by id.
  std::map<std::string, json> Users() const {
    std::map<std::string, json> users;
    for (std::string next : {std::string("/api/v1/users?limit=200"),
                             "/api/v1/users?limit=200&filter=" + FormEncode("status eq \"DEPROVISIONED\"")}) {
      while (!next.empty()) {
        const WireResponse r = Send("GET", next);
        EXPECT_EQ(r.status, 200) << r.body;
        if (r.status != 200) break;
        for (const json& u : r.Json()) users[u.value("id", "")] = u;
        next.clear();
        for (const std::string& link : r.Headers("link"))
          if (link.find("rel=\"next\"") != std::string::npos) next = link.substr(1, link.find('>') - 1);
      }
    }
    return users;
  }

 private:
  json lab_;
  std::string token_;
};

class OktaListingOnTheLab : public ::testing::Test {
 protected:
  static constexpr int kDeactivated = 201;

  void SetUp() override {
    // Seeding as an administrator would, with room in the budget for it.
    admin_.Settings({{"rate_limits", {{"users.manage", {{"limit", 5000}, {"window_seconds", 60}}}}}});
    for (int i = 1; i <= kDeactivated; ++i) {
      const std::string login = TheLab().Upn("listing.gone" + std::to_string(i));
      const json profile = {{"firstName", "Gone"},
                            {"lastName", std::to_string(i)},
                            {"email", login},
                            {"login", login},
                            {"displayName", i == 1 ? json(kMarkup) : json(nullptr)}};
      const auto created = admin_.Send("POST", "/api/v1/users?activate=false", json{{"profile", profile}}.dump());
      ASSERT_EQ(created.status, 200) << created.body;
      const std::string id = created.Json().value("id", "");
      seeded_.push_back(id);
      const auto gone =
          admin_.Send("POST", "/api/v1/users/" + id + "/lifecycle/deactivate", "", {"Prefer: respond-async"});
      ASSERT_EQ(gone.status, 202) << gone.body;
    }
    // Okta finishes deactivations asynchronously.
    for (int i = 0; i < 50 && admin_.Send("GET", "/api/v1/users/" + seeded_.back()).Json().value("status", "") !=
                                  "DEPROVISIONED";
         ++i)
      std::this_thread::sleep_for(200ms);
  }
  void TearDown() override {
    for (const std::string& id : seeded_) (void)admin_.Send("DELETE", "/api/v1/users/" + id);
    admin_.ResetRateLimits();
  }

  OktaAdmin admin_;
  std::vector<std::string> seeded_;
};

TEST_F(OktaListingOnTheLab, ListsActiveAndDeactivatedUsersOverSeveralPagesWithAdUpnsAsLogins) {
  const LabInfo& lab = TheLab();
  auto okta = LoadFromLabConfig(Provider::kOkta);
  const Listing listing = List(*okta);
  ASSERT_TRUE(listing.status) << listing.status.error().message;

  const std::map<std::string, json> okta_users = admin_.Users();
  const auto by_id = listing.By(&AccountView::id);
  std::set<std::string> listed, expected;
  for (const auto& [id, v] : by_id) listed.insert(id);
  for (const auto& [id, u] : okta_users) expected.insert(id);
  EXPECT_EQ(listed, expected) << "every user Okta holds, once";

  int enabled = 0, deactivated = 0;
  for (const auto& [id, v] : by_id) {
    const json& u = okta_users.at(id);
    EXPECT_EQ(v.provider, Provider::kOkta);
    EXPECT_EQ(v.login, u["profile"].value("login", ""));
    EXPECT_EQ(v.upn, v.login);
    EXPECT_EQ(v.mail, u["profile"].value("email", ""));
    EXPECT_EQ(v.identifiers.at("status"), u.value("status", ""));
    if (v.status == AccountStatus::kEnabled) ++enabled;
    if (v.status == AccountStatus::kDeactivated) ++deactivated;
  }
  EXPECT_GT(enabled, 200);
  EXPECT_GT(deactivated, 200);
  EXPECT_GE(listing.pages.size(), 7u) << "200 a page: six or more of ACTIVE users, two of DEPROVISIONED";
  EXPECT_EQ(listing.paced.size(), 1u);
  EXPECT_EQ(listing.paced.count("users.read"), 1u) << "pages count against Okta's read budget";
  EXPECT_EQ(listing.reports.size(), listing.pages.size());
  for (const auto& r : listing.reports) EXPECT_EQ(r.bucket, "users.read");

  // The people of the lab's directory sign in to Okta with their AD UPN.
  // okta_e2e_test deletes one of bulk0990..bulk0999 from Okta each time it
  // runs on the same lab: those need not be there.
  const auto by_login = listing.By(&AccountView::login);
  const auto ad = AdListing().By(&AccountView::login);
  std::vector<std::string> people = lab.staff_users;
  people.push_back(lab.special_users.password_never_expires);
  people.push_back(lab.special_users.smartcard_required);
  for (int i = 1; i <= lab.bulk_count; ++i) people.push_back(lab.BulkUser(i));
  people.insert(people.end(), lab.other_users.begin(), lab.other_users.end());
  people.push_back("dana.admin");
  std::map<std::string, std::string> okta_login_of;  // lower-cased login -> as Okta writes it
  for (const auto& [login, v] : by_login) {
    std::string lower = login;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    okta_login_of[lower] = login;
  }
  for (const std::string& sam : people) {
    const std::string& upn = ad.at(sam).upn;
    ASSERT_FALSE(upn.empty()) << sam;
    std::string lower = upn;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto it = okta_login_of.find(lower);
    const bool may_be_gone = sam >= lab.BulkUser(990) && sam <= lab.BulkUser(999);
    if (it == okta_login_of.end()) {
      EXPECT_TRUE(may_be_gone) << sam << ": no Okta login " << upn;
      continue;
    }
    EXPECT_EQ(it->second, upn) << sam << ": Okta's login is not the AD UPN";
  }

  const std::string domain = lab.Upn("");  // "@corp.example.test"
  EXPECT_EQ(by_login.at("susan.suspended" + domain).status, AccountStatus::kSuspended);
  EXPECT_TRUE(by_login.at("pete.expired" + domain).must_change_password);
  EXPECT_EQ(by_login.at("stella.staged" + domain).status, AccountStatus::kOther);
  EXPECT_EQ(by_login.at("stella.staged" + domain).identifiers.at("status"), "STAGED");
  EXPECT_EQ(by_login.at("dirk.deprovisioned" + domain).status, AccountStatus::kDeactivated);
  EXPECT_EQ(by_login.at("listing.gone1" + domain).display_name, kMarkup) << "profile.displayName, as Okta holds it";
  EXPECT_EQ(by_login.at("listing.gone2" + domain).display_name, "Gone 2");

  auto looked = okta->Lookup("listing.gone1" + domain);
  ASSERT_TRUE(looked) << looked.error().message;
  EXPECT_EQ(looked->status, AccountStatus::kDeactivated);
  EXPECT_EQ(looked->display_name, kMarkup);
}

}  // namespace
}  // namespace cordon::testing
