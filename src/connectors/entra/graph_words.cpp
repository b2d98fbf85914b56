#include "connectors/entra/graph_words.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "connectors/http/http_client.h"

namespace cordon::entra {
namespace {

constexpr std::size_t kMaxWords = 400;

std::string Field(const nlohmann::json& doc, const char* name) {
  if (!doc.is_object()) return {};
  auto it = doc.find(name);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string Shorten(std::string s) {
  if (s.size() > kMaxWords) s = s.substr(0, kMaxWords) + "...";
  return s;
}

}  // namespace

std::string GraphCode(const std::string& body) {
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  return doc.is_object() && doc.contains("error") ? Field(doc["error"], "code") : std::string();
}

std::string GraphWords(const std::string& body, const std::string& header_request_id) {
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  std::string request_id = header_request_id;
  std::string words;
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    const auto& error = doc["error"];
    words = Field(error, "code");
    const std::string message = Field(error, "message");
    if (!message.empty()) words += (words.empty() ? "" : ": ") + message;
    for (const char* inner : {"innerError", "innererror"})
      if (error.contains(inner) && !Field(error[inner], "request-id").empty()) request_id = Field(error[inner], "request-id");
  } else if (!body.empty()) {
    words = body;
  }
  words = Shorten(words);
  if (!request_id.empty()) words += (words.empty() ? "" : " ") + std::string("(request-id ") + request_id + ")";
  return words;
}

std::string TokenEndpointWords(const std::string& body) {
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object()) return Shorten(body);
  std::string words = Field(doc, "error");
  const std::string description = Field(doc, "error_description");
  // AADSTS descriptions end with "Trace ID: ... Correlation ID: ... Timestamp: ..." on new lines.
  const std::string first_line = description.substr(0, description.find_first_of("\r\n"));
  if (!first_line.empty()) words += (words.empty() ? "" : ": ") + first_line;
  const std::string trace = Field(doc, "trace_id");
  if (!trace.empty()) words += " (trace_id " + trace + ")";
  return Shorten(words);
}

std::optional<Millis> ParseRetryAfter(std::string_view v, TimePoint now) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
  if (v.empty() || v.size() > 64) return std::nullopt;
  double seconds = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec == std::errc() && end == v.data() + v.size()) {
    if (!std::isfinite(seconds) || seconds < 0) return std::nullopt;
    return std::min(Millis(static_cast<int64_t>(std::ceil(std::min(seconds, 1e7) * 1000))), kLongestRetryAfter);
  }
  if (auto date = http::ParseHttpDate(v))
    return std::clamp(std::chrono::duration_cast<Millis>(*date - now), Millis(0), kLongestRetryAfter);
  return std::nullopt;
}

}  // namespace cordon::entra
