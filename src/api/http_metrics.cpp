#include "api/http_metrics.h"

#include <fmt/format.h>

namespace cordon::api {

void HttpMetrics::CountRequest(std::string_view route_class, unsigned status) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route_class), status}];
}

void HttpMetrics::CountAuthFailure(AuthFailure kind) {
  std::lock_guard lock(mu_);
  switch (kind) {
    case AuthFailure::kUnauthenticated: ++unauthenticated_; break;
    case AuthFailure::kForbidden: ++forbidden_; break;
    case AuthFailure::kThrottled: ++throttled_; break;
  }
}

std::string HttpMetrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP cordon_http_requests_total HTTP requests answered, by route class and status code.\n";
  out += "# TYPE cordon_http_requests_total counter\n";
  // Route classes are fixed names chosen by the router, never request text,
  // so they need no label escaping.
  for (const auto& [key, count] : requests_)
    out += fmt::format("cordon_http_requests_total{{route=\"{}\",code=\"{}\"}} {}\n", key.first, key.second, count);
  out += "# HELP cordon_auth_failures_total API calls refused for missing or bad credentials (throttled: "
         "answered 429), or for lack of rights.\n";
  out += "# TYPE cordon_auth_failures_total counter\n";
  out += fmt::format("cordon_auth_failures_total{{reason=\"unauthenticated\"}} {}\n", unauthenticated_);
  out += fmt::format("cordon_auth_failures_total{{reason=\"forbidden\"}} {}\n", forbidden_);
  out += fmt::format("cordon_auth_failures_total{{reason=\"throttled\"}} {}\n", throttled_);
  return out;
}

}  // namespace cordon::api
