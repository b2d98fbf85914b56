// Okta's own description enforced on everything Cordon says to Okta and hears
// back: the real OktaConnector, loaded from a [connectors.okta] section
// through the registry and driven by the real Engine, ActionService and
// SqliteStore, speaks plain HTTP on loopback to Prism, which checks every
// request and answer against specs/okta and forwards them over HTTPS (a CA
// made here) to the Okta emulator:
//
//   OktaConnector --http--> Prism (validating proxy, --errors) --https--> OktaEmulator
//
// Every action and undo, the refusals (with Okta's words reaching the action
// center) and the listings go through that chain. A test fails on any
// exchange Prism refuses: its 422 (a request that breaks the description) or
// 500 (an answer that does) would surface as an attempt answered http:422 /
// http:500, and every refusal is also a line in Prism's log, which each test
// reads when it ends.
//
// The /lab/ routes (sessions to revoke, rate limits) are not Okta's: the test
// calls them on the emulator directly.
//
// Authentication: SSWS only. The connector takes its token endpoint from
// org_url (<org_url>/oauth2/v1/token) and Okta's users description has no
// /oauth2/v1/token operation, so Prism answers the token request itself with
// 404 NO_PATH_MATCHED_ERROR (ExchangeOutsideTheDescriptionIsRefusedByPrism
// shows it) and private_key_jwt cannot run through this chain. Its token
// exchange is covered by connector_okta_test (OktaPrivateKeyJwtTest) and
// okta_emulator_test.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <toml++/toml.h>

#include "connectors/registry.h"
#include "core/subprocess.h"
#include "engine/action_service.h"
#include "engine/engine.h"
#include "lab/okta/emulator.h"
#include "store/sqlite/sqlite_store.h"
#include "support/okta_wire.h"
#include "support/prism_proxy.h"
#include "support/test_certificates.h"
#include "support/temp_dir.h"

namespace cordon {
namespace {

using lab::okta::EmulatorOptions;
using lab::okta::OktaEmulator;
using lab::okta::SeedUser;
using lab::okta::UserStatus;
using nlohmann::json;
using std::chrono::seconds;
using testing::PrismProxy;
using testing::PrismViolation;
using testing::TempDir;
using testing::WireRequest;
using testing::WireResponse;

constexpr std::string_view kApiToken = "00-conformance-api-token-of-the-org";
constexpr std::string_view kDomain = "@corp.example.test";
constexpr int kPagedUsers = 25;

std::string Login(std::string_view name) { return std::string(name) + std::string(kDomain); }

std::vector<SeedUser> Users() {
  std::vector<SeedUser> users = {
      {Login("ann.suspend"), "Ann", "Suspend", UserStatus::kActive},
      {Login("dan.deactivate"), "Dan", "Deactivate", UserStatus::kActive},
      {Login("rob.revoke"), "Rob", "Revoke", UserStatus::kActive},
      {Login("sue.suspended"), "Sue", "Suspended", UserStatus::kSuspended},
      {Login("stella.staged"), "Stella", "Staged", UserStatus::kStaged},
      {Login("tom.token"), "Tom", "Token", UserStatus::kActive},
      {Login("lou.lookup"), "Lou", "Lookup", UserStatus::kActive},
      {Login("dora.gone"), "Dora", "Gone", UserStatus::kDeprovisioned},
  };
  for (int i = 1; i <= 4; ++i) users.push_back({Login("rate" + std::to_string(i)), "Rate", std::to_string(i)});
  for (int i = 1; i <= kPagedUsers; ++i) users.push_back({Login("page" + std::to_string(i)), "Page", std::to_string(i)});
  return users;
}

// Prism and the emulator start once for the suite; each test has a store and
// an engine of its own.
class OktaConformanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    suite_dir_ = new TempDir("cordon-okta-conformance");
    auto certs = testing::TestCertificates::Make(suite_dir_->path());
    if (!certs) {
      start_error_ = certs.error().message;
      return;
    }
    certs_ = new testing::TestCertificates(std::move(*certs));
    token_file_ = (suite_dir_->path() / "okta.token").string();
    std::ofstream(token_file_) << kApiToken << "\n";

    EmulatorOptions o;
    o.tls_cert_file = certs_->cert();
    o.tls_key_file = certs_->key();
    o.api_token = Secret(std::string(kApiToken));
    o.users = Users();
    auto emulator = OktaEmulator::Create(std::move(o));
    if (!emulator) {
      start_error_ = emulator.error().message;
      return;
    }
    emulator_ = emulator->release();
    emulator_->Start();

    auto proxy = PrismProxy::Start({.upstream_url = emulator_->url(), .upstream_ca_file = certs_->ca()});
    if (!proxy) {
      start_error_ = proxy.error().message;
      return;
    }
    prism_ = proxy->release();
  }

  static void TearDownTestSuite() {
    delete prism_;
    prism_ = nullptr;
    delete emulator_;
    emulator_ = nullptr;
    delete certs_;
    certs_ = nullptr;
    delete suite_dir_;
    suite_dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(prism_, nullptr) << start_error_;
    violations_before_ = prism_->Violations().size();
    auto store = SqliteStore::Open((dir_ / "cordon.db").string());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate());
  }

  void TearDown() override {
    engine_.reset();
    if (prism_ == nullptr) return;
    for (const auto& v : SettleLog()) {
      if (allow_unlisted_401_ && IsUnlisted401(v)) continue;
      ADD_FAILURE() << (v.refused ? "Prism refused an exchange: " : "Prism warned: ") << v.method << " " << v.path
                    << ": " << v.line;
    }
    for (const std::string& id : submitted_) {
      auto attempts = store_->GetAttempts(id);
      ASSERT_TRUE(attempts) << id;
      for (const Attempt& at : *attempts)
        EXPECT_TRUE(at.provider_answer.code != "http:422" && at.provider_answer.code != "http:500")
            << "Prism refused an exchange of " << id << ": " << at.message;
    }
  }

  // Okta answers a refused token with 401 E0000011 on every operation, but its
  // description lists 401 for none of the users operations: Prism lets the
  // answer through and warns that it cannot match its status.
  static bool IsUnlisted401(const PrismViolation& v) {
    return !v.refused && v.side == PrismViolation::Side::kResponse && v.status == 401 &&
           v.message.starts_with("Unable to match the returned status code");
  }

  // Sends a request Prism refuses for want of a route, waits until it logged
  // that, and returns what it logged since the test began, without those.
  std::vector<PrismViolation> SettleLog() {
    static constexpr std::string_view kNoRoute = "/api/v1/no-such-route";
    const auto seen = prism_->Violations().size();
    (void)ThroughPrism("GET", std::string(kNoRoute));
    const auto all = prism_->WaitForViolations(seen, seconds(10));
    EXPECT_GT(all.size(), seen) << "Prism logged nothing for an unknown route:\n" << prism_->Output();
    std::vector<PrismViolation> since;
    for (std::size_t i = violations_before_; i < all.size(); ++i)
      if (all[i].side != PrismViolation::Side::kRoute || all[i].path != kNoRoute) since.push_back(all[i]);
    return since;
  }

  // A [connectors.okta] section as a user writes it, loaded through the
  // registry: the connector talks to Prism.
  LoadedConnector LoadConnector(const std::string& token_file) {
    const std::string text = "[connectors.okta]\n"
                             "org_url = \"" + prism_->base_url() + "\"\n"
                             "allow_plaintext = true\n"
                             "auth_mode = \"ssws\"\n"
                             "token_file = \"" + token_file + "\"\n";
    toml::table root;
    try {
      root = toml::parse(text);
    } catch (const toml::parse_error& e) {
      ADD_FAILURE() << e.what();
      return {};
    }
    auto loaded = BuiltinConnectors().Load(Provider::kOkta, *root["connectors"]["okta"].as_table(), "connectors.okta",
                                           dir_.path());
    EXPECT_TRUE(loaded) << loaded.error().message;
    return loaded ? std::move(*loaded) : LoadedConnector{};
  }

  void StartEngine(const std::string& token_file = token_file_) {
    LoadedConnector loaded = LoadConnector(token_file);
    ASSERT_TRUE(loaded.factory);
    engine_ = std::make_unique<Engine>(*store_, EngineOptions{});
    engine_->AddWorkers(Provider::kOkta, loaded.factory, loaded.settings);
    engine_->Start();
    service_ = std::make_unique<ActionService>(*store_, engine_.get(), std::set<Provider>{Provider::kOkta});
  }

  std::vector<Action> SubmitAll(ActionType type, std::vector<std::string> targets) {
    auto created = service_->Submit({type, Provider::kOkta, std::move(targets), "conformance run",
                                     Actor{"analyst", "tok_1"}, false});
    EXPECT_TRUE(created) << created.error().message;
    if (!created) return {};
    for (const Action& a : *created) submitted_.push_back(a.id);
    return *created;
  }

  std::string Submit(ActionType type, const std::string& target) {
    auto created = SubmitAll(type, {target});
    return created.size() == 1 ? created.front().id : std::string();
  }

  std::string Undo(const std::string& id) {
    auto undo = service_->Undo(id, Actor{"analyst", "tok_1"}, "conformance run: undo");
    EXPECT_TRUE(undo) << undo.error().message;
    if (!undo) return {};
    submitted_.push_back(undo->id);
    return undo->id;
  }

  // Whether Prism refused one of the action's exchanges: the connector took
  // its 422 or 500 for Okta's.
  bool RefusedByPrism(const std::string& id) {
    for (const Attempt& at : Attempts(id))
      if (at.provider_answer.code == "http:422" || at.provider_answer.code == "http:500") return true;
    return false;
  }

  // Waits (a generous deadline for a loaded machine, not a timing assertion)
  // until the action is in a final state. An action one of whose exchanges
  // Prism refused is returned at once: a 500 would only hold it.
  Action Finished(const std::string& id, std::chrono::milliseconds deadline = seconds(60)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    Action a;
    while (std::chrono::steady_clock::now() < end) {
      auto got = store_->GetAction(id);
      EXPECT_TRUE(got) << id;
      if (!got) return {};
      a = *got;
      if (IsTerminal(a.status)) return a;
      if (RefusedByPrism(id)) {
        ADD_FAILURE() << id << ": Prism refused one of its exchanges (the log lines follow at the test's end)";
        return a;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << id << " did not finish: " << ToString(a.status) << " " << a.outcome;
    return a;
  }

  std::vector<Attempt> Attempts(const std::string& id) {
    auto attempts = store_->GetAttempts(id);
    EXPECT_TRUE(attempts) << id;
    return attempts ? *attempts : std::vector<Attempt>{};
  }

  static WireResponse ThroughPrism(const std::string& method, const std::string& path_or_url,
                                   const std::string& authorization = "SSWS " + std::string(kApiToken),
                                   const std::string& body = {}) {
    WireRequest r;
    r.method = method;
    r.url = path_or_url.starts_with("http://") ? path_or_url : prism_->base_url() + path_or_url;
    r.authorization = authorization;
    r.body = body;
    if (!body.empty()) r.content_type = "application/json";
    return testing::Call(r, certs_->ca());
  }

  // The emulator itself, past Prism: for the /lab/ routes, which are not
  // Okta's, and to read the state an action left.
  static WireResponse Direct(const std::string& method, const std::string& path, const std::string& body = {}) {
    WireRequest r;
    r.method = method;
    r.url = emulator_->url() + path;
    r.authorization = "SSWS " + std::string(kApiToken);
    r.body = body;
    if (!body.empty()) r.content_type = "application/json";
    return testing::Call(r, certs_->ca());
  }

  static json User(const std::string& id_or_login) {
    const auto r = Direct("GET", "/api/v1/users/" + testing::FormEncode(id_or_login));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }

  static std::string StatusOf(const std::string& id_or_login) { return User(id_or_login).value("status", ""); }

  static inline TempDir* suite_dir_ = nullptr;
  static inline testing::TestCertificates* certs_ = nullptr;
  static inline OktaEmulator* emulator_ = nullptr;
  static inline PrismProxy* prism_ = nullptr;
  static inline std::string token_file_;
  static inline std::string start_error_;

  TempDir dir_{"cordon-okta-conformance-test"};
  std::unique_ptr<SqliteStore> store_;
  std::size_t violations_before_ = 0;
  bool allow_unlisted_401_ = false;  // see IsUnlisted401
  std::vector<std::string> submitted_;
  std::unique_ptr<ActionService> service_;
  // Declared last: stopped first, while the store is still there.
  std::unique_ptr<Engine> engine_;
};

TEST_F(OktaConformanceTest, SuspendAndItsUndo) {
  StartEngine();
  const Action suspended = Finished(Submit(ActionType::kSuspend, Login("ann.suspend")));
  ASSERT_EQ(suspended.status, ActionStatus::kSucceeded) << suspended.outcome;
  EXPECT_FALSE(suspended.already_in_state);
  EXPECT_EQ(suspended.provider_answer.code, "http:200");
  EXPECT_EQ(suspended.account_id, User(Login("ann.suspend"))["id"]);
  EXPECT_EQ(StatusOf(Login("ann.suspend")), "SUSPENDED");

  const Action undone = Finished(Undo(suspended.id));
  ASSERT_EQ(undone.status, ActionStatus::kSucceeded) << undone.outcome;
  EXPECT_EQ(undone.type, ActionType::kUnsuspend);
  EXPECT_EQ(StatusOf(Login("ann.suspend")), "ACTIVE");
}

TEST_F(OktaConformanceTest, DeactivateByOktaIdWaitsForOktaAndItsUndoActivates) {
  StartEngine();
  const std::string id = User(Login("dan.deactivate"))["id"];
  const Action deactivated = Finished(Submit(ActionType::kDeactivate, id));
  ASSERT_EQ(deactivated.status, ActionStatus::kSucceeded) << deactivated.outcome;
  EXPECT_EQ(deactivated.provider_answer.detail, "status DEPROVISIONED");
  EXPECT_EQ(deactivated.resolved_account, Login("dan.deactivate"));
  const json user = User(id);
  EXPECT_EQ(user["status"], "DEPROVISIONED");
  EXPECT_FALSE(user.contains("transitioningToStatus")) << user.dump();

  const Action undone = Finished(Undo(deactivated.id));
  ASSERT_EQ(undone.status, ActionStatus::kSucceeded) << undone.outcome;
  EXPECT_EQ(undone.type, ActionType::kActivate);
  EXPECT_EQ(StatusOf(id), "ACTIVE");
}

TEST_F(OktaConformanceTest, RevokeSessionsRevokesSessionsAndOAuthTokens) {
  const std::string id = User(Login("rob.revoke"))["id"];
  ASSERT_EQ(Direct("POST", "/lab/users/" + id + "/sessions", R"({"oauthTokens":2})").status, 201);
  ASSERT_EQ(Direct("POST", "/lab/users/" + id + "/sessions", R"({"oauthTokens":1})").status, 201);
  ASSERT_EQ(Direct("GET", "/lab/users/" + id + "/sessions").Json()["sessions"].size(), 2u);

  StartEngine();
  const Action revoked = Finished(Submit(ActionType::kRevokeSessions, Login("rob.revoke")));
  ASSERT_EQ(revoked.status, ActionStatus::kSucceeded) << revoked.outcome;
  EXPECT_EQ(revoked.provider_answer.code, "http:204");
  const json left = Direct("GET", "/lab/users/" + id + "/sessions").Json();
  EXPECT_TRUE(left["sessions"].empty()) << left.dump();
  EXPECT_EQ(left["oauthTokens"], 0);
  EXPECT_EQ(StatusOf(id), "ACTIVE");
  // Nothing to undo a revocation with.
  EXPECT_FALSE(service_->Undo(revoked.id, Actor{"analyst", "tok_1"}, "undo"));
}

TEST_F(OktaConformanceTest, SuspendingASuspendedUserSucceedsWithANoteAndChangesNothing) {
  StartEngine();
  const Action a = Finished(Submit(ActionType::kSuspend, Login("sue.suspended")));
  ASSERT_EQ(a.status, ActionStatus::kSucceeded) << a.outcome;
  EXPECT_TRUE(a.already_in_state);
  EXPECT_NE(a.outcome.find("already suspended"), std::string::npos) << a.outcome;
  EXPECT_EQ(StatusOf(Login("sue.suspended")), "SUSPENDED");
  // It changed nothing, so there is nothing to undo.
  EXPECT_FALSE(service_->Undo(a.id, Actor{"analyst", "tok_1"}, "undo"));
}

TEST_F(OktaConformanceTest, LookupByLoginAndByOktaId) {
  LoadedConnector loaded = LoadConnector(token_file_);
  ASSERT_TRUE(loaded.factory);
  auto connector = loaded.factory();
  ASSERT_TRUE(connector) << connector.error().message;
  const std::string id = User(Login("lou.lookup"))["id"];
  for (const std::string& name : {Login("lou.lookup"), id}) {
    auto view = (*connector)->Lookup(name);
    ASSERT_TRUE(view) << name << ": " << view.error().message;
    EXPECT_EQ(view->id, id);
    EXPECT_EQ(view->login, Login("lou.lookup"));
    EXPECT_EQ(view->display_name, "Lou Lookup");
    EXPECT_EQ(view->status, AccountStatus::kEnabled);
  }
  auto missing = (*connector)->Lookup(Login("nobody.here"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(OktaConformanceTest, IllegalTransitionsFailAtOnceInOktasWords) {
  StartEngine();
  // Unsuspending an ACTIVE user would be "already active": a DEPROVISIONED one is refused.
  const Action unsuspend = Finished(Submit(ActionType::kUnsuspend, Login("dora.gone")));
  const Action suspend = Finished(Submit(ActionType::kSuspend, Login("stella.staged")));
  for (const auto& [a, summary] : {std::pair{unsuspend, "Cannot unsuspend a user that is not suspended"},
                                   std::pair{suspend, "Cannot suspend a user that is not active"}}) {
    EXPECT_EQ(a.status, ActionStatus::kFailed) << a.target;
    EXPECT_EQ(a.attempt_count, 1) << a.target << ": fails at once";
    EXPECT_EQ(a.provider_answer.code, "http:400") << a.target;
    EXPECT_NE(a.outcome.find(summary), std::string::npos) << a.outcome;
    EXPECT_NE(a.provider_answer.detail.find("E0000001"), std::string::npos) << a.provider_answer.detail;
    EXPECT_NE(a.provider_answer.detail.find("errorId"), std::string::npos) << a.provider_answer.detail;
  }
  EXPECT_EQ(StatusOf(Login("dora.gone")), "DEPROVISIONED");
  EXPECT_EQ(StatusOf(Login("stella.staged")), "STAGED");
}

TEST_F(OktaConformanceTest, UnknownUserFailsAtOnceWithOktasNotFound) {
  StartEngine();
  const Action a = Finished(Submit(ActionType::kSuspend, Login("nobody.here")));
  EXPECT_EQ(a.status, ActionStatus::kFailed);
  EXPECT_EQ(a.attempt_count, 1);
  EXPECT_EQ(a.provider_answer.code, "http:404");
  EXPECT_NE(a.provider_answer.detail.find("E0000007"), std::string::npos) << a.provider_answer.detail;
}

TEST_F(OktaConformanceTest, AWrongTokenPausesOktaUntilTheRightOneIsInTheFile) {
  const std::string token_file = (dir_ / "okta.token").string();
  std::ofstream(token_file) << "00-not-the-org-s-token\n";
  StartEngine(token_file);
  const std::string id = Submit(ActionType::kSuspend, Login("tom.token"));

  // Okta's refusal reaches the action center; the action waits, spending nothing.
  Attempt refused;
  const auto end = std::chrono::steady_clock::now() + seconds(30);
  while (refused.provider_answer.code.empty() && std::chrono::steady_clock::now() < end) {
    for (const Attempt& at : Attempts(id))
      if (at.provider_answer.code == "http:401") refused = at;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(refused.provider_answer.code, "http:401");
  EXPECT_EQ(refused.result, "provider_error");
  EXPECT_NE(refused.provider_answer.detail.find("E0000011"), std::string::npos) << refused.provider_answer.detail;
  EXPECT_EQ(StatusOf(Login("tom.token")), "ACTIVE");

  // Prism saw the 401 and warned that the description does not list it (and nothing else).
  allow_unlisted_401_ = true;
  const auto warned = SettleLog();
  EXPECT_TRUE(std::any_of(warned.begin(), warned.end(), IsUnlisted401)) << prism_->Output();

  std::ofstream(token_file, std::ios::trunc) << kApiToken << "\n";
  const Action a = Finished(id);
  EXPECT_EQ(a.status, ActionStatus::kSucceeded) << a.outcome;
  EXPECT_EQ(a.attempt_count, 1) << "a refused token spends no attempt";
  EXPECT_EQ(StatusOf(Login("tom.token")), "SUSPENDED");
}

TEST_F(OktaConformanceTest, ThrottlingIsWaitedOutNeverAFailure) {
  // One change per five seconds, and this window's one already spent by another
  // client of the org (a direct call): Cordon's first change meets 429 E0000047
  // whatever it has learnt, and every later one waits for its own window.
  const std::string other = Direct("GET", "/api/v1/users/" + testing::FormEncode(Login("rate4"))).Json()["id"];
  StartEngine();
  ASSERT_EQ(Direct("POST", "/lab/settings", R"({"rate_limits":{"users.manage":{"limit":1,"window_seconds":5}}})").status,
            200);
  // Okta's windows are fixed (they end at X-Rate-Limit-Reset, a whole second), so
  // the other client spends a window as it opens: Cordon's first change, a moment
  // later, then meets that same window, not the next one.
  testing::AwaitWindowWithTimeLeft(seconds(5), std::chrono::milliseconds(4500));
  const WireResponse spent = Direct("POST", "/api/v1/users/" + other + "/lifecycle/suspend");
  ASSERT_EQ(spent.status, 200);
  ASSERT_EQ(spent.Header("x-rate-limit-remaining"), "0");
  const auto actions = SubmitAll(ActionType::kSuspend, {Login("rate1"), Login("rate2"), Login("rate3")});
  ASSERT_EQ(actions.size(), 3u);
  bool throttled = false;
  for (const Action& submitted : actions) {
    const Action a = Finished(submitted.id);
    EXPECT_EQ(a.status, ActionStatus::kSucceeded) << a.target << ": " << a.outcome;
    EXPECT_EQ(StatusOf(a.target), "SUSPENDED") << a.target;
    for (const Attempt& at : Attempts(a.id)) {
      if (at.provider_answer.code != "http:429") continue;
      throttled = true;
      EXPECT_EQ(at.result, "provider_error");
      EXPECT_NE(at.provider_answer.detail.find("E0000047"), std::string::npos) << at.provider_answer.detail;
    }
  }
  EXPECT_TRUE(throttled) << "no change met Okta's rate limit";
  EXPECT_EQ(Direct("POST", "/lab/settings", R"({"rate_limits":{"users.manage":{"limit":600,"window_seconds":60}}})")
                .status,
            200);
}

// The emulator writes its Link URLs on its own origin (org_url), whatever
// Host Prism forwards; each next page is therefore asked for on Prism's
// origin with the same path and query, so that it too is checked.
std::string OntoPrism(const std::string& url, const std::string& prism) {
  const auto scheme = url.find("://");
  const auto path = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
  return path == std::string::npos ? url : prism + url.substr(path);
}

// The URL of the `rel="next"` link among a Link header's values, or empty.
// Prism forwards the emulator's two Link headers (self, next) joined into one
// value, "<…>; rel=\"self\", <…>; rel=\"next\"", as HTTP allows: each link is
// read as the URL in angle brackets and the parameters up to the next one.
std::string NextLink(const WireResponse& r) {
  for (const std::string& value : r.Headers("link")) {
    for (auto open = value.find('<'); open != std::string::npos;) {
      const auto close = value.find('>', open);
      if (close == std::string::npos) break;
      const auto following = value.find('<', close);
      const std::string params = value.substr(close + 1, following == std::string::npos ? std::string::npos
                                                                                        : following - close - 1);
      if (params.find("rel=\"next\"") != std::string::npos) return value.substr(open + 1, close - open - 1);
      open = following;
    }
  }
  return {};
}

TEST_F(OktaConformanceTest, ListingPagesFollowLinkNext) {
  std::set<std::string> direct;
  for (const auto& u : Direct("GET", "/api/v1/users?limit=200").Json()) direct.insert(u["id"].get<std::string>());
  ASSERT_GT(direct.size(), 20u);

  std::set<std::string> paged;
  int pages = 0;
  std::string url = prism_->base_url() + "/api/v1/users?limit=10";
  while (!url.empty() && pages < 20) {
    const WireResponse r = ThroughPrism("GET", url);
    ASSERT_EQ(r.status, 200) << url << ": " << r.body;
    ++pages;
    const json page = r.Json();
    ASSERT_TRUE(page.is_array()) << r.body;
    EXPECT_LE(page.size(), 10u);
    for (const auto& u : page) EXPECT_TRUE(paged.insert(u["id"].get<std::string>()).second) << "twice: " << u["id"];
    const std::string next = NextLink(r);
    url = next.empty() ? std::string() : OntoPrism(next, prism_->base_url());
  }
  EXPECT_EQ(pages, static_cast<int>((direct.size() + 9) / 10));
  EXPECT_EQ(paged, direct);
}

TEST_F(OktaConformanceTest, SearchAndFilterByLogin) {
  const std::string login = Login("page7");
  const std::string id = User(login)["id"];
  for (const std::string& query : {"search=" + testing::FormEncode("profile.login eq \"" + login + "\""),
                                   "filter=" + testing::FormEncode("profile.login eq \"" + login + "\"")}) {
    const WireResponse r = ThroughPrism("GET", "/api/v1/users?" + query + "&limit=5");
    ASSERT_EQ(r.status, 200) << query << ": " << r.body;
    const json found = r.Json();
    ASSERT_EQ(found.size(), 1u) << query << ": " << r.body;
    EXPECT_EQ(found[0]["id"], id);
    EXPECT_EQ(found[0]["profile"]["login"], login);
  }
}

// Okta's create-user call and its partial update, as the emulator answers
// them, keep to Okta's description (users the tests seed are users Okta could
// have made), and a deactivated one is listed by the filter Cordon's listing
// uses.
TEST_F(OktaConformanceTest, CreateAndPartialUpdateKeepToTheDescription) {
  const std::string ssws = "SSWS " + std::string(kApiToken);
  const std::string login = Login("cora.created");
  const json profile = {{"firstName", "Cora"},
                        {"lastName", "Created"},
                        {"email", login},
                        {"login", login},
                        {"displayName", "<img src=x onerror=alert(1)>"}};
  WireResponse r = ThroughPrism("POST", "/api/v1/users?activate=false", ssws, json{{"profile", profile}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["status"], "STAGED");
  EXPECT_EQ(r.Json()["profile"]["displayName"], "<img src=x onerror=alert(1)>");
  const std::string id = r.Json().value("id", "");
  r = ThroughPrism("POST", "/api/v1/users/" + id, ssws, json{{"profile", {{"displayName", "Cora C."}}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["profile"]["displayName"], "Cora C.");
  EXPECT_EQ(r.Json()["profile"]["firstName"], "Cora");
  r = ThroughPrism("POST", "/api/v1/users?activate=true", ssws, json{{"profile", profile}}.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.Json().value("errorCode", ""), "E0000001");

  r = ThroughPrism("POST", "/api/v1/users/" + id + "/lifecycle/deactivate", ssws);
  ASSERT_EQ(r.status, 200) << r.body;
  r = ThroughPrism("GET", "/api/v1/users?filter=" + testing::FormEncode("status eq \"DEPROVISIONED\"") + "&limit=200");
  ASSERT_EQ(r.status, 200) << r.body;
  std::set<std::string> ids;
  for (const auto& u : r.Json()) {
    EXPECT_EQ(u["status"], "DEPROVISIONED");
    ids.insert(u.value("id", ""));
  }
  EXPECT_EQ(ids.count(id), 1u);
}

// What Prism does with an exchange its description does not have: the
// token request of private_key_jwt never reaches the emulator.
TEST_F(OktaConformanceTest, ExchangeOutsideTheDescriptionIsRefusedByPrism) {
  WireRequest r;
  r.method = "POST";
  r.url = prism_->base_url() + "/oauth2/v1/token";
  r.content_type = "application/x-www-form-urlencoded";
  r.body = "grant_type=client_credentials&scope=okta.users.manage";
  const auto before = prism_->Violations().size();
  const WireResponse answer = testing::Call(r, certs_->ca());
  EXPECT_EQ(answer.status, 404) << answer.body;
  const auto all = prism_->WaitForViolations(before, seconds(10));
  ASSERT_GT(all.size(), before) << prism_->Output();
  EXPECT_EQ(all[before].side, PrismViolation::Side::kRoute) << all[before].line;
  EXPECT_EQ(all[before].path, "/oauth2/v1/token");
  violations_before_ = all.size();
}

}  // namespace
}  // namespace cordon
