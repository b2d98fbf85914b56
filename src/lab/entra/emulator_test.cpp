#include "lab/entra/emulator.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/subprocess.h"
#include "support/okta_wire.h"
#include "support/temp_dir.h"
#include "support/test_certificates.h"

namespace cordon::lab::entra {
namespace {

using cordon::testing::Base64Url;
using cordon::testing::Call;
using cordon::testing::EpochNow;
using cordon::testing::FormEncode;
using cordon::testing::KeyPair;
using cordon::testing::TempDir;
using cordon::testing::TestCertificates;
using cordon::testing::WireRequest;
using cordon::testing::WireResponse;
using nlohmann::json;

constexpr std::string_view kTenant = "11111111-2222-4333-8444-555555555555";
constexpr std::string_view kClientId = "99999999-8888-4777-8666-555555555555";
constexpr std::string_view kSecret = "lab~secret-value-for-the-emulator";

// A key and a self-signed certificate for it, made with the openssl command line.
struct AppCertificate {
  std::string key_file, cert_file, pem;
  static AppCertificate Make(const std::filesystem::path& dir, const std::string& name) {
    AppCertificate c{(dir / (name + ".key")).string(), (dir / (name + ".pem")).string(), ""};
    auto r = RunProgram({.argv = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", c.key_file,
                                  "-out", c.cert_file, "-days", "2", "-subj", "/CN=" + name}});
    if (!r || !r->ok()) throw std::runtime_error("openssl req failed");
    std::ifstream in(c.cert_file);
    c.pem.assign(std::istreambuf_iterator<char>(in), {});
    return c;
  }
  // base64url SHA-1 of the certificate's DER, as `x5t` wants it.
  std::string Thumbprint() const {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    X509_digest(x, EVP_sha1(), digest, &len);
    X509_free(x);
    return Base64Url(std::string(reinterpret_cast<const char*>(digest), len));
  }
};

std::string SignedJwt(const KeyPair& key, const json& header, const json& claims) {
  const std::string input = Base64Url(header.dump()) + "." + Base64Url(claims.dump());
  return input + "." + Base64Url(key.SignRs256(input));
}

class EntraEmulatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("entra-emu");
    auto certs = TestCertificates::Make(dir_->path());
    if (!certs) throw std::runtime_error(certs.error().message);
    certs_ = new TestCertificates(std::move(*certs));
    app_cert_ = new AppCertificate(AppCertificate::Make(dir_->path(), "app"));
    other_cert_ = new AppCertificate(AppCertificate::Make(dir_->path(), "other"));
  }
  static void TearDownTestSuite() {
    delete app_cert_;
    delete other_cert_;
    delete certs_;
    delete dir_;
  }

  void SetUp() override {
    EmulatorOptions o;
    o.tls_cert_file = certs_->cert();
    o.tls_key_file = certs_->key();
    o.tenant_id = std::string(kTenant);
    o.tenant_domain = "corp.example.test";
    o.app.client_id = std::string(kClientId);
    o.app.client_secret = Secret(std::string(kSecret));
    o.app.certificate_pem = app_cert_->pem;
    SeedUser ann{"ann.synced@corp.example.test", "Ann", "Synced"};
    ann.synced = true;
    ann.sam_account_name = "ann.synced";
    ann.security_identifier = "S-1-5-21-100-200-300-1105";
    SeedUser dana{"dana.admin@corp.example.test", "Dana", "Admin"};
    dana.synced = true;
    dana.directory_roles = {std::string(kGlobalAdministrator)};
    SeedUser gary{"gary.guest_partner.example#EXT#@corp.example.test", "Gary", "Guest"};
    gary.user_type = "Guest";
    o.users = {ann, dana, gary, {"chloe.cloudonly@corp.example.test", "Chloe", "Cloudonly"}};
    for (int i = 1; i <= 250; ++i) o.users.push_back({fmt::format("bulk{:04}@corp.example.test", i), "Bulk", ""});
    auto e = GraphEmulator::Create(std::move(o));
    ASSERT_TRUE(e) << e.error().message;
    emulator_ = std::move(*e);
    emulator_->Start();
  }

  std::string TokenUrl() const { return emulator_->url() + "/" + std::string(kTenant) + "/oauth2/v2.0/token"; }

  WireResponse PostForm(const std::string& url, const std::string& form) {
    WireRequest r;
    r.method = "POST";
    r.url = url;
    r.content_type = "application/x-www-form-urlencoded";
    r.body = form;
    return Call(r, certs_->ca());
  }
  std::string SecretForm(const std::string& secret, const std::string& scope = "") {
    return "grant_type=client_credentials&client_id=" + std::string(kClientId) + "&scope=" +
           FormEncode(scope.empty() ? emulator_->url() + "/.default" : scope) + "&client_secret=" + FormEncode(secret);
  }
  std::string AssertionForm(const std::string& assertion) {
    return "grant_type=client_credentials&client_id=" + std::string(kClientId) + "&scope=" +
           FormEncode("https://graph.microsoft.com/.default") + "&client_assertion_type=" +
           FormEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") + "&client_assertion=" +
           FormEncode(assertion);
  }
  json Claims(int64_t exp_in = 300, int64_t nbf_in = 0) {
    return {{"aud", TokenUrl()}, {"iss", kClientId}, {"sub", kClientId}, {"jti", "j-" + std::to_string(++jti_)},
            {"nbf", EpochNow() + nbf_in}, {"exp", EpochNow() + exp_in}};
  }
  json Header(const std::string& x5t) { return {{"alg", "RS256"}, {"typ", "JWT"}, {"x5t", x5t}}; }

  // A fresh token of the app with the secret.
  std::string Token() {
    const auto r = PostForm(TokenUrl(), SecretForm(std::string(kSecret)));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("access_token", "");
  }
  WireResponse Send(const std::string& method, const std::string& path, const std::string& body = "",
                    std::string token = "", std::vector<std::string> headers = {}) {
    if (token.empty()) {
      if (token_.empty()) token_ = Token();
      token = token_;
    }
    WireRequest r;
    r.method = method;
    r.url = emulator_->url() + path;
    if (token != "-") r.authorization = "Bearer " + token;
    r.body = body;
    r.extra_headers = std::move(headers);
    if (!body.empty()) r.content_type = "application/json";
    return Call(r, certs_->ca());
  }
  void Settings(const json& s) {
    const auto r = Send("POST", "/lab/settings", s.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // Changes the app's roles and takes a token carrying them.
  void Roles(const json& roles) {
    Settings({{"app_roles", roles}});
    token_ = Token();
  }
  std::string IdOf(const std::string& upn) { return Send("GET", "/v1.0/users/" + FormEncode(upn)).Json().value("id", ""); }

  static void ExpectGraphError(const WireResponse& r, long status, const std::string& code,
                               const std::string& message = "") {
    EXPECT_EQ(r.status, status) << r.body;
    const json j = r.Json();
    ASSERT_TRUE(j.is_object() && j.contains("error")) << r.body;
    EXPECT_EQ(j["error"].value("code", ""), code) << r.body;
    if (!message.empty()) {
      EXPECT_EQ(j["error"].value("message", ""), message);
    }
    const json& inner = j["error"].value("innerError", json());
    ASSERT_TRUE(inner.is_object()) << r.body;
    EXPECT_EQ(inner.value("request-id", ""), r.Header("request-id"));
    EXPECT_EQ(inner.value("client-request-id", ""), r.Header("client-request-id"));
    EXPECT_FALSE(inner.value("date", "").empty());
  }
  static void ExpectAadError(const WireResponse& r, long status, const std::string& error, int code) {
    EXPECT_EQ(r.status, status) << r.body;
    const json j = r.Json();
    std::set<std::string> keys;
    for (const auto& [k, v] : j.items()) keys.insert(k);
    for (const char* k : {"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"})
      EXPECT_EQ(keys.count(k), 1u) << k << " in " << r.body;
    EXPECT_EQ(j.value("error", ""), error) << r.body;
    EXPECT_EQ(j.value("error_codes", json::array()), json::array({code})) << r.body;
    EXPECT_EQ(j.value("error_description", "").rfind("AADSTS" + std::to_string(code) + ":", 0), 0u) << r.body;
  }

  static inline TempDir* dir_ = nullptr;
  static inline TestCertificates* certs_ = nullptr;
  static inline AppCertificate* app_cert_ = nullptr;
  static inline AppCertificate* other_cert_ = nullptr;
  std::unique_ptr<GraphEmulator> emulator_;
  std::string token_;
  int jti_ = 0;
};

// --- the token endpoint ------------------------------------------------------

TEST_F(EntraEmulatorTest, ASecretGetsABearerTokenCarryingTheAppsRoles) {
  const auto r = PostForm(TokenUrl(), SecretForm(std::string(kSecret)));
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = r.Json();
  EXPECT_EQ(j.value("token_type", ""), "Bearer");
  EXPECT_EQ(j.value("expires_in", 0), 3599);
  EXPECT_EQ(j.value("ext_expires_in", 0), 3599);
  const std::string token = j.value("access_token", "");
  const auto dot = token.find('.');
  ASSERT_NE(dot, std::string::npos);
  const std::string payload = token.substr(dot + 1, token.find('.', dot + 1) - dot - 1);
  std::string b64 = payload;
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4 != 0) b64 += '=';
  std::string raw(b64.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  raw.resize(static_cast<size_t>(std::max(0, n)));
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  const json claims = json::parse(raw, nullptr, false);
  ASSERT_TRUE(claims.is_object()) << raw;
  EXPECT_EQ(claims.value("roles", json()), json({"User.Read.All", "User.EnableDisableAccount.All",
                                                  "User.RevokeSessions.All", "IdentityRiskyUser.ReadWrite.All"}));
  EXPECT_EQ(claims.value("tid", ""), kTenant);
  // The verified domain names the tenant too, and Graph's own scope is accepted.
  EXPECT_EQ(PostForm(emulator_->url() + "/corp.example.test/oauth2/v2.0/token",
                     SecretForm(std::string(kSecret), "https://graph.microsoft.com/.default"))
                .status,
            200);
}

TEST_F(EntraEmulatorTest, TokenRefusalsHaveAadsShape) {
  ExpectAadError(PostForm(TokenUrl(), SecretForm("wrong")), 401, "invalid_client", 7000215);
  ExpectAadError(PostForm(TokenUrl(), SecretForm(std::string(kSecret), "User.Read.All")), 400, "invalid_scope", 1002012);
  ExpectAadError(PostForm(TokenUrl(), SecretForm(std::string(kSecret), "https://elsewhere.example/.default")), 400,
                 "invalid_resource", 500011);
  ExpectAadError(PostForm(emulator_->url() + "/other.example/oauth2/v2.0/token", SecretForm(std::string(kSecret))),
                 400, "invalid_request", 90002);
  ExpectAadError(PostForm(TokenUrl(), "grant_type=client_credentials&client_id=nobody&scope=" +
                                          FormEncode(emulator_->url() + "/.default") + "&client_secret=x"),
                 400, "unauthorized_client", 700016);
  ExpectAadError(PostForm(TokenUrl(), "grant_type=client_credentials&client_id=" + std::string(kClientId) +
                                          "&scope=" + FormEncode(emulator_->url() + "/.default")),
                 401, "invalid_client", 7000218);
  const auto r = PostForm(TokenUrl(), SecretForm("wrong"));
  EXPECT_FALSE(r.Header("request-id").empty());
  EXPECT_EQ(r.body.find(std::string(kSecret)), std::string::npos);
}

TEST_F(EntraEmulatorTest, ACertificateAssertionGetsATokenAndEveryFlawIsRefused) {
  const KeyPair key(app_cert_->key_file), other(other_cert_->key_file);
  const std::string x5t = app_cert_->Thumbprint();
  const auto good = PostForm(TokenUrl(), AssertionForm(SignedJwt(key, Header(x5t), Claims())));
  ASSERT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(Send("GET", "/v1.0/users/ann.synced@corp.example.test", "", good.Json()["access_token"]).status, 200);

  // Signed by another key under the registered certificate's thumbprint.
  ExpectAadError(PostForm(TokenUrl(), AssertionForm(SignedJwt(other, Header(x5t), Claims()))), 401, "invalid_client",
                 700027);
  // Another certificate's thumbprint.
  ExpectAadError(PostForm(TokenUrl(), AssertionForm(SignedJwt(other, Header(other_cert_->Thumbprint()), Claims()))),
                 401, "invalid_client", 700027);
  json wrong_aud = Claims();
  wrong_aud["aud"] = emulator_->url() + "/oauth2/v2.0/token";
  ExpectAadError(PostForm(TokenUrl(), AssertionForm(SignedJwt(key, Header(x5t), wrong_aud))), 401, "invalid_client",
                 700212);
  ExpectAadError(PostForm(TokenUrl(), AssertionForm(SignedJwt(key, Header(x5t), Claims(-60, -600)))), 401,
                 "invalid_client", 700024);
  ExpectAadError(PostForm(TokenUrl(), AssertionForm(SignedJwt(key, Header(x5t), Claims(900, 600)))), 401,
                 "invalid_client", 700024);
  json wrong_iss = Claims();
  wrong_iss["iss"] = "someone-else";
  ExpectAadError(PostForm(TokenUrl(), AssertionForm(SignedJwt(key, Header(x5t), wrong_iss))), 401, "invalid_client",
                 700023);
  ExpectAadError(PostForm(TokenUrl(), AssertionForm("not.a-jwt")), 401, "invalid_client", 50027);
}

// --- tokens on Graph ---------------------------------------------------------

TEST_F(EntraEmulatorTest, MissingForgedAndExpiredTokensAre401InvalidAuthenticationToken) {
  ExpectGraphError(Send("GET", "/v1.0/users", "", "-"), 401, "InvalidAuthenticationToken", "Access token is empty.");
  ExpectGraphError(Send("GET", "/v1.0/users", "", "garbage"), 401, "InvalidAuthenticationToken");
  std::string forged = Token();
  // A character inside the signature: the last one carries bits that decoding
  // drops, so changing it may leave the signature as it was.
  char& c = forged[forged.size() - 10];
  c = c == 'A' ? 'B' : 'A';
  ExpectGraphError(Send("GET", "/v1.0/users", "", forged), 401, "InvalidAuthenticationToken");
  ExpectGraphError(Send("GET", "/lab/stats", "", "-"), 401, "InvalidAuthenticationToken");

  const std::string token = Token();
  EXPECT_EQ(Send("GET", "/v1.0/users?$top=1", "", token).status, 200);
  Settings({{"clock_offset_seconds", 3600}});  // the token's hour is over
  ExpectGraphError(Send("GET", "/v1.0/users?$top=1", "", token), 401, "InvalidAuthenticationToken",
                   "Lifetime validation failed, the token is expired.");
}

TEST_F(EntraEmulatorTest, TheTokenLifetimeIsSettable) {
  Settings({{"token_lifetime_seconds", 5}});
  const auto r = PostForm(TokenUrl(), SecretForm(std::string(kSecret)));
  EXPECT_EQ(r.Json().value("expires_in", 0), 5);
  const std::string token = r.Json().value("access_token", "");
  Settings({{"clock_offset_seconds", 6}});
  EXPECT_EQ(Send("GET", "/v1.0/users?$top=1", "", token).status, 401);
}

TEST_F(EntraEmulatorTest, EachEndpointWantsItsPermission) {
  Roles(json::array());
  const std::string ann = "/v1.0/users/ann.synced@corp.example.test";
  ExpectGraphError(Send("GET", "/v1.0/users"), 403, "Authorization_RequestDenied",
                   "Insufficient privileges to complete the operation.");
  ExpectGraphError(Send("GET", ann), 403, "Authorization_RequestDenied");
  ExpectGraphError(Send("PATCH", ann, R"({"accountEnabled":false})"), 403, "Authorization_RequestDenied");
  ExpectGraphError(Send("POST", ann + "/revokeSignInSessions"), 403, "Authorization_RequestDenied");
  ExpectGraphError(Send("GET", "/v1.0/identityProtection/riskyUsers"), 403, "Authorization_RequestDenied");

  Roles({"User.Read.All"});
  EXPECT_EQ(Send("GET", ann).status, 200);
  ExpectGraphError(Send("PATCH", ann, R"({"accountEnabled":false})"), 403, "Authorization_RequestDenied");
  ExpectGraphError(Send("POST", ann + "/revokeSignInSessions"), 403, "Authorization_RequestDenied");

  Roles({"User.Read.All", "IdentityRiskyUser.Read.All"});
  EXPECT_EQ(Send("GET", "/v1.0/identityProtection/riskyUsers").status, 200);
  ExpectGraphError(Send("POST", "/v1.0/identityProtection/riskyUsers/dismiss",
                        json{{"userIds", {IdOf("ann.synced@corp.example.test")}}}.dump()),
                   403, "Authorization_RequestDenied");

  Roles({"User.ReadWrite.All"});  // the higher permission does all a user's writes
  EXPECT_EQ(Send("PATCH", ann, R"({"accountEnabled":false})").status, 204);
  EXPECT_EQ(Send("PATCH", "/v1.0/users/chloe.cloudonly@corp.example.test", R"({"jobTitle":"Analyst"})").status, 204);
  Roles({"Directory.ReadWrite.All"});
  EXPECT_EQ(Send("POST", ann + "/revokeSignInSessions").status, 200);
}

// --- users -------------------------------------------------------------------

TEST_F(EntraEmulatorTest, AUserByIdOrUpnWithSelect) {
  const auto r = Send("GET", "/v1.0/users/ann.synced@corp.example.test?$select=id,userPrincipalName,accountEnabled,"
                             "onPremisesSyncEnabled,onPremisesSecurityIdentifier,userType");
  ASSERT_EQ(r.status, 200) << r.body;
  const json u = r.Json();
  EXPECT_EQ(u.size(), 7u) << u.dump();
  EXPECT_EQ(u.value("onPremisesSecurityIdentifier", ""), "S-1-5-21-100-200-300-1105");
  EXPECT_EQ(u.value("onPremisesSyncEnabled", false), true);
  EXPECT_EQ(u.value("userType", ""), "Member");
  EXPECT_EQ(u.value("@odata.context", ""),
            emulator_->url() + "/v1.0/$metadata#users(id,userPrincipalName,accountEnabled,onPremisesSyncEnabled,"
                               "onPremisesSecurityIdentifier,userType)/$entity");
  const std::string id = u.value("id", "");
  const json by_id = Send("GET", "/v1.0/users/" + id).Json();
  EXPECT_EQ(by_id.value("userPrincipalName", ""), "ann.synced@corp.example.test");
  EXPECT_TRUE(by_id.contains("businessPhones")) << "the default properties";
  EXPECT_FALSE(by_id.contains("accountEnabled"));
  const json cloud = Send("GET", "/v1.0/users/chloe.cloudonly@corp.example.test?$select=onPremisesSyncEnabled,"
                                 "onPremisesSecurityIdentifier").Json();
  EXPECT_TRUE(cloud["onPremisesSyncEnabled"].is_null());
  EXPECT_TRUE(cloud["onPremisesSecurityIdentifier"].is_null());
  const json guest = Send("GET", "/v1.0/users/" + FormEncode("gary.guest_partner.example#EXT#@corp.example.test") +
                                     "?$select=userType").Json();
  EXPECT_EQ(guest.value("userType", ""), "Guest");
  ExpectGraphError(Send("GET", "/v1.0/users/nobody@corp.example.test"), 404, "Request_ResourceNotFound");
  ExpectGraphError(Send("GET", "/v1.0/users/" + id + "?$select=nosuchProperty"), 400, "Request_BadRequest");
}

TEST_F(EntraEmulatorTest, ListingPagesWithTopAndSkiptokenAndFilters) {
  std::set<std::string> ids;
  std::string next = "/v1.0/users?$select=id,userPrincipalName&$top=100";
  int pages = 0;
  while (!next.empty() && pages < 10) {
    const auto r = Send("GET", next);
    ASSERT_EQ(r.status, 200) << r.body;
    ++pages;
    const json j = r.Json();
    EXPECT_EQ(j.value("@odata.context", ""), emulator_->url() + "/v1.0/$metadata#users(id,userPrincipalName)");
    for (const auto& u : j["value"]) {
      EXPECT_EQ(u.size(), 2u);
      ids.insert(u.value("id", ""));
    }
    next = j.value("@odata.nextLink", "");
    if (!next.empty()) {
      ASSERT_EQ(next.rfind(emulator_->url(), 0), 0u) << next;
      EXPECT_NE(next.find("$skiptoken="), std::string::npos);
      next = next.substr(emulator_->url().size());
    }
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids.size(), 254u);

  const json one = Send("GET", "/v1.0/users?$filter=" + FormEncode("userPrincipalName eq 'bulk0042@corp.example.test'")).Json();
  ASSERT_EQ(one["value"].size(), 1u) << one.dump();
  EXPECT_EQ(one["value"][0].value("userPrincipalName", ""), "bulk0042@corp.example.test");
  EXPECT_FALSE(one.contains("@odata.nextLink"));
  const json prefix = Send("GET", "/v1.0/users?$top=999&$filter=" + FormEncode("startswith(userPrincipalName,'bulk02')")).Json();
  EXPECT_EQ(prefix["value"].size(), 51u);  // bulk0200 .. bulk0250
  ExpectGraphError(Send("GET", "/v1.0/users?$top=1000"), 400, "Request_UnsupportedQuery");
  ExpectGraphError(Send("GET", "/v1.0/users?$filter=" + FormEncode("jobTitle eq 'x'")), 400, "Request_UnsupportedQuery");
  ExpectGraphError(Send("GET", "/v1.0/users?$skiptoken=bogus"), 400, "Directory_InvalidSkipToken");
}

TEST_F(EntraEmulatorTest, PatchChangesOnlyWritablePropertiesAndAnswers204) {
  const std::string ann = "/v1.0/users/ann.synced@corp.example.test";
  const auto r = Send("PATCH", ann, R"({"accountEnabled":false})");
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_FALSE(Send("GET", ann + "?$select=accountEnabled").Json().value("accountEnabled", true));
  EXPECT_EQ(Send("PATCH", ann, R"({"accountEnabled":true})").status, 204);
  EXPECT_TRUE(Send("GET", ann + "?$select=accountEnabled").Json().value("accountEnabled", false));

  ExpectGraphError(Send("PATCH", ann, R"({"accountEnabled":"no"})"), 400, "Request_BadRequest");
  ExpectGraphError(Send("PATCH", ann, R"({"id":"x"})"), 400, "Request_BadRequest");
  ExpectGraphError(Send("PATCH", ann, R"({"favouriteColour":"x"})"), 400, "Request_BadRequest");
  ExpectGraphError(Send("PATCH", ann, ""), 400, "Request_BadRequest");
  ExpectGraphError(Send("PATCH", "/v1.0/users/nobody@corp.example.test", R"({"accountEnabled":false})"), 404,
                   "Request_ResourceNotFound");
  Roles({"User.ReadWrite.All"});
  // AD masters a synced user's profile; only the cloud-side switch may change.
  ExpectGraphError(Send("PATCH", ann, R"({"displayName":"A"})"), 400, "Request_BadRequest");
  EXPECT_EQ(Send("PATCH", "/v1.0/users/chloe.cloudonly@corp.example.test", R"({"displayName":"Chloe C"})").status, 204);
  EXPECT_EQ(Send("GET", "/v1.0/users/chloe.cloudonly@corp.example.test").Json().value("displayName", ""), "Chloe C");
}

TEST_F(EntraEmulatorTest, CreateUserNeedsUserReadWriteAllAndGraphsRequiredProperties) {
  const std::string evil = "<img src=x onerror=alert(1)> \"quoted\" </script>";
  json user = {{"accountEnabled", true},
               {"displayName", evil},
               {"mailNickname", "nina.new"},
               {"userPrincipalName", "nina.new@corp.example.test"},
               {"passwordProfile", {{"forceChangePasswordNextSignIn", true}, {"password", "xWwvJ]6NMw+bWH-d"}}}};
  // The lab app does not hold User.ReadWrite.All by default.
  ExpectGraphError(Send("POST", "/v1.0/users", user.dump()), 403, "Authorization_RequestDenied",
                   "Insufficient privileges to complete the operation.");
  Roles({"User.Read.All", "User.ReadWrite.All"});
  auto r = Send("POST", "/v1.0/users", user.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const json created = r.Json();
  EXPECT_EQ(created.value("@odata.context", ""), emulator_->url() + "/v1.0/$metadata#users/$entity");
  EXPECT_EQ(created.value("displayName", ""), evil) << "kept and returned exactly";
  EXPECT_EQ(created.value("userPrincipalName", ""), "nina.new@corp.example.test");
  EXPECT_EQ(created["mail"], nullptr);
  EXPECT_EQ(r.body.find("xWwvJ]6NMw"), std::string::npos) << "the password is never shown";
  const std::string id = created.value("id", "");
  EXPECT_EQ(id.size(), 36u);
  const json read = Send("GET", "/v1.0/users/" + id + "?$select=id,displayName,accountEnabled,userType,"
                                                      "onPremisesSyncEnabled").Json();
  EXPECT_EQ(read.value("displayName", ""), evil);
  EXPECT_TRUE(read.value("accountEnabled", false));
  EXPECT_EQ(read.value("userType", ""), "Member");
  EXPECT_EQ(read["onPremisesSyncEnabled"], nullptr) << "a cloud-only user";
  // Listed like any other.
  const json listed =
      Send("GET", "/v1.0/users?$filter=" + FormEncode("startswith(userPrincipalName,'nina.')")).Json();
  ASSERT_EQ(listed["value"].size(), 1u);

  ExpectGraphError(Send("POST", "/v1.0/users", user.dump()), 400, "Request_BadRequest",
                   "Another object with the same value for property userPrincipalName already exists.");
  user["userPrincipalName"] = "NINA.NEW@corp.example.test";
  EXPECT_EQ(Send("POST", "/v1.0/users", user.dump()).status, 400) << "UPNs are unique regardless of case";
  user["userPrincipalName"] = "nina.other@elsewhere.example";
  ExpectGraphError(Send("POST", "/v1.0/users", user.dump()), 400, "Request_BadRequest",
                   "The domain portion of the userPrincipalName property is invalid. You must use one of the verified "
                   "domain names in your organization.");
  user["userPrincipalName"] = "nina.two@corp.example.test";
  json without = user;
  without.erase("passwordProfile");
  ExpectGraphError(Send("POST", "/v1.0/users", without.dump()), 400, "Request_BadRequest",
                   "A password must be specified to create a new user.");
  without = user;
  without.erase("mailNickname");
  ExpectGraphError(Send("POST", "/v1.0/users", without.dump()), 400, "Request_BadRequest",
                   "Invalid value specified for property 'mailNickname' of resource 'User'.");
  json bad = user;
  bad["displayName"] = std::string(257, 'x');
  ExpectGraphError(Send("POST", "/v1.0/users", bad.dump()), 400, "Request_BadRequest");
  bad = user;
  bad["onPremisesSecurityIdentifier"] = "S-1-5-21-1-2-3-4";
  ExpectGraphError(Send("POST", "/v1.0/users", bad.dump()), 400, "Request_BadRequest",
                   "Property 'onPremisesSecurityIdentifier' is read-only and cannot be set.");
  ExpectGraphError(Send("POST", "/v1.0/users", "[1]"), 400, "BadRequest");
  EXPECT_EQ(Send("GET", "/v1.0/users/nina.two@corp.example.test").status, 404) << "no refused create made a user";
}

TEST_F(EntraEmulatorTest, ADisplayNameIsAnyTextKeptAndReturnedExactly) {
  Roles({"User.Read.All", "User.ReadWrite.All"});
  const std::string chloe = "/v1.0/users/chloe.cloudonly@corp.example.test";
  for (const std::string& name : std::vector<std::string>{"<img src=x onerror=alert(1)>",
                                                         "Zoë \"Z\" O'Brien & <b>co</b>", "\\ back\\slash"}) {
    ASSERT_EQ(Send("PATCH", chloe, json{{"displayName", name}}.dump()).status, 204) << name;
    const auto r = Send("GET", chloe + "?$select=displayName");
    EXPECT_EQ(r.Json().value("displayName", ""), name);
    const json expected = {{"@odata.context", emulator_->url() + "/v1.0/$metadata#users(displayName)/$entity"},
                           {"displayName", name}};
    EXPECT_EQ(r.body, expected.dump()) << "JSON-escaped and nothing else";
  }
}

TEST_F(EntraEmulatorTest, AnAdminIsDisabledOnlyByAnAppHoldingTheHigherPrivilege) {
  const std::string dana = "/v1.0/users/dana.admin@corp.example.test";
  ExpectGraphError(Send("PATCH", dana, R"({"accountEnabled":false})"), 403, "Authorization_RequestDenied",
                   "Insufficient privileges to complete the operation.");
  Roles({"User.ReadWrite.All", "User.Read.All"});
  EXPECT_EQ(Send("PATCH", dana, R"({"accountEnabled":false})").status, 403) << "a permission is not enough";
  EXPECT_TRUE(Send("GET", dana + "?$select=accountEnabled").Json().value("accountEnabled", false));
  Roles({"User.Read.All", "User.EnableDisableAccount.All", "Privileged Authentication Administrator"});
  EXPECT_EQ(Send("PATCH", dana, R"({"accountEnabled":false})").status, 204);
  EXPECT_FALSE(Send("GET", dana + "?$select=accountEnabled").Json().value("accountEnabled", true));
}

TEST_F(EntraEmulatorTest, RevokeSignInSessionsRemovesTheSessionsAlsoOfAGuest) {
  for (const std::string upn : {"ann.synced@corp.example.test", "gary.guest_partner.example#EXT#@corp.example.test"}) {
    const std::string key = FormEncode(upn);
    EXPECT_EQ(Send("POST", "/lab/users/" + key + "/sessions", "{}").status, 201);
    EXPECT_EQ(Send("POST", "/lab/users/" + key + "/sessions", "{}").status, 201);
    json s = Send("GET", "/lab/users/" + key + "/sessions").Json();
    EXPECT_EQ(s.value("userId", ""), IdOf(upn));
    EXPECT_EQ(s["sessions"].size(), 2u);
    const auto r = Send("POST", "/v1.0/users/" + key + "/revokeSignInSessions");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Json().value("value", false), true);
    EXPECT_EQ(r.Json().value("@odata.context", ""), emulator_->url() + "/v1.0/$metadata#Edm.Boolean");
    EXPECT_TRUE(Send("GET", "/lab/users/" + key + "/sessions").Json()["sessions"].empty());
  }
  ExpectGraphError(Send("POST", "/v1.0/users/nobody@corp.example.test/revokeSignInSessions"), 404,
                   "Request_ResourceNotFound");
}

TEST_F(EntraEmulatorTest, ConfirmCompromisedAndDismissAndTheLicence) {
  const std::string id = IdOf("ann.synced@corp.example.test");
  json risk = Send("GET", "/v1.0/identityProtection/riskyUsers/" + id).Json();
  EXPECT_EQ(risk.value("riskLevel", ""), "none");
  EXPECT_TRUE(Send("GET", "/v1.0/identityProtection/riskyUsers").Json()["value"].empty());
  const std::string ids = json{{"userIds", {id}}}.dump();
  EXPECT_EQ(Send("POST", "/v1.0/identityProtection/riskyUsers/confirmCompromised", ids).status, 204);
  risk = Send("GET", "/v1.0/identityProtection/riskyUsers/" + id).Json();
  EXPECT_EQ(risk.value("riskLevel", ""), "high");
  EXPECT_EQ(risk.value("riskState", ""), "confirmedCompromised");
  EXPECT_EQ(risk.value("riskDetail", ""), "adminConfirmedUserCompromised");
  EXPECT_EQ(risk.value("userPrincipalName", ""), "ann.synced@corp.example.test");
  for (const char* key : {"id", "userDisplayName", "riskLastUpdatedDateTime", "isDeleted", "isProcessing"})
    EXPECT_TRUE(risk.contains(key)) << key;
  EXPECT_EQ(Send("GET", "/v1.0/identityProtection/riskyUsers").Json()["value"].size(), 1u);
  const json selected = Send("GET", "/v1.0/identityProtection/riskyUsers?$select=id,riskLevel&$top=500").Json();
  EXPECT_EQ(selected.value("@odata.context", ""),
            emulator_->url() + "/v1.0/$metadata#identityProtection/riskyUsers(id,riskLevel)");
  EXPECT_EQ(selected["value"], json::parse(R"([{"id":")" + id + R"(","riskLevel":"high"}])"));
  EXPECT_EQ(Send("GET", "/v1.0/identityProtection/riskyUsers/" + id + "?$select=riskLevel").Json()["riskLevel"], "high");
  ExpectGraphError(Send("GET", "/v1.0/identityProtection/riskyUsers?$select=accountEnabled"), 400, "Request_BadRequest",
                   "Could not find a property named 'accountEnabled' on type 'microsoft.graph.riskyUser'.");
  EXPECT_EQ(Send("POST", "/v1.0/identityProtection/riskyUsers/dismiss", ids).status, 204);
  risk = Send("GET", "/v1.0/identityProtection/riskyUsers/" + id).Json();
  EXPECT_EQ(risk.value("riskState", ""), "dismissed");
  EXPECT_EQ(risk.value("riskLevel", ""), "none");
  ExpectGraphError(Send("POST", "/v1.0/identityProtection/riskyUsers/dismiss", "{}"), 400, "BadRequest");
  ExpectGraphError(Send("GET", "/v1.0/identityProtection/riskyUsers/nobody"), 404, "Request_ResourceNotFound");

  Settings({{"identity_protection_licence", false}});
  const auto refused = Send("POST", "/v1.0/identityProtection/riskyUsers/confirmCompromised", ids);
  ExpectGraphError(refused, 403, "Forbidden");
  EXPECT_NE(refused.Json()["error"].value("message", "").find("licensed"), std::string::npos);
  EXPECT_EQ(Send("GET", "/v1.0/identityProtection/riskyUsers/" + id).status, 403);
}

// --- $batch ------------------------------------------------------------------

TEST_F(EntraEmulatorTest, BatchAnswers200WithEachItemsOwnStatus) {
  const std::string ann = IdOf("ann.synced@corp.example.test");
  Send("DELETE", "/lab/stats");
  const json batch = {{"requests",
                       {{{"id", "1"}, {"method", "GET"}, {"url", "/users/" + ann + "?$select=id,accountEnabled"}},
                        {{"id", "2"}, {"method", "GET"}, {"url", "/users/nobody@corp.example.test"}},
                        {{"id", "3"},
                         {"method", "PATCH"},
                         {"url", "/users/" + ann},
                         {"headers", {{"Content-Type", "application/json"}}},
                         {"body", {{"accountEnabled", false}}}},
                        {{"id", "4"}, {"method", "POST"}, {"url", "users/" + ann + "/revokeSignInSessions"}},
                        {{"id", "5"}, {"method", "PATCH"}, {"url", "/users/dana.admin@corp.example.test"},
                         {"body", {{"accountEnabled", false}}}}}}};
  const auto r = Send("POST", "/v1.0/$batch", batch.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<std::string, json> by_id;
  const json answer = r.Json();
  for (const json& item : answer["responses"]) by_id[item.value("id", "")] = item;
  ASSERT_EQ(by_id.size(), 5u) << r.body;
  EXPECT_EQ(by_id["1"]["status"], 200);
  EXPECT_EQ(by_id["1"]["body"].value("id", ""), ann);
  EXPECT_EQ(by_id["2"]["status"], 404);
  EXPECT_EQ(by_id["2"]["body"]["error"].value("code", ""), "Request_ResourceNotFound");
  EXPECT_EQ(by_id["3"]["status"], 204);
  EXPECT_FALSE(by_id["3"].contains("body"));
  EXPECT_EQ(by_id["4"]["status"], 200);
  EXPECT_EQ(by_id["4"]["body"].value("value", false), true);
  EXPECT_EQ(by_id["5"]["status"], 403);
  EXPECT_EQ(by_id["5"]["body"]["error"].value("code", ""), "Authorization_RequestDenied");
  EXPECT_FALSE(Send("GET", "/v1.0/users/" + ann + "?$select=accountEnabled").Json().value("accountEnabled", true));

  const json stats = Send("GET", "/lab/stats").Json();
  EXPECT_EQ(stats.value("batch_requests", 0), 1);
  EXPECT_EQ(stats.value("batch_items", 0), 5);
  EXPECT_GE(stats.value("http_requests", 0), 2);  // the batch and the GET after it
  EXPECT_EQ(stats["by_route"].value("PATCH /users/{id}", 0), 2);

  json big = {{"requests", json::array()}};
  for (int i = 0; i < 21; ++i) big["requests"].push_back({{"id", std::to_string(i)}, {"method", "GET"}, {"url", "/users/" + ann}});
  ExpectGraphError(Send("POST", "/v1.0/$batch", big.dump()), 400, "BadRequest");
  big["requests"].erase(20);
  EXPECT_EQ(Send("POST", "/v1.0/$batch", big.dump()).Json()["responses"].size(), 20u);
}

TEST_F(EntraEmulatorTest, ABatchItemCanBeThrottledInsideA200Batch) {
  Settings({{"throttle", {{"requests_per_second", 3}, {"window_seconds", 1}, {"retry_after", "integer"}}}});
  Send("DELETE", "/lab/stats");
  json batch = {{"requests", json::array()}};
  for (int i = 1; i <= 20; ++i)
    batch["requests"].push_back({{"id", std::to_string(i)}, {"method", "POST"},
                                 {"url", fmt::format("/users/bulk{:04}@corp.example.test/revokeSignInSessions", i)}});
  const auto r = Send("POST", "/v1.0/$batch", batch.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  int throttled = 0, done = 0;
  const json answer = r.Json();
  for (const json& item : answer["responses"]) {
    if (item["status"] == 429) {
      ++throttled;
      EXPECT_EQ(item["body"]["error"].value("code", ""), "TooManyRequests");
      EXPECT_TRUE(std::regex_match(item["headers"].value("Retry-After", ""), std::regex("[0-9]+"))) << item.dump();
    } else {
      EXPECT_EQ(item["status"], 200) << item.dump();
      ++done;
    }
  }
  EXPECT_GE(throttled, 14) << "at most two windows' worth (6) admitted";
  EXPECT_EQ(throttled + done, 20);
  EXPECT_EQ(Send("GET", "/lab/stats").Json().value("throttled", 0), throttled);
}

// --- throttling, ids, faults, versions -----------------------------------------

TEST_F(EntraEmulatorTest, TheThrottlesBudgetIsPerTenSecondWindowByDefault) {
  Settings({{"throttle", {{"requests_per_second", 2}, {"retry_after", "decimal"}}}});
  EXPECT_EQ(Send("GET", "/lab/settings").Json()["throttle"].value("window_seconds", 0), 10);
  int admitted = 0;
  std::optional<WireResponse> refused;
  for (int i = 0; i < 60 && !refused; ++i) {
    auto r = Send("GET", "/v1.0/users/ann.synced@corp.example.test");
    if (r.status == 429) refused = r;
    else ++admitted;
  }
  ASSERT_TRUE(refused.has_value());
  // 2 per second over 10 s: 20 in a window, 40 if the loop crossed into the next one.
  EXPECT_GE(admitted, 20);
  EXPECT_LE(admitted, 40);
  const double wait = std::stod(refused->Header("retry-after"));
  EXPECT_GT(wait, 0);
  EXPECT_LE(wait, 10.0) << "the window's end, at most one window away";
  EXPECT_EQ(Send("POST", "/lab/settings", json{{"throttle", {{"window_seconds", 0}}}}.dump()).status, 400);
  Settings({{"throttle", {{"requests_per_second", 0}}}});
}

TEST_F(EntraEmulatorTest, ThrottlingAnswers429WithRetryAfterInEachForm) {
  token_ = Token();
  for (const auto& [form, pattern] : std::vector<std::pair<std::string, std::string>>{
           {"integer", "[0-9]+"}, {"decimal", "[0-9]+\\.[0-9]+"}, {"missing", ""}}) {
    SCOPED_TRACE(form);
    Settings({{"throttle", {{"requests_per_second", 1}, {"window_seconds", 1}, {"retry_after", form}}}});
    std::optional<WireResponse> refused;
    for (int i = 0; i < 20 && !refused; ++i) {
      auto r = Send("GET", "/v1.0/users/ann.synced@corp.example.test");
      if (r.status == 429) refused = r;
      else EXPECT_EQ(r.status, 200) << r.body;
    }
    ASSERT_TRUE(refused.has_value());
    ExpectGraphError(*refused, 429, "TooManyRequests", "Too many requests");
    if (pattern.empty()) EXPECT_TRUE(refused->Headers("retry-after").empty());
    else EXPECT_TRUE(std::regex_match(refused->Header("retry-after"), std::regex(pattern))) << refused->Header("retry-after");
  }
  Settings({{"throttle", {{"requests_per_second", 0}}}});
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Send("GET", "/v1.0/users/ann.synced@corp.example.test").status, 200);
  const auto bad = Send("POST", "/lab/settings", json{{"throttle", {{"retry_after", "soon"}}}}.dump());
  EXPECT_EQ(bad.status, 400);
}

TEST_F(EntraEmulatorTest, EveryAnswerCarriesRequestIdsAndEchoesTheClients) {
  const std::vector<WireResponse> answers = {
      PostForm(TokenUrl(), SecretForm(std::string(kSecret))), Send("GET", "/v1.0/users?$top=1"),
      Send("GET", "/v1.0/users/nobody"), Send("GET", "/lab/settings"), Send("GET", "/v1.0/nothing/here")};
  std::set<std::string> ids;
  for (const auto& r : answers) {
    EXPECT_EQ(r.Header("request-id").size(), 36u) << r.status << r.body;
    EXPECT_EQ(r.Header("client-request-id"), r.Header("request-id"));
    ids.insert(r.Header("request-id"));
  }
  EXPECT_EQ(ids.size(), answers.size());
  const auto echoed = Send("GET", "/v1.0/users/nobody", "", "", {"client-request-id: my-own-id-42"});
  EXPECT_EQ(echoed.Header("client-request-id"), "my-own-id-42");
  ExpectGraphError(echoed, 404, "Request_ResourceNotFound");
}

TEST_F(EntraEmulatorTest, FaultsFailOrDropRequests) {
  token_ = Token();
  ASSERT_EQ(Send("POST", "/lab/faults", R"({"error_rate":1})").status, 200);
  const auto failed = Send("GET", "/v1.0/users/ann.synced@corp.example.test");
  EXPECT_TRUE(failed.status == 500 || failed.status == 503) << failed.status;
  ExpectGraphError(failed, failed.status, failed.status == 503 ? "serviceNotAvailable" : "generalException");
  ASSERT_EQ(Send("POST", "/lab/faults", R"({"error_rate":0,"drop_rate":1})").status, 200);
  const auto dropped = Send("GET", "/v1.0/users/ann.synced@corp.example.test");
  EXPECT_EQ(dropped.status, 0);
  EXPECT_FALSE(dropped.curl_error.empty());
  const json faults = Send("POST", "/lab/faults", R"({"drop_rate":0,"latency_ms":0})").Json();
  EXPECT_EQ(faults.value("drop_rate", -1.0), 0.0);
  EXPECT_EQ(Send("GET", "/v1.0/users/ann.synced@corp.example.test").status, 200);
}

TEST_F(EntraEmulatorTest, BetaIsServedAndOtherVersionsAreNot) {
  const auto r = Send("GET", "/beta/users/ann.synced@corp.example.test?$select=id");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().value("@odata.context", ""), emulator_->url() + "/beta/$metadata#users(id)/$entity");
  EXPECT_EQ(Send("POST", "/beta/$batch", R"({"requests":[{"id":"1","method":"GET","url":"/users?$top=1"}]})")
                .Json()["responses"][0]["status"],
            200);
  ExpectGraphError(Send("GET", "/v2.0/users"), 400, "BadRequest");
}

TEST_F(EntraEmulatorTest, StatsCountRequestsAndClear) {
  token_ = Token();
  ASSERT_EQ(Send("DELETE", "/lab/stats").status, 204);
  Send("GET", "/v1.0/users/ann.synced@corp.example.test");
  Send("POST", "/v1.0/users/ann.synced@corp.example.test/revokeSignInSessions");
  const json s = Send("GET", "/lab/stats").Json();
  EXPECT_EQ(s.value("http_requests", 0), 2) << s.dump();
  EXPECT_EQ(s["by_route"].value("GET /users/{id}", 0), 1) << s.dump();
  EXPECT_EQ(s["by_route"].value("POST /users/{id}/revokeSignInSessions", 0), 1) << s.dump();
  EXPECT_EQ(s.value("throttled", -1), 0);
}

}  // namespace
}  // namespace cordon::lab::entra
