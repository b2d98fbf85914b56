#include "connectors/okta/okta_http.h"

#include <algorithm>
#include <charconv>
#include <string>
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

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// One link-param value at `pos`: a quoted-string (backslash escapes) or a
// token up to the next ';' or ','.
std::string ParamValue(std::string_view v, std::size_t& pos) {
  std::string out;
  if (pos < v.size() && v[pos] == '"') {
    for (++pos; pos < v.size() && v[pos] != '"'; ++pos) {
      if (v[pos] == '\\' && pos + 1 < v.size()) ++pos;
      out += v[pos];
    }
    if (pos < v.size()) ++pos;  // the closing quote
    return out;
  }
  while (pos < v.size() && v[pos] != ';' && v[pos] != ',') out += v[pos++];
  while (!out.empty() && IsSpace(out.back())) out.pop_back();
  return out;
}

// Whether `rel` (space-separated relation types) holds "next".
bool IsNext(std::string_view rel) {
  std::size_t at = 0;
  while (at < rel.size()) {
    while (at < rel.size() && IsSpace(rel[at])) ++at;
    const std::size_t end = std::min(rel.find(' ', at), rel.size());
    if (Lower(rel.substr(at, end - at)) == "next") return true;
    at = end;
  }
  return false;
}

}  // namespace

std::optional<std::string> NextLinkOf(const http::HttpAnswer& answer) {
  // RFC 8288 by hand: libcurl reads no Link headers, and the grammar needed
  // (a URL in angle brackets, then ;-separated parameters, links separated by
  // commas outside quotes) is a few lines.
  const auto it = answer.headers.find("link");
  if (it == answer.headers.end()) return std::nullopt;
  for (const std::string& header : it->second) {
    const std::string_view v(header);
    std::size_t pos = 0;
    while (true) {
      const std::size_t open = v.find('<', pos);
      if (open == std::string_view::npos) break;
      const std::size_t close = v.find('>', open + 1);
      if (close == std::string_view::npos) break;
      const std::string_view url = v.substr(open + 1, close - open - 1);
      pos = close + 1;
      bool next = false;
      while (pos < v.size()) {
        while (pos < v.size() && IsSpace(v[pos])) ++pos;
        if (pos >= v.size() || v[pos] != ';') break;
        ++pos;
        while (pos < v.size() && IsSpace(v[pos])) ++pos;
        std::size_t name_end = pos;
        while (name_end < v.size() && v[name_end] != '=' && v[name_end] != ';' && v[name_end] != ',' &&
               !IsSpace(v[name_end]))
          ++name_end;
        const std::string name = Lower(v.substr(pos, name_end - pos));
        pos = name_end;
        while (pos < v.size() && IsSpace(v[pos])) ++pos;
        std::string value;
        if (pos < v.size() && v[pos] == '=') {
          ++pos;
          while (pos < v.size() && IsSpace(v[pos])) ++pos;
          value = ParamValue(v, pos);
        }
        if (name == "rel" && IsNext(value)) next = true;
      }
      if (next) return std::string(url);
      // On to the next link-value, after the comma that ends this one.
      const std::size_t comma = v.find(',', pos);
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
  }
  return std::nullopt;
}

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
