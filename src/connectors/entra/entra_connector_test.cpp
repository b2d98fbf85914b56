#include "connectors/entra/entra_connector.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "connectors/entra/entra_token.h"
#include "connectors/entra/graph_words.h"
#include "connectors/http/jwt.h"
#include "connectors/registry.h"
#include "support/scripted_http_server.h"
#include "support/temp_dir.h"
#include "support/test_certificates.h"

namespace cordon::entra {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Server = cordon::testing::ScriptedHttpServer;
using namespace std::chrono_literals;

constexpr const char* kTenant = "contoso.onmicrosoft.com";
constexpr const char* kClient = "11111111-2222-3333-4444-555555555555";
constexpr const char* kSecret = "s3cret-value~42";
const std::vector<std::string> kAllRoles = {"User.Read.All", "User.EnableDisableAccount.All", "User.RevokeSessions.All",
                                            "IdentityRiskyUser.ReadWrite.All"};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream all;
  all << in.rdbuf();
  return all.str();
}

std::string Decode(std::string s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> FormOf(const std::string& body) {
  std::map<std::string, std::string> form;
  std::istringstream in(body);
  for (std::string pair; std::getline(in, pair, '&');) {
    const std::size_t eq = pair.find('=');
    form[Decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : Decode(pair.substr(eq + 1));
  }
  return form;
}

// A small Graph and its token endpoint over HTTPS: users by id and UPN,
// accountEnabled, riskyUsers, $batch, tokens that are JWTs carrying `roles`,
// and scripted throttling, expiry and refusals.
class FakeGraph {
 public:
  struct User {
    std::string id, upn, name;
    bool enabled = true, synced = false, admin = false;
    std::string user_type = "Member", sid;
    std::string risk_state;  // empty: not a risky user
  };

  explicit FakeGraph(const cordon::testing::TestCertificates& certs)
      : server_([this](const Server::Request& r) { return Answer(r); }, Server::Tls{certs.cert(), certs.key()}) {}

  void Add(User u) {
    std::lock_guard lock(mu_);
    users_[u.id] = std::move(u);
  }
  User Get(const std::string& id) {
    std::lock_guard lock(mu_);
    return users_.at(id);
  }
  void SetRoles(std::vector<std::string> roles) {
    std::lock_guard lock(mu_);
    roles_ = std::move(roles);
  }
  void SetTokenLifetime(int seconds) {
    std::lock_guard lock(mu_);
    lifetime_ = seconds;
  }
  // Tokens issued so far stop working after this many more Graph requests.
  void ExpireTokensAfter(int requests) {
    std::lock_guard lock(mu_);
    expire_after_ = requests;
  }
  void RefuseAllTokens() {
    std::lock_guard lock(mu_);
    refuse_all_ = true;
  }
  // The next `n` Graph requests (or $batch items) to paths containing `match` answer 429.
  void Throttle(std::string match, int n, std::optional<std::string> retry_after) {
    std::lock_guard lock(mu_);
    throttle_match_ = std::move(match);
    throttle_ = n;
    retry_after_ = std::move(retry_after);
  }
  void SetLicence(bool on) {
    std::lock_guard lock(mu_);
    licence_ = on;
  }
  // Listings serve at most this many items per page, whatever $top asks.
  void SetPageCap(int items) {
    std::lock_guard lock(mu_);
    page_cap_ = items;
  }
  // @odata.nextLink points to this origin instead of the server's own.
  void SetLinkOrigin(std::string origin) {
    std::lock_guard lock(mu_);
    link_origin_ = std::move(origin);
  }
  int TokensIssued() {
    std::lock_guard lock(mu_);
    return tokens_issued_;
  }
  int Refusals() {
    std::lock_guard lock(mu_);
    return refusals_;
  }
  std::string authority() const { return server_.base_url(); }
  Server& server() { return server_; }
  std::vector<Server::Request> GraphRequests() const {
    std::vector<Server::Request> out;
    for (auto& r : server_.Requests())
      if (r.target.starts_with("/v1.0/")) out.push_back(r);
    return out;
  }

 private:
  static Server::Response Error(int status, const std::string& code, const std::string& message) {
    return {status,
            {{"request-id", "req-" + code}},
            nlohmann::json{{"error",
                            {{"code", code},
                             {"message", message},
                             {"innerError", {{"request-id", "rid-" + code}, {"date", "2026-11-25T10:00:00"}}}}}}
                .dump()};
  }

  Server::Response Answer(const Server::Request& r) {
    std::lock_guard lock(mu_);
    if (r.target == std::string("/") + kTenant + "/oauth2/v2.0/token") return Token(r);
    const std::string auth = r.headers.count("authorization") ? r.headers.at("authorization") : "";
    if (expire_after_ == 0) {
      valid_.clear();
      expire_after_ = -1;
    }
    if (expire_after_ > 0) --expire_after_;
    auto it = valid_.find(auth);
    if (refuse_all_ || it == valid_.end() || Now() >= it->second) {
      ++refusals_;
      return Error(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.");
    }
    if (r.target == "/v1.0/$batch") return Batch(r);
    return Serve(r.method, r.target.substr(5), r.body);
  }

  Server::Response Token(const Server::Request& r) {
    auto form = FormOf(r.body);
    last_token_form_ = form;
    if (form["client_id"] != kClient || form["grant_type"] != "client_credentials")
      return {400, {}, R"({"error":"invalid_request","error_description":"AADSTS900144: bad request"})"};
    if (!form.count("client_secret") && !form.count("client_assertion"))
      return {401, {}, R"({"error":"invalid_client","error_description":"AADSTS7000216: no credential"})"};
    if (form.count("client_secret") && form["client_secret"] != kSecret)
      return {401, {}, R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."})"};
    ++tokens_issued_;
    const std::string token = http::Base64Url(R"({"alg":"RS256","typ":"JWT"})") + "." +
                              http::Base64Url(nlohmann::json{{"roles", roles_}, {"n", tokens_issued_}}.dump()) + ".sig";
    valid_["Bearer " + token] = Now() + std::chrono::seconds(lifetime_);
    return {200, {}, nlohmann::json{{"token_type", "Bearer"}, {"expires_in", lifetime_}, {"access_token", token}}.dump()};
  }

  bool Throttled(const std::string& path) {
    if (throttle_ <= 0 || path.find(throttle_match_) == std::string::npos) return false;
    --throttle_;
    return true;
  }
  Server::Response TooMany() {
    Server::Response res = Error(429, "TooManyRequests", "Too many requests");
    if (retry_after_) res.headers.emplace_back("Retry-After", *retry_after_);
    return res;
  }

  User* Find(const std::string& key) {
    for (auto& [id, u] : users_)
      if (id == key || u.upn == key) return &u;
    return nullptr;
  }

  bool Has(const std::string& role) { return std::find(roles_.begin(), roles_.end(), role) != roles_.end(); }

  Server::Response Serve(const std::string& method, const std::string& target, const std::string& body) {
    if (Throttled(target)) return TooMany();
    if (method == "GET" && target.starts_with("/users?"))
      return List(target, [](const User&) { return true; }, [this](const User& u) { return UserJson(u); });
    if (target.starts_with("/identityProtection/riskyUsers")) {
      if (!licence_ || !Has("IdentityRiskyUser.ReadWrite.All"))
        return Error(403, "Forbidden", "The tenant is not licensed for this feature or the app lacks permission.");
      if (method == "GET" && target.starts_with("/identityProtection/riskyUsers?"))
        return List(target, [](const User& u) { return !u.risk_state.empty(); },
                    [](const User& u) { return nlohmann::json{{"id", u.id}, {"riskLevel", LevelOf(u)}}; });
      if (method == "GET") {
        User* u = Find(Decode(target.substr(std::string("/identityProtection/riskyUsers/").size())));
        if (u == nullptr || u->risk_state.empty()) return Error(404, "ResourceNotFound", "riskyUser not found");
        return {200, {}, nlohmann::json{{"id", u->id}, {"riskState", u->risk_state}, {"riskLevel", LevelOf(*u)}}.dump()};
      }
      const auto doc = nlohmann::json::parse(body);
      for (const auto& id : doc["userIds"]) {
        User* u = Find(id.get<std::string>());
        if (u == nullptr) return Error(404, "ResourceNotFound", "no such user");
        u->risk_state = target.ends_with("/confirmCompromised") ? "confirmedCompromised" : "dismissed";
      }
      return {204, {}, ""};
    }
    if (!target.starts_with("/users/")) return Error(400, "BadRequest", "Resource not found for the segment.");
    std::string rest = target.substr(7);
    const std::size_t cut = rest.find_first_of("/?");
    const std::string key = Decode(rest.substr(0, cut));
    const std::string tail = cut == std::string::npos ? "" : rest.substr(cut);
    User* u = Find(key);
    if (u == nullptr)
      return Error(404, "Request_ResourceNotFound",
                   "Resource '" + key + "' does not exist or one of its queried reference-property objects are not "
                   "present.");
    if (method == "GET") return {200, {}, UserJson(*u).dump()};
    if (method == "PATCH") {
      if (!Has("User.EnableDisableAccount.All") || u->admin)
        return Error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
      u->enabled = nlohmann::json::parse(body).at("accountEnabled").get<bool>();
      return {204, {}, ""};
    }
    if (method == "POST" && tail == "/revokeSignInSessions") {
      if (!Has("User.RevokeSessions.All"))
        return Error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
      return {200, {}, R"({"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean","value":true})"};
    }
    return Error(405, "Request_BadRequest", "Unsupported");
  }

  static nlohmann::json UserJson(const User& u) {
    nlohmann::json doc = {{"id", u.id},           {"userPrincipalName", u.upn},
                          {"displayName", u.name}, {"accountEnabled", u.enabled},
                          {"userType", u.user_type}, {"onPremisesSyncEnabled", u.synced ? nlohmann::json(true) : nlohmann::json(nullptr)}};
    doc["mail"] = u.user_type == "Guest" ? nlohmann::json(nullptr) : nlohmann::json(u.upn);
    doc["onPremisesSecurityIdentifier"] = u.sid.empty() ? nlohmann::json(nullptr) : nlohmann::json(u.sid);
    return doc;
  }
  static std::string LevelOf(const User& u) {
    return u.risk_state == "confirmedCompromised" ? "high" : u.risk_state == "dismissed" ? "none" : "medium";
  }

  // A Graph listing: the matching users in id order from the $skiptoken
  // position, at most min($top, page cap), with an absolute @odata.nextLink
  // carrying the query and the next position when there is more.
  Server::Response List(const std::string& target, const std::function<bool(const User&)>& match,
                        const std::function<nlohmann::json(const User&)>& render) {
    const std::string path = target.substr(0, target.find('?'));
    std::string query = target.substr(target.find('?') + 1);
    int top = 100;
    std::size_t from = 0;
    std::string kept;
    std::istringstream in(query);
    for (std::string pair; std::getline(in, pair, '&');) {
      if (pair.starts_with("$top=")) top = std::stoi(pair.substr(5));
      if (pair.starts_with("$skiptoken=")) {
        from = std::stoul(pair.substr(11));
        continue;
      }
      kept += (kept.empty() ? "" : "&") + pair;
    }
    const int limit = std::min(top, page_cap_);
    nlohmann::json value = nlohmann::json::array();
    std::size_t position = 0;
    bool more = false;
    for (const auto& [id, u] : users_) {
      if (!match(u) || position++ < from) continue;
      if (static_cast<int>(value.size()) == limit) {
        more = true;
        break;
      }
      value.push_back(render(u));
    }
    nlohmann::json doc = {{"@odata.context", "https://graph.microsoft.com/v1.0/$metadata#users"}, {"value", value}};
    if (more)
      doc["@odata.nextLink"] = (link_origin_.empty() ? server_.base_url() : link_origin_) + "/v1.0" + path + "?" +
                               kept + "&$skiptoken=" + std::to_string(from + value.size());
    return {200, {}, doc.dump()};
  }

  Server::Response Batch(const Server::Request& r) {
    const auto doc = nlohmann::json::parse(r.body);
    nlohmann::json responses = nlohmann::json::array();
    for (const auto& item : doc["requests"]) {
      const std::string body = item.contains("body") ? item["body"].dump() : "";
      Server::Response res = Serve(item["method"], item["url"], body);
      nlohmann::json one = {{"id", item["id"]}, {"status", res.status}};
      nlohmann::json headers = nlohmann::json::object();
      for (auto& [k, v] : res.headers) headers[k] = v;
      one["headers"] = headers;
      if (!res.body.empty()) one["body"] = nlohmann::json::parse(res.body);
      responses.push_back(one);
    }
    return {200, {}, nlohmann::json{{"responses", responses}}.dump()};
  }

  Server server_;
  std::mutex mu_;
  std::map<std::string, User> users_;
  std::vector<std::string> roles_ = kAllRoles;
  std::map<std::string, TimePoint> valid_;
  int lifetime_ = 3599;
  int expire_after_ = -1;
  bool refuse_all_ = false;
  std::string throttle_match_;
  int throttle_ = 0;
  std::optional<std::string> retry_after_;
  bool licence_ = true;
  int page_cap_ = 999;
  std::string link_origin_;
  int tokens_issued_ = 0;
  int refusals_ = 0;

 public:
  std::map<std::string, std::string> last_token_form_;
};

class EntraConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = cordon::testing::TestCertificates::Make(dir_.path());
    ASSERT_TRUE(made) << made.error().message;
    certs_ = std::make_unique<cordon::testing::TestCertificates>(*made);
    graph_ = std::make_unique<FakeGraph>(*certs_);
    std::ofstream(dir_ / "secret") << kSecret << "\n";
    graph_->Add({"id-alice", "alice@corp.example.test", "Alice", true, false, false, "Member", ""});
    graph_->Add({"id-bob", "bob@corp.example.test", "Bob", true, false, false, "Member", ""});
    graph_->Add({"id-carol", "carol@corp.example.test", "Carol", true, false, false, "Member", ""});
    graph_->Add({"id-sync", "sam.synced@corp.example.test", "Sam", true, true, false, "Member", "S-1-5-21-1-2-3-1105"});
    graph_->Add({"id-admin", "dana.admin@corp.example.test", "Dana", true, false, true, "Member", ""});
    graph_->Add({"id-guest", "gary.guest_partner.example#EXT#@corp.example.test", "Gary", true, false, false, "Guest", ""});
  }

  EntraConfig Config(bool certificate = false) {
    EntraConfig c;
    c.tenant = kTenant;
    c.client_id = kClient;
    c.authority = graph_->authority();
    c.graph_url = graph_->authority();
    c.ca_file = certs_->ca();
    if (certificate) {
      c.certificate_file = certs_->cert();
      c.private_key_file = certs_->key();
    } else {
      c.client_secret_file = (dir_ / "secret").string();
    }
    c.backoff = 50ms;
    return c;
  }
  std::unique_ptr<EntraConnector> Make(EntraConfig c) {
    auto shared = std::make_shared<const EntraConfig>(std::move(c));
    credentials_ = MakeEntraCredentials(shared);
    return std::make_unique<EntraConnector>(shared, credentials_);
  }
  ExecutionContext Context() {
    ExecutionContext ctx;
    ctx.deadline = Now() + 30s;
    ctx.record_observations = [this](std::span<const Observation> seen) -> Status {
      std::lock_guard lock(mu_);
      for (const auto& o : seen) {
        observed_.push_back(o);
        // Nothing may have been changed yet.
        for (const auto& r : graph_->GraphRequests())
          if (r.method == "PATCH" || (r.method == "POST" && r.target != "/v1.0/$batch")) changed_before_record_ = true;
      }
      return {};
    };
    ctx.pace = [this](std::string_view) -> Status {
      std::lock_guard lock(mu_);
      ++paced_;
      return {};
    };
    return ctx;
  }
  static Action Act(ActionType type, std::string target, std::string id = "") {
    static int n = 0;
    Action a;
    a.id = "act_" + std::to_string(++n);
    a.type = type;
    a.provider = Provider::kEntra;
    a.target = std::move(target);
    a.account_id = std::move(id);
    return a;
  }

  cordon::testing::TempDir dir_{"entra-connector"};
  std::unique_ptr<cordon::testing::TestCertificates> certs_;
  std::unique_ptr<FakeGraph> graph_;
  std::shared_ptr<CredentialCache> credentials_;
  std::mutex mu_;
  std::vector<Observation> observed_;
  bool changed_before_record_ = false;
  int paced_ = 0;
};

TEST_F(EntraConnectorTest, ASuspendWithAClientSecretReadsRecordsThenPatches) {
  auto c = Make(Config());
  auto out = c->Execute(Act(ActionType::kSuspend, "alice@corp.example.test"), Context());
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_FALSE(out->already_in_state);
  EXPECT_EQ(out->account_id, "id-alice");
  EXPECT_EQ(out->resolved_account, "alice@corp.example.test");
  EXPECT_EQ(out->provider_answer.code, "http:204");
  EXPECT_FALSE(graph_->Get("id-alice").enabled);
  const auto form = graph_->last_token_form_;
  EXPECT_EQ(form.at("client_secret"), kSecret);
  EXPECT_EQ(form.at("scope"), graph_->authority() + "/.default");
  EXPECT_EQ(form.count("client_assertion"), 0u);
  const auto sent = graph_->GraphRequests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].method, "GET");
  EXPECT_THAT(sent[0].target, HasSubstr("/v1.0/users/alice%40corp.example.test?$select=id,displayName,userPrincipalName"));
  EXPECT_EQ(sent[1].method, "PATCH");
  EXPECT_EQ(sent[1].target, "/v1.0/users/id-alice");
  EXPECT_EQ(nlohmann::json::parse(sent[1].body), nlohmann::json({{"accountEnabled", false}}));
  ASSERT_EQ(observed_.size(), 1u);
  EXPECT_EQ(observed_[0].state, "accountEnabled true");
  EXPECT_FALSE(changed_before_record_);
  EXPECT_EQ(paced_, 2);

  auto again = c->Execute(Act(ActionType::kSuspend, "alice@corp.example.test"), Context());
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->already_in_state);
  EXPECT_THAT(again->message, HasSubstr("already disabled"));
  auto back = c->Execute(Act(ActionType::kUnsuspend, "", "id-alice"), Context());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(graph_->Get("id-alice").enabled);
}

TEST_F(EntraConnectorTest, ACertificateAssertionCarriesTheThumbprintAndTheClaims) {
  auto c = Make(Config(true));
  ASSERT_TRUE(c->Probe(Context()));
  const auto form = graph_->last_token_form_;
  EXPECT_EQ(form.count("client_secret"), 0u);
  EXPECT_EQ(form.at("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  const std::string jwt = form.at("client_assertion");
  const std::size_t a = jwt.find('.'), b = jwt.rfind('.');
  const auto header = nlohmann::json::parse(*http::Base64UrlDecode(jwt.substr(0, a)));
  const auto claims = nlohmann::json::parse(*http::Base64UrlDecode(jwt.substr(a + 1, b - a - 1)));

  // The thumbprint, computed here on its own: SHA-1 of the certificate's DER.
  const std::string pem = Slurp(certs_->cert());
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  ASSERT_TRUE(cert);
  unsigned char* der = nullptr;
  const int der_len = i2d_X509(cert.get(), &der);
  unsigned char sha1[EVP_MAX_MD_SIZE];
  unsigned int sha1_len = 0;
  EVP_Digest(der, static_cast<std::size_t>(der_len), sha1, &sha1_len, EVP_sha1(), nullptr);
  OPENSSL_free(der);
  EXPECT_EQ(header.at("alg"), "RS256");
  EXPECT_EQ(header.at("x5t"), http::Base64Url(std::string(reinterpret_cast<char*>(sha1), sha1_len)));
  EXPECT_EQ(claims.at("aud"), graph_->authority() + "/" + kTenant + "/oauth2/v2.0/token");
  EXPECT_EQ(claims.at("iss"), kClient);
  EXPECT_EQ(claims.at("sub"), kClient);
  EXPECT_FALSE(claims.at("jti").get<std::string>().empty());
  EXPECT_EQ(claims.at("exp").get<int64_t>() - claims.at("nbf").get<int64_t>(), 600);

  // The signature verifies with the certificate's public key.
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const std::string input = jwt.substr(0, b);
  const std::string signature = *http::Base64UrlDecode(jwt.substr(b + 1));
  ASSERT_EQ(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, X509_get0_pubkey(cert.get())), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
}

TEST_F(EntraConnectorTest, TheTokenIsKeptAndRenewedBeforeItExpires) {
  EXPECT_EQ(RenewEarly(3600s), 5min);
  EXPECT_EQ(RenewEarly(60s), 6s);
  graph_->SetTokenLifetime(2);
  auto c = Make(Config());
  ASSERT_TRUE(c->Probe(Context()));
  ASSERT_TRUE(c->Probe(Context()));
  EXPECT_EQ(graph_->TokensIssued(), 1);
  std::this_thread::sleep_for(2100ms);  // past the token's own expiry
  ASSERT_TRUE(c->Probe(Context()));
  EXPECT_EQ(graph_->TokensIssued(), 2);
  EXPECT_EQ(graph_->Refusals(), 0);  // renewed before Graph had to refuse it
}

TEST_F(EntraConnectorTest, ATokenThatExpiresMidBulkIsRenewedOnceAndTheRequestSentAgain) {
  auto config = Config();
  config.batch = false;
  auto c = Make(config);
  graph_->ExpireTokensAfter(3);
  std::vector<Action> bulk;
  for (const char* u : {"alice@corp.example.test", "bob@corp.example.test", "carol@corp.example.test",
                        "id-sync", "id-admin"})
    bulk.push_back(Act(ActionType::kRevokeSessions, u));
  auto out = c->ExecuteBatch(bulk, Context());
  for (auto& r : out) ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(graph_->Refusals(), 1);
  EXPECT_EQ(graph_->TokensIssued(), 2);
  EXPECT_EQ(graph_->GraphRequests().size(), 6u);  // five revocations, one of them sent twice
}

TEST_F(EntraConnectorTest, ARefusedTokenPausesTheProviderAfterOneRenewal) {
  auto c = Make(Config());
  graph_->RefuseAllTokens();
  auto probe = c->Probe(Context());
  ASSERT_FALSE(probe);
  EXPECT_EQ(probe.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(probe.error().blame, Blame::kProvider);
  EXPECT_EQ(probe.error().provider_code, "http:401");
  EXPECT_EQ(graph_->TokensIssued(), 2);
  auto out = c->Execute(Act(ActionType::kSuspend, "alice@corp.example.test"), Context());
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().blame, Blame::kProvider);
  EXPECT_THAT(out.error().provider_detail, HasSubstr("InvalidAuthenticationToken"));
  EXPECT_THAT(out.error().provider_detail, Not(HasSubstr("Bearer")));
}

TEST_F(EntraConnectorTest, AWrongSecretIsTheProvidersAndNeverPrinted) {
  std::ofstream(dir_ / "secret") << "wrong-secret\n";
  auto c = Make(Config());
  auto probe = c->Probe(Context());
  ASSERT_FALSE(probe);
  EXPECT_EQ(probe.error().blame, Blame::kProvider);
  EXPECT_EQ(probe.error().code, ErrorCode::kUnauthenticated);
  EXPECT_THAT(probe.error().provider_detail, HasSubstr("AADSTS7000215"));
  EXPECT_THAT(probe.error().message + probe.error().provider_detail, Not(HasSubstr("wrong-secret")));
}

TEST_F(EntraConnectorTest, ABatchItemThrottledIsSentAgainAloneWithItsBody) {
  auto c = Make(Config());
  std::vector<Action> bulk = {Act(ActionType::kSuspend, "alice@corp.example.test"),
                              Act(ActionType::kSuspend, "bob@corp.example.test"),
                              Act(ActionType::kSuspend, "carol@corp.example.test")};
  // Bob's PATCH (by id, after the reads) is throttled once inside the batch.
  graph_->Throttle("/users/id-bob", 1, "0.2");
  auto out = c->ExecuteBatch(bulk, Context());
  for (auto& r : out) ASSERT_TRUE(r) << r.error().message;
  for (const char* id : {"id-alice", "id-bob", "id-carol"}) EXPECT_FALSE(graph_->Get(id).enabled) << id;
  const auto sent = graph_->GraphRequests();
  ASSERT_EQ(sent.size(), 3u);  // reads in one $batch, changes in one $batch, Bob's PATCH alone
  EXPECT_EQ(sent[0].target, "/v1.0/$batch");
  EXPECT_EQ(sent[1].target, "/v1.0/$batch");
  EXPECT_EQ(nlohmann::json::parse(sent[1].body)["requests"].size(), 3u);
  EXPECT_EQ(sent[2].method, "PATCH");
  EXPECT_EQ(sent[2].target, "/v1.0/users/id-bob");
  EXPECT_EQ(nlohmann::json::parse(sent[2].body), nlohmann::json({{"accountEnabled", false}}));
  EXPECT_EQ(paced_, 7);  // once per item: three reads, three changes, one retry
  EXPECT_EQ(observed_.size(), 3u);
  EXPECT_FALSE(changed_before_record_);
}

TEST_F(EntraConnectorTest, SeveralThrottledItemsAreSentAgainTogetherInABatchOfTheirOwn) {
  auto c = Make(Config());
  std::vector<Action> bulk = {Act(ActionType::kSuspend, "alice@corp.example.test"),
                              Act(ActionType::kSuspend, "bob@corp.example.test"),
                              Act(ActionType::kSuspend, "carol@corp.example.test")};
  // The first two PATCHes (by id, after the reads) are throttled inside the batch.
  graph_->Throttle("/users/id-", 2, "0.2");
  auto out = c->ExecuteBatch(bulk, Context());
  for (auto& r : out) ASSERT_TRUE(r) << r.error().message;
  for (const char* id : {"id-alice", "id-bob", "id-carol"}) EXPECT_FALSE(graph_->Get(id).enabled) << id;
  const auto sent = graph_->GraphRequests();
  ASSERT_EQ(sent.size(), 3u);  // reads in one $batch, changes in one, the two throttled ones in a third
  EXPECT_EQ(sent[2].target, "/v1.0/$batch");
  const auto again = nlohmann::json::parse(sent[2].body)["requests"];
  ASSERT_EQ(again.size(), 2u);
  std::set<std::string> urls;
  for (const auto& item : again) {
    EXPECT_EQ(item["method"], "PATCH");
    EXPECT_EQ(item["body"], nlohmann::json({{"accountEnabled", false}})) << item.dump();
    urls.insert(item["url"].get<std::string>());
  }
  EXPECT_EQ(urls, (std::set<std::string>{"/users/id-alice", "/users/id-bob"}));
  EXPECT_EQ(paced_, 8);  // once per item: three reads, three changes, two retries
}

TEST_F(EntraConnectorTest, MoreThanTwentyItemsGoInSeveralBatches) {
  for (int i = 0; i < 25; ++i) graph_->Add({"id-b" + std::to_string(i), "b" + std::to_string(i) + "@corp.example.test"});
  auto c = Make(Config());
  std::vector<Action> bulk;
  for (int i = 0; i < 25; ++i) bulk.push_back(Act(ActionType::kRevokeSessions, "b" + std::to_string(i) + "@corp.example.test"));
  auto out = c->ExecuteBatch(bulk, Context());
  for (auto& r : out) ASSERT_TRUE(r) << r.error().message;
  const auto sent = graph_->GraphRequests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(sent[0].body)["requests"].size(), 20u);
  EXPECT_EQ(nlohmann::json::parse(sent[1].body)["requests"].size(), 5u);
}

TEST_F(EntraConnectorTest, RetryAfterIsHonouredAsIntegerDecimalOrMissing) {
  EXPECT_EQ(ParseRetryAfter("41"), 41s);
  EXPECT_EQ(ParseRetryAfter("0.25"), 250ms);
  EXPECT_EQ(ParseRetryAfter(" 2.5 "), 2500ms);
  EXPECT_EQ(ParseRetryAfter("99999"), kLongestRetryAfter);
  EXPECT_FALSE(ParseRetryAfter(""));
  EXPECT_FALSE(ParseRetryAfter("-1"));
  EXPECT_FALSE(ParseRetryAfter("soon"));
  auto c = Make(Config());
  for (std::optional<std::string> header : {std::optional<std::string>("1"), std::optional<std::string>("0.3"),
                                            std::optional<std::string>()}) {
    const std::size_t before = graph_->GraphRequests().size();
    graph_->Throttle("revokeSignInSessions", 2, header);
    auto out = c->Execute(Act(ActionType::kRevokeSessions, "alice@corp.example.test"), Context());
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(graph_->GraphRequests().size() - before, 3u) << header.value_or("missing");
  }
}

TEST_F(EntraConnectorTest, AThrottleBeyondTheDeadlineIsTheProvidersWithItsRetryAfter) {
  auto c = Make(Config());
  graph_->Throttle("revokeSignInSessions", 1, "120");
  ExecutionContext ctx = Context();
  ctx.deadline = Now() + 5s;
  auto out = c->Execute(Act(ActionType::kRevokeSessions, "alice@corp.example.test"), ctx);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kResourceExhausted);
  EXPECT_TRUE(out.error().retryable);
  EXPECT_EQ(out.error().blame, Blame::kProvider);
  EXPECT_EQ(out.error().retry_after, 120s);
  EXPECT_EQ(out.error().provider_code, "http:429");
  EXPECT_THAT(out.error().provider_detail, HasSubstr("TooManyRequests: Too many requests (request-id rid-TooManyRequests)"));
}

TEST_F(EntraConnectorTest, AMissingPermissionAndAnAdminTargetAreToldApart) {
  auto c = Make(Config());
  auto admin = c->Execute(Act(ActionType::kSuspend, "dana.admin@corp.example.test"), Context());
  ASSERT_FALSE(admin);
  EXPECT_EQ(admin.error().code, ErrorCode::kPermissionDenied);
  EXPECT_FALSE(admin.error().retryable);
  EXPECT_EQ(admin.error().blame, Blame::kAction);
  EXPECT_THAT(admin.error().message, HasSubstr("administrator role"));
  EXPECT_THAT(admin.error().message, HasSubstr("Privileged Authentication Administrator"));
  EXPECT_EQ(admin.error().provider_code, "http:403");
  EXPECT_THAT(admin.error().provider_detail,
              HasSubstr("Authorization_RequestDenied: Insufficient privileges to complete the operation."));
  EXPECT_THAT(admin.error().provider_detail, HasSubstr("request-id rid-Authorization_RequestDenied"));

  graph_->SetRoles({"User.Read.All"});
  auto c2 = Make(Config());
  auto missing = c2->Execute(Act(ActionType::kSuspend, "alice@corp.example.test"), Context());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kPermissionDenied);
  EXPECT_THAT(missing.error().message, HasSubstr("lacks the application permission User.EnableDisableAccount.All"));
  auto revoke = c2->Execute(Act(ActionType::kRevokeSessions, "alice@corp.example.test"), Context());
  ASSERT_FALSE(revoke);
  EXPECT_THAT(revoke.error().message, HasSubstr("User.RevokeSessions.All"));
  auto risk = c2->Execute(Act(ActionType::kMarkCompromised, "alice@corp.example.test"), Context());
  ASSERT_FALSE(risk);
  EXPECT_THAT(risk.error().message, HasSubstr("IdentityRiskyUser.ReadWrite.All"));

  graph_->SetRoles(kAllRoles);
  graph_->SetLicence(false);
  auto c3 = Make(Config());
  auto unlicensed = c3->Execute(Act(ActionType::kMarkCompromised, "alice@corp.example.test"), Context());
  ASSERT_FALSE(unlicensed);
  EXPECT_THAT(unlicensed.error().message, HasSubstr("Identity Protection licence"));
}

TEST_F(EntraConnectorTest, AnUnknownUserFailsAtOnce) {
  auto c = Make(Config());
  auto out = c->Execute(Act(ActionType::kSuspend, "nobody@corp.example.test"), Context());
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(out.error().retryable);
  EXPECT_EQ(out.error().blame, Blame::kAction);
  EXPECT_THAT(out.error().provider_detail, HasSubstr("Request_ResourceNotFound"));
  EXPECT_EQ(graph_->GraphRequests().size(), 1u);
}

TEST_F(EntraConnectorTest, ASyncedUsersSuspendWarnsOfTheNextDirectorySync) {
  auto c = Make(Config());
  auto out = c->Execute(Act(ActionType::kSuspend, "sam.synced@corp.example.test"), Context());
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_THAT(out->message, HasSubstr("next directory sync from AD will re-enable the account"));
  EXPECT_THAT(out->message, HasSubstr("--also-on-prem"));
  auto cloud = c->Execute(Act(ActionType::kSuspend, "alice@corp.example.test"), Context());
  ASSERT_TRUE(cloud);
  EXPECT_THAT(cloud->message, Not(HasSubstr("directory sync")));
}

TEST_F(EntraConnectorTest, RevokingSessionsIsOneRequestAndAGuestIsFlagged) {
  auto c = Make(Config());
  auto out = c->Execute(Act(ActionType::kRevokeSessions, "gary.guest_partner.example#EXT#@corp.example.test"), Context());
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_THAT(out->message, HasSubstr("revocation requested; Graph applies it within minutes"));
  EXPECT_THAT(out->message, HasSubstr("no effect on the guest's sessions in their home tenant"));
  auto member = c->Execute(Act(ActionType::kRevokeSessions, "alice@corp.example.test"), Context());
  ASSERT_TRUE(member);
  EXPECT_THAT(member->message, Not(HasSubstr("guest")));
  const auto sent = graph_->GraphRequests();
  ASSERT_EQ(sent.size(), 2u);  // no lookup first
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].target, "/v1.0/users/gary.guest_partner.example%23EXT%23%40corp.example.test/revokeSignInSessions");
  EXPECT_EQ(observed_.size(), 2u);
}

TEST_F(EntraConnectorTest, ConfirmingCompromiseReadsTheRiskFirst) {
  auto c = Make(Config());
  auto out = c->Execute(Act(ActionType::kMarkCompromised, "bob@corp.example.test"), Context());
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_FALSE(out->already_in_state);
  EXPECT_EQ(graph_->Get("id-bob").risk_state, "confirmedCompromised");
  const auto sent = graph_->GraphRequests();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[1].target, "/v1.0/identityProtection/riskyUsers/id-bob");
  EXPECT_EQ(sent[2].target, "/v1.0/identityProtection/riskyUsers/confirmCompromised");
  EXPECT_EQ(nlohmann::json::parse(sent[2].body), nlohmann::json({{"userIds", {"id-bob"}}}));
  EXPECT_EQ(observed_.back().state, "riskState none, riskLevel none");
  auto again = c->Execute(Act(ActionType::kMarkCompromised, "bob@corp.example.test"), Context());
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->already_in_state);
  auto dismiss = c->Execute(Act(ActionType::kDismissRisk, "", "id-bob"), Context());
  ASSERT_TRUE(dismiss) << dismiss.error().message;
  EXPECT_EQ(graph_->Get("id-bob").risk_state, "dismissed");
}

TEST_F(EntraConnectorTest, LookupShowsTheAccount) {
  auto c = Make(Config());
  auto view = c->Lookup("sam.synced@corp.example.test");
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_EQ(view->provider, Provider::kEntra);
  EXPECT_EQ(view->id, "id-sync");
  EXPECT_EQ(view->login, "sam.synced@corp.example.test");
  EXPECT_EQ(view->display_name, "Sam");
  EXPECT_EQ(view->status, AccountStatus::kEnabled);
  EXPECT_EQ(view->upn, "sam.synced@corp.example.test");
  EXPECT_EQ(view->mail, "sam.synced@corp.example.test");
  EXPECT_EQ(view->sid, "S-1-5-21-1-2-3-1105");
  EXPECT_TRUE(view->synced_from_ad);
  EXPECT_FALSE(view->guest);
  EXPECT_EQ(view->provider_risk, "none") << "riskyUsers/{id} answered 404: never at risk";
  EXPECT_EQ(view->identifiers.at("onPremisesSyncEnabled"), "true");
  EXPECT_EQ(view->identifiers.at("userType"), "Member");
  auto guest = c->Lookup("id-guest");
  ASSERT_TRUE(guest);
  EXPECT_TRUE(guest->guest);
  EXPECT_FALSE(guest->synced_from_ad);
  EXPECT_TRUE(guest->mail.empty());
  EXPECT_EQ(guest->identifiers.at("userType"), "Guest");

  ASSERT_TRUE(c->Execute(Act(ActionType::kMarkCompromised, "bob@corp.example.test"), Context()));
  auto bob = c->Lookup("bob@corp.example.test");
  ASSERT_TRUE(bob) << bob.error().message;
  EXPECT_EQ(bob->provider_risk, "high");
  graph_->SetLicence(false);
  auto unlicensed = c->Lookup("bob@corp.example.test");
  ASSERT_TRUE(unlicensed) << "a 403 of Identity Protection is no failure of the lookup: " << unlicensed.error().message;
  EXPECT_EQ(unlicensed->provider_risk, "");
  EXPECT_EQ(unlicensed->id, "id-bob");
}

class EntraListingTest : public EntraConnectorTest {
 protected:
  void SetUp() override {
    EntraConnectorTest::SetUp();
    graph_->Add({"id-xss", "xss@corp.example.test", "<img src=x onerror=alert(1)>", false, false, false, "Member", ""});
    graph_->SetPageCap(2);
  }
  Status List(const ExecutionContext& context, std::function<Status()> after_page = {}) {
    auto c = Make(Config());
    return c->ListAccounts(context, [&](std::vector<AccountView>&& page) -> Status {
      requests_at_page_.push_back(graph_->GraphRequests().size());
      pages_.push_back(std::move(page));
      return after_page ? after_page() : Status{};
    });
  }
  std::map<std::string, AccountView> ById() const {
    std::map<std::string, AccountView> out;
    for (const auto& page : pages_)
      for (const auto& v : page) EXPECT_TRUE(out.emplace(v.id, v).second) << "listed twice: " << v.id;
    return out;
  }
  std::vector<std::string> Targets() const {
    std::vector<std::string> out;
    for (const auto& r : graph_->GraphRequests()) out.push_back(r.target);
    return out;
  }

  std::vector<std::vector<AccountView>> pages_;
  std::vector<std::size_t> requests_at_page_;
};

TEST_F(EntraListingTest, ListsEveryUserPageByPageWithIdentityProtectionsLevel) {
  auto c = Make(Config());
  ASSERT_TRUE(c->Execute(Act(ActionType::kMarkCompromised, "bob@corp.example.test"), Context()));
  ASSERT_TRUE(c->Execute(Act(ActionType::kMarkCompromised, "carol@corp.example.test"), Context()));
  ASSERT_TRUE(c->Execute(Act(ActionType::kMarkCompromised, "dana.admin@corp.example.test"), Context()));
  ASSERT_TRUE(c->Execute(Act(ActionType::kDismissRisk, "carol@corp.example.test"), Context()));
  const std::size_t before = graph_->GraphRequests().size();
  paced_ = 0;

  ASSERT_TRUE(List(Context()));
  const std::vector<std::string> all = Targets();
  const std::vector<std::string> sent(all.begin() + static_cast<std::ptrdiff_t>(before), all.end());
  // Three risky users two a page, then seven users two a page.
  ASSERT_EQ(sent.size(), 6u) << ::testing::PrintToString(sent);
  EXPECT_EQ(sent[0], "/v1.0/identityProtection/riskyUsers?$select=id,riskLevel&$top=500");
  EXPECT_EQ(sent[1], "/v1.0/identityProtection/riskyUsers?$select=id,riskLevel&$top=500&$skiptoken=2");
  EXPECT_EQ(sent[2], "/v1.0/users?$select=id,displayName,userPrincipalName,mail,accountEnabled,"
                     "onPremisesSecurityIdentifier,onPremisesSyncEnabled,userType&$top=999");
  EXPECT_THAT(sent[3], HasSubstr("&$skiptoken=2"));
  ASSERT_EQ(pages_.size(), 4u);
  for (std::size_t i = 0; i < pages_.size(); ++i)
    EXPECT_EQ(requests_at_page_[i], before + 3 + i) << "each page is handed over before the next is asked for";
  EXPECT_EQ(paced_, 6) << "every page asks the rate budget first";

  const auto users = ById();
  ASSERT_EQ(users.size(), 7u);
  EXPECT_EQ(users.at("id-bob").provider_risk, "high");
  EXPECT_EQ(users.at("id-carol").provider_risk, "none") << "dismissed";
  EXPECT_EQ(users.at("id-alice").provider_risk, "none") << "never flagged";
  const AccountView& sam = users.at("id-sync");
  EXPECT_EQ(sam.provider, Provider::kEntra);
  EXPECT_EQ(sam.login, "sam.synced@corp.example.test");
  EXPECT_EQ(sam.upn, "sam.synced@corp.example.test");
  EXPECT_EQ(sam.mail, "sam.synced@corp.example.test");
  EXPECT_EQ(sam.sid, "S-1-5-21-1-2-3-1105");
  EXPECT_TRUE(sam.synced_from_ad);
  EXPECT_EQ(sam.status, AccountStatus::kEnabled);
  EXPECT_TRUE(users.at("id-guest").guest);
  EXPECT_FALSE(users.at("id-alice").guest);
  EXPECT_FALSE(users.at("id-alice").synced_from_ad);
  EXPECT_EQ(users.at("id-xss").status, AccountStatus::kDisabled);
  EXPECT_EQ(users.at("id-xss").display_name, "<img src=x onerror=alert(1)>");

  // Lookup reads a user through the same mapping.
  auto looked = c->Lookup("sam.synced@corp.example.test");
  ASSERT_TRUE(looked);
  EXPECT_EQ(looked->identifiers, sam.identifiers);
  EXPECT_EQ(looked->sid, sam.sid);
  EXPECT_EQ(c->Lookup("id-bob")->provider_risk, "high");
}

TEST_F(EntraListingTest, WithoutIdentityProtectionTheAccountsAreListedWithNoLevel) {
  graph_->SetLicence(false);
  ASSERT_TRUE(List(Context()));
  const auto users = ById();
  EXPECT_EQ(users.size(), 7u);
  for (const auto& [id, v] : users) EXPECT_EQ(v.provider_risk, "") << id;
  // The same when the app lacks the permission to read it.
  graph_->SetLicence(true);
  graph_->SetRoles({"User.Read.All"});
  pages_.clear();
  ASSERT_TRUE(List(Context()));
  EXPECT_EQ(ById().size(), 7u);
}

TEST_F(EntraListingTest, ANextLinkToAnotherOriginIsNotFollowed) {
  const std::string port = graph_->authority().substr(graph_->authority().rfind(':') + 1);
  for (const std::string& origin :
       std::vector<std::string>{"https://localhost:" + port, "https://evil.example.test", "http://127.0.0.1:" + port}) {
    graph_->SetLinkOrigin(origin);
    const std::size_t before = graph_->GraphRequests().size();
    pages_.clear();
    auto listed = List(Context());
    ASSERT_FALSE(listed) << origin;
    EXPECT_EQ(listed.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_THAT(listed.error().message, HasSubstr("not followed"));
    EXPECT_THAT(listed.error().provider_detail, HasSubstr(origin));
    EXPECT_EQ(graph_->GraphRequests().size(), before + 2) << "riskyUsers (one page), then nothing after the first page of users";
    EXPECT_TRUE(pages_.empty());
  }
  // A link on the right origin but outside /v1.0 is not followed either.
  graph_->SetLinkOrigin(graph_->authority() + "/beta/x/..");
  EXPECT_FALSE(List(Context()));
}

TEST_F(EntraListingTest, AThrottledPageIsWaitedOutAndTheListingGoesOn) {
  graph_->Throttle("/users?", 1, "0.2");
  ASSERT_TRUE(List(Context()));
  EXPECT_EQ(ById().size(), 7u);
  const auto sent = Targets();
  EXPECT_EQ(std::count_if(sent.begin(), sent.end(), [](const std::string& t) { return t.ends_with("&$top=999"); }), 2)
      << "the throttled first page of users asked again";
}

TEST_F(EntraListingTest, ATokenThatStopsWorkingMidListingIsRenewedOnce) {
  graph_->ExpireTokensAfter(2);  // riskyUsers and the first page of users
  ASSERT_TRUE(List(Context()));
  EXPECT_EQ(ById().size(), 7u);
  EXPECT_EQ(graph_->TokensIssued(), 2);
  EXPECT_EQ(graph_->Refusals(), 1);
}

TEST_F(EntraListingTest, TheDeadlineEndsTheListingBetweenPages) {
  ExecutionContext ctx = Context();
  ctx.deadline = Now() + 2s;
  auto listed = List(ctx, [] {
    std::this_thread::sleep_for(2500ms);
    return Status{};
  });
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().code, ErrorCode::kTimeout);
  EXPECT_TRUE(listed.error().retryable);
  EXPECT_EQ(pages_.size(), 1u);
}

TEST_F(EntraListingTest, AnErrorOfThePageCallbackEndsTheListing) {
  auto listed = List(Context(), [] { return Status(Fail(Error::Unavailable("the store is gone"))); });
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().message, "the store is gone");
  EXPECT_EQ(pages_.size(), 1u);
}

TEST_F(EntraConnectorTest, CheckReportsThePermissionsInTheTokenAndTheLicence) {
  graph_->SetRoles({"User.Read.All", "User.EnableDisableAccount.All"});
  graph_->SetLicence(false);
  auto c = Make(Config());
  auto report = c->Check(Context());
  ASSERT_TRUE(report) << report.error().message;
  std::map<std::string, bool> checks;
  for (const auto& k : report->checks) checks[k.name] = k.ok;
  EXPECT_TRUE(checks.at("token"));
  EXPECT_TRUE(checks.at("User.Read.All"));
  EXPECT_TRUE(checks.at("User.EnableDisableAccount.All"));
  EXPECT_FALSE(checks.at("User.RevokeSessions.All"));
  EXPECT_FALSE(checks.at("IdentityRiskyUser.ReadWrite.All"));
  EXPECT_FALSE(checks.at("Identity Protection licence"));
  std::map<ActionType, ActionReadiness> actions;
  for (const auto& a : report->actions) actions[a.type] = a;
  EXPECT_EQ(actions.size(), 5u);
  EXPECT_TRUE(actions.at(ActionType::kSuspend).ready);
  EXPECT_THAT(actions.at(ActionType::kSuspend).why, HasSubstr("administrator role"));
  EXPECT_FALSE(actions.at(ActionType::kRevokeSessions).ready);
  EXPECT_THAT(actions.at(ActionType::kRevokeSessions).why, HasSubstr("User.RevokeSessions.All"));
  EXPECT_FALSE(actions.at(ActionType::kMarkCompromised).ready);

  graph_->SetRoles(kAllRoles);
  graph_->SetLicence(true);
  auto full = Make(Config())->Check(Context());
  ASSERT_TRUE(full);
  for (const auto& a : full->actions) EXPECT_TRUE(a.ready) << ToString(a.type) << ": " << a.why;
}

class EntraConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* f : {"secret", "app.pem", "app.key", "ca.pem"}) std::ofstream(dir_.path() / f) << "x";
  }
  Result<EntraConfig> Parse(const std::string& text) {
    table_ = toml::parse(text);
    return ParseEntraConfig(ConnectorSection{table_, "connectors.entra", dir_.path()});
  }
  cordon::testing::TempDir dir_{"entra-config"};
  toml::table table_;
};

TEST_F(EntraConfigTest, DefaultsAndRelativePaths) {
  auto c = Parse("tenant = 'contoso.onmicrosoft.com'\nclient_id = 'abc'\nclient_secret_file = 'secret'\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->token_url(), "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  EXPECT_EQ(c->scope(), "https://graph.microsoft.com/.default");
  EXPECT_EQ(c->client_secret_file, (dir_.path() / "secret").string());
  EXPECT_TRUE(c->batch);
  EXPECT_TRUE(c->ca_file.empty());
  auto cert = Parse("tenant = 't'\nclient_id = 'abc'\ncertificate_file = 'app.pem'\nprivate_key_file = 'app.key'\n"
                    "authority = 'https://127.0.0.1:8443/'\ngraph_url = 'https://127.0.0.1:8443'\nca_file = 'ca.pem'\n"
                    "batch = false\n");
  ASSERT_TRUE(cert) << cert.error().message;
  EXPECT_TRUE(cert->uses_certificate());
  EXPECT_EQ(cert->token_url(), "https://127.0.0.1:8443/t/oauth2/v2.0/token");
  EXPECT_EQ(cert->private_key_file, (dir_.path() / "app.key").string());
  EXPECT_FALSE(cert->batch);
}

TEST_F(EntraConfigTest, EveryMistakeNamesItsKey) {
  const std::string ok = "client_id = 'abc'\nclient_secret_file = 'secret'\n";
  struct Case {
    std::string text, message;
  } cases[] = {
      {ok, "connectors.entra.tenant: is required"},
      {"tenant = 'a/b'\n" + ok, "connectors.entra.tenant: "},
      {"tenant = 't'\nclient_secret_file = 'secret'\n", "connectors.entra.client_id: is required"},
      {"tenant = 't'\nclient_id = 'abc'\n", "connectors.entra.client_secret_file: is required"},
      {"tenant = 't'\n" + ok + "certificate_file = 'app.pem'\n", "connectors.entra.certificate_file: give either"},
      {"tenant = 't'\nclient_id = 'abc'\ncertificate_file = 'app.pem'\n", "connectors.entra.private_key_file: "},
      {"tenant = 't'\nclient_id = 'abc'\nclient_secret_file = 'nope'\n", "connectors.entra.client_secret_file: cannot read"},
      {"tenant = 't'\n" + ok + "client_secret = 'x'\n", "connectors.entra.client_secret: "},
      {"tenant = 't'\n" + ok + "tls_verify = false\n", "connectors.entra.tls_verify: "},
      {"tenant = 't'\n" + ok + "graph_url = 'http://graph.microsoft.com'\n", "connectors.entra.graph_url: "},
      {"tenant = 't'\n" + ok + "authority = 'https://login.microsoftonline.com/common'\n", "connectors.entra.authority: "},
      {"tenant = 't'\n" + ok + "batch = 'yes'\n", "connectors.entra.batch: "},
      {"tenant = 't'\n" + ok + "colour = 1\n", "connectors.entra.colour: unknown key"},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_THAT(r.error().message, HasSubstr(c.message)) << c.text;
  }
}

TEST(EntraRegistry, TheBuildKnowsEntra) { EXPECT_TRUE(BuiltinConnectors().Has(Provider::kEntra)); }

TEST(EntraRegistry, ABatchOfWorkIsThreeFullGraphBatchesUnlessTheSectionSaysOtherwise) {
  const auto dir = std::filesystem::temp_directory_path() / ("entra-registry-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "secret") << "s3cret\n";
  const std::string base = "tenant = 't'\nclient_id = 'abc'\nclient_secret_file = 'secret'\n";
  const auto load = [&](const std::string& text) {
    const toml::table section = toml::parse(text);
    return BuiltinConnectors().Load(Provider::kEntra, section, "connectors.entra", dir);
  };
  auto shipped = load(base);
  ASSERT_TRUE(shipped) << shipped.error().message;
  EXPECT_EQ(shipped->settings.batch_size, 60);
  EXPECT_EQ(shipped->settings.workers, 4);
  auto own = load(base + "batch_size = 40\n");
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_EQ(own->settings.batch_size, 40);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cordon::entra
