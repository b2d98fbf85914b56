// Counters the API exposes on /metrics: requests by route class and status
// code, and refused or throttled authentications. Action counts come from the store at
// scrape time, not from here.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace cordon::api {

// kThrottled: a failed authentication answered 429 (FailureLimiter).
enum class AuthFailure { kUnauthenticated, kForbidden, kThrottled };

class HttpMetrics {
 public:
  void CountRequest(std::string_view route_class, unsigned status);
  void CountAuthFailure(AuthFailure kind);

  // Prometheus text exposition of these counters.
  [[nodiscard]] std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, unsigned>, uint64_t> requests_;
  uint64_t unauthenticated_ = 0;
  uint64_t forbidden_ = 0;
  uint64_t throttled_ = 0;
};

}  // namespace cordon::api
