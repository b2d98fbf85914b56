#include "api/failure_limiter.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cmath>
#include <cstdint>

namespace cordon::api {

FailureLimiter::FailureLimiter(Options options) : options_(options) {}

std::string FailureLimiter::KeyOf(std::string_view address) {
  boost::system::error_code ec;
  const auto parsed = boost::asio::ip::make_address(std::string(address.substr(0, 64)), ec);
  if (ec) return std::string(address.substr(0, 64));
  if (parsed.is_v4()) return parsed.to_string();
  auto v6 = parsed.to_v6();
  if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

void FailureLimiter::Refill(Entry& entry, SteadyTime now) const {
  if (now <= entry.updated) return;
  const double elapsed = std::chrono::duration<double>(now - entry.updated).count();
  entry.tokens = std::min(options_.burst, entry.tokens + elapsed * options_.per_second);
  entry.updated = now;
  if (entry.tokens >= options_.burst) entry.throttled = false;
}

void FailureLimiter::DropRefilled(SteadyTime now) {
  while (!entries_.empty()) {
    Entry& oldest = entries_.back();
    Refill(oldest, now);
    if (oldest.tokens < options_.burst) return;
    index_.erase(oldest.key);
    entries_.pop_back();
  }
}

FailureLimiter::Verdict FailureLimiter::Failure(std::string_view address, SteadyTime now) {
  std::string key = KeyOf(address);
  std::lock_guard lock(mu_);
  DropRefilled(now);
  auto found = index_.find(key);
  if (found == index_.end()) {
    if (entries_.size() >= options_.max_addresses) {
      index_.erase(entries_.back().key);
      entries_.pop_back();
    }
    entries_.push_front(Entry{key, options_.burst, now, false});
    found = index_.emplace(std::move(key), entries_.begin()).first;
  } else {
    entries_.splice(entries_.begin(), entries_, found->second);
  }
  Entry& entry = *found->second;
  Refill(entry, now);

  Verdict verdict;
  if (entry.tokens >= 1) {
    entry.tokens -= 1;
    return verdict;
  }
  verdict.allowed = false;
  verdict.retry_after = std::chrono::seconds(static_cast<int64_t>(std::ceil((1 - entry.tokens) / options_.per_second)));
  verdict.retry_after = std::max(verdict.retry_after, std::chrono::seconds(1));
  verdict.newly_throttled = !entry.throttled;
  entry.throttled = true;
  return verdict;
}

size_t FailureLimiter::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace cordon::api
