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
// The provider's own limits: a connector names the bucket of each request
// (Pace) and passes on what each answer says of that bucket's limit
// (ReportRateLimit: bucket, limit, remaining, when the window resets, the
// answer's Date). Okta keeps one limit per endpoint class (reading users,
// changing their lifecycle, ...), each with its own window and Reset, so the
// governor keeps one window per bucket; a connector without buckets uses the
// default one (""). In each window Cordon uses at most `share` of the limit,
// since other clients of the same organisation draw on it too:
//
//   budget left = limit * share - (limit - lowest Remaining reported)
//                 - Cordon's requests in flight - those that got no answer
//
// Answers that arrive out of order cannot raise it (the lowest Remaining
// wins), and a request in flight when an answer comes is counted as spent,
// so several workers never send more than the budget between them. Admit
// keeps claims to the smallest budget left of any live window, and claims
// nothing while a window is spent for more than a second.
//
// How the budget is spent depends on the work waiting for the provider (the
// engine tells the governor: actions due in the store, SetQueued, and the
// actions each worker holds, BeginBatch/EndBatch; an action makes one
// request per bucket). When all of it fits in the budget left, it goes now:
// nothing is gained by waiting, and the window's end is when the rest can
// start. When it does not fit, the budget is spread evenly over the time
// left (a request every time left / (budget left + 1)), so the provider sees
// a steady pace, not a burst followed by a wall. Without word of the backlog
// (no engine), it is spread. A spent budget waits for the reset.
//
// The time left is Reset minus the answer's Date, both on the provider's
// clock (the local clock only when Date is unreadable), so a skewed local
// clock changes nothing; the earliest end any answer of the window implies
// wins (Date has whole seconds, and an answer just after a second began
// tells the end most exactly). It is never more than hold_max, and a Reset
// already past ends the window at once: no wait is negative or endless.
// Okta's concurrency limit answers with another Limit, Remaining 0 and a
// Reset about a second ahead; while a bucket's window is known, an answer
// with a different Limit and no later Reset is not its window and is left
// out (the 429 that carries it holds the provider on its own).
//
// The budget left is worked out afresh from each answer rather than counted
// down: a request the provider had already counted when another's answer
// came is counted twice only until its own answer comes. A request is in
// flight until its answer's report; one that ends without a report (its
// worker's next Pace or the end of its batch says so: a connector instance
// sends one request at a time) stays spent for the rest of the window.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

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

// One bucket's window of the provider's own rate limit, as Cordon sees it.
struct RateWindowHealth {
  std::string bucket;           // the connector's name for it; "" = the default bucket
  int64_t limit = 0;            // as the provider reported it
  int64_t remaining = 0;        // as reported (the lowest in the window), for every client
  int64_t budget_left = 0;      // what Cordon may still send in it (share, in flight counted)
  Millis resets_in{0};          // until the window resets
};

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
  int64_t rate_limited = 0;     // answers refusing a request for the provider's rate limit (429)
  std::vector<RateWindowHealth> rate_windows;  // the live windows, by bucket
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

  // Waits for the rate budget to allow one request to `bucket`, until
  // `deadline` at the latest (epoch: no deadline). Fails, blaming the
  // provider with a retry_after hint, if no permit comes before the
  // deadline. `caller` names who sends it (an engine worker): its previous
  // request is no longer in flight.
  [[nodiscard]] Status AwaitPermit(TimePoint deadline, std::string_view bucket = {}, int caller = 0);

  // What an answer said of the provider's own rate limit (report.bucket);
  // `now` is the local clock when it came. The answer ends `caller`'s request in flight.
  void ReportRateLimit(const RateLimitReport& report, TimePoint now, int caller = 0);

  // The work waiting for the provider: `due` actions in the store, not yet claimed.
  void SetQueued(int64_t due);
  // `caller` holds `actions` claimed actions until EndBatch; each makes one
  // request per bucket (counted by its AwaitPermit calls).
  void BeginBatch(int caller, int actions);
  void EndBatch(int caller);

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
  [[nodiscard]] std::optional<std::chrono::microseconds> TryPermit(std::string_view bucket, int caller,
                                                                   MonotonicClock::TimePoint now);
  void ForgetOldPermits(MonotonicClock::TimePoint now);
  // How long the bucket's window makes a request wait; none: it may go now.
  [[nodiscard]] std::optional<std::chrono::microseconds> BucketWait(std::string_view bucket,
                                                                    MonotonicClock::TimePoint now);
  void TookPermit(std::string_view bucket, int caller, MonotonicClock::TimePoint now);
  void Settle(int caller, bool answered);
  // Requests still to be sent to `bucket`: queued actions and the held ones
  // that have not sent theirs; none when the engine said nothing of them.
  [[nodiscard]] std::optional<int64_t> Demand(std::string_view bucket) const;

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
  // A bucket of the provider's limits, as its answers describe it.
  struct Window {
    int64_t reset_epoch_seconds = 0;
    MonotonicClock::TimePoint ends{};
    int64_t limit = 0;
    int64_t remaining = 0;  // the lowest reported: answers out of order cannot raise it
    int64_t allowed = 0;    // limit * share
    int64_t unanswered = 0;  // Cordon's requests in it that got no answer: spent, for all we know
    MonotonicClock::TimePoint next{};  // the next evenly spaced request, when spreading
  };
  struct Bucket {
    std::optional<Window> window;
    int in_flight = 0;
  };
  std::map<std::string, Bucket, std::less<>> buckets_;
  // What Cordon may still send in the bucket's window.
  [[nodiscard]] static int64_t Left(const Bucket& bucket);
  // What each caller (engine worker) holds and has sent.
  struct Caller {
    int held = 0;
    std::map<std::string, int, std::less<>> sent;  // requests per bucket in this batch
    std::optional<std::string> in_flight;          // the bucket of its request in flight
  };
  std::map<int, Caller> callers_;
  std::optional<int64_t> queued_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace cordon
