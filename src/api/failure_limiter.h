// FailureLimiter: how often one client address may fail to authenticate.
//
// A token bucket per address: an address may fail `burst` times in a row,
// then once every 1/`per_second` seconds; a failure beyond that is refused
// (the API answers 429 with Retry-After instead of 401, and logs it at debug
// level only). Success is never limited: only failures are counted, so a
// caller with a valid token is served however many failures came from the
// same address.
//
// IPv4 addresses count one by one; IPv6 addresses by their /64 prefix (one
// host usually holds a whole /64). The table is bounded: at most
// `max_addresses` entries, in order of their last failure; addresses whose
// bucket has refilled are dropped from the old end as time passes, and when
// the table is full the address idle longest makes room.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cordon::api {

struct FailureLimiterOptions {
  double burst = 20;      // failures an address may have in a row
  double per_second = 1;  // then one more per 1/per_second seconds
  size_t max_addresses = 10000;
};

class FailureLimiter {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  using Options = FailureLimiterOptions;

  struct Verdict {
    bool allowed = true;
    std::chrono::seconds retry_after{0};  // when refused: when one more failure would be allowed
    bool newly_throttled = false;         // the first refusal since the address was last allowed its full burst
  };

  explicit FailureLimiter(Options options = {});

  // Counts one failed authentication from `address` at `now`.
  [[nodiscard]] Verdict Failure(std::string_view address, SteadyTime now);

  // Addresses currently tracked.
  [[nodiscard]] size_t size() const;

  // The bucket an address belongs to: the address itself, or its /64 for IPv6.
  [[nodiscard]] static std::string KeyOf(std::string_view address);

 private:
  struct Entry {
    std::string key;
    double tokens = 0;
    SteadyTime updated{};
    bool throttled = false;
  };

  void Refill(Entry& entry, SteadyTime now) const;
  void DropRefilled(SteadyTime now);

  const Options options_;
  mutable std::mutex mu_;
  std::list<Entry> entries_;  // most recent failure first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace cordon::api
