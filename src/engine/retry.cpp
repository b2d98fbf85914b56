#include "engine/retry.h"

#include <algorithm>
#include <cstdint>

namespace cordon {

Millis RetryDelay(const BackoffPolicy& policy, int attempt, std::optional<Millis> hint, std::mt19937_64& rng) {
  const int64_t initial = std::max<int64_t>(policy.initial.count(), 1);
  const int64_t cap = std::max<int64_t>(policy.max.count(), initial);
  // Doubling stops at the cap; the shift is bounded so it cannot overflow.
  int64_t ceiling = initial;
  for (int i = 1; i < attempt && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  int64_t delay = std::uniform_int_distribution<int64_t>(initial, ceiling)(rng);

  if (hint && hint->count() > 0) {
    int64_t wanted = std::min<int64_t>(hint->count(), std::max<int64_t>(policy.max_hint.count(), 0));
    int64_t spread = std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(wanted / 10, 1))(rng);
    delay = std::max(delay, wanted + spread);
  }
  return Millis(delay);
}

}  // namespace cordon
