// RateLimitReport: what a provider said about its own rate limit in one
// answer (Okta's X-Rate-Limit-Limit, -Remaining, -Reset and the answer's
// Date), as a connector hands it to the engine.
//
// Thread-safety: a plain value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/action.h"

namespace cordon {

struct RateLimitReport {
  // Which of the provider's limits the answer speaks of: the connector's
  // name for the endpoint class it called (Okta keeps one limit per class);
  // "" = the provider's only one.
  std::string bucket;
  int64_t limit = 0;      // requests the provider allows in its current window
  int64_t remaining = 0;  // of those, not yet spent (by anyone sharing the limit)
  int64_t reset_epoch_seconds = 0;  // when the window ends, on the provider's clock (UTC epoch seconds)
  // The answer's Date: the provider's clock when it answered. None when the
  // header was missing or could not be read; the local clock stands in.
  std::optional<TimePoint> provider_date;
  // The part of the limit Cordon may use (0 < share <= 1): the limit is
  // shared with every other client of the same account or organisation.
  double share = 1.0;
};

}  // namespace cordon
