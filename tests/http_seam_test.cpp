// The seam for HTTP providers, end to end: the real Engine, ActionService
// and SqliteStore, with shipped defaults for everything but the provider
// settings a test is about, drive a libcurl connector (support/
// http_test_connector.h) against a local HTTP provider that throttles, fails
// and refuses credentials (support/fake_http_provider.h). What the provider
// recorded — every request, when it arrived, what it was answered — is
// what the tests check.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/credential_cache.h"
#include "engine/action_service.h"
#include "engine/engine.h"
#include "store/sqlite/sqlite_store.h"
#include "support/fake_http_provider.h"
#include "support/http_test_connector.h"
#include "support/temp_dir.h"

namespace cordon {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;
using testing::FakeHttpProvider;
using testing::HttpTestConnector;

class HttpSeamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open((dir_ / "cordon.db").string());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate());
    credentials_ = std::make_shared<CredentialCache>([this]() -> Result<CredentialCache::Credential> {
      const int load = ++loads_;
      return CredentialCache::Credential{Secret("token-" + std::to_string(load)), TimePoint{}};
    });
  }

  // Every instance shares one credential cache, as a provider's factory does.
  ConnectorFactory Factory() {
    return [this]() -> Result<std::unique_ptr<Connector>> {
      ++instances_;
      return std::make_unique<HttpTestConnector>(provider_.base_url(), credentials_);
    };
  }

  void StartEngine(const ProviderSettings& settings) {
    engine_ = std::make_unique<Engine>(*store_, EngineOptions{});
    engine_->AddWorkers(Provider::kOkta, Factory(), settings);
    engine_->Start();
  }

  std::vector<Action> Submit(const std::string& prefix, int count) {
    std::vector<std::string> targets;
    for (int i = 0; i < count; ++i) targets.push_back(prefix + std::to_string(i));
    ActionService service(*store_, engine_.get(), {Provider::kOkta});
    auto created = service.Submit({ActionType::kSuspend, Provider::kOkta, std::move(targets), "incident 77",
                                   Actor{"analyst", "tok_1"}, true});
    EXPECT_TRUE(created) << created.error().message;
    return created ? *created : std::vector<Action>{};
  }

  // Waits (a generous deadline for a loaded machine, not a timing assertion)
  // until every action is in a final state.
  bool WaitSettled(const std::vector<Action>& actions, Millis deadline = Millis(240000)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      bool settled = true;
      for (const Action& a : actions) {
        auto got = store_->GetAction(a.id);
        if (!got || !IsTerminal(got->status)) {
          settled = false;
          break;
        }
      }
      if (settled) return true;
      std::this_thread::sleep_for(Millis(50));
    }
    return false;
  }

  Action Get(const Action& a) {
    auto got = store_->GetAction(a.id);
    EXPECT_TRUE(got) << a.id;
    return got ? *got : Action{};
  }

  ProviderHealth Health() {
    auto health = engine_->Health();
    EXPECT_THAT(health, SizeIs(1));
    return health.empty() ? ProviderHealth{} : health.front();
  }

  // Every action succeeded on its first counted attempt, and the provider
  // holds each account suspended.
  void ExpectAllSucceededOnTheFirstAttempt(const std::vector<Action>& actions) {
    for (const Action& a : actions) {
      const Action done = Get(a);
      EXPECT_EQ(done.status, ActionStatus::kSucceeded) << a.target << ": " << done.outcome;
      EXPECT_EQ(done.attempt_count, 1) << a.target << ": the provider's failures spend no attempt";
      EXPECT_EQ(provider_.UserStatus(a.target), "SUSPENDED") << a.target;
    }
  }

  testing::TempDir dir_{"cordon-http-seam"};
  FakeHttpProvider provider_;
  std::unique_ptr<SqliteStore> store_;
  std::atomic<int> loads_{0};
  std::atomic<int> instances_{0};
  std::shared_ptr<CredentialCache> credentials_;
  // Declared last: stopped first, while the provider and the store are still there.
  std::unique_ptr<Engine> engine_;
};

TEST_F(HttpSeamTest, ThrottlingAndOutagesNeverFailAnAction) {
  // Of every 10 requests, 3 are throttled (Retry-After: 1) and 1 finds the provider unavailable.
  provider_.SetPlan({.cycle = 10, .throttled = 3, .unavailable = 1, .retry_after_seconds = 1});
  StartEngine(ProviderSettings{});
  const auto actions = Submit("user", 200);
  ASSERT_THAT(actions, SizeIs(200));
  ASSERT_TRUE(WaitSettled(actions));

  ExpectAllSucceededOnTheFirstAttempt(actions);
  EXPECT_GT(provider_.CountAnswered(429), 0);
  EXPECT_GT(provider_.CountAnswered(503), 0);
  const ProviderStats stats = engine_->Stats().providers[Provider::kOkta];
  EXPECT_EQ(stats.failed, 0);
  EXPECT_EQ(stats.succeeded, 200);
  EXPECT_GT(stats.provider_errors, 0);
  EXPECT_GE(Health().holds, 1);
  // A throttled attempt is in the action's history, with the provider's answer, but not counted.
  bool saw_throttled = false;
  for (const Action& a : actions) {
    auto attempts = store_->GetAttempts(a.id);
    ASSERT_TRUE(attempts);
    for (const Attempt& at : *attempts) {
      if (at.provider_answer.code != "http:429") continue;
      saw_throttled = true;
      EXPECT_EQ(at.result, "provider_error");
      EXPECT_THAT(at.provider_answer.detail, HasSubstr("rate limit"));
    }
  }
  EXPECT_TRUE(saw_throttled);
}

TEST_F(HttpSeamTest, ThrottlingWithoutARetryAfterFailsNothingEither) {
  provider_.SetPlan({.cycle = 10, .throttled = 4, .unavailable = 0, .retry_after_seconds = std::nullopt});
  StartEngine(ProviderSettings{});
  const auto actions = Submit("user", 60);
  ASSERT_TRUE(WaitSettled(actions));
  ExpectAllSucceededOnTheFirstAttempt(actions);
  EXPECT_GT(provider_.CountAnswered(429), 0);
  EXPECT_GE(Health().holds, 1);
}

TEST_F(HttpSeamTest, TheProviderNeverSeesMoreRequestsThanTheRateBudget) {
  ProviderSettings settings;
  settings.rate_limit = 10;
  settings.rate_window = Millis(2000);
  StartEngine(settings);
  const auto started = std::chrono::steady_clock::now();
  const auto actions = Submit("user", 20);
  ASSERT_TRUE(WaitSettled(actions));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ExpectAllSucceededOnTheFirstAttempt(actions);

  auto requests = provider_.Requests();
  ASSERT_GE(requests.size(), 40u) << "a read and a change per account";
  std::vector<std::chrono::steady_clock::time_point> times;
  for (const auto& r : requests) times.push_back(r.arrived);
  std::sort(times.begin(), times.end());
  // The governor's permits are exact (src/engine/governor_test.cpp); between
  // a permit and the request's arrival lies scheduling delay, so the windows
  // checked here are a tenth shorter than the budget's.
  const auto window = settings.rate_window - settings.rate_window / 10;
  for (size_t i = 0; i < times.size(); ++i) {
    size_t in_window = 0;
    for (size_t j = i; j < times.size() && times[j] - times[i] < window; ++j) ++in_window;
    ASSERT_LE(in_window, static_cast<size_t>(settings.rate_limit)) << "window starting at request " << i;
  }
  // k requests at N per window span at least ceil(k/N) - 1 full windows.
  const auto windows = static_cast<int64_t>((times.size() + settings.rate_limit - 1) / settings.rate_limit) - 1;
  EXPECT_GE(elapsed, settings.rate_window * windows);
  EXPECT_EQ(Health().permits, static_cast<int64_t>(times.size()));
}

TEST_F(HttpSeamTest, TheCredentialOutlivesConnectorResetsAndIsReloadedOnceWhenRefused) {
  // One request in five finds the provider unavailable: the worker throws its
  // connector away and makes a new one.
  provider_.SetPlan({.cycle = 5, .throttled = 0, .unavailable = 1, .retry_after_seconds = 1});
  ProviderSettings settings;
  settings.workers = 4;
  settings.batch_size = 10;
  StartEngine(settings);
  const auto first = Submit("user", 100);
  ASSERT_TRUE(WaitSettled(first));
  ExpectAllSucceededOnTheFirstAttempt(first);
  EXPECT_GT(instances_.load(), settings.workers) << "connectors were reset after errors";
  EXPECT_EQ(loads_.load(), 1) << "one token for every instance, old and new";

  // The provider revokes the token: the first 401 makes the next request load a new one.
  provider_.RefuseCredential("token-1");
  const auto second = Submit("later", 40);
  ASSERT_TRUE(WaitSettled(second));
  ExpectAllSucceededOnTheFirstAttempt(second);
  EXPECT_GT(provider_.CountAnswered(401), 0);
  EXPECT_EQ(loads_.load(), 2);
  EXPECT_EQ(credentials_->loads(), 2u);
  int64_t with_new_token = 0;
  for (const auto& r : provider_.Requests()) {
    if (r.status == 401) {
      EXPECT_EQ(r.credential, "token-1") << r.target;
    }
    with_new_token += r.credential == "token-2" ? 1 : 0;
  }
  EXPECT_GE(with_new_token, 80) << "a read and a change per account, with the new token";
}

TEST_F(HttpSeamTest, AnUnknownAccountFailsAtOnceAndTheOthersGoOn) {
  StartEngine(ProviderSettings{});
  std::vector<Action> actions = Submit("user", 3);
  ActionService service(*store_, engine_.get(), {Provider::kOkta});
  auto unknown = service.Submit({ActionType::kSuspend, Provider::kOkta, {"unknown.person"}, "incident 77",
                                 Actor{"analyst", "tok_1"}});
  ASSERT_TRUE(unknown);
  ASSERT_TRUE(WaitSettled(actions));
  ASSERT_TRUE(WaitSettled(*unknown));
  ExpectAllSucceededOnTheFirstAttempt(actions);
  const Action failed = Get(unknown->front());
  EXPECT_EQ(failed.status, ActionStatus::kFailed);
  EXPECT_EQ(failed.attempt_count, 1);
  EXPECT_EQ(failed.provider_answer.code, "http:404");
  EXPECT_THAT(failed.outcome, HasSubstr("Not found"));
}

}  // namespace
}  // namespace cordon
