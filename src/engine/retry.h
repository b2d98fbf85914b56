// Retry: when to try a transiently failed action again.
//
// Capped exponential backoff with "full jitter" over [initial, ceiling]:
//   ceiling = min(max, initial * 2^(attempt-1)),  delay = uniform(initial, ceiling).
// Why full jitter: a bulk request fails in lockstep (the DC goes away, or
// throttles 1,000 actions at once); spreading each retry over the whole
// window is what de-synchronises them best (fewest collisions for the least
// total wait, per AWS's "Exponential Backoff and Jitter" study). Decorrelated
// jitter needs the previous delay, which the store does not keep; full jitter
// needs only the attempt number. The floor at `initial` keeps a retry from
// landing immediately after the failure that caused it.
//
// A provider's own hint (HTTP Retry-After, X-Rate-Limit-Reset) wins over the
// computed delay when it is longer, bounded by max_hint so that a hostile or
// broken provider cannot park work for ever; a little jitter is added on top
// so that everything told "retry in 30 s" does not return in the same
// millisecond.
//
// Thread-safety: pure functions; the RNG is the caller's (one per worker).
#pragma once

#include <optional>
#include <random>

#include "core/action.h"

namespace cordon {

struct BackoffPolicy {
  Millis initial{500};
  Millis max{60000};
  Millis max_hint{600000};  // the longest provider hint honoured
};

// Delay before the next attempt, after attempt number `attempt` (1-based)
// failed transiently. `hint` is the provider's requested wait, if any.
[[nodiscard]] Millis RetryDelay(const BackoffPolicy& policy, int attempt, std::optional<Millis> hint,
                                std::mt19937_64& rng);

}  // namespace cordon
