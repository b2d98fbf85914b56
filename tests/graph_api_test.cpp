// The Graph-compatible API (src/api/README.md, "Graph-compatible API") over
// the real in-process server: HTTPS, a SQLite store whose inventory is
// seeded through the InventoryStore's own write, the real ActionService.
// Listing, filters, paging over @odata.nextLink, one identity, invokeAction
// creating the mapped Cordon action at the right provider, each role's 403,
// the 400s, 401s, both versions, Graph's error body and request ids.
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/graph_mapping.h"
#include "authz/permissions.h"
#include "authz/tokens.h"
#include "inventory/correlate.h"
#include "support/api_fixture.h"
#include "support/inventory_seed.h"

namespace cordon::api {
namespace {

using nlohmann::json;
using testing::ApiFixture;
using testing::ApiFixtureOptions;
using testing::HttpResult;
using testing::RawRequest;
using testing::TestClient;
using ::cordon::testing::SeedInventory;
namespace http = boost::beast::http;

constexpr std::string_view kAccounts = "/v1.0/security/identities/identityAccounts";
constexpr std::string_view kBetaAccounts = "/beta/security/identities/identityAccounts";

// Alice has an account at each provider, correlated by SID and UPN.
constexpr const char* kAliceAd = "5b6a2b7e-8f3c-4d1e-9a2b-3c4d5e6f7a8b";
constexpr const char* kAliceEntra = "73d664e4-0886-4a73-b745-c694da45ddb4";
constexpr const char* kAliceOkta = "00u1alice0000000001";
constexpr const char* kAliceSid = "S-1-5-21-1004336348-1177238915-682003330-1105";
// The cloud SID of kAliceEntra, worked out independently (graph_mapping_test).
constexpr const char* kAliceCloudSid = "S-1-12-1-1943430372-1249052806-2496021943-3034400218";

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Percent-encodes a query value as a client would.
std::string Encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::string Members(int i) { return fmt::format("Member {:02}", i); }

// An enabled account with the keys correlation reads.
AccountView TestAccount(Provider provider, std::string id, std::string login, std::string display_name,
                        std::string upn, std::string sid = "", std::string mail = "") {
  AccountView a;
  a.provider = provider;
  a.id = std::move(id);
  a.login = std::move(login);
  a.display_name = std::move(display_name);
  a.status = AccountStatus::kEnabled;
  a.upn = std::move(upn);
  a.sid = std::move(sid);
  a.mail = std::move(mail);
  return a;
}

class GraphApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = ApiFixture::Start(Options());
    ASSERT_TRUE(f.has_value()) << f.error().message;
    fixture_ = std::move(*f);
    client_.emplace(fixture_->Client());
    admin_token_ = fixture_->Token(Role::kGlobalAdministrator);
    reader_token_ = fixture_->Token(Role::kSecurityReader);

    std::vector<AccountView> accounts;
    AccountView alice_ad = TestAccount(Provider::kActiveDirectory, kAliceAd, "alice.adams", "Alice Adams",
                                       "alice.adams@corp.example.test", kAliceSid, "alice.adams@corp.example.test");
    alice_ad.identifiers["dn"] = "CN=Alice Adams,OU=Staff,DC=corp,DC=example,DC=test";
    accounts.push_back(alice_ad);
    accounts.push_back(TestAccount(Provider::kEntra, kAliceEntra, "alice.adams@corp.example.test", "Alice Adams",
                                   "alice.adams@corp.example.test", kAliceSid));
    accounts.push_back(TestAccount(Provider::kOkta, kAliceOkta, "alice.adams@corp.example.test", "Alice A.",
                                   "alice.adams@corp.example.test", "", "alice.adams@corp.example.test"));
    AccountView bob = TestAccount(Provider::kActiveDirectory, "6c7b3c8f-9a4d-4e2f-8b3c-4d5e6f7a8b9c", "bob.brown",
                                  "Bob Brown", "bob.brown@corp.example.test", "S-1-5-21-1004336348-1177238915-682003330-1106");
    bob.status = AccountStatus::kDisabled;
    accounts.push_back(bob);
    accounts.push_back(TestAccount(Provider::kOkta, "00u1carol000000000002", "carol.oneil@partner.example.test",
                                   "Carol O'Neil", "carol.oneil@partner.example.test"));
    accounts.push_back(TestAccount(Provider::kEntra, "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
                                   "dave.cloud@corp.example.test", "Dave Cloud", "dave.cloud@corp.example.test"));
    for (int i = 1; i <= 25; ++i)
      accounts.push_back(TestAccount(Provider::kActiveDirectory, fmt::format("00000000-0000-4000-8000-0000000000{:02}", i),
                                     fmt::format("member{:02}", i), Members(i),
                                     fmt::format("member{:02}@corp.example.test", i)));
    ASSERT_TRUE(SeedInventory(fixture_->inventory_store(), accounts).has_value());
    alice_ = IdentityIdOf(Provider::kActiveDirectory, kAliceAd);
    bob_ = IdentityIdOf(Provider::kActiveDirectory, bob.id);
    carol_ = IdentityIdOf(Provider::kOkta, "00u1carol000000000002");
    dave_ = IdentityIdOf(Provider::kEntra, "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b");
  }
  void TearDown() override {
    client_.reset();
    fixture_.reset();
  }
  virtual ApiFixtureOptions Options() { return {}; }

  std::string Origin() const { return fmt::format("https://localhost:{}", fixture_->port()); }

  HttpResult Get(std::string_view target, const std::string& token, std::map<std::string, std::string> headers = {}) {
    RawRequest r;
    r.target = std::string(target);
    r.token = token;
    r.headers = std::move(headers);
    return client_->Send(r);
  }

  HttpResult Invoke(const std::string& identity, const json& body, const std::string& token,
                    std::string_view base = kAccounts, std::map<std::string, std::string> headers = {}) {
    RawRequest r;
    r.method = http::verb::post;
    r.target = fmt::format("{}/{}/invokeAction", base, identity);
    r.token = token;
    r.body = body.dump();
    r.headers = std::move(headers);
    return client_->Send(r);
  }

  // GET /api/v1/actions/{id}: the action as the action center shows it.
  json ActionCenter(const std::string& id) {
    const HttpResult r = client_->Get("/api/v1/actions/" + id, admin_token_);
    EXPECT_EQ(r.status, 200u) << r.body;
    return r.Json();
  }

  // Every identityAccounts of a listing, following @odata.nextLink on the
  // same connection (the links are absolute: only their path and query are sent).
  std::vector<json> ListAll(const std::string& first, int* pages) {
    std::vector<json> out;
    std::string target = first;
    *pages = 0;
    while (!target.empty()) {
      const HttpResult r = Get(target, admin_token_);
      EXPECT_EQ(r.status, 200u) << r.body;
      if (r.status != 200) break;
      ++*pages;
      const json page = r.Json();
      for (const json& item : page.at("value")) out.push_back(item);
      target.clear();
      if (page.contains("@odata.nextLink")) {
        const std::string link = page["@odata.nextLink"];
        EXPECT_EQ(link.rfind(Origin() + "/", 0), 0u) << link;
        target = link.substr(Origin().size());
      }
      EXPECT_LT(*pages, 50) << "the links must come to an end";
      if (*pages >= 50) break;
    }
    return out;
  }

  std::unique_ptr<ApiFixture> fixture_;
  std::optional<TestClient> client_;
  std::string admin_token_, reader_token_;
  std::string alice_, bob_, carol_, dave_;
};

// A Graph error: the status, Graph's body with `code`, the request ids in the
// body and the headers, and nothing of the request's text.
void ExpectGraphError(const HttpResult& r, unsigned status, const std::string& code, const std::string& context,
                      const std::vector<std::string>& never = {}) {
  SCOPED_TRACE(context);
  ASSERT_EQ(r.status, status) << r.transport_error << r.body;
  EXPECT_EQ(r.Header("content-type").rfind("application/json", 0), 0u) << r.Header("content-type");
  const json body = r.Json();
  ASSERT_TRUE(body.is_object()) << r.body;
  ASSERT_TRUE(body.contains("error")) << r.body;
  const json& error = body["error"];
  EXPECT_EQ(error.value("code", ""), code) << r.body;
  EXPECT_FALSE(error.value("message", "").empty()) << r.body;
  ASSERT_TRUE(error.contains("innerError")) << r.body;
  const json& inner = error["innerError"];
  EXPECT_EQ(inner.value("request-id", ""), r.Header("request-id"));
  EXPECT_EQ(inner.value("client-request-id", ""), r.Header("client-request-id"));
  EXPECT_EQ(inner.value("date", "").size(), 19u) << "YYYY-MM-DDTHH:MM:SS: " << r.body;
  // request-id is Cordon's request id as a GUID.
  const std::string cordon_id = r.Header("x-request-id");
  ASSERT_EQ(cordon_id.rfind("urn:cordon:request:", 0), 0u);
  const std::string hex = cordon_id.substr(19);
  EXPECT_EQ(r.Header("request-id"), fmt::format("00000000-{}-{}-{}-{}", hex.substr(0, 4), hex.substr(4, 4),
                                                 hex.substr(8, 4), hex.substr(12)));
  for (const std::string& text : never) EXPECT_EQ(r.body.find(text), std::string::npos) << text << " in " << r.body;
}

json AliceExpected() {
  return json::parse(fmt::format(R"({{
    "id": "{}", "displayName": "Alice Adams", "domain": "corp.example.test", "isEnabled": true,
    "onPremisesSecurityIdentifier": "{}", "cloudSecurityIdentifier": "{}",
    "accounts": [
      {{"identifier": "{}", "identityProvider": "activeDirectory", "actions": ["disable", "enable", "forcePasswordReset"]}},
      {{"identifier": "{}", "identityProvider": "entraID",
        "actions": ["disable", "enable", "revokeAllSessions", "requireUserToSignInAgain", "markUserAsCompromised"]}},
      {{"identifier": "{}", "identityProvider": "okta", "actions": ["disable", "enable", "revokeAllSessions"]}}]}})",
                                 IdentityIdOf(Provider::kActiveDirectory, kAliceAd), kAliceSid, kAliceCloudSid,
                                 kAliceAd, kAliceEntra, kAliceOkta));
}

TEST_F(GraphApiTest, ListsIdentitiesInGraphsShape) {
  const HttpResult r = Get(std::string(kAccounts) + "?$top=999", admin_token_);
  ASSERT_EQ(r.status, 200u) << r.transport_error << r.body;
  EXPECT_EQ(r.Header("content-type").rfind("application/json", 0), 0u);
  EXPECT_EQ(r.Header("odata-version"), "4.0");
  EXPECT_EQ(r.Header("client-request-id"), r.Header("request-id")) << "none sent: Graph answers its request-id";
  const json body = r.Json();
  EXPECT_EQ(body.value("@odata.context", ""),
            Origin() + "/v1.0/$metadata#security/identities/identityAccounts");
  EXPECT_FALSE(body.contains("@odata.nextLink")) << "everything fits in one page";
  const json& value = body.at("value");
  ASSERT_EQ(value.size(), 29u);
  // By display name ignoring case, then id.
  std::vector<std::string> names;
  for (const json& item : value) names.push_back(item.at("displayName"));
  EXPECT_EQ(names.front(), "Alice Adams");
  EXPECT_EQ(names[1], "Bob Brown");
  EXPECT_EQ(names[2], "Carol O'Neil");
  EXPECT_EQ(names[3], "Dave Cloud");
  EXPECT_EQ(names[4], "Member 01");
  EXPECT_EQ(names.back(), "Member 25");
  EXPECT_EQ(value[0], AliceExpected());

  const json& bob = value[1];
  EXPECT_EQ(bob.at("id"), bob_);
  EXPECT_EQ(bob.at("isEnabled"), false) << "his only account is disabled";
  EXPECT_TRUE(bob.at("cloudSecurityIdentifier").is_null()) << "no Entra account";
  const json& carol = value[2];
  EXPECT_EQ(carol.at("domain"), "partner.example.test");
  EXPECT_TRUE(carol.at("onPremisesSecurityIdentifier").is_null());
  const json& dave = value[3];
  EXPECT_EQ(dave.at("id"), dave_);
  EXPECT_TRUE(dave.at("onPremisesSecurityIdentifier").is_null());
  EXPECT_EQ(dave.at("cloudSecurityIdentifier").get<std::string>().rfind("S-1-12-1-", 0), 0u);
}

TEST_F(GraphApiTest, DefaultsToGraphsPageSizeAndPagesOverNextLinksOnTheSameHost) {
  int pages = 0;
  const std::vector<json> all = ListAll(std::string(kAccounts), &pages);
  EXPECT_EQ(all.size(), 29u);
  EXPECT_EQ(pages, 1) << "29 identities fit Graph's default page of 100";

  const std::string first = std::string(kAccounts) + "?$top=10&$filter=" + Encode("startswith(displayName,'member')");
  const std::vector<json> members = ListAll(first, &pages);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(members.size(), 25u);
  std::set<std::string> ids;
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(members[static_cast<size_t>(i)].at("displayName"), Members(i + 1));
    ids.insert(members[static_cast<size_t>(i)].at("id"));
  }
  EXPECT_EQ(ids.size(), 25u) << "no identity twice across pages";

  // The link keeps the query: $top, the filter (as the server writes it) and $select.
  const HttpResult page = Get(std::string(kAccounts) + "?$top=2&$select=displayName&$filter=" +
                                  Encode("startswith(displayName,'Member') and domain eq 'CORP.example.test'"),
                              admin_token_);
  ASSERT_EQ(page.status, 200u) << page.body;
  const json body = page.Json();
  EXPECT_EQ(body.at("@odata.context"),
            Origin() + "/v1.0/$metadata#security/identities/identityAccounts(displayName)");
  EXPECT_EQ(body.at("value"), json::parse(R"([{"displayName":"Member 01"},{"displayName":"Member 02"}])"));
  const std::string link = body.at("@odata.nextLink");
  EXPECT_EQ(link.rfind(Origin() + "/v1.0/security/identities/identityAccounts?$top=2&$filter=" +
                           Encode("startswith(displayName,'Member') and domain eq 'CORP.example.test'") +
                           "&$select=displayName&$skiptoken=",
                       0),
            0u)
      << link;
}

TEST_F(GraphApiTest, LinksNameThisServerWhateverHostIsSent) {
  const std::string target = std::string(kAccounts) + "?$top=1";
  auto link_for = [&](const std::string& host) {
    const HttpResult r = Get(target, admin_token_, {{"Host", host}});
    EXPECT_EQ(r.status, 200u) << r.body;
    return r.Json().value("@odata.nextLink", "");
  };
  const std::string path = "/v1.0/security/identities/identityAccounts?";
  EXPECT_EQ(link_for("localhost").rfind(Origin() + path, 0), 0u);
  EXPECT_EQ(link_for("127.0.0.1:1").rfind(fmt::format("https://127.0.0.1:{}{}", fixture_->port(), path), 0), 0u)
      << "a name of the certificate, with the port the server listens on";
  for (const char* forged : {"evil.example", "evil.example:443", "localhost.evil.example", "[::1]", "a@evil.example"}) {
    const std::string link = link_for(forged);
    EXPECT_EQ(link.rfind(Origin() + path, 0), 0u) << forged << ": " << link;
    EXPECT_EQ(link.find("evil"), std::string::npos) << link;
  }
  const HttpResult got = Get(std::string(kAccounts) + "/" + alice_, admin_token_, {{"Host", "evil.example"}});
  EXPECT_EQ(got.Json().value("@odata.context", ""),
            Origin() + "/v1.0/$metadata#security/identities/identityAccounts/$entity");
}

TEST_F(GraphApiTest, FiltersOnDisplayNameAndDomain) {
  auto ids = [&](const std::string& filter) {
    const HttpResult r = Get(std::string(kAccounts) + "?$filter=" + Encode(filter), admin_token_);
    EXPECT_EQ(r.status, 200u) << filter << ": " << r.body;
    std::vector<std::string> out;
    const json body = r.Json();
    if (r.status == 200)
      for (const json& item : body.at("value")) out.push_back(item.at("id"));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids("displayName eq 'Alice Adams'"), V{alice_});
  EXPECT_EQ(ids("displayName eq 'alice adams'"), V{alice_}) << "ignoring case";
  EXPECT_EQ(ids("displayName eq 'Alice'"), V{}) << "eq is the whole name";
  EXPECT_EQ(ids("displayName eq 'Carol O''Neil'"), V{carol_}) << "a quote written twice";
  EXPECT_EQ(ids("startswith(displayName,'carol o''')"), V{carol_});
  EXPECT_EQ(ids("startswith(displayName,'B')"), V{bob_});
  EXPECT_EQ(ids("domain eq 'partner.example.test'"), V{carol_});
  EXPECT_EQ(ids("domain eq 'corp.example.test' and startswith(displayName,'D')"), V{dave_});
  EXPECT_EQ(ids("(domain eq 'partner.example.test') and displayName eq 'Alice Adams'"), V{});
  EXPECT_EQ(ids("startswith(displayName,'Member 2')").size(), 6u);
  EXPECT_EQ(ids("startswith(displayName,'')").size(), 29u);
}

TEST_F(GraphApiTest, GetsOneIdentity) {
  const HttpResult r = Get(std::string(kAccounts) + "/" + alice_, reader_token_);
  ASSERT_EQ(r.status, 200u) << r.body;
  json body = r.Json();
  EXPECT_EQ(body.value("@odata.context", ""),
            Origin() + "/v1.0/$metadata#security/identities/identityAccounts/$entity");
  body.erase("@odata.context");
  EXPECT_EQ(body, AliceExpected());

  const HttpResult selected = Get(std::string(kAccounts) + "/" + alice_ + "?$select=accounts,id", reader_token_);
  ASSERT_EQ(selected.status, 200u) << selected.body;
  json picked = selected.Json();
  EXPECT_EQ(picked.value("@odata.context", ""),
            Origin() + "/v1.0/$metadata#security/identities/identityAccounts(accounts,id)/$entity");
  picked.erase("@odata.context");
  EXPECT_EQ(picked, (json{{"id", alice_}, {"accounts", AliceExpected()["accounts"]}}));

  ExpectGraphError(Get(std::string(kAccounts) + "/00000000-0000-4000-8000-000000000000", admin_token_), 404,
                   "NotFound", "unknown id");
  ExpectGraphError(Get(std::string(kAccounts) + "/alice.adams", admin_token_), 404, "NotFound", "not a GUID",
                   {"alice.adams"});
  ExpectGraphError(Get(std::string(kAccounts) + "/" + alice_ + "?$top=1", admin_token_), 400, "BadRequest",
                   "$top on one entity");
}

TEST_F(GraphApiTest, BothVersionsServeTheSameAndOtherVersionsAreNoRoute) {
  const HttpResult v1 = Get(std::string(kAccounts) + "/" + carol_, admin_token_);
  const HttpResult beta = Get(std::string(kBetaAccounts) + "/" + carol_, admin_token_);
  ASSERT_EQ(v1.status, 200u);
  ASSERT_EQ(beta.status, 200u);
  json a = v1.Json(), b = beta.Json();
  EXPECT_EQ(b.value("@odata.context", ""),
            Origin() + "/beta/$metadata#security/identities/identityAccounts/$entity");
  a.erase("@odata.context");
  b.erase("@odata.context");
  EXPECT_EQ(a, b);
  const HttpResult listed = Get(std::string(kBetaAccounts) + "?$top=1", admin_token_);
  ASSERT_EQ(listed.status, 200u);
  EXPECT_EQ(listed.Json().value("@odata.nextLink", "").rfind(Origin() + "/beta/security/identities/identityAccounts?", 0), 0u);

  for (const char* version : {"/v2.0", "/V1.0", "/Beta", "/v1", "/api/v1.0"}) {
    const HttpResult r = Get(std::string(version) + "/security/identities/identityAccounts", admin_token_);
    EXPECT_EQ(r.status, 404u) << version;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json") << version << ": not a Graph route";
  }
  ExpectGraphError(Get("/v1.0/users", admin_token_), 400, "BadRequest", "an unknown Graph path", {"users"});
  ExpectGraphError(Get("/v1.0/security/identities/identityAccounts/" + alice_ + "/accounts", admin_token_), 400,
                   "BadRequest", "below an identity");
}

TEST_F(GraphApiTest, InvokeActionCreatesTheMappedCordonActionAtItsProvider) {
  struct Case {
    const char* action;
    const char* provider;
    const char* account;
    const char* cordon_action;
    const char* cordon_provider;
  };
  const Case cases[] = {
      {"disable", "activeDirectory", kAliceAd, "disable", "ad"},
      {"enable", "activeDirectory", kAliceAd, "enable", "ad"},
      {"forcePasswordReset", "activeDirectory", kAliceAd, "force_password_reset", "ad"},
      {"disable", "entraID", kAliceEntra, "suspend", "entra"},
      {"enable", "entraID", kAliceEntra, "unsuspend", "entra"},
      {"revokeAllSessions", "entraID", kAliceEntra, "revoke_sessions", "entra"},
      {"requireUserToSignInAgain", "entraID", kAliceEntra, "revoke_sessions", "entra"},
      {"markUserAsCompromised", "entraID", kAliceEntra, "mark_compromised", "entra"},
      {"disable", "okta", kAliceOkta, "suspend", "okta"},
      {"enable", "okta", kAliceOkta, "unsuspend", "okta"},
      {"revokeAllSessions", "okta", kAliceOkta, "revoke_sessions", "okta"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(fmt::format("{} at {}", c.action, c.provider));
    const json body{{"accountId", c.account}, {"action", c.action}, {"identityProvider", c.provider}};
    const HttpResult r = Invoke(alice_, body, admin_token_);
    ASSERT_EQ(r.status, 200u) << r.body;
    const json answer = r.Json();
    EXPECT_EQ(answer.value("@odata.context", ""),
              Origin() + "/v1.0/$metadata#microsoft.graph.security.invokeActionResult");
    const json& result = answer.at("value");
    EXPECT_EQ(result.at("accountId"), c.account);
    EXPECT_EQ(result.at("action"), c.action);
    EXPECT_EQ(result.at("identityProvider"), c.provider);
    const std::string id = result.at("correlationId");
    EXPECT_TRUE(IsActionId(id)) << id;
    // The metadata's shape too: the result's members at the top.
    for (const char* member : {"accountId", "action", "identityProvider", "correlationId"})
      EXPECT_EQ(answer.at(member), result.at(member)) << member;

    const json action = ActionCenter(id);
    EXPECT_EQ(action.at("action"), c.cordon_action);
    EXPECT_EQ(action.at("provider"), c.cordon_provider);
    EXPECT_EQ(action.at("account"), c.account) << "named by its immutable id";
    EXPECT_EQ(action.at("status"), "pending");
    EXPECT_EQ(action.at("requestedBy"), "global_administrator-token");
    EXPECT_EQ(action.at("reason"), "Graph-compatible API (invokeAction): the call carries no reason");
  }
  ActionFilter all;
  all.limit = 1000;
  EXPECT_EQ(fixture_->store().ListActions(all)->actions.size(), std::size(cases)) << "one action per call";
}

TEST_F(GraphApiTest, InvokeActionTakesTheQualifiedNameBetaAnIdInAnyCaseAndAReasonHeader) {
  const json body{{"accountId", Lower(kAliceAd)}, {"action", "disable"}, {"identityProvider", "activeDirectory"}};
  RawRequest r;
  r.method = http::verb::post;
  r.target = std::string(kBetaAccounts) + "/" + alice_ + "/microsoft.graph.security.invokeAction";
  r.token = admin_token_;
  r.body = json{{"accountId", "5B6A2B7E-8F3C-4D1E-9A2B-3C4D5E6F7A8B"}, {"action", "disable"},
                {"identityProvider", "activeDirectory"}}
               .dump();
  r.headers = {{"X-Cordon-Reason", "INC-4711: credential phishing, user confirmed"}};
  const HttpResult answer = client_->Send(r);
  ASSERT_EQ(answer.status, 200u) << answer.body;
  EXPECT_EQ(answer.Json().value("@odata.context", ""),
            Origin() + "/beta/$metadata#microsoft.graph.security.invokeActionResult");
  EXPECT_EQ(answer.Json().at("accountId"), kAliceAd) << "the inventory's id";
  const json action = ActionCenter(answer.Json().at("correlationId"));
  EXPECT_EQ(action.at("account"), kAliceAd);
  EXPECT_EQ(action.at("reason"), "Graph-compatible API (invokeAction): INC-4711: credential phishing, user confirmed");

  ExpectGraphError(Invoke(alice_, body, admin_token_, kAccounts, {{"X-Cordon-Reason", std::string(988, 'r')}}), 400,
                   "BadRequest", "a reason over the limit");
  EXPECT_EQ(Invoke(alice_, body, admin_token_, kAccounts, {{"X-Cordon-Reason", std::string(987, 'r')}}).status, 200u);
}

TEST_F(GraphApiTest, EachRoleMayInvokeOnlyWhatItMayRun) {
  struct Target {
    GraphAction action;
    Provider provider;
    const char* account;
  };
  std::vector<Target> targets;
  for (const GraphAction a : kAllGraphActions)
    for (const auto& [provider, account] : std::vector<std::pair<Provider, const char*>>{
             {Provider::kActiveDirectory, kAliceAd}, {Provider::kEntra, kAliceEntra}, {Provider::kOkta, kAliceOkta}})
      if (CordonActionFor(a, provider)) {
        targets.push_back({a, provider, account});
      }
  ASSERT_EQ(targets.size(), 11u);

  int forbidden = 0;
  for (const Role role : kAllRoles) {
    const std::string token = fixture_->Token(role);
    for (const Target& t : targets) {
      const auto mapped = *CordonActionFor(t.action, t.provider);
      SCOPED_TRACE(fmt::format("{} {} at {}", ToString(role), ToString(t.action), GraphProviderName(t.provider)));
      const json body{
          {"accountId", t.account}, {"action", ToString(t.action)}, {"identityProvider", GraphProviderName(t.provider)}};
      const HttpResult r = Invoke(alice_, body, token);
      if (role == Role::kSecurityReader) {
        EXPECT_FALSE(MayRun(role, t.provider, mapped)) << "readers never act";
      }
      if (MayRun(role, t.provider, mapped)) {
        EXPECT_EQ(r.status, 200u) << r.body;
      } else {
        ExpectGraphError(r, 403, "Authorization_RequestDenied", "refused", {token});
        EXPECT_NE(r.Json()["error"]["message"].get<std::string>().find(std::string(ToString(role))), std::string::npos);
        ++forbidden;
      }
    }
  }
  EXPECT_GE(forbidden, 11) << "at least every reader's call";
  ASSERT_TRUE(fixture_->Flush().has_value());
  auto rows = fixture_->store().ListAudit("auth.forbidden", 1000);
  ASSERT_TRUE(rows.has_value());
  int64_t refused = 0;
  for (const AuditEvent& e : *rows) {
    refused += e.count;
    EXPECT_NE(e.detail.find("route graph.identityAccounts.invokeAction"), std::string::npos) << e.detail;
  }
  EXPECT_EQ(refused, forbidden);
}

TEST_F(GraphApiTest, RefusesWhatGraphRefusesWith400AndSaysNothingOfTheRequest) {
  const json good{{"accountId", kAliceOkta}, {"action", "disable"}, {"identityProvider", "okta"}};
  auto with = [&](const char* key, json value) {
    json b = good;
    b[key] = std::move(value);
    return b;
  };
  const std::string secret = "secret-text-4711";
  ExpectGraphError(Invoke(alice_, with("reason", secret), admin_token_), 400, "BadRequest", "a member Graph's call has not",
                   {secret, "reason"});
  ExpectGraphError(Invoke(alice_, json{{"action", "disable"}, {"identityProvider", "okta"}}, admin_token_), 400,
                   "BadRequest", "no accountId");
  ExpectGraphError(Invoke(alice_, with("accountId", 42), admin_token_), 400, "BadRequest", "accountId not a string");
  ExpectGraphError(Invoke(alice_, with("action", secret), admin_token_), 400, "BadRequest", "unknown action", {secret});
  ExpectGraphError(Invoke(alice_, with("action", "suspend"), admin_token_), 400, "BadRequest", "Cordon's word");
  ExpectGraphError(Invoke(alice_, with("action", "unknownFutureValue"), admin_token_), 400, "BadRequest",
                   "unknownFutureValue");
  ExpectGraphError(Invoke(alice_, with("identityProvider", "ad"), admin_token_), 400, "BadRequest", "Cordon's name");
  ExpectGraphError(Invoke(alice_, with("accountId", kAliceAd), admin_token_), 400, "BadRequest",
                   "the account is at another provider");
  ExpectGraphError(Invoke(alice_, with("accountId", secret), admin_token_), 400, "BadRequest", "not her account",
                   {secret});
  ExpectGraphError(Invoke(bob_, good, admin_token_), 400, "BadRequest", "another identity's account");
  ExpectGraphError(Invoke(alice_, with("action", "forcePasswordReset"), admin_token_), 400, "BadRequest",
                   "not supported at okta");
  ExpectGraphError(Invoke("00000000-0000-4000-8000-000000000000", good, admin_token_), 404, "NotFound",
                   "unknown identity");

  RawRequest not_json;
  not_json.method = http::verb::post;
  not_json.target = std::string(kAccounts) + "/" + alice_ + "/invokeAction";
  not_json.token = admin_token_;
  not_json.body = "accountId=x";
  not_json.content_type = "application/x-www-form-urlencoded";
  ExpectGraphError(client_->Send(not_json), 415, "UnsupportedMediaType", "a form");
  not_json.body = "{not json";
  not_json.content_type = "application/json";
  ExpectGraphError(client_->Send(not_json), 400, "BadRequest", "malformed JSON");

  const HttpResult wrong_method = Get(std::string(kAccounts) + "/" + alice_ + "/invokeAction", admin_token_);
  ExpectGraphError(wrong_method, 405, "BadRequest", "GET on invokeAction");
  EXPECT_EQ(wrong_method.Header("allow"), "POST");
  RawRequest post_list;
  post_list.method = http::verb::post;
  post_list.target = std::string(kAccounts);
  post_list.token = admin_token_;
  post_list.body = "{}";
  ExpectGraphError(client_->Send(post_list), 405, "BadRequest", "POST on the list");

  for (const std::string& query : std::vector<std::string>{
           "$filter=" + Encode("mail eq '" + secret + "'"), "$filter=" + Encode("displayName ne 'x'"),
        "$filter=" + Encode("displayName eq '" + secret), "$top=0", "$top=1000", "$top=" + secret,
        "$orderby=displayName", "$count=true", "$skip=1", "$select=" + secret, "filter=" + Encode("domain eq 'x'"),
        secret + "=1", "$skiptoken=" + std::string(600, 'a')}) {
    ExpectGraphError(Get(std::string(kAccounts) + "?" + query, admin_token_), 400, "BadRequest", query, {secret});
  }
  ExpectGraphError(Get(std::string(kAccounts) + "?$skiptoken=" + secret, admin_token_), 400, "BadRequest",
                   "a skiptoken this server never issued", {secret});
  ExpectGraphError(Get(std::string(kAccounts) + "?$top=1&$top=2", admin_token_), 400, "BadRequest",
                   "a parameter twice");
  ExpectGraphError(Get(std::string(kAccounts) + "?$filter=%zz", admin_token_), 400, "BadRequest",
                   "a malformed escape");

  ActionFilter all;
  EXPECT_TRUE(fixture_->store().ListActions(all)->actions.empty()) << "no refused call created an action";
}

TEST_F(GraphApiTest, AuthenticatesWithCordonsTokensAndAnswersInGraphsWords) {
  const HttpResult none = Get(kAccounts, "");
  ExpectGraphError(none, 401, "InvalidAuthenticationToken", "no token");
  EXPECT_EQ(none.Json()["error"]["message"], "Access token is empty.");
  EXPECT_EQ(none.Header("www-authenticate"), "Bearer realm=\"cordon\"");
  const std::string forged = "cdn_forgedforgedforgedforgedforgedforgedfor";
  const HttpResult bad = Get(std::string(kAccounts) + "/" + alice_, forged);
  ExpectGraphError(bad, 401, "InvalidAuthenticationToken", "unknown token", {forged});
  EXPECT_EQ(bad.Header("www-authenticate"), "Bearer realm=\"cordon\", error=\"invalid_token\"");
  ExpectGraphError(Invoke(alice_, json{{"accountId", kAliceAd}, {"action", "disable"}, {"identityProvider", "activeDirectory"}},
                          ""),
                   401, "InvalidAuthenticationToken", "invokeAction without token");

  // Revoked tokens are refused from the next request on, as on /api/v1.
  const std::string token = fixture_->Token(Role::kSecurityOperator);
  ASSERT_EQ(Get(kAccounts, token).status, 200u);
  auto record = fixture_->store().FindTokenByDigest(TokenDigest(token));
  ASSERT_TRUE(record.has_value() && record->has_value());
  ASSERT_TRUE(fixture_->store().RevokeToken((*record)->id, Actor{"local:test", ""}, "left", Now()).has_value());
  ExpectGraphError(Get(kAccounts, token), 401, "InvalidAuthenticationToken", "revoked");

  // Counted and audited as every refused authentication.
  const HttpResult metrics = client_->Get("/metrics", admin_token_);
  EXPECT_NE(metrics.body.find("cordon_auth_failures_total{reason=\"unauthenticated\"} 4\n"), std::string::npos)
      << metrics.body;
  ASSERT_TRUE(fixture_->Flush().has_value());
  auto rows = fixture_->store().ListAudit("auth.unauthenticated", 1000);
  ASSERT_TRUE(rows.has_value());
  int64_t refused = 0;
  for (const AuditEvent& e : *rows) {
    refused += e.count;
    EXPECT_NE(e.detail.find("route graph.identityAccounts."), std::string::npos) << e.detail;
    EXPECT_EQ(e.detail.find(forged), std::string::npos);
  }
  EXPECT_EQ(refused, 4);
}

TEST_F(GraphApiTest, EchoesAClientRequestIdOnlyWhenItIsAGuid) {
  const HttpResult guid =
      Get(std::string(kAccounts) + "?$top=1", admin_token_, {{"client-request-id", "5A9C3E4B-1D2F-4A6B-8C7D-9E0F1A2B3C4D"}});
  EXPECT_EQ(guid.Header("client-request-id"), "5a9c3e4b-1d2f-4a6b-8c7d-9e0f1a2b3c4d");
  const HttpResult other = Get(std::string(kAccounts) + "?$top=1", admin_token_, {{"client-request-id", "<b>hello</b>"}});
  EXPECT_EQ(other.Header("client-request-id"), other.Header("request-id"));
  const HttpResult error = Get(std::string(kAccounts) + "?$top=0", admin_token_,
                               {{"client-request-id", "5a9c3e4b-1d2f-4a6b-8c7d-9e0f1a2b3c4d"}});
  ExpectGraphError(error, 400, "BadRequest", "$top=0");
  EXPECT_EQ(error.Json()["error"]["innerError"]["client-request-id"], "5a9c3e4b-1d2f-4a6b-8c7d-9e0f1a2b3c4d");
}

class GraphApiOnlyAdTest : public GraphApiTest {
 protected:
  ApiFixtureOptions Options() override {
    ApiFixtureOptions o;
    o.providers = {Provider::kActiveDirectory};
    return o;
  }
};

TEST_F(GraphApiOnlyAdTest, AProviderNotConfiguredHereIsRefusedByTheActionService) {
  const HttpResult r = Invoke(alice_, json{{"accountId", kAliceOkta}, {"action", "disable"}, {"identityProvider", "okta"}},
                              admin_token_);
  ExpectGraphError(r, 400, "BadRequest", "okta not configured");
  EXPECT_NE(r.Json()["error"]["message"].get<std::string>().find("not configured"), std::string::npos) << r.body;
  EXPECT_EQ(Invoke(alice_, json{{"accountId", kAliceAd}, {"action", "disable"}, {"identityProvider", "activeDirectory"}},
                   admin_token_)
                .status,
            200u);
}

}  // namespace
}  // namespace cordon::api
