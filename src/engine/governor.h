// Governor: one per provider, shared by that provider's workers. Workers ask
// it before they claim work (Admit); it holds the provider's rate budget and
// its pause.
//
//   running  workers claim due work, as much as the rate budget allows.
//   held     the provider asked to be left alone until a time (throttling
//            with Retry-After, or a burst of 429s): nothing is claimed until
//            then; no probe is needed, the provider said when. Without a
//            hint, a hold lasts about probe_initial, doubling with each hold
//            in a row until the provider answers again; the refusals of one
//            batch's requests are one hold, however many they are.
//   paused   the provider cannot be worked with at all: it does not answer,
//            it times out, it refuses the action account's credentials
//            (Error::blame == kProvider). Nothing is claimed; one worker at a
//            time probes it (Connector::Probe) with capped, jittered backoff;
//            a probe that succeeds, or any answer from the provider, resumes.
//
// A provider error pauses at once when it is about credentials (no retry can
// fix a rotated password; every attempt would only lock the account out
// sooner), and after `failures_to_pause` provider errors in a row otherwise,
// so one dropped connection is a retry, not an outage.
//
// The rate budget: at most `rate_limit` requests reach the provider in any
// window of `rate_window` (a log of recent permits enforces it exactly),
// spread evenly over the window (a permit every window/limit, with a small
// burst allowance) instead of spending it all at the window's start and then
// bouncing off the provider's own limit. Connectors ask for a permit before
// each request (ExecutionContext::Pace -> AwaitPermit); Admit only keeps
// claims to about a second's worth of budget, so a claimed batch is not left
// waiting for permits while its lease runs.
//
// The provider's own limit: a connector passes on what each answer says of
// it (ReportRateLimit: limit, remaining, when the window resets, the
// answer's Date). Until that window resets, the governor spends what is left
// of the provider's limit — at most `share` of it, since other clients of the
// same organisation draw on it too — evenly over the time left, so work
// pauses before the limit instead of bouncing off 429s. The time left is
// Reset minus the answer's Date, both on the provider's clock (the local
// clock only when Date is unreadable), and never more than hold_max; a Reset
// already past ends the window at once. Answers that arrive out of order
// cannot raise what is left of a window: the lower count wins.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "core/action.h"
#include "core/error.h"
#include "core/rate_limit.h"

namespace cordon {

// The monotonic time the rate budget runs on; tests substitute a manual one.
// Thread-safety: implementations must allow calls from any thread.
class MonotonicClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~MonotonicClock() = default;
  virtual TimePoint Now() = 0;
  virtual void SleepFor(std::chrono::microseconds d) = 0;
  // The process's steady clock and real sleeps.
  static MonotonicClock& Real();
};

struct GovernorOptions {
  int rate_limit = 0;  // actions per rate_window; 0 = none
  Millis rate_window{60000};
  Millis probe_initial{1000};
  Millis probe_max{30000};
  Millis hold_max{600000};  // the longest the provider can make Cordon wait in one go
  int failures_to_pause = 3;
};

enum class ProviderState { kRunning, kHeld, kPaused };
std::string_view ToString(ProviderState state);

// A provider's standing, for /healthz, /metrics and the log.
struct ProviderHealth {
  Provider provider = Provider::kActiveDirectory;
  ProviderState state = ProviderState::kRunning;
  TimePoint since{};  // when the current state began
  TimePoint until{};  // held: until then; paused: the next probe
  // Why it is held or paused: a fixed word ("unreachable",
  // "credentials_refused", "permission_refused", "throttled", "failing"),
  // safe to show to anyone, and the provider's answer in full, for those
  // allowed to read it.
  std::string cause;
  std::string reason;
  std::string provider_code;  // the provider's own code for it, e.g. "ldap:49"; may be empty
  int consecutive_failures = 0;
  int64_t pauses = 0;  // since start
  int64_t holds = 0;
  int64_t probes = 0;
  int64_t probes_failed = 0;
  int64_t provider_errors = 0;  // errors blamed on the provider (not counted against actions)
  int64_t admitted = 0;         // actions admitted to the provider
  int64_t permits = 0;          // requests the rate budget let through
};

class Governor {
 public:
  // `on_change` is called (without the governor's lock) when the provider
  // resumes, so that waiting workers look for work at once.
  Governor(Provider provider, GovernorOptions options, std::function<void()> on_change = {},
           MonotonicClock& clock = MonotonicClock::Real());
  Governor(const Governor&) = delete;
  Governor& operator=(const Governor&) = delete;

  struct Admission {
    int count = 0;       // actions the caller may claim now
    bool probe = false;  // the caller should probe the paused provider now
    Millis wait{0};      // when count == 0 and !probe: when asking again makes sense
  };
  // Asks to hand up to `wanted` actions to the provider.
  [[nodiscard]] Admission Admit(int wanted, TimePoint now);

  // Waits for the rate budget to allow one request, until `deadline` at the
  // latest (epoch: no deadline). Fails, blaming the provider with a
  // retry_after hint, if no permit comes before the deadline.
  [[nodiscard]] Status AwaitPermit(TimePoint deadline);

  // What an answer said of the provider's own rate limit; `now` is the local
  // clock when it came.
  void ReportRateLimit(const RateLimitReport& report, TimePoint now);

  // The provider answered (success, or an error about one action): it works.
  void Answered(TimePoint now);
  // The provider failed as a whole (error.blame == kProvider).
  void Failed(const Error& error, TimePoint now);
  // The outcome of a probe the caller was admitted to run.
  void ProbeFinished(const Status& result, TimePoint now);

  // How long an action that met a provider error should wait before it is
  // tried again: the provider's own hint when it gave one, else about
  // probe_initial. Never longer without a hint: while the provider is paused
  // the pause itself keeps work away, and once it resumes the work is due.
  [[nodiscard]] Millis RetryDelay(const Error& error);

  [[nodiscard]] ProviderHealth Health() const;
  [[nodiscard]] Provider provider() const { return health_.provider; }

 private:
  Millis Jittered(Millis base, Millis cap);
  void Pause(const Error& error, TimePoint now);
  // Takes a permit if the budget allows one at `now`; else how long until it might.
  [[nodiscard]] std::optional<std::chrono::microseconds> TryPermit(MonotonicClock::TimePoint now);
  void ForgetOldPermits(MonotonicClock::TimePoint now);
  // How long the provider's reported window makes a request wait; none: it may go now.
  [[nodiscard]] std::optional<std::chrono::microseconds> ProviderWindowWait(MonotonicClock::TimePoint now);
  void TookPermit(MonotonicClock::TimePoint now);

  const GovernorOptions options_;
  const std::function<void()> on_change_;
  MonotonicClock& clock_;
  mutable std::mutex mu_;  // guards everything below
  ProviderHealth health_;
  bool probing_ = false;
  int failed_probes_this_pause_ = 0;
  // Throttling holds since the provider last answered; a hold without the
  // provider's hint doubles with each.
  int holds_in_a_row_ = 0;
  // Rate budget, on the monotonic clock: the permits of the last window, and
  // the next evenly spaced permit.
  std::deque<MonotonicClock::TimePoint> permits_in_window_;
  MonotonicClock::TimePoint next_even_slot_{};
  // The provider's current window, as its answers describe it.
  struct ProviderWindow {
    int64_t reset_epoch_seconds = 0;
    MonotonicClock::TimePoint ends{};
    int64_t left = 0;  // requests Cordon may still send in it
    std::chrono::microseconds spacing{0};
    MonotonicClock::TimePoint next{};  // the next evenly spaced request
  };
  std::optional<ProviderWindow> provider_window_;
  MonotonicClock::TimePoint last_permit_{};
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace cordon
