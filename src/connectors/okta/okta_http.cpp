#include "connectors/okta/okta_http.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string_view>

namespace cordon::okta {
namespace {

std::optional<int64_t> Integer(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<RateLimitReport> RateLimitOf(const http::HttpAnswer& answer, double share) {
  const auto limit = Integer(answer.Last("x-rate-limit-limit"));
  const auto remaining = Integer(answer.Last("x-rate-limit-remaining"));
  const auto reset = Integer(answer.Last("x-rate-limit-reset"));
  if (!limit || !remaining || !reset || *limit <= 0 || *remaining < 0) return std::nullopt;
  RateLimitReport r;
  r.limit = *limit;
  r.remaining = *remaining;
  r.reset_epoch_seconds = *reset;
  r.provider_date = http::ParseHttpDate(answer.Last("date"));
  r.share = share;
  return r;
}

std::optional<Millis> RetryAfterOf(const http::HttpAnswer& answer, TimePoint now, Millis cap) {
  const auto reset = Integer(answer.Last("x-rate-limit-reset"));
  if (!reset || *reset < 0 || *reset > 100'000'000'000) return std::nullopt;
  const TimePoint provider_now = http::ParseHttpDate(answer.Last("date")).value_or(now);
  const Millis wait = Millis(*reset * 1000) - provider_now.time_since_epoch();
  return std::clamp(wait, Millis(0), cap);
}

}  // namespace cordon::okta
