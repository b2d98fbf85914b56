#include "engine/governor.h"

#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

namespace cordon {
namespace {

using Micros = std::chrono::microseconds;

std::string_view CauseOf(const Error& e) {
  switch (e.code) {
    case ErrorCode::kUnauthenticated: return "credentials_refused";
    case ErrorCode::kPermissionDenied: return "permission_refused";
    case ErrorCode::kResourceExhausted: return "throttled";
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout: return "unreachable";
    default: return "failing";
  }
}

// A credential or permission refusal is the same for every action, and
// retrying it only brings an account lockout closer: pause at once.
bool PausesAtOnce(const Error& e) {
  return e.code == ErrorCode::kUnauthenticated || e.code == ErrorCode::kPermissionDenied;
}

Millis Doubled(Millis initial, int times, Millis cap) {
  Millis d = initial;
  for (int i = 0; i < times && d < cap; ++i) d *= 2;
  return std::min(d, cap);
}

class RealClock final : public MonotonicClock {
 public:
  TimePoint Now() override { return std::chrono::steady_clock::now(); }
  void SleepFor(std::chrono::microseconds d) override { std::this_thread::sleep_for(d); }
};

}  // namespace

MonotonicClock& MonotonicClock::Real() {
  static RealClock clock;
  return clock;
}

std::string_view ToString(ProviderState state) {
  switch (state) {
    case ProviderState::kRunning: return "running";
    case ProviderState::kHeld: return "held";
    case ProviderState::kPaused: return "paused";
  }
  return "running";
}

Governor::Governor(Provider provider, GovernorOptions options, std::function<void()> on_change,
                   MonotonicClock& clock)
    : options_(options), on_change_(std::move(on_change)), clock_(clock) {
  health_.provider = provider;
  health_.since = Now();
}

Millis Governor::Jittered(Millis base, Millis cap) {
  // +-20%: workers and nodes probing the same provider do not march in step.
  const int64_t b = std::max<int64_t>(base.count(), 1);
  std::uniform_int_distribution<int64_t> spread(b - b / 5, b + b / 5);
  return std::min(Millis(spread(rng_)), std::max(cap, Millis(1)));
}

Governor::Admission Governor::Admit(int wanted, TimePoint now) {
  std::lock_guard lock(mu_);
  if (health_.state == ProviderState::kHeld) {
    if (now < health_.until) return {0, false, std::chrono::duration_cast<Millis>(health_.until - now)};
    health_.state = ProviderState::kRunning;
    health_.since = now;
    spdlog::info("provider {}: the throttling hold is over", ToString(health_.provider));
  }
  if (health_.state == ProviderState::kPaused) {
    if (probing_) return {0, false, options_.probe_initial};
    if (now < health_.until) return {0, false, std::chrono::duration_cast<Millis>(health_.until - now)};
    probing_ = true;
    ++health_.probes;
    return {0, true, Millis(0)};
  }
  if (wanted <= 0) return {0, false, Millis(0)};
  int count = wanted;
  {
    // A spent window of the provider's: come back when it resets, rather
    // than claim work that would only wait for permits while its lease runs.
    const auto mono = clock_.Now();
    Millis spent_for{0};
    for (auto& [name, bucket] : buckets_) {
      if (!bucket.window) continue;
      if (mono >= bucket.window->ends) {
        bucket.window.reset();
      } else if (const int64_t left = Left(bucket); left <= 0) {
        spent_for = std::max(spent_for, std::chrono::ceil<Millis>(bucket.window->ends - mono));
      } else {
        count = static_cast<int>(std::clamp<int64_t>(left, 1, count));
      }
    }
    if (spent_for > Millis(1000)) return {0, false, spent_for};
  }
  if (options_.rate_limit > 0) {
    // About a second's worth of budget at a time (at least one action).
    const int64_t per_second = static_cast<int64_t>(options_.rate_limit) * 1000 /
                               std::max<int64_t>(options_.rate_window.count(), 1);
    count = static_cast<int>(std::clamp<int64_t>(per_second, 1, count));
    // A spent window: come back when it has room, rather than claim work
    // that would only wait for permits while its lease runs.
    const auto mono = clock_.Now();
    ForgetOldPermits(mono);
    if (static_cast<int>(permits_in_window_.size()) >= options_.rate_limit) {
      const Millis wait =
          std::chrono::ceil<Millis>(permits_in_window_.front() + Micros(options_.rate_window) - mono);
      if (wait > Millis(1000)) return {0, false, wait};
    }
  }
  health_.admitted += count;
  return {count, false, Millis(0)};
}

void Governor::ForgetOldPermits(MonotonicClock::TimePoint now) {
  const Micros window = options_.rate_window;
  while (!permits_in_window_.empty() && now - permits_in_window_.front() >= window) permits_in_window_.pop_front();
}

int64_t Governor::Left(const Bucket& bucket) {
  if (!bucket.window) return 0;
  const Window& w = *bucket.window;
  // Requests in flight count as spent: the answers so far may not include them.
  return w.allowed - (w.limit - w.remaining) - bucket.in_flight - w.unanswered;
}

std::optional<int64_t> Governor::Demand(std::string_view bucket) const {
  if (!queued_) return std::nullopt;
  int64_t demand = *queued_;
  for (const auto& [id, caller] : callers_) {
    const auto sent = caller.sent.find(bucket);
    demand += std::max(0, caller.held - (sent == caller.sent.end() ? 0 : sent->second));
  }
  return demand;
}

std::optional<Micros> Governor::BucketWait(std::string_view name, MonotonicClock::TimePoint now) {
  const auto it = buckets_.find(name);
  if (it == buckets_.end() || !it->second.window) return std::nullopt;
  Window& w = *it->second.window;
  if (now >= w.ends) {
    // Over: the next answer describes the new window.
    it->second.window.reset();
    return std::nullopt;
  }
  const int64_t left = Left(it->second);
  if (left <= 0) return std::max(Micros(1), std::chrono::duration_cast<Micros>(w.ends - now));
  // All the waiting work fits in what is left: no reason to hold any of it back.
  if (const auto demand = Demand(name); demand && *demand <= left) return std::nullopt;
  if (now < w.next) return std::chrono::duration_cast<Micros>(w.next - now);
  return std::nullopt;
}

void Governor::Settle(int caller, bool answered) {
  const auto it = callers_.find(caller);
  if (it == callers_.end() || !it->second.in_flight) return;
  if (auto bucket = buckets_.find(*it->second.in_flight); bucket != buckets_.end()) {
    bucket->second.in_flight = std::max(0, bucket->second.in_flight - 1);
    // No answer says whether it reached the provider: it stays spent.
    if (!answered && bucket->second.window) ++bucket->second.window->unanswered;
  }
  it->second.in_flight.reset();
}

void Governor::TookPermit(std::string_view name, int caller, MonotonicClock::TimePoint now) {
  ++health_.permits;
  auto bucket = buckets_.find(name);
  if (bucket == buckets_.end()) bucket = buckets_.emplace(std::string(name), Bucket{}).first;
  ++bucket->second.in_flight;
  Caller& c = callers_[caller];
  c.in_flight = std::string(name);
  if (c.held > 0) ++c.sent[std::string(name)];
  if (Window* w = bucket->second.window ? &*bucket->second.window : nullptr) {
    // Evenly over the time left; the last one well before the end, so it
    // does not land in the next window.
    const int64_t left = Left(bucket->second);
    if (left > 0) w->next = now + std::chrono::duration_cast<Micros>(w->ends - now) / (left + 1);
  }
}

std::optional<Micros> Governor::TryPermit(std::string_view bucket, int caller, MonotonicClock::TimePoint now) {
  if (auto wait = BucketWait(bucket, now)) return wait;
  if (options_.rate_limit <= 0) {
    TookPermit(bucket, caller, now);
    return std::nullopt;
  }
  const int limit = options_.rate_limit;
  const Micros window = options_.rate_window;
  const Micros spacing = std::max(Micros(1), window / limit);
  const int burst = std::max(1, limit / 20);
  ForgetOldPermits(now);
  // Exact: never more than `limit` permits in any window.
  if (static_cast<int>(permits_in_window_.size()) >= limit)
    return std::max(Micros(1), std::chrono::duration_cast<Micros>(permits_in_window_.front() + window - now));
  // Even: one every window/limit, with a small burst allowance.
  const auto slot = next_even_slot_ - spacing * (burst - 1);
  if (now < slot) return std::max(Micros(1), std::chrono::duration_cast<Micros>(slot - now));
  next_even_slot_ = std::max(next_even_slot_, now) + spacing;
  permits_in_window_.push_back(now);
  TookPermit(bucket, caller, now);
  return std::nullopt;
}

void Governor::ReportRateLimit(const RateLimitReport& report, TimePoint now, int caller) {
  std::lock_guard lock(mu_);
  Settle(caller, true);
  if (report.limit <= 0 || report.remaining < 0) return;
  const int64_t remaining = std::min(report.remaining, report.limit);
  const double share = std::clamp(report.share, 0.0, 1.0);
  // Both ends on the provider's clock: a skewed local clock changes nothing.
  const TimePoint provider_now = report.provider_date.value_or(now);
  const Millis left_ms = Millis(report.reset_epoch_seconds) * 1000 - provider_now.time_since_epoch();
  const auto mono = clock_.Now();
  Bucket& bucket = buckets_[report.bucket];
  std::optional<Window>& current = bucket.window;
  if (current && mono >= current->ends) current.reset();
  if (left_ms <= Millis(0)) {
    // The window the answer speaks of is over; the next answer describes the new one.
    if (current && current->reset_epoch_seconds <= report.reset_epoch_seconds) current.reset();
    return;
  }
  const auto ends = mono + Micros(std::min(left_ms, options_.hold_max));
  const auto allowed = static_cast<int64_t>(static_cast<double>(report.limit) * share);
  if (current) {
    // An older window's answer arriving late says nothing about the current one.
    if (report.reset_epoch_seconds < current->reset_epoch_seconds) return;
    // Nor does the concurrency limit's answer (another Limit, Reset about now).
    if (report.limit != current->limit && report.reset_epoch_seconds <= current->reset_epoch_seconds) return;
  }
  const bool was_open = !current || Left(bucket) > 0;
  if (current && report.reset_epoch_seconds == current->reset_epoch_seconds) {
    current->remaining = std::min(current->remaining, remaining);
    current->ends = std::min(current->ends, ends);
  } else {
    current = Window{report.reset_epoch_seconds, ends, report.limit, remaining, allowed, 0, mono};
  }
  if (Left(bucket) <= 0 && was_open)
    spdlog::info("provider {}: its rate limit{}{} allows Cordon no further request for {} ms",
                 ToString(health_.provider), report.bucket.empty() ? "" : " for ", report.bucket,
                 std::chrono::duration_cast<Millis>(current->ends - mono).count());
}

void Governor::SetQueued(int64_t due) {
  std::lock_guard lock(mu_);
  queued_ = std::max<int64_t>(0, due);
}

void Governor::BeginBatch(int caller, int actions) {
  std::lock_guard lock(mu_);
  Caller& c = callers_[caller];
  c.held = std::max(0, actions);
  c.sent.clear();
}

void Governor::EndBatch(int caller) {
  std::lock_guard lock(mu_);
  Settle(caller, false);
  Caller& c = callers_[caller];
  c.held = 0;
  c.sent.clear();
}

Status Governor::AwaitPermit(TimePoint deadline, std::string_view bucket, int caller) {
  {
    // Whoever asks for the next permit has its previous request's answer.
    std::lock_guard lock(mu_);
    Settle(caller, false);
  }
  while (true) {
    std::optional<Micros> wait;
    {
      std::lock_guard lock(mu_);
      wait = TryPermit(bucket, caller, clock_.Now());
    }
    if (!wait) return {};
    const Millis wait_ms = std::max(Millis(1), std::chrono::ceil<Millis>(*wait));
    if (deadline != TimePoint{} && Now() + wait_ms > deadline)
      return Fail(Error::ResourceExhausted("the provider's rate budget allows no further request before the batch's "
                                           "deadline")
                      .WithRetryAfter(wait_ms)
                      .BlameProvider());
    // Short sleeps: several workers share the budget, and another may take the slot.
    clock_.SleepFor(std::min(*wait, Micros(50000)));
  }
}

void Governor::Pause(const Error& error, TimePoint now) {
  health_.state = ProviderState::kPaused;
  health_.since = now;
  health_.until = now + Jittered(options_.probe_initial, options_.probe_max);
  failed_probes_this_pause_ = 0;
  ++health_.pauses;
  spdlog::warn("provider {} paused ({}): {}; no work goes to it until a probe succeeds",
               ToString(health_.provider), health_.cause, error.message);
}

void Governor::Answered(TimePoint now) {
  bool resumed = false;
  {
    std::lock_guard lock(mu_);
    health_.consecutive_failures = 0;
    holds_in_a_row_ = 0;
    if (health_.state == ProviderState::kPaused && !probing_) {
      health_.state = ProviderState::kRunning;
      health_.since = now;
      resumed = true;
      spdlog::info("provider {} answered again: resumed", ToString(health_.provider));
    }
  }
  if (resumed && on_change_) on_change_();
}

void Governor::Failed(const Error& error, TimePoint now) {
  std::lock_guard lock(mu_);
  ++health_.provider_errors;
  // The provider's refusal, not Cordon's own budget running out before a deadline.
  if (error.code == ErrorCode::kResourceExhausted && !error.provider_code.empty()) ++health_.rate_limited;
  ++health_.consecutive_failures;
  if (health_.state == ProviderState::kPaused) return;  // the pause already says so
  health_.cause = std::string(CauseOf(error));
  health_.reason = error.message;
  health_.provider_code = error.provider_code;
  if (error.code == ErrorCode::kResourceExhausted) {
    const bool new_hold = health_.state != ProviderState::kHeld || now >= health_.until;
    // Without a hint, the hold doubles with each hold in a row, not with each
    // refusal: the refusals of requests already on their way when the first
    // came back (a whole batch's) are one episode, not a reason to stay away
    // for the longest hold allowed.
    if (new_hold) ++holds_in_a_row_;
    if (!error.retry_after && !new_hold) return;
    const Millis hold =
        error.retry_after
            ? std::min(*error.retry_after, options_.hold_max)
            : Jittered(Doubled(options_.probe_initial, holds_in_a_row_ - 1, options_.hold_max), options_.hold_max);
    if (new_hold) {
      health_.state = ProviderState::kHeld;
      health_.since = now;
      health_.until = now;
      ++health_.holds;
      spdlog::warn("provider {} throttles: holding work for {} ms", ToString(health_.provider), hold.count());
    }
    health_.until = std::max(health_.until, now + hold);
    return;
  }
  if (PausesAtOnce(error) || health_.consecutive_failures >= options_.failures_to_pause) Pause(error, now);
}

void Governor::ProbeFinished(const Status& result, TimePoint now) {
  bool resumed = false;
  {
    std::lock_guard lock(mu_);
    probing_ = false;
    if (health_.state != ProviderState::kPaused) return;
    if (result) {
      spdlog::info("provider {}: probe succeeded, resumed after {} s paused", ToString(health_.provider),
                   std::chrono::duration_cast<std::chrono::seconds>(now - health_.since).count());
      health_.state = ProviderState::kRunning;
      health_.since = now;
      health_.consecutive_failures = 0;
      resumed = true;
    } else {
      ++health_.probes_failed;
      ++failed_probes_this_pause_;
      health_.cause = std::string(CauseOf(result.error()));
      health_.reason = result.error().message;
      health_.provider_code = result.error().provider_code;
      health_.until = now + Jittered(Doubled(options_.probe_initial, failed_probes_this_pause_, options_.probe_max),
                                     options_.probe_max);
      spdlog::info("provider {}: probe failed ({}); next probe in {} ms", ToString(health_.provider),
                   result.error().message, std::chrono::duration_cast<Millis>(health_.until - now).count());
    }
  }
  if (resumed && on_change_) on_change_();
}

Millis Governor::RetryDelay(const Error& error) {
  std::lock_guard lock(mu_);
  if (error.retry_after) {
    const Millis hint = std::min(*error.retry_after, options_.hold_max);
    std::uniform_int_distribution<int64_t> spread(0, std::max<int64_t>(hint.count() / 10, 1));
    return hint + Millis(spread(rng_));
  }
  return Jittered(options_.probe_initial, options_.probe_max);
}

ProviderHealth Governor::Health() const {
  std::lock_guard lock(mu_);
  ProviderHealth out = health_;
  const auto mono = clock_.Now();
  for (const auto& [name, bucket] : buckets_) {
    if (!bucket.window || mono >= bucket.window->ends) continue;
    const Window& w = *bucket.window;
    out.rate_windows.push_back(
        {name, w.limit, w.remaining, std::max<int64_t>(0, Left(bucket)), std::chrono::ceil<Millis>(w.ends - mono)});
  }
  return out;
}

}  // namespace cordon
