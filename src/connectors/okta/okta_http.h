// One HTTP exchange with Okta over libcurl, and what its answer's headers say.
//
// Perform sets every TLS option on each request (verification on, the CA
// from the config's ca_file only, no other trust store, no redirects), so
// nothing of a previous request or of the environment leaks in; the handle
// keeps only its connection. Answers of any status are returned: mapping
// them to errors is the caller's. Transport failures are the provider's.
//
// Thread-safety: free functions; a CURL handle must not be shared between threads.
#pragma once

#include <curl/curl.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/okta/okta_config.h"
#include "core/action.h"
#include "core/error.h"
#include "core/rate_limit.h"

namespace cordon::okta {

struct HttpRequest {
  std::string method;  // GET, POST, DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent with POST
  Millis timeout{10000};
};

struct HttpAnswer {
  long status = 0;
  std::string body;
  // Header names lowercased; every value of a repeated header, in order.
  std::map<std::string, std::vector<std::string>> headers;

  // The last value of a header (the one a repeated header settles on), or empty.
  [[nodiscard]] std::string Last(std::string_view lowercase_name) const;
};

// libcurl's global state, set up once; false if it cannot start.
[[nodiscard]] bool CurlReady();

[[nodiscard]] Result<HttpAnswer> Perform(CURL* curl, const OktaConfig& config, const HttpRequest& request);

// An HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT", or the older forms HTTP
// still allows), read by libcurl; none when it is not a date.
[[nodiscard]] std::optional<TimePoint> ParseHttpDate(std::string_view value);

// The rate-limit headers of an answer (X-Rate-Limit-Limit, -Remaining, -Reset
// and Date); none when Limit, Remaining or Reset is missing or malformed. A
// repeated header counts by its last value.
[[nodiscard]] std::optional<RateLimitReport> RateLimitOf(const HttpAnswer& answer, double share);

// How long a 429 asks Cordon to wait: X-Rate-Limit-Reset minus the answer's
// Date (Okta's clock; the local clock `now` when Date is unreadable), never
// negative, at most `cap`; none without a Reset.
[[nodiscard]] std::optional<Millis> RetryAfterOf(const HttpAnswer& answer, TimePoint now, Millis cap);

}  // namespace cordon::okta
