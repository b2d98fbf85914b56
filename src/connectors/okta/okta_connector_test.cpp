#include "connectors/okta/okta_connector.h"

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "connectors/okta/client_assertion.h"
#include "connectors/okta/okta_http.h"
#include "support/scripted_http_server.h"
#include "support/temp_dir.h"

namespace cordon::okta {
namespace {

using ::testing::HasSubstr;
using Server = cordon::testing::ScriptedHttpServer;
using namespace std::chrono_literals;

std::string HttpDate(TimePoint t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto days = std::chrono::floor<std::chrono::days>(secs);
  const std::chrono::year_month_day ymd{days};
  const std::chrono::hh_mm_ss hms{secs - days};
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char out[40];
  std::snprintf(out, sizeof out, "%s, %02u %s %04d %02ld:%02ld:%02ld GMT",
                kDays[std::chrono::weekday(days).c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return out;
}

// A small Okta: users by id and login, lifecycle transitions with Okta's
// rules, transitions that take a few reads to finish, rate-limit headers on
// every answer, and a clock of its own (skewed from the local one on demand).
class FakeOkta {
 public:
  struct User {
    std::string id, login, status;
    std::string transitioning;
    int reads_to_finish = 0;
    std::string email, first_name, last_name, display_name;
  };

  FakeOkta() : server_([this](const Server::Request& r) { return Answer(r); }) {}

  void Add(User u) {
    std::lock_guard lock(mu_);
    users_[u.id] = std::move(u);
  }
  std::string Status(const std::string& id) {
    std::lock_guard lock(mu_);
    return users_.at(id).status;
  }
  // The next `answers` requests, after `after` more have been served, answer
  // 429 with X-Rate-Limit-Reset `reset_in` ahead of Okta's clock.
  void Throttle(int answers, int after = 0, std::chrono::seconds reset_in = std::chrono::seconds(30)) {
    std::lock_guard lock(mu_);
    throttle_ = answers;
    throttle_after_ = after;
    throttle_reset_ = reset_in;
  }
  // Listings serve at most this many users per page, whatever the limit asked.
  void SetPageCap(int users) {
    std::lock_guard lock(mu_);
    page_cap_ = users;
  }
  // Next links point to this origin instead of the server's own.
  void SetLinkOrigin(std::string origin) {
    std::lock_guard lock(mu_);
    link_origin_ = std::move(origin);
  }
  void SetClockSkew(Millis skew) {
    std::lock_guard lock(mu_);
    skew_ = skew;
  }
  void SetTokenLifetime(int seconds) {
    std::lock_guard lock(mu_);
    token_lifetime_ = seconds;
  }
  void RefuseTokens() {
    std::lock_guard lock(mu_);
    refuse_all_ = true;
  }
  void AcceptTokens() {
    std::lock_guard lock(mu_);
    refuse_all_ = false;
  }
  int TokensIssued() {
    std::lock_guard lock(mu_);
    return tokens_issued_;
  }
  Server& server() { return server_; }

 private:
  static Server::Response Json(int status, const nlohmann::json& body) { return {status, {}, body.dump()}; }
  static Server::Response Problem(int status, const std::string& code, const std::string& summary) {
    return Json(status, {{"errorCode", code},
                         {"errorSummary", summary},
                         {"errorLink", code},
                         {"errorId", "oae" + code},
                         {"errorCauses", nlohmann::json::array()}});
  }

  Server::Response Answer(const Server::Request& r) {
    std::lock_guard lock(mu_);
    Server::Response res = Serve(r);
    const TimePoint okta_now = Now() + skew_;
    const int64_t reset =
        std::chrono::duration_cast<std::chrono::seconds>(okta_now.time_since_epoch()).count() + throttle_reset_.count();
    res.headers.emplace_back("Date", HttpDate(okta_now));
    res.headers.emplace_back("X-Rate-Limit-Limit", "600");
    res.headers.emplace_back("X-Rate-Limit-Remaining", std::to_string(std::max(0, 599 - answered_++)));
    res.headers.emplace_back("X-Rate-Limit-Reset", std::to_string(reset - 1));
    res.headers.emplace_back("X-Rate-Limit-Reset", std::to_string(reset));  // repeated, as seen in the wild
    return res;
  }

  Server::Response Serve(const Server::Request& r) {
    if (r.target == "/oauth2/v1/token") return Token(r);
    const std::string auth = r.headers.count("authorization") ? r.headers.at("authorization") : "";
    if (refuse_all_ || !(auth == "SSWS secret-api-token" || issued_.count(auth) != 0))
      return Problem(401, "E0000011", "Invalid token provided");
    if (throttle_ > 0 && throttle_after_-- <= 0) {
      --throttle_;
      return Problem(429, "E0000047", "API call exceeded rate limit due to too many requests.");
    }
    if (r.method == "GET" && r.target.starts_with("/api/v1/users?")) return List(r.target);
    constexpr std::string_view kUsers = "/api/v1/users/";
    if (!r.target.starts_with(kUsers)) return Problem(404, "E0000022", "The endpoint does not exist.");
    std::string rest = r.target.substr(kUsers.size());
    const std::size_t slash = rest.find('/');
    std::string key = Decode(rest.substr(0, slash));
    const std::string action = slash == std::string::npos ? "" : rest.substr(slash);
    User* u = Find(key);
    if (u == nullptr) return Problem(404, "E0000007", "Not found: Resource not found: " + key + " (User)");
    if (r.method == "GET" && action.empty()) {
      if (!u->transitioning.empty() && --u->reads_to_finish <= 0) {
        u->status = u->transitioning;
        u->transitioning.clear();
      }
      return Json(200, UserJson(*u));
    }
    if (r.method == "DELETE" && action == "/sessions?oauthTokens=true") return {204, {}, ""};
    if (r.method == "DELETE") return Problem(400, "E0000001", "Api validation failed: a DELETE this test forbids");
    if (r.method != "POST") return Problem(405, "E0000022", "The endpoint does not support the method.");
    if (action == "/lifecycle/suspend") {
      if (u->status != "ACTIVE") return Problem(400, "E0000001", "Cannot suspend a user that is not active");
      u->status = "SUSPENDED";
      return Json(200, nlohmann::json::object());
    }
    if (action == "/lifecycle/unsuspend") {
      if (u->status != "SUSPENDED") return Problem(400, "E0000001", "Cannot unsuspend a user that is not suspended");
      u->status = "ACTIVE";
      return Json(200, nlohmann::json::object());
    }
    if (action == "/lifecycle/deactivate?sendEmail=false") {
      if (u->status == "DEPROVISIONED") return Problem(400, "E0000001", "The user is already deactivated");
      u->transitioning = "DEPROVISIONED";
      u->reads_to_finish = 3;
      return Json(200, nlohmann::json::object());
    }
    if (action == "/lifecycle/activate?sendEmail=false") {
      u->transitioning = "ACTIVE";
      u->reads_to_finish = 1;
      return Json(200, nlohmann::json::object());
    }
    return Problem(404, "E0000022", "The endpoint does not exist.");
  }

  Server::Response Token(const Server::Request& r) {
    if (r.method != "POST" || r.body.find("grant_type=client_credentials") == std::string::npos ||
        r.body.find("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer") ==
            std::string::npos ||
        r.body.find("scope=okta.users.manage") == std::string::npos)
      return Json(400, {{"error", "invalid_request"}});
    const std::size_t at = r.body.find("client_assertion=");
    const std::string jwt = r.body.substr(at + 17);
    if (std::count(jwt.begin(), jwt.end(), '.') != 2) return Json(401, {{"error", "invalid_client"}});
    last_assertion_ = jwt;
    const std::string token = "access-" + std::to_string(++tokens_issued_);
    issued_.insert("Bearer " + token);
    return Json(200, {{"token_type", "Bearer"}, {"expires_in", token_lifetime_}, {"access_token", token},
                      {"scope", "okta.users.manage"}});
  }

  static nlohmann::json UserJson(const User& u) {
    nlohmann::json profile = {{"login", u.login}, {"email", u.email.empty() ? u.login : u.email}};
    if (!u.first_name.empty()) profile["firstName"] = u.first_name;
    if (!u.last_name.empty()) profile["lastName"] = u.last_name;
    profile["displayName"] = u.display_name.empty() ? nlohmann::json(nullptr) : nlohmann::json(u.display_name);
    nlohmann::json body = {{"id", u.id}, {"status", u.status}, {"profile", profile}};
    body["transitioningToStatus"] = u.transitioning.empty() ? nlohmann::json(nullptr) : nlohmann::json(u.transitioning);
    return body;
  }

  // Okta's listing: users in id order after the `after` cursor, at most
  // min(limit, page cap) of them; DEPROVISIONED ones only with the filter
  // that asks for them; Link rel="self" and, when there is more, rel="next".
  Server::Response List(const std::string& target) {
    std::map<std::string, std::string> query;
    std::istringstream in(target.substr(target.find('?') + 1));
    for (std::string pair; std::getline(in, pair, '&');) {
      const std::size_t eq = pair.find('=');
      query[pair.substr(0, eq)] = eq == std::string::npos ? "" : Decode(pair.substr(eq + 1));
    }
    const bool deprovisioned = query.count("filter") != 0;
    if (deprovisioned && query["filter"] != "status eq \"DEPROVISIONED\"")
      return Problem(400, "E0000031", "Invalid search criteria.");
    const int limit = std::min(query.count("limit") ? std::stoi(query["limit"]) : 200, page_cap_);
    nlohmann::json page = nlohmann::json::array();
    std::string last;
    bool more = false;
    for (auto it = users_.upper_bound(query["after"]); it != users_.end(); ++it) {
      if ((it->second.status == "DEPROVISIONED") != deprovisioned) continue;
      if (static_cast<int>(page.size()) == limit) {
        more = true;
        break;
      }
      page.push_back(UserJson(it->second));
      last = it->first;
    }
    Server::Response res = Json(200, page);
    const std::string origin = link_origin_.empty() ? server_.base_url() : link_origin_;
    res.headers.emplace_back("Link", "<" + server_.base_url() + target + ">; rel=\"self\"");
    if (more) {
      std::string next = origin + "/api/v1/users?limit=" + std::to_string(limit) + "&after=" + last;
      if (deprovisioned) next += "&filter=status%20eq%20%22DEPROVISIONED%22";
      res.headers.emplace_back("Link", "<" + next + ">; rel=\"next\"");
    }
    return res;
  }

  User* Find(const std::string& key) {
    if (auto it = users_.find(key); it != users_.end()) return &it->second;
    for (auto& [id, u] : users_)
      if (u.login == key) return &u;
    return nullptr;
  }
  static std::string Decode(const std::string& in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '%' && i + 2 < in.size()) {
        out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += in[i];
      }
    }
    return out;
  }

  std::mutex mu_;
  std::map<std::string, User> users_;
  std::set<std::string> issued_;
  int throttle_ = 0;
  int throttle_after_ = 0;
  std::chrono::seconds throttle_reset_{30};
  int page_cap_ = 200;
  std::string link_origin_;
  int answered_ = 0;
  int token_lifetime_ = 3600;
  int tokens_issued_ = 0;
  bool refuse_all_ = false;
  Millis skew_{0};
  std::string last_assertion_;
  Server server_;  // last: it stops before the state it serves goes
};

class OktaConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() / "okta.token") << "secret-api-token\n";
    okta_.Add({"00u1", "alice@example.com", "ACTIVE"});
    okta_.Add({"00u2", "bob@example.com", "SUSPENDED"});
    okta_.Add({"00u3", "carol@example.com", "STAGED"});
    okta_.Add({"00u4", "dave@example.com", "ACTIVE"});
  }

  std::shared_ptr<OktaConfig> Config() {
    auto c = std::make_shared<OktaConfig>();
    c->org_url = okta_.server().base_url();
    c->allow_plaintext = true;
    c->auth = AuthMode::kSsws;
    c->token.file = (dir_.path() / "okta.token").string();
    c->transition_poll = Millis(5);
    c->timeout_ms = 5000;
    return c;
  }
  std::unique_ptr<OktaConnector> Make(std::shared_ptr<OktaConfig> c = nullptr) {
    if (!c) c = Config();
    credentials_ = MakeOktaCredentials(c);
    return std::make_unique<OktaConnector>(c, credentials_);
  }
  ExecutionContext Context() {
    ExecutionContext ctx;
    ctx.deadline = Now() + 20s;
    ctx.record_observations = [this](std::span<const Observation> o) {
      observations_.insert(observations_.end(), o.begin(), o.end());
      return Status{};
    };
    ctx.pace = [this](std::string_view) {
      ++paced_;
      return Status{};
    };
    ctx.report_rate_limit = [this](const RateLimitReport& r) { reports_.push_back(r); };
    return ctx;
  }
  static Action Act(ActionType type, std::string target, std::string account_id = "") {
    Action a;
    a.id = "act_1";
    a.provider = Provider::kOkta;
    a.type = type;
    a.target = std::move(target);
    a.account_id = std::move(account_id);
    return a;
  }
  std::vector<std::string> Sent(std::string_view method) {
    std::vector<std::string> out;
    for (const auto& r : okta_.server().Requests())
      if (r.method == method) out.push_back(r.target);
    return out;
  }

  cordon::testing::TempDir dir_{"okta-connector"};
  FakeOkta okta_;
  std::shared_ptr<CredentialCache> credentials_;
  std::vector<Observation> observations_;
  std::vector<RateLimitReport> reports_;
  int paced_ = 0;
};

TEST_F(OktaConnectorTest, SuspendReadsRecordsThenChanges) {
  auto c = Make();
  auto out = c->Execute(Act(ActionType::kSuspend, "alice@example.com"), Context());
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_FALSE(out->already_in_state);
  EXPECT_EQ(out->account_id, "00u1");
  EXPECT_EQ(out->resolved_account, "alice@example.com");
  EXPECT_EQ(okta_.Status("00u1"), "SUSPENDED");
  ASSERT_EQ(observations_.size(), 1u);
  EXPECT_EQ(observations_[0].account_id, "00u1");
  EXPECT_EQ(observations_[0].state, "status ACTIVE");
  EXPECT_FALSE(observations_[0].in_target_state);
  EXPECT_EQ(Sent("POST"), std::vector<std::string>{"/api/v1/users/00u1/lifecycle/suspend"});
  EXPECT_THAT(Sent("GET"), ::testing::ElementsAre("/api/v1/users/alice%40example.com"));
  EXPECT_EQ(paced_, 2) << "every request asks the rate budget first";
  // The credential went as SSWS; one connection served both requests.
  for (const auto& r : okta_.server().Requests()) EXPECT_EQ(r.headers.at("authorization"), "SSWS secret-api-token");
  EXPECT_EQ(okta_.server().Connections(), 1);

  auto undo = c->Execute(Act(ActionType::kUnsuspend, "renamed@example.com", "00u1"), Context());
  ASSERT_TRUE(undo) << undo.error().message;
  EXPECT_EQ(okta_.Status("00u1"), "ACTIVE");
}

TEST_F(OktaConnectorTest, AlreadyInTheTargetStateIsASuccessWithANote) {
  auto c = Make();
  auto out = c->Execute(Act(ActionType::kSuspend, "bob@example.com"), Context());
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_TRUE(out->already_in_state);
  EXPECT_THAT(out->message, HasSubstr("already suspended"));
  ASSERT_EQ(observations_.size(), 1u);
  EXPECT_TRUE(observations_[0].in_target_state);
  EXPECT_TRUE(Sent("POST").empty());
}

TEST_F(OktaConnectorTest, AnIllegalTransitionFailsAtOnceWithOktasWords) {
  auto c = Make();
  auto out = c->Execute(Act(ActionType::kSuspend, "carol@example.com"), Context());
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(out.error().retryable);
  EXPECT_EQ(out.error().blame, Blame::kAction);
  EXPECT_THAT(out.error().message, HasSubstr("Cannot suspend a user that is not active"));
  EXPECT_EQ(out.error().provider_code, "http:400");
  EXPECT_THAT(out.error().provider_detail, HasSubstr("E0000001"));
  EXPECT_THAT(out.error().provider_detail, HasSubstr("errorId oaeE0000001"));
  EXPECT_EQ(okta_.Status("00u3"), "STAGED");
}

TEST_F(OktaConnectorTest, DeactivateWaitsForTheTransitionAndNeverDeletes) {
  auto c = Make();
  auto out = c->Execute(Act(ActionType::kDeactivate, "dave@example.com"), Context());
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(okta_.Status("00u4"), "DEPROVISIONED");
  EXPECT_THAT(out->message, HasSubstr("DEPROVISIONED"));
  EXPECT_EQ(Sent("POST"), std::vector<std::string>{"/api/v1/users/00u4/lifecycle/deactivate?sendEmail=false"});
  EXPECT_GE(Sent("GET").size(), 4u) << "read, then polled while transitioningToStatus was set";
  EXPECT_TRUE(Sent("DELETE").empty());

  // Again: already deactivated, and still no DELETE.
  auto again = c->Execute(Act(ActionType::kDeactivate, "dave@example.com"), Context());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->already_in_state);
  EXPECT_TRUE(Sent("DELETE").empty());

  auto undo = c->Execute(Act(ActionType::kActivate, "dave@example.com", "00u4"), Context());
  ASSERT_TRUE(undo) << undo.error().message;
  EXPECT_EQ(okta_.Status("00u4"), "ACTIVE");
}

TEST_F(OktaConnectorTest, ADeactivationStillUnderWayAtTheDeadlineIsATimeoutNotASecondRequest) {
  okta_.Add({"00u5", "erin@example.com", "ACTIVE", "DEPROVISIONED", 1000});
  auto c = Make();
  ExecutionContext ctx = Context();
  ctx.deadline = Now() + 300ms;
  auto out = c->Execute(Act(ActionType::kDeactivate, "erin@example.com"), ctx);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kTimeout);
  EXPECT_TRUE(out.error().retryable);
  EXPECT_TRUE(Sent("POST").empty()) << "a transition under way is waited for, not asked again";
  EXPECT_TRUE(Sent("DELETE").empty());
}

TEST_F(OktaConnectorTest, ClearingSessionsRevokesOAuthTokensToo) {
  auto c = Make();
  auto out = c->Execute(Act(ActionType::kRevokeSessions, "alice@example.com"), Context());
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(Sent("DELETE"), std::vector<std::string>{"/api/v1/users/00u1/sessions?oauthTokens=true"});
  EXPECT_EQ(out->provider_answer.code, "http:204");
}

TEST_F(OktaConnectorTest, AnUnknownUserIsTheActionsNotFound) {
  auto c = Make();
  auto out = c->Execute(Act(ActionType::kSuspend, "nobody@example.com"), Context());
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(out.error().blame, Blame::kAction);
  EXPECT_THAT(out.error().provider_detail, HasSubstr("E0000007"));
}

TEST_F(OktaConnectorTest, ThrottlingIsTheProvidersWithAWaitOnOktasClock) {
  // Okta's clock runs an hour behind the local one: the wait is still Reset - Date (30 s).
  okta_.SetClockSkew(-std::chrono::duration_cast<Millis>(1h));
  okta_.Throttle(1);
  auto c = Make();
  auto out = c->Execute(Act(ActionType::kSuspend, "alice@example.com"), Context());
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(out.error().blame, Blame::kProvider);
  EXPECT_EQ(out.error().provider_code, "http:429");
  ASSERT_TRUE(out.error().retry_after);
  EXPECT_GE(*out.error().retry_after, 29s);
  EXPECT_LE(*out.error().retry_after, 30s);
  // An hour ahead: the same.
  okta_.SetClockSkew(std::chrono::duration_cast<Millis>(1h));
  okta_.Throttle(1);
  auto ahead = c->Execute(Act(ActionType::kSuspend, "alice@example.com"), Context());
  ASSERT_FALSE(ahead);
  ASSERT_TRUE(ahead.error().retry_after);
  EXPECT_GE(*ahead.error().retry_after, 29s);
  EXPECT_LE(*ahead.error().retry_after, 30s);
}

TEST_F(OktaConnectorTest, EveryAnswersRateLimitGoesToTheEngine) {
  auto c = Make();
  ASSERT_TRUE(c->Execute(Act(ActionType::kSuspend, "alice@example.com"), Context()));
  ASSERT_EQ(reports_.size(), 2u);
  EXPECT_EQ(reports_[0].limit, 600);
  EXPECT_EQ(reports_[1].remaining, 598);
  ASSERT_TRUE(reports_[1].provider_date);
  EXPECT_EQ(reports_[1].reset_epoch_seconds,
            std::chrono::duration_cast<std::chrono::seconds>(reports_[1].provider_date->time_since_epoch()).count() + 30)
      << "the last of the repeated Reset headers";
}

TEST_F(OktaConnectorTest, ARefusedTokenIsTheProvidersAndIsLoadedAgain) {
  auto c = Make();
  okta_.RefuseTokens();
  auto out = c->Execute(Act(ActionType::kSuspend, "alice@example.com"), Context());
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(out.error().blame, Blame::kProvider);
  EXPECT_THAT(out.error().provider_detail, HasSubstr("E0000011"));
  EXPECT_EQ(out.error().message.find("secret-api-token"), std::string::npos);
  okta_.AcceptTokens();
  ASSERT_TRUE(c->Probe(Context()));
  EXPECT_EQ(credentials_->loads(), 2u);
}

class OktaListingTest : public OktaConnectorTest {
 protected:
  void SetUp() override {
    OktaConnectorTest::SetUp();
    okta_.Add({"00u6", "pete@example.com", "PASSWORD_EXPIRED", "", 0, "pete.mail@example.com", "Pete", "Expired"});
    okta_.Add({"00u7", "gone1@example.com", "DEPROVISIONED"});
    okta_.Add({"00u8", "gone2@example.com", "DEPROVISIONED"});
    okta_.Add({"00u9", "xss@example.com", "ACTIVE", "", 0, "", "X", "S", "<img src=x onerror=alert(1)>"});
    okta_.SetPageCap(2);
  }
  // Lists into pages_, noting how many requests Okta had seen when each page was handed over.
  Status List(const ExecutionContext& context, std::function<Status()> after_page = {}) {
    auto c = Make();
    return c->ListAccounts(context, [&](std::vector<AccountView>&& page) -> Status {
      requests_at_page_.push_back(okta_.server().Requests().size());
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

  std::vector<std::vector<AccountView>> pages_;
  std::vector<std::size_t> requests_at_page_;
};

TEST_F(OktaListingTest, ListsEveryUserPageByPageThenTheDeprovisionedOnes) {
  ASSERT_TRUE(List(Context()));
  // Six users Okta lists by default, two per page; then the two DEPROVISIONED.
  ASSERT_EQ(pages_.size(), 4u);
  for (std::size_t i = 0; i < pages_.size(); ++i)
    EXPECT_EQ(requests_at_page_[i], i + 1) << "each page is handed over before the next is asked for";
  const auto users = ById();
  EXPECT_EQ(users.size(), 8u);
  for (const auto& v : pages_[3]) EXPECT_EQ(v.status, AccountStatus::kDeactivated) << v.id;

  const std::vector<std::string> sent = Sent("GET");
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0], "/api/v1/users?limit=200");
  EXPECT_EQ(sent[1], "/api/v1/users?limit=2&after=00u2") << "Okta's next link, followed as given";
  EXPECT_EQ(sent[3], "/api/v1/users?filter=status%20eq%20%22DEPROVISIONED%22&limit=200");
  EXPECT_EQ(paced_, 4) << "every page asks the rate budget first";
  EXPECT_EQ(reports_.size(), 4u);
  for (const auto& r : reports_) EXPECT_EQ(r.bucket, "users.read");

  const AccountView& pete = users.at("00u6");
  EXPECT_EQ(pete.provider, Provider::kOkta);
  EXPECT_EQ(pete.login, "pete@example.com");
  EXPECT_EQ(pete.upn, "pete@example.com");
  EXPECT_EQ(pete.mail, "pete.mail@example.com");
  EXPECT_EQ(pete.display_name, "Pete Expired");
  EXPECT_EQ(pete.status, AccountStatus::kOther);
  EXPECT_TRUE(pete.must_change_password);
  EXPECT_EQ(pete.identifiers.at("status"), "PASSWORD_EXPIRED");
  EXPECT_EQ(users.at("00u2").status, AccountStatus::kSuspended);
  EXPECT_EQ(users.at("00u1").status, AccountStatus::kEnabled);
  EXPECT_FALSE(users.at("00u1").must_change_password);
  EXPECT_EQ(users.at("00u9").display_name, "<img src=x onerror=alert(1)>") << "profile.displayName, as Okta holds it";
  EXPECT_EQ(users.at("00u7").identifiers.at("status"), "DEPROVISIONED");

  // Lookup reads a user through the same mapping.
  auto c = Make();
  auto looked = c->Lookup("pete@example.com");
  ASSERT_TRUE(looked) << looked.error().message;
  EXPECT_EQ(looked->mail, pete.mail);
  EXPECT_EQ(looked->display_name, pete.display_name);
  EXPECT_EQ(looked->identifiers, pete.identifiers);
  EXPECT_TRUE(looked->must_change_password);
}

TEST_F(OktaListingTest, ANextLinkToAnotherOriginIsNotFollowed) {
  for (const std::string& origin : {"http://127.0.0.2:" + okta_.server().base_url().substr(okta_.server().base_url().rfind(':') + 1),
                                   std::string("https://evil.example.test")}) {
    okta_.SetLinkOrigin(origin);
    const std::size_t before = okta_.server().Requests().size();
    pages_.clear();
    auto listed = List(Context());
    ASSERT_FALSE(listed) << origin;
    EXPECT_EQ(listed.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_THAT(listed.error().message, HasSubstr("not followed"));
    EXPECT_THAT(listed.error().provider_detail, HasSubstr(origin));
    EXPECT_EQ(okta_.server().Requests().size(), before + 1) << "nothing sent after the first page";
    EXPECT_TRUE(pages_.empty()) << "the page that names a foreign next page is not handed over";
  }
}

TEST_F(OktaListingTest, AThrottledPageIsWaitedOutAndTheListingGoesOn) {
  okta_.Throttle(1, /*after=*/1, std::chrono::seconds(1));
  ASSERT_TRUE(List(Context()));
  EXPECT_EQ(ById().size(), 8u);
  const std::vector<std::string> sent = Sent("GET");
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[1], sent[2]) << "the throttled page asked again";
  EXPECT_EQ(paced_, 5);
}

TEST_F(OktaListingTest, AThrottleBeyondTheDeadlineIsTheProvidersError) {
  okta_.Throttle(1, /*after=*/1, std::chrono::seconds(30));
  ExecutionContext ctx = Context();
  ctx.deadline = Now() + 5s;
  auto listed = List(ctx);
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(listed.error().blame, Blame::kProvider);
  ASSERT_TRUE(listed.error().retry_after);
  EXPECT_EQ(Sent("GET").size(), 2u) << "not asked again before Okta's window resets";
}

TEST_F(OktaListingTest, TheDeadlineEndsTheListingBetweenPages) {
  ExecutionContext ctx = Context();
  ctx.deadline = Now() + 200ms;
  auto listed = List(ctx, [] {
    std::this_thread::sleep_for(300ms);
    return Status{};
  });
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().code, ErrorCode::kTimeout);
  EXPECT_TRUE(listed.error().retryable);
  EXPECT_EQ(pages_.size(), 1u);
  EXPECT_EQ(Sent("GET").size(), 1u);
}

TEST_F(OktaListingTest, AnErrorOfThePageCallbackEndsTheListing) {
  auto listed = List(Context(), [] { return Status(Fail(Error::Unavailable("the store is gone"))); });
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().message, "the store is gone");
  EXPECT_EQ(Sent("GET").size(), 1u);
}

class OktaPrivateKeyJwtTest : public OktaConnectorTest {
 protected:
  std::shared_ptr<OktaConfig> JwtConfig() {
    EVP_PKEY* key = EVP_RSA_gen(2048);
    EXPECT_NE(key, nullptr);
    FILE* f = std::fopen((dir_.path() / "key.pem").c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    EVP_PKEY_free(key);
    auto c = Config();
    c->auth = AuthMode::kPrivateKeyJwt;
    c->token = {};
    c->client_id = "0oaclient";
    c->private_key_file = (dir_.path() / "key.pem").string();
    return c;
  }
};

TEST_F(OktaPrivateKeyJwtTest, TheAccessTokenIsCachedAndRenewedBeforeItExpires) {
  auto c = Make(JwtConfig());
  ASSERT_TRUE(c->Execute(Act(ActionType::kSuspend, "alice@example.com"), Context()));
  ASSERT_TRUE(c->Execute(Act(ActionType::kUnsuspend, "alice@example.com"), Context()));
  EXPECT_EQ(okta_.TokensIssued(), 1) << "one token for every request while it is fresh";
  for (const auto& r : okta_.server().Requests()) {
    if (r.target != "/oauth2/v1/token") {
      EXPECT_EQ(r.headers.at("authorization"), "Bearer access-1");
    }
  }

  // A token about to expire (inside the renewal margin) is renewed before use.
  okta_.SetTokenLifetime(30);
  auto c2 = Make(JwtConfig());
  ASSERT_TRUE(c2->Probe(Context()));
  ASSERT_TRUE(c2->Probe(Context()));
  EXPECT_EQ(okta_.TokensIssued(), 3);
}

TEST_F(OktaPrivateKeyJwtTest, ARefusedAccessTokenIsFetchedAgainOnce) {
  auto c = Make(JwtConfig());
  ASSERT_TRUE(c->Probe(Context()));
  okta_.RefuseTokens();
  ASSERT_FALSE(c->Probe(Context()));
  okta_.AcceptTokens();
  ASSERT_TRUE(c->Probe(Context()));
  EXPECT_EQ(okta_.TokensIssued(), 2);
}

}  // namespace
}  // namespace cordon::okta
