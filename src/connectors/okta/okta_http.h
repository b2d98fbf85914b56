// What Okta's answers say in their headers: the rate-limit headers, the
// 429 wait and the next page of a listing. The exchange itself is connectors/http (libcurl, TLS verified
// against ca_file only, no proxy, no redirects).
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>

#include "connectors/http/http_client.h"
#include "core/action.h"
#include "core/rate_limit.h"

namespace cordon::okta {

// The rate-limit headers of an answer (X-Rate-Limit-Limit, -Remaining, -Reset
// and Date); none when Limit, Remaining or Reset is missing or malformed. A
// repeated header counts by its last value.
[[nodiscard]] std::optional<RateLimitReport> RateLimitOf(const http::HttpAnswer& answer, double share);

// How long a 429 asks Cordon to wait: X-Rate-Limit-Reset minus the answer's
// Date (Okta's clock; the local clock `now` when Date is unreadable), never
// negative, at most `cap`; none without a Reset.
[[nodiscard]] std::optional<Millis> RetryAfterOf(const http::HttpAnswer& answer, TimePoint now, Millis cap);

// The target of the `Link` header whose relation types include "next"
// (RFC 8288: `<url>; rel="next"`, several links in one header or in repeated
// headers, rel quoted or not, case ignored); none when there is no next page.
// The URL is as Okta wrote it: following it is the caller's decision.
[[nodiscard]] std::optional<std::string> NextLinkOf(const http::HttpAnswer& answer);

}  // namespace cordon::okta
