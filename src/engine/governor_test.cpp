#include "engine/governor.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cordon {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

const TimePoint kT0 = FromUnixMillis(1'800'000'000'000);

Error Unreachable() {
  return Error::Unavailable("Can't contact LDAP server (-1)").WithProvider("ldap:-1", "").BlameProvider();
}

GovernorOptions Options() {
  GovernorOptions o;
  o.probe_initial = 1000ms;
  o.probe_max = 30000ms;
  o.failures_to_pause = 3;
  return o;
}

TEST(Governor, RunningAdmitsWhatIsWanted) {
  Governor g(Provider::kActiveDirectory, Options());
  auto a = g.Admit(50, kT0);
  EXPECT_EQ(a.count, 50);
  EXPECT_FALSE(a.probe);
  EXPECT_EQ(g.Health().state, ProviderState::kRunning);
}

TEST(Governor, OneDroppedConnectionIsARetryNotAnOutage) {
  Governor g(Provider::kActiveDirectory, Options());
  g.Failed(Unreachable(), kT0);
  g.Failed(Unreachable(), kT0);
  EXPECT_EQ(g.Health().state, ProviderState::kRunning);
  g.Answered(kT0 + 1ms);  // the provider answered in between: the run is broken
  g.Failed(Unreachable(), kT0 + 2ms);
  g.Failed(Unreachable(), kT0 + 3ms);
  EXPECT_EQ(g.Health().state, ProviderState::kRunning);
  g.Failed(Unreachable(), kT0 + 4ms);
  EXPECT_EQ(g.Health().state, ProviderState::kPaused);
}

TEST(Governor, RefusedCredentialsPauseAtOnce) {
  Governor g(Provider::kActiveDirectory, Options());
  g.Failed(Error::Unauthenticated("Invalid credentials (49)").WithProvider("ldap:49", "data 52e").BlameProvider(), kT0);
  ProviderHealth h = g.Health();
  EXPECT_EQ(h.state, ProviderState::kPaused);
  EXPECT_EQ(h.cause, "credentials_refused");
  EXPECT_THAT(h.reason, HasSubstr("Invalid credentials"));
  EXPECT_EQ(h.provider_code, "ldap:49");
  EXPECT_EQ(h.since, kT0);
  EXPECT_EQ(h.pauses, 1);
}

TEST(Governor, APausedProviderIsProbedByOneCallerAtATimeWithBackoff) {
  Governor g(Provider::kActiveDirectory, Options());
  for (int i = 0; i < 3; ++i) g.Failed(Unreachable(), kT0);
  ASSERT_EQ(g.Health().state, ProviderState::kPaused);
  // Nothing is admitted before the first probe is due (about probe_initial, jittered).
  auto early = g.Admit(50, kT0 + 100ms);
  EXPECT_EQ(early.count, 0);
  EXPECT_FALSE(early.probe);
  EXPECT_GT(early.wait, 0ms);
  auto due = g.Admit(50, kT0 + 2s);
  EXPECT_TRUE(due.probe);
  EXPECT_EQ(due.count, 0);
  auto second = g.Admit(50, kT0 + 2s);
  EXPECT_FALSE(second.probe) << "one probe at a time";
  EXPECT_EQ(second.count, 0);

  // Failed probes back off, capped.
  TimePoint now = kT0 + 2s;
  Millis last_gap{0};
  for (int i = 0; i < 8; ++i) {
    g.ProbeFinished(Fail(Unreachable()), now);
    ProviderHealth h = g.Health();
    ASSERT_EQ(h.state, ProviderState::kPaused);
    const Millis gap = std::chrono::duration_cast<Millis>(h.until - now);
    EXPECT_LE(gap, Options().probe_max);
    if (i < 3) {
      EXPECT_GT(gap, last_gap) << "probe " << i;
    }
    last_gap = gap;
    now = h.until;
    ASSERT_TRUE(g.Admit(1, now).probe);
  }
  EXPECT_EQ(g.Health().probes_failed, 8);
  g.ProbeFinished({}, now);
  EXPECT_EQ(g.Health().state, ProviderState::kRunning);
  EXPECT_EQ(g.Admit(50, now).count, 50);
}

TEST(Governor, AnyAnswerResumesAndWakesTheWorkers) {
  std::atomic<int> woken{0};
  Governor g(Provider::kActiveDirectory, Options(), [&] { ++woken; });
  for (int i = 0; i < 3; ++i) g.Failed(Unreachable(), kT0);
  ASSERT_EQ(g.Health().state, ProviderState::kPaused);
  g.Answered(kT0 + 5s);  // a batch in flight on an older connection got answers
  EXPECT_EQ(g.Health().state, ProviderState::kRunning);
  EXPECT_EQ(woken.load(), 1);
}

TEST(Governor, ThrottlingHoldsUntilRetryAfterWithoutProbing) {
  Governor g(Provider::kOkta, Options());
  g.Failed(Error::ResourceExhausted("429").WithRetryAfter(30s).BlameProvider(), kT0);
  ProviderHealth h = g.Health();
  EXPECT_EQ(h.state, ProviderState::kHeld);
  EXPECT_EQ(h.cause, "throttled");
  EXPECT_EQ(h.until, kT0 + 30s);
  auto during = g.Admit(10, kT0 + 29s);
  EXPECT_EQ(during.count, 0);
  EXPECT_FALSE(during.probe);
  EXPECT_EQ(during.wait, 1s);
  EXPECT_EQ(g.Admit(10, kT0 + 30s).count, 10);
  EXPECT_EQ(g.Health().state, ProviderState::kRunning);
}

TEST(Governor, ABatchOfThrottledRequestsWithoutAHintIsOneShortHold) {
  Governor g(Provider::kOkta, Options());
  const Error throttled = Error::ResourceExhausted("429").WithProvider("http:429", "").BlameProvider();
  for (int i = 0; i < 50; ++i) g.Failed(throttled, kT0 + Millis(i));
  ProviderHealth h = g.Health();
  EXPECT_EQ(h.state, ProviderState::kHeld);
  EXPECT_EQ(h.holds, 1);
  EXPECT_GE(h.until, kT0 + 800ms);
  EXPECT_LE(h.until, kT0 + 1200ms) << "about probe_initial, however many requests were refused";

  // Throttled again as soon as the hold is over, with no answer between: twice as long.
  const TimePoint second = h.until + 1ms;
  g.Failed(throttled, second);
  h = g.Health();
  EXPECT_EQ(h.holds, 2);
  EXPECT_GE(h.until, second + 1600ms);
  EXPECT_LE(h.until, second + 2400ms);

  // Once the provider answers, the next hold is short again.
  const TimePoint third = h.until + 1ms;
  ASSERT_GT(g.Admit(10, third).count, 0);
  g.Answered(third);
  g.Failed(throttled, third + 1ms);
  EXPECT_LE(g.Health().until, third + 1ms + 1200ms);
}

TEST(Governor, AHostileRetryAfterIsBounded) {
  GovernorOptions o = Options();
  o.hold_max = 600s;
  Governor g(Provider::kOkta, o);
  g.Failed(Error::ResourceExhausted("429").WithRetryAfter(std::chrono::hours(24 * 365)).BlameProvider(), kT0);
  EXPECT_EQ(g.Health().until, kT0 + 600s);
  EXPECT_LE(g.RetryDelay(Error::ResourceExhausted("429").WithRetryAfter(std::chrono::hours(1))), 660s);
}

TEST(Governor, RetryDelayHonoursTheHintAndOtherwiseBacksOff) {
  Governor g(Provider::kEntra, Options());
  const Millis hinted = g.RetryDelay(Error::ResourceExhausted("429").WithRetryAfter(2500ms));
  EXPECT_GE(hinted, 2500ms);
  EXPECT_LE(hinted, 2750ms);
  for (int i = 0; i < 10; ++i) {
    g.Failed(Unreachable(), kT0);
    // Never long: once a paused provider resumes, its work must be due.
    const Millis delay = g.RetryDelay(Unreachable());
    EXPECT_GE(delay, 800ms);
    EXPECT_LE(delay, 1200ms);
  }
}

// Time that moves only when the governor sleeps.
class ManualClock final : public MonotonicClock {
 public:
  TimePoint Now() override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void SleepFor(std::chrono::microseconds d) override {
    std::lock_guard lock(mu_);
    now_ += d;
  }

 private:
  std::mutex mu_;
  TimePoint now_ = TimePoint(std::chrono::hours(1));
};

TEST(Governor, ThePermitBudgetHoldsInEveryWindowAndIsSpreadEvenly) {
  ManualClock clock;
  GovernorOptions o = Options();
  o.rate_limit = 40;
  o.rate_window = 400ms;
  Governor g(Provider::kOkta, o, {}, clock);
  std::vector<MonotonicClock::TimePoint> times;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(g.AwaitPermit(TimePoint{}));
    times.push_back(clock.Now());
  }
  for (size_t i = 0; i < times.size(); ++i) {
    size_t in_window = 0;
    for (size_t j = i; j < times.size() && times[j] - times[i] < o.rate_window; ++j) ++in_window;
    ASSERT_LE(in_window, 40u) << "window starting at permit " << i;
  }
  // Spread, not spent in bursts: a permit every 10 ms, with bursts of two at most.
  for (size_t i = 2; i < times.size(); ++i) ASSERT_GE(times[i] - times[i - 2], 10ms) << i;
  EXPECT_GE(times.back() - times.front(), 1980ms);
  EXPECT_EQ(g.Health().permits, 200);
}

TEST(Governor, WorkersShareOneBudget) {
  GovernorOptions o = Options();
  o.rate_limit = 40;
  o.rate_window = 400ms;
  Governor g(Provider::kOkta, o);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) EXPECT_TRUE(g.AwaitPermit(TimePoint{}));
    });
  for (auto& t : threads) t.join();
  // 100 permits at 40 per 400 ms, spread evenly: about a second, whatever the threads.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_EQ(g.Health().permits, 100);
}

TEST(Governor, APermitThatCannotComeBeforeTheDeadlineIsAProviderHoldWithAHint) {
  GovernorOptions o = Options();
  o.rate_limit = 1;
  o.rate_window = 10s;
  Governor g(Provider::kOkta, o);
  ASSERT_TRUE(g.AwaitPermit(Now() + 1s));
  auto refused = g.AwaitPermit(Now() + 100ms);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(refused.error().blame, Blame::kProvider);
  ASSERT_TRUE(refused.error().retry_after.has_value());
  EXPECT_GT(*refused.error().retry_after, 9s);
}

TEST(Governor, ClaimsAreKeptToAboutASecondsWorthOfBudget) {
  GovernorOptions o = Options();
  o.rate_limit = 600;
  o.rate_window = 60s;
  Governor g(Provider::kOkta, o);
  EXPECT_EQ(g.Admit(50, kT0).count, 10);
  o.rate_limit = 6;
  Governor slow(Provider::kOkta, o);
  EXPECT_EQ(slow.Admit(50, kT0).count, 1) << "at least one";
}

// What Okta's headers say: `limit` per window, `remaining` left, the window
// resetting `reset_in` after the answer's Date.
RateLimitReport OktaSays(int64_t limit, int64_t remaining, TimePoint date, std::chrono::seconds reset_in,
                         double share = 1.0) {
  RateLimitReport r;
  r.limit = limit;
  r.remaining = remaining;
  r.provider_date = date;
  r.reset_epoch_seconds = std::chrono::duration_cast<std::chrono::seconds>(date.time_since_epoch() + reset_in).count();
  r.share = share;
  return r;
}

TEST(Governor, WhatIsLeftOfTheProvidersWindowIsSpentEvenlyUntilItResets) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  // 10 left of 600 with 10 s to go: one request a second, then nothing until the reset.
  g.ReportRateLimit(OktaSays(600, 10, kT0, 10s), kT0);
  const auto start = clock.Now();
  std::vector<MonotonicClock::TimePoint> times;
  for (int i = 0; i < 11; ++i) {
    ASSERT_TRUE(g.AwaitPermit(TimePoint{}));
    times.push_back(clock.Now());
  }
  for (size_t i = 1; i < 10; ++i) EXPECT_GE(times[i] - times[i - 1], 999ms) << i;
  EXPECT_LT(times[9] - start, 10s);
  EXPECT_GE(times[10] - start, 10s) << "the eleventh waits for the provider's reset";
  EXPECT_LT(times[10] - start, 10100ms);
}

TEST(Governor, TheWaitRunsOnTheProvidersClockNotTheLocalOne) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  // The local clock is five minutes ahead of Okta's: Reset is still 20 s after Okta's Date.
  const TimePoint local = kT0 + 5min;
  g.ReportRateLimit(OktaSays(100, 0, kT0, 20s), local);
  const auto start = clock.Now();
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}));
  EXPECT_GE(clock.Now() - start, 20s);
  EXPECT_LT(clock.Now() - start, 21s);
  // Five minutes behind: the same.
  ManualClock clock2;
  Governor g2(Provider::kOkta, Options(), {}, clock2);
  g2.ReportRateLimit(OktaSays(100, 0, kT0, 20s), kT0 - 5min);
  const auto start2 = clock2.Now();
  ASSERT_TRUE(g2.AwaitPermit(TimePoint{}));
  EXPECT_GE(clock2.Now() - start2, 20s);
  EXPECT_LT(clock2.Now() - start2, 21s);
}

TEST(Governor, AnUnreadableDateFallsBackToTheLocalClock) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  RateLimitReport r = OktaSays(100, 0, kT0, 30s);
  r.provider_date.reset();
  g.ReportRateLimit(r, kT0 + 10s);  // 20 s before the reset by the local clock
  const auto start = clock.Now();
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}));
  EXPECT_GE(clock.Now() - start, 20s);
  EXPECT_LT(clock.Now() - start, 21s);
}

TEST(Governor, AResetAlreadyPastNeverMakesAnyoneWait) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  g.ReportRateLimit(OktaSays(100, 0, kT0, -30s), kT0);
  const auto start = clock.Now();
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}));
  EXPECT_EQ(clock.Now() - start, 0s);
  // And a past Reset ends the window an earlier answer described.
  g.ReportRateLimit(OktaSays(100, 0, kT0, 40s), kT0);
  g.ReportRateLimit(OktaSays(100, 0, kT0 + 50s, -10s), kT0 + 50s);
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}));
  EXPECT_EQ(clock.Now() - start, 0s);
}

TEST(Governor, AFarResetIsBoundedByTheLongestHold) {
  ManualClock clock;
  GovernorOptions o = Options();
  o.hold_max = 60s;
  Governor g(Provider::kOkta, o, {}, clock);
  g.ReportRateLimit(OktaSays(100, 0, kT0, std::chrono::hours(24 * 365)), kT0);
  const auto start = clock.Now();
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}));
  EXPECT_LE(clock.Now() - start, 61s);
}

TEST(Governor, OnlyTheShareOfTheLimitIsUsed) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  // Half of 100 is Cordon's; others have spent 40 of the 100 already: 10 left for Cordon.
  g.ReportRateLimit(OktaSays(100, 60, kT0, 60s, 0.5), kT0);
  const auto start = clock.Now();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(g.AwaitPermit(TimePoint{}));
  EXPECT_LT(clock.Now() - start, 60s);
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}));
  EXPECT_GE(clock.Now() - start, 60s);
  // Others spent past Cordon's share: nothing until the reset.
  ManualClock clock2;
  Governor g2(Provider::kOkta, Options(), {}, clock2);
  g2.ReportRateLimit(OktaSays(100, 30, kT0, 15s, 0.5), kT0);
  const auto start2 = clock2.Now();
  ASSERT_TRUE(g2.AwaitPermit(TimePoint{}));
  EXPECT_GE(clock2.Now() - start2, 15s);
}

TEST(Governor, ALateAnswerCannotRaiseWhatIsLeft) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  g.ReportRateLimit(OktaSays(100, 1, kT0, 30s), kT0);
  // An answer sent earlier in the same window arrives late, saying more was left.
  g.ReportRateLimit(OktaSays(100, 50, kT0, 30s), kT0);
  const auto start = clock.Now();
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}));
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}));
  EXPECT_GE(clock.Now() - start, 30s);
  // A new window (a later Reset) starts afresh.
  g.ReportRateLimit(OktaSays(100, 100, kT0 + 31s, 60s), kT0 + 31s);
  const auto before = clock.Now();
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}));
  EXPECT_LT(clock.Now() - before, 1s);
}

TEST(Governor, ASpentProviderWindowKeepsClaimsAwayUntilItResets) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  g.ReportRateLimit(OktaSays(100, 0, kT0, 20s), kT0);
  auto a = g.Admit(10, kT0);
  EXPECT_EQ(a.count, 0);
  EXPECT_GT(a.wait, 19s);
  EXPECT_LE(a.wait, 20s);
  clock.SleepFor(20s);
  EXPECT_EQ(g.Admit(10, kT0 + 20s).count, 10);
}

TEST(Governor, APermitThatTheProvidersWindowDelaysPastTheDeadlineIsAHoldWithAHint) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  g.ReportRateLimit(OktaSays(100, 0, kT0, 45s), kT0);
  auto refused = g.AwaitPermit(Now() + 1s);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().blame, Blame::kProvider);
  ASSERT_TRUE(refused.error().retry_after.has_value());
  EXPECT_GT(*refused.error().retry_after, 40s);
}

RateLimitReport In(std::string bucket, RateLimitReport r) {
  r.bucket = std::move(bucket);
  return r;
}

TEST(Governor, EachBucketHasItsOwnWindow) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  // The lifecycle bucket is spent for 4 s; the read bucket has plenty.
  g.ReportRateLimit(In("users.manage", OktaSays(200, 0, kT0, 4s)), kT0);
  g.ReportRateLimit(In("users.read", OktaSays(600, 500, kT0, 50s)), kT0);
  const auto start = clock.Now();
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}, "users.read"));
  EXPECT_EQ(clock.Now() - start, 0s) << "a read does not wait for the lifecycle bucket";
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}, "users.manage"));
  EXPECT_GE(clock.Now() - start, 4s);
  EXPECT_LT(clock.Now() - start, 4100ms);
  // A later answer of one bucket does not overwrite the other's window.
  g.ReportRateLimit(In("users.read", OktaSays(600, 0, kT0 + 4s, 46s)), kT0 + 4s);
  const auto health = g.Health();
  ASSERT_EQ(health.rate_windows.size(), 1u) << "the lifecycle window is over, the read one is live";
  EXPECT_EQ(health.rate_windows[0].bucket, "users.read");
  EXPECT_EQ(health.rate_windows[0].remaining, 0);
}

TEST(Governor, WorkThatFitsInWhatIsLeftGoesNow) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  g.SetQueued(0);
  g.BeginBatch(1, 50);
  g.ReportRateLimit(In("users.manage", OktaSays(200, 200, kT0, 5s)), kT0);
  const auto start = clock.Now();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(g.AwaitPermit(TimePoint{}, "users.manage", 1));
  EXPECT_EQ(clock.Now() - start, 0s) << "50 waiting, 200 left: nothing gained by spreading them";
}

TEST(Governor, WorkThatDoesNotFitIsSpreadOverTheWindow) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  g.SetQueued(950);
  g.BeginBatch(1, 50);
  g.ReportRateLimit(In("users.manage", OktaSays(200, 200, kT0, 5s)), kT0);
  const auto start = clock.Now();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(g.AwaitPermit(TimePoint{}, "users.manage", 1));
    g.ReportRateLimit(In("users.manage", OktaSays(200, 199 - i, kT0, 5s)), kT0, 1);
  }
  // 1,000 waiting, 200 a window: the window's budget is spent evenly, about 25 ms apart.
  EXPECT_GE(clock.Now() - start, 2400ms);
  EXPECT_LT(clock.Now() - start, 2600ms);
}

TEST(Governor, RequestsInFlightCountAsSpent) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  g.SetQueued(0);
  for (int caller = 1; caller <= 4; ++caller) g.BeginBatch(caller, 50);
  // A new window: four workers' requests went out before any answer came.
  for (int caller = 1; caller <= 4; ++caller) ASSERT_TRUE(g.AwaitPermit(TimePoint{}, "users.manage", caller));
  // The first answer counts only its own request; the three others are still in flight.
  g.ReportRateLimit(In("users.manage", OktaSays(10, 9, kT0, 5s)), kT0, 1);
  EXPECT_EQ(g.Health().rate_windows.at(0).budget_left, 6);
  // Their answers give back what was counted twice.
  for (int caller = 2; caller <= 4; ++caller)
    g.ReportRateLimit(In("users.manage", OktaSays(10, 10 - caller, kT0, 5s)), kT0, caller);
  EXPECT_EQ(g.Health().rate_windows.at(0).budget_left, 6);
  // 196 actions wait, more than fits: the six left are spread over the window, then nothing until the reset.
  const auto start = clock.Now();
  int sent = 0;
  while (clock.Now() - start < 4900ms) {
    ASSERT_TRUE(g.AwaitPermit(TimePoint{}, "users.manage", 1));
    if (clock.Now() - start >= 4900ms) break;
    ++sent;
    g.ReportRateLimit(In("users.manage", OktaSays(10, 6 - sent, kT0, 5s)), kT0, 1);
  }
  EXPECT_EQ(sent, 6) << "never more than the limit in the window";
}

TEST(Governor, ARequestWithoutAnswerStaysSpent) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  g.ReportRateLimit(In("users.manage", OktaSays(10, 2, kT0, 5s)), kT0);
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}, "users.manage", 1));  // its connection drops: no answer
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}, "users.manage", 1));  // the next one settles it, unanswered
  g.EndBatch(1);
  EXPECT_EQ(g.Health().rate_windows.at(0).budget_left, 0);
}

TEST(Governor, TheShareHoldsWhateverTheBacklog) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  g.SetQueued(0);
  g.BeginBatch(1, 150);
  g.ReportRateLimit(In("users.manage", OktaSays(200, 199, kT0, 5s, 0.5)), kT0, 1);
  const auto start = clock.Now();
  int before_reset = 0;
  for (int i = 0; i < 120; ++i) {
    ASSERT_TRUE(g.AwaitPermit(TimePoint{}, "users.manage", 1));
    if (clock.Now() - start < 5s) {
      ++before_reset;
      g.ReportRateLimit(In("users.manage", OktaSays(200, 198 - i, kT0, 5s, 0.5)), kT0, 1);
    }
  }
  EXPECT_EQ(before_reset, 99) << "half of 200, one already spent";
}

TEST(Governor, TheConcurrencyLimitsAnswerDoesNotReplaceTheBucketsWindow) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  g.ReportRateLimit(In("users.manage", OktaSays(200, 150, kT0, 4s)), kT0);
  // Too many requests at once: Limit 75, Remaining 0, Reset a second ahead.
  g.ReportRateLimit(In("users.manage", OktaSays(75, 0, kT0, 1s)), kT0);
  const auto health = g.Health();
  ASSERT_EQ(health.rate_windows.size(), 1u);
  EXPECT_EQ(health.rate_windows[0].limit, 200);
  EXPECT_EQ(health.rate_windows[0].remaining, 150);
}

TEST(Governor, AClockSkewedThirtySecondsEitherWayChangesNothing) {
  for (const auto skew : {30s, -30s}) {
    ManualClock clock;
    Governor g(Provider::kOkta, Options(), {}, clock);
    // Okta's Date says kT0; the local clock is 30 s off; the window resets 5 s after Okta's Date.
    g.ReportRateLimit(In("users.manage", OktaSays(200, 0, kT0, 5s)), kT0 + skew);
    const auto start = clock.Now();
    ASSERT_TRUE(g.AwaitPermit(TimePoint{}, "users.manage"));
    EXPECT_GE(clock.Now() - start, 5s) << skew.count();
    EXPECT_LT(clock.Now() - start, 5100ms) << skew.count();
  }
}

TEST(Governor, TheEarliestEndAnyAnswerImpliesWins) {
  ManualClock clock;
  Governor g(Provider::kOkta, Options(), {}, clock);
  // Date has whole seconds: an answer late in a second says more time is left than there is.
  g.ReportRateLimit(In("users.manage", OktaSays(200, 0, kT0, 5s)), kT0);
  clock.SleepFor(900ms);  // the same Date, 0.9 s later
  g.ReportRateLimit(In("users.manage", OktaSays(200, 0, kT0, 5s)), kT0);
  const auto start = clock.Now();
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}, "users.manage"));
  EXPECT_LE(clock.Now() - start, 4100ms) << "the first answer's end, not the later one's";
}

TEST(Governor, HeaderQuirksNeverGiveANegativeOrEndlessWait) {
  ManualClock clock;
  GovernorOptions o = Options();
  o.hold_max = 60s;
  Governor g(Provider::kOkta, o, {}, clock);
  RateLimitReport past = In("users.manage", OktaSays(200, 0, kT0, -5s));
  g.ReportRateLimit(past, kT0);
  RateLimitReport no_date = In("users.read", OktaSays(200, 0, kT0, 1000000s));
  no_date.provider_date.reset();
  g.ReportRateLimit(no_date, kT0);
  const auto start = clock.Now();
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}, "users.manage"));
  EXPECT_EQ(clock.Now() - start, 0s) << "a past Reset";
  ASSERT_TRUE(g.AwaitPermit(TimePoint{}, "users.read"));
  EXPECT_LE(clock.Now() - start, 61s) << "a Reset far ahead is bounded by hold_max";
}

TEST(Governor, RefusalsOfTheProviderAreCounted) {
  Governor g(Provider::kOkta, Options());
  g.Failed(Error::ResourceExhausted("Okta throttles").WithProvider("http:429", "E0000047").BlameProvider(), kT0);
  g.Failed(Error::ResourceExhausted("the budget allows no request before the deadline").BlameProvider(), kT0);
  EXPECT_EQ(g.Health().rate_limited, 1) << "Cordon's own budget running out is no 429";
}

}  // namespace
}  // namespace cordon
