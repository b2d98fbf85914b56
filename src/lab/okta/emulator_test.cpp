#include "lab/okta/emulator.h"

#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/subprocess.h"
#include "support/okta_wire.h"
#include "support/temp_dir.h"
#include "support/test_certificates.h"

namespace cordon::lab::okta {
namespace {

using cordon::testing::Call;
using cordon::testing::KeyPair;
using cordon::testing::TempDir;
using cordon::testing::TestCertificates;
using cordon::testing::WireRequest;
using cordon::testing::WireResponse;
using nlohmann::json;

constexpr std::string_view kApiToken = "00-test-api-token-for-the-emulator";
constexpr std::string_view kClientId = "0oatestclient0000001";

class OktaEmulatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_dir_ = new TempDir("okta-emu-ca");
    auto certs = TestCertificates::Make(certs_dir_->path());
    if (!certs) throw std::runtime_error(certs.error().message);
    certs_ = new TestCertificates(std::move(*certs));
    client_key_ = new KeyPair();
  }
  static void TearDownTestSuite() {
    delete certs_;
    delete certs_dir_;
    delete client_key_;
  }

  void SetUp() override { Start({}); }

  void Start(std::function<void(EmulatorOptions&)> adjust) {
    if (emulator_) emulator_->Stop();
    EmulatorOptions o;
    o.tls_cert_file = certs_->cert();
    o.tls_key_file = certs_->key();
    o.api_token = Secret(std::string(kApiToken));
    o.clients = {{std::string(kClientId), client_key_->PublicPem(), {"okta.users.manage"}}};
    o.deactivate_delay = std::chrono::milliseconds(600);
    o.users = {{"ann.active@corp.example.test", "Ann", "Active", UserStatus::kActive},
               {"sue.suspended@corp.example.test", "Sue", "Suspended", UserStatus::kSuspended},
               {"dora.gone@corp.example.test", "Dora", "Gone", UserStatus::kDeprovisioned}};
    for (int i = 1; i <= 450; ++i)
      o.users.push_back({"bulk" + std::to_string(i) + "@corp.example.test", "Bulk", std::to_string(i)});
    if (adjust) adjust(o);
    auto e = OktaEmulator::Create(std::move(o));
    ASSERT_TRUE(e) << e.error().message;
    emulator_ = std::move(*e);
    emulator_->Start();
  }

  WireResponse Api(const std::string& method, const std::string& path, std::string auth = {},
                   std::vector<std::string> headers = {}, std::string body = {}) {
    WireRequest r;
    r.method = method;
    r.url = path.rfind("https://", 0) == 0 ? path : emulator_->url() + path;
    r.authorization = auth.empty() ? "SSWS " + std::string(kApiToken) : auth;
    r.extra_headers = std::move(headers);
    r.body = std::move(body);
    if (!r.body.empty()) r.content_type = "application/json";
    return Call(r, certs_->ca());
  }

  WireResponse Token(const std::string& assertion, const std::string& scope = "okta.users.manage") {
    WireRequest r;
    r.method = "POST";
    r.url = emulator_->url() + "/oauth2/v1/token";
    r.content_type = "application/x-www-form-urlencoded";
    r.body = cordon::testing::TokenForm(assertion, scope);
    return Call(r, certs_->ca());
  }

  std::string IdOf(const std::string& login) {
    const auto r = Api("GET", "/api/v1/users/" + login);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("id", "");
  }

  static void ExpectOktaError(const WireResponse& r, long status, const std::string& code, const std::string& summary) {
    EXPECT_EQ(r.status, status) << r.body;
    const json j = r.Json();
    ASSERT_TRUE(j.is_object()) << r.body;
    std::set<std::string> keys;
    for (const auto& [k, v] : j.items()) keys.insert(k);
    EXPECT_EQ(keys, (std::set<std::string>{"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}));
    EXPECT_EQ(j.value("errorCode", ""), code);
    EXPECT_EQ(j.value("errorLink", ""), code);
    EXPECT_EQ(j.value("errorSummary", ""), summary);
    EXPECT_FALSE(j.value("errorId", "").empty());
    EXPECT_TRUE(j["errorCauses"].is_array());
    EXPECT_EQ(r.Header("content-type"), "application/json");
  }

  static inline TempDir* certs_dir_ = nullptr;
  static inline TestCertificates* certs_ = nullptr;
  static inline KeyPair* client_key_ = nullptr;
  std::unique_ptr<OktaEmulator> emulator_;
};

TEST_F(OktaEmulatorTest, UserByIdAndByLoginInOktasShape) {
  const auto r = Api("GET", "/api/v1/users/ann.active@corp.example.test");
  ASSERT_EQ(r.status, 200) << r.body;
  const json u = r.Json();
  const std::string id = u["id"];
  EXPECT_EQ(id.size(), 20u);
  EXPECT_EQ(id.substr(0, 3), "00u");
  EXPECT_EQ(u["status"], "ACTIVE");
  for (const char* field : {"created", "activated", "statusChanged", "lastLogin", "lastUpdated", "passwordChanged",
                            "type", "profile", "credentials", "_links"})
    EXPECT_TRUE(u.contains(field)) << field;
  EXPECT_EQ(u["profile"]["login"], "ann.active@corp.example.test");
  EXPECT_EQ(u["profile"]["email"], "ann.active@corp.example.test");
  EXPECT_EQ(u["profile"]["firstName"], "Ann");
  EXPECT_EQ(u["profile"]["lastName"], "Active");
  EXPECT_EQ(u["_links"]["self"]["href"], emulator_->url() + "/api/v1/users/" + id);
  EXPECT_TRUE(u["_links"].contains("suspend"));
  EXPECT_FALSE(u.contains("transitioningToStatus"));
  const auto by_id = Api("GET", "/api/v1/users/" + id);
  EXPECT_EQ(by_id.Json()["profile"]["login"], "ann.active@corp.example.test");
}

TEST_F(OktaEmulatorTest, UnknownUserIsE0000007) {
  ExpectOktaError(Api("GET", "/api/v1/users/nobody@corp.example.test"), 404, "E0000007",
                  "Not found: Resource not found: nobody@corp.example.test (User)");
  ExpectOktaError(Api("POST", "/api/v1/users/00uNOSUCHUSER0000000/lifecycle/suspend"), 404, "E0000007",
                  "Not found: Resource not found: 00uNOSUCHUSER0000000 (User)");
}

TEST_F(OktaEmulatorTest, SuspendAndUnsuspendOnlyFromTheirStates) {
  const std::string ann = IdOf("ann.active@corp.example.test");
  auto r = Api("POST", "/api/v1/users/" + ann + "/lifecycle/unsuspend");
  ExpectOktaError(r, 400, "E0000001", "Cannot unsuspend a user that is not suspended");
  EXPECT_EQ(r.Json()["errorCauses"], json::parse(R"([{"errorSummary":"Cannot unsuspend a user that is not suspended"}])"));
  r = Api("POST", "/api/v1/users/" + ann + "/lifecycle/suspend");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Api("GET", "/api/v1/users/" + ann).Json()["status"], "SUSPENDED");
  r = Api("POST", "/api/v1/users/" + ann + "/lifecycle/suspend");
  ExpectOktaError(r, 400, "E0000001", "Cannot suspend a user that is not active");
  EXPECT_EQ(r.Json()["errorCauses"], json::parse(R"([{"errorSummary":"Cannot suspend a user that is not active"}])"));
  EXPECT_EQ(Api("POST", "/api/v1/users/" + ann + "/lifecycle/unsuspend").status, 200);
  EXPECT_EQ(Api("GET", "/api/v1/users/" + ann).Json()["status"], "ACTIVE");
  ExpectOktaError(Api("POST", "/api/v1/users/dora.gone@corp.example.test/lifecycle/deactivate"), 400, "E0000001",
                  "Cannot deactivate a user that is already deprovisioned");
}

TEST_F(OktaEmulatorTest, AsyncDeactivateShowsTransitioningThenDeprovisioned) {
  const std::string ann = IdOf("ann.active@corp.example.test");
  const auto r = Api("POST", "/api/v1/users/" + ann + "/lifecycle/deactivate", {}, {"Prefer: respond-async"});
  EXPECT_EQ(r.status, 202) << r.body;
  const json during = Api("GET", "/api/v1/users/" + ann).Json();
  EXPECT_EQ(during["status"], "ACTIVE");
  EXPECT_EQ(during.value("transitioningToStatus", ""), "DEPROVISIONED");
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  const json after = Api("GET", "/api/v1/users/" + ann).Json();
  EXPECT_EQ(after["status"], "DEPROVISIONED");
  EXPECT_FALSE(after.contains("transitioningToStatus"));
}

TEST_F(OktaEmulatorTest, SynchronousDeactivateAnswersOnceDone) {
  const auto start = std::chrono::steady_clock::now();
  const auto r = Api("POST", "/api/v1/users/ann.active@corp.example.test/lifecycle/deactivate");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_EQ(Api("GET", "/api/v1/users/ann.active@corp.example.test").Json()["status"], "DEPROVISIONED");
}

TEST_F(OktaEmulatorTest, FirstDeleteDeactivatesSecondDeletes) {
  const std::string ann = IdOf("ann.active@corp.example.test");
  EXPECT_EQ(Api("DELETE", "/api/v1/users/" + ann).status, 204);
  EXPECT_EQ(Api("GET", "/api/v1/users/" + ann).Json()["status"], "DEPROVISIONED");
  EXPECT_EQ(Api("DELETE", "/api/v1/users/" + ann).status, 204);
  ExpectOktaError(Api("GET", "/api/v1/users/" + ann), 404, "E0000007",
                  "Not found: Resource not found: " + ann + " (User)");
  ExpectOktaError(Api("DELETE", "/api/v1/users/" + ann), 404, "E0000007",
                  "Not found: Resource not found: " + ann + " (User)");
}

TEST_F(OktaEmulatorTest, SessionsAreRevokedWithOrWithoutOAuthTokens) {
  const std::string ann = IdOf("ann.active@corp.example.test");
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(Api("POST", "/lab/users/" + ann + "/sessions", {}, {}, R"({"oauthTokens":2})").status, 201);
  json s = Api("GET", "/lab/users/" + ann + "/sessions").Json();
  EXPECT_EQ(s["sessions"].size(), 2u);
  EXPECT_EQ(s["oauthTokens"], 4);
  EXPECT_EQ(Api("DELETE", "/api/v1/users/" + ann + "/sessions?oauthTokens=false").status, 204);
  s = Api("GET", "/lab/users/" + ann + "/sessions").Json();
  EXPECT_EQ(s["sessions"].size(), 0u);
  EXPECT_EQ(s["oauthTokens"], 4);
  EXPECT_EQ(Api("DELETE", "/api/v1/users/" + ann + "/sessions?oauthTokens=true").status, 204);
  EXPECT_EQ(Api("GET", "/lab/users/" + ann + "/sessions").Json()["oauthTokens"], 0);
  EXPECT_EQ(Api("DELETE", "/api/v1/users/nobody@x/sessions").status, 404);
}

TEST_F(OktaEmulatorTest, ListingPagesWithLinkHeaders) {
  std::set<std::string> ids;
  std::string url = "/api/v1/users";
  int pages = 0;
  while (!url.empty()) {
    const auto r = Api("GET", url);
    ASSERT_EQ(r.status, 200) << r.body;
    ++pages;
    const json users = r.Json();
    EXPECT_LE(users.size(), 200u);
    for (const auto& u : users) {
      EXPECT_NE(u["status"], "DEPROVISIONED");
      EXPECT_TRUE(ids.insert(u["id"].get<std::string>()).second);
    }
    const auto links = r.Headers("link");
    url.clear();
    bool self = false;
    for (const auto& l : links) {
      if (l.find("rel=\"self\"") != std::string::npos) self = true;
      if (l.find("rel=\"next\"") != std::string::npos) url = l.substr(1, l.find('>') - 1);
    }
    EXPECT_TRUE(self);
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids.size(), 452u);  // 453 seeded, Dora is DEPROVISIONED
  const auto small = Api("GET", "/api/v1/users?limit=1000");
  EXPECT_EQ(small.Json().size(), 200u);
}

TEST_F(OktaEmulatorTest, CreateUserAsOktaDoesStagedProvisionedOrActive) {
  const std::string evil = "<img src=x onerror=alert(1)> \"quoted\" & done";
  json profile = {{"firstName", "Nina"},
                  {"lastName", "New"},
                  {"email", "nina.new@corp.example.test"},
                  {"login", "nina.new@corp.example.test"},
                  {"displayName", evil}};
  auto r = Api("POST", "/api/v1/users?activate=false", {}, {}, json{{"profile", profile}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json u = r.Json();
  EXPECT_EQ(u["status"], "STAGED");
  EXPECT_EQ(u["activated"], nullptr);
  EXPECT_EQ(std::string(u["id"]).substr(0, 3), "00u");
  EXPECT_EQ(u["profile"]["displayName"], evil) << "kept and returned exactly";
  EXPECT_NE(r.body.find("<img src=x onerror=alert(1)>"), std::string::npos) << "JSON-escaped, nothing more";
  EXPECT_EQ(Api("GET", "/api/v1/users/nina.new@corp.example.test").Json()["profile"]["displayName"], evil);

  profile["login"] = profile["email"] = "pia.provisioned@corp.example.test";
  u = Api("POST", "/api/v1/users?activate=true", {}, {}, json{{"profile", profile}}.dump()).Json();
  EXPECT_EQ(u["status"], "PROVISIONED") << "activated without a password: the user finishes by email";
  profile["login"] = profile["email"] = "abe.active@corp.example.test";
  r = Api("POST", "/api/v1/users", {}, {},
          json{{"profile", profile}, {"credentials", {{"password", {{"value", "tlpWENT2m"}}}}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["status"], "ACTIVE") << "activate defaults to true";
  EXPECT_EQ(r.Json()["credentials"]["password"], json::object()) << "the password is never shown";
  EXPECT_EQ(r.body.find("tlpWENT2m"), std::string::npos);

  // Logins are unique whatever their case.
  profile["login"] = "NINA.NEW@corp.example.test";
  r = Api("POST", "/api/v1/users?activate=false", {}, {}, json{{"profile", profile}}.dump());
  ExpectOktaError(r, 400, "E0000001", "Api validation failed: login");
  EXPECT_EQ(r.Json()["errorCauses"],
            json::parse(R"([{"errorSummary":"login: An object with this field already exists in the current organization"}])"));

  r = Api("POST", "/api/v1/users?activate=false", {}, {},
          json{{"profile", {{"login", "no-at-sign"}, {"firstName", "X"}, {"lastName", "Y"}}}}.dump());
  ExpectOktaError(r, 400, "E0000001", "Api validation failed: login");
  EXPECT_EQ(r.Json()["errorCauses"].size(), 2u) << r.body;  // the login's shape, the missing email
  ExpectOktaError(Api("POST", "/api/v1/users?activate=maybe", {}, {}, json{{"profile", profile}}.dump()), 400,
                  "E0000001", "Api validation failed: activate");
  ExpectOktaError(Api("POST", "/api/v1/users", {}, {}, "not json"), 400, "E0000003",
                  "The request body was not well-formed.");
  // A new user is listed like any other.
  r = Api("GET", "/api/v1/users?filter=" + cordon::testing::FormEncode("status eq \"STAGED\""));
  ASSERT_EQ(r.Json().size(), 1u);
  EXPECT_EQ(r.Json()[0]["profile"]["login"], "nina.new@corp.example.test");
}

TEST_F(OktaEmulatorTest, PartialProfileUpdateChangesOnlyWhatIsGiven) {
  const std::string ann = IdOf("ann.active@corp.example.test");
  const std::string evil = "<script>alert('x')</script>";
  auto r = Api("POST", "/api/v1/users/" + ann, {}, {}, json{{"profile", {{"displayName", evil}}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json u = Api("GET", "/api/v1/users/" + ann).Json();
  EXPECT_EQ(u["profile"]["displayName"], evil);
  EXPECT_EQ(u["profile"]["firstName"], "Ann");
  EXPECT_EQ(u["profile"]["login"], "ann.active@corp.example.test");
  EXPECT_EQ(u["status"], "ACTIVE");
  EXPECT_EQ(Api("POST", "/api/v1/users/" + ann, {}, {}, json{{"profile", {{"displayName", nullptr}}}}.dump()).status,
            200);
  EXPECT_EQ(Api("GET", "/api/v1/users/" + ann).Json()["profile"]["displayName"], nullptr);
  ExpectOktaError(Api("POST", "/api/v1/users/" + ann, {}, {},
                      json{{"profile", {{"login", "sue.suspended@corp.example.test"}}}}.dump()),
                  400, "E0000001", "Api validation failed: login");
  ExpectOktaError(Api("POST", "/api/v1/users/" + ann, {}, {}, json{{"profile", {{"favouriteColour", "red"}}}}.dump()),
                  400, "E0000001", "Api validation failed: favouriteColour");
  ExpectOktaError(Api("POST", "/api/v1/users/00uNOSUCHUSER0000000", {}, {}, json{{"profile", json::object()}}.dump()),
                  404, "E0000007", "Not found: Resource not found: 00uNOSUCHUSER0000000 (User)");
}

TEST_F(OktaEmulatorTest, SearchFilterAndQ) {
  auto r = Api("GET", "/api/v1/users?search=" + cordon::testing::FormEncode("profile.login eq \"dora.gone@corp.example.test\""));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.Json().size(), 1u);
  EXPECT_EQ(r.Json()[0]["status"], "DEPROVISIONED");
  r = Api("GET", "/api/v1/users?filter=" + cordon::testing::FormEncode("status eq \"SUSPENDED\""));
  ASSERT_EQ(r.Json().size(), 1u);
  EXPECT_EQ(r.Json()[0]["profile"]["login"], "sue.suspended@corp.example.test");
  r = Api("GET", "/api/v1/users?q=Bulk");
  EXPECT_EQ(r.Json().size(), 10u);
  ExpectOktaError(Api("GET", "/api/v1/users?filter=" + cordon::testing::FormEncode("profile.login co \"a\"")), 400,
                  "E0000031", "Invalid search criteria.");
}

TEST_F(OktaEmulatorTest, ApiTokenIsRequired) {
  ExpectOktaError(Api("GET", "/api/v1/users/ann.active@corp.example.test", "SSWS wrong-token"), 401, "E0000011",
                  "Invalid token provided");
  ExpectOktaError(Api("GET", "/api/v1/users/ann.active@corp.example.test", "Basic Zm9vOmJhcg=="), 401, "E0000011",
                  "Invalid token provided");
  ExpectOktaError(Api("POST", "/lab/faults", "SSWS nope", {}, R"({"error_rate":1})"), 401, "E0000011",
                  "Invalid token provided");
}

TEST_F(OktaEmulatorTest, PrivateKeyJwtIssuesBearerTokens) {
  const auto r = Token(client_key_->Jwt(cordon::testing::AssertionClaims(std::string(kClientId), emulator_->url())));
  ASSERT_EQ(r.status, 200) << r.body;
  const json t = r.Json();
  EXPECT_EQ(t["token_type"], "Bearer");
  EXPECT_EQ(t["expires_in"], 3600);
  EXPECT_EQ(t["scope"], "okta.users.manage");
  const std::string bearer = "Bearer " + t["access_token"].get<std::string>();
  EXPECT_EQ(Api("GET", "/api/v1/users/ann.active@corp.example.test", bearer).status, 200);
  EXPECT_EQ(Api("POST", "/api/v1/users/ann.active@corp.example.test/lifecycle/suspend", bearer).status, 200);
  ExpectOktaError(Api("GET", "/api/v1/users/ann.active@corp.example.test", "Bearer not-a-token"), 401, "E0000011",
                  "Invalid token provided");
}

TEST_F(OktaEmulatorTest, BadClientAssertionsAreRefused) {
  const std::string url = emulator_->url();
  const std::string id(kClientId);
  auto refused = [&](const WireResponse& r, long status, const std::string& error) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.Json().value("error", ""), error) << r.body;
  };
  KeyPair stranger;
  refused(Token(stranger.Jwt(cordon::testing::AssertionClaims(id, url))), 401, "invalid_client");
  json claims = cordon::testing::AssertionClaims(id, url);
  claims["aud"] = "https://elsewhere.okta.com/oauth2/v1/token";
  refused(Token(client_key_->Jwt(claims)), 401, "invalid_client");
  refused(Token(client_key_->Jwt(cordon::testing::AssertionClaims(id, url, -10))), 401, "invalid_client");
  claims = cordon::testing::AssertionClaims(id, url);
  claims["sub"] = "someone-else";
  refused(Token(client_key_->Jwt(claims)), 401, "invalid_client");
  refused(Token(client_key_->Jwt(cordon::testing::AssertionClaims(id, url)), ""), 400, "invalid_scope");
  refused(Token(client_key_->Jwt(cordon::testing::AssertionClaims(id, url)), "okta.users.read okta.groups.manage"),
          400, "invalid_scope");
  // The same assertion twice: the second is a replay.
  const std::string once = client_key_->Jwt(cordon::testing::AssertionClaims(id, url));
  EXPECT_EQ(Token(once).status, 200);
  refused(Token(once), 401, "invalid_client");
  // A tampered payload keeps the old signature.
  std::string tampered = client_key_->Jwt(cordon::testing::AssertionClaims(id, url));
  const size_t dot = tampered.find('.');
  tampered[dot + 5] = tampered[dot + 5] == 'A' ? 'B' : 'A';
  refused(Token(tampered), 401, "invalid_client");
}

TEST_F(OktaEmulatorTest, ExpiredAccessTokensAre401) {
  EXPECT_EQ(Api("POST", "/lab/settings", {}, {}, R"({"access_token_lifetime_seconds":1})").status, 200);
  const auto r = Token(client_key_->Jwt(cordon::testing::AssertionClaims(std::string(kClientId), emulator_->url())));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["expires_in"], 1);
  const std::string bearer = "Bearer " + r.Json()["access_token"].get<std::string>();
  EXPECT_EQ(Api("GET", "/api/v1/users/ann.active@corp.example.test", bearer).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  ExpectOktaError(Api("GET", "/api/v1/users/ann.active@corp.example.test", bearer), 401, "E0000011",
                  "Invalid token provided");
}

TEST_F(OktaEmulatorTest, RateLimitHeadersAndE0000047AtTheLimit) {
  ASSERT_EQ(Api("POST", "/lab/settings", {}, {}, R"({"rate_limits":{"users.read":{"limit":3,"window_seconds":60}}})").status,
            200);
  cordon::testing::AwaitWindowWithTimeLeft(std::chrono::seconds(60), std::chrono::seconds(10));
  const int64_t now = cordon::testing::EpochNow();
  for (int i = 0; i < 3; ++i) {
    const auto r = Api("GET", "/api/v1/users/ann.active@corp.example.test");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.Header("x-rate-limit-limit"), "3");
    EXPECT_EQ(r.Header("x-rate-limit-remaining"), std::to_string(2 - i));
    const int64_t reset = std::stoll(r.Header("x-rate-limit-reset"));
    EXPECT_GT(reset, now - 1);
    EXPECT_LE(reset, now + 61);
  }
  const auto over = Api("GET", "/api/v1/users/ann.active@corp.example.test");
  ExpectOktaError(over, 429, "E0000047", "API call exceeded rate limit due to too many requests.");
  EXPECT_EQ(over.Header("x-rate-limit-remaining"), "0");
  // Another family has its own budget.
  const auto manage = Api("POST", "/api/v1/users/ann.active@corp.example.test/lifecycle/suspend");
  EXPECT_EQ(manage.status, 200);
  EXPECT_EQ(manage.Header("x-rate-limit-limit"), "600");
  EXPECT_EQ(manage.Header("x-rate-limit-remaining"), "599");
}

TEST_F(OktaEmulatorTest, StatsCountRequestsAndRefusalsPerFamilyAndWindow) {
  ASSERT_EQ(Api("POST", "/lab/settings", {}, {}, R"({"rate_limits":{"users.read":{"limit":2,"window_seconds":60}}})").status,
            200);
  EXPECT_EQ(Api("GET", "/lab/stats", "SSWS wrong").status, 401) << "a lab route needs the API token";
  cordon::testing::AwaitWindowWithTimeLeft(std::chrono::seconds(60), std::chrono::seconds(10));
  for (int i = 0; i < 3; ++i) (void)Api("GET", "/api/v1/users/ann.active@corp.example.test");
  EXPECT_EQ(Api("POST", "/api/v1/users/ann.active@corp.example.test/lifecycle/suspend").status, 200);
  const auto stats = Api("GET", "/lab/stats");
  ASSERT_EQ(stats.status, 200) << stats.body;
  const json doc = json::parse(stats.body);
  const json& read = doc.at("families").at("users.read");
  EXPECT_EQ(read.at("requests"), 3);
  EXPECT_EQ(read.at("rate_limited"), 1);
  EXPECT_GE(read.at("max_admitted_in_a_window"), 1);
  EXPECT_LE(read.at("max_admitted_in_a_window"), 2);
  int64_t admitted = 0, refused = 0;
  for (const json& w : read.at("windows")) {
    admitted += w.at("admitted").get<int64_t>();
    refused += w.at("refused").get<int64_t>();
    EXPECT_EQ(w.at("start").get<int64_t>() % 60, 0) << "fixed windows start on the minute";
  }
  EXPECT_EQ(admitted, 2);
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(doc.at("families").at("users.manage").at("requests"), 1);
  EXPECT_EQ(doc.at("families").at("users.manage").at("rate_limited"), 0);

  EXPECT_EQ(Api("DELETE", "/lab/stats").status, 204);
  EXPECT_EQ(json::parse(Api("GET", "/lab/stats").body).at("families"), json::object());
}

TEST_F(OktaEmulatorTest, ConcurrencyLimitAnswers429WithRemainingZero) {
  ASSERT_EQ(Api("POST", "/lab/settings", {}, {}, R"({"concurrency_limit":1})").status, 200);
  ASSERT_EQ(Api("POST", "/lab/faults", {}, {}, R"({"latency_ms":600})").status, 200);
  auto slow = std::async(std::launch::async, [&] { return Api("GET", "/api/v1/users/ann.active@corp.example.test"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto second = Api("GET", "/api/v1/users/sue.suspended@corp.example.test");
  ExpectOktaError(second, 429, "E0000047", "API call exceeded rate limit due to too many requests.");
  EXPECT_EQ(second.Header("x-rate-limit-limit"), "1");
  EXPECT_EQ(second.Header("x-rate-limit-remaining"), "0");
  EXPECT_EQ(slow.get().status, 200);
}

TEST_F(OktaEmulatorTest, DateFollowsTheEmulatorsClock) {
  auto parse = [](const std::string& date) {
    std::tm tm{};
    EXPECT_NE(strptime(date.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm), nullptr) << date;
    return static_cast<int64_t>(timegm(&tm));
  };
  auto r = Api("GET", "/api/v1/users/ann.active@corp.example.test");
  EXPECT_NEAR(parse(r.Header("date")), cordon::testing::EpochNow(), 5);
  ASSERT_EQ(Api("POST", "/lab/settings", {}, {}, R"({"clock_offset_seconds":86400})").status, 200);
  r = Api("GET", "/api/v1/users/ann.active@corp.example.test");
  EXPECT_NEAR(parse(r.Header("date")), cordon::testing::EpochNow() + 86400, 5);
  EXPECT_GT(std::stoll(r.Header("x-rate-limit-reset")), cordon::testing::EpochNow() + 86000);
}

TEST_F(OktaEmulatorTest, FaultsErrorsDropsAndLatency) {
  ASSERT_EQ(Api("POST", "/lab/faults", {}, {}, R"({"error_rate":1})").status, 200);
  ExpectOktaError(Api("GET", "/api/v1/users/ann.active@corp.example.test"), 500, "E0000009", "Internal Server Error");
  ASSERT_EQ(Api("POST", "/lab/faults", {}, {}, R"({"error_rate":0,"drop_rate":1})").status, 200);
  const auto dropped = Api("GET", "/api/v1/users/ann.active@corp.example.test");
  EXPECT_EQ(dropped.status, 0);
  EXPECT_FALSE(dropped.curl_error.empty());
  ASSERT_EQ(Api("POST", "/lab/faults", {}, {}, R"({"drop_rate":0,"latency_ms":400})").status, 200);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Api("GET", "/api/v1/users/ann.active@corp.example.test").status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(380));
}

// Headers clients have met in Okta's answers: a repeated Reset, a Date no
// parser reads, a Reset already past. The answer itself is unchanged.
TEST_F(OktaEmulatorTest, HeaderQuirksChangeOnlyTheHeaders) {
  const auto plain = Api("GET", "/api/v1/users/ann.active@corp.example.test");
  ASSERT_EQ(plain.status, 200);
  ASSERT_EQ(plain.Headers("x-rate-limit-reset").size(), 1u);
  const int64_t window_reset = std::stoll(plain.Header("x-rate-limit-reset"));

  auto set = Api("POST", "/lab/faults", {}, {}, R"({"header_quirks":["duplicate_reset"]})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.Json()["header_quirks"], json::array({"duplicate_reset"}));
  auto r = Api("GET", "/api/v1/users/ann.active@corp.example.test");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().value("status", ""), "ACTIVE");
  const auto resets = r.Headers("x-rate-limit-reset");
  ASSERT_EQ(resets.size(), 2u) << r.body;
  EXPECT_EQ(std::stoll(resets[0]), window_reset) << "the window's own first";
  EXPECT_NE(resets[1], resets[0]) << "the second differs";
  EXPECT_NEAR(std::stoll(resets[1]), cordon::testing::EpochNow() + 1, 3);

  ASSERT_EQ(Api("POST", "/lab/faults", {}, {}, R"({"header_quirks":["bad_date"]})").status, 200);
  r = Api("POST", "/api/v1/users/ann.active@corp.example.test/lifecycle/suspend");
  EXPECT_EQ(r.status, 200) << "the change is made: " << r.body;
  std::tm tm{};
  const std::string date = r.Header("date");
  ASSERT_FALSE(date.empty());
  EXPECT_EQ(strptime(date.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm), nullptr) << date;
  EXPECT_EQ(r.Headers("date").size(), 1u);

  ASSERT_EQ(Api("POST", "/lab/faults", {}, {}, R"({"header_quirks":["past_reset"]})").status, 200);
  r = Api("POST", "/api/v1/users/ann.active@corp.example.test/lifecycle/unsuspend");
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.Headers("x-rate-limit-reset").size(), 1u);
  EXPECT_LT(std::stoll(r.Header("x-rate-limit-reset")), cordon::testing::EpochNow());
  EXPECT_EQ(r.Header("x-rate-limit-remaining"), "598") << "the budget is counted as ever";

  // All at once, and off again; an unknown quirk is refused and changes nothing.
  set = Api("POST", "/lab/faults", {}, {}, R"({"header_quirks":["duplicate_reset","bad_date","past_reset"]})");
  ASSERT_EQ(set.status, 200);
  EXPECT_EQ(set.Json()["header_quirks"].size(), 3u);
  r = Api("GET", "/api/v1/users/ann.active@corp.example.test");
  EXPECT_EQ(r.Headers("x-rate-limit-reset").size(), 2u);
  ExpectOktaError(Api("POST", "/lab/faults", {}, {}, R"({"header_quirks":["late_date"]})"), 400, "E0000001",
                  "header_quirks: a list of duplicate_reset, bad_date, past_reset");
  EXPECT_EQ(Api("GET", "/lab/faults").Json()["header_quirks"].size(), 3u);
  ASSERT_EQ(Api("POST", "/lab/faults", {}, {}, R"({"header_quirks":[]})").status, 200);
  r = Api("GET", "/api/v1/users/ann.active@corp.example.test");
  EXPECT_EQ(r.Headers("x-rate-limit-reset").size(), 1u);
  EXPECT_NE(strptime(r.Header("date").c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm), nullptr);
}

TEST(OktaLabSeed, HoldsTheLabDirectoryPeopleAndOktaOnlyUsers) {
  const auto users = LabSeedUsers();
  std::set<std::string> logins;
  std::set<UserStatus> statuses;
  for (const auto& u : users) {
    logins.insert(u.login);
    statuses.insert(u.status);
  }
  EXPECT_EQ(logins.size(), users.size());
  EXPECT_TRUE(logins.contains("alice.adams@corp.example.test"));
  EXPECT_TRUE(logins.contains("nora.noexpiry@corp.example.test"));
  EXPECT_TRUE(logins.contains("carl.contractor@corp.example.test"));
  EXPECT_TRUE(logins.contains("bulk1000@corp.example.test"));
  EXPECT_GT(users.size(), 1030u);
  EXPECT_EQ(statuses.size(), 8u);
}

}  // namespace
}  // namespace cordon::lab::okta
