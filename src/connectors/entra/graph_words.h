// What Graph's and the token endpoint's answers say, in words for the action
// center, and how long a throttled answer asks Cordon to wait.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/action.h"

namespace cordon::entra {

inline constexpr Millis kLongestRetryAfter{10 * 60 * 1000};

// Graph's error body {"error": {"code", "message", "innerError": {"request-id", "date"}}} as
// "Code: message (request-id X)"; `header_request_id` stands in when the body has none.
[[nodiscard]] std::string GraphWords(const std::string& body, const std::string& header_request_id = "");
// Graph's error code ("Authorization_RequestDenied"), or empty.
[[nodiscard]] std::string GraphCode(const std::string& body);
// The token endpoint's OAuth error: "invalid_client: AADSTS7000215: ..." (shortened).
[[nodiscard]] std::string TokenEndpointWords(const std::string& body);
// Retry-After as Graph sends it: whole or decimal seconds (or an HTTP date),
// at most kLongestRetryAfter; none when missing or unreadable.
[[nodiscard]] std::optional<Millis> ParseRetryAfter(std::string_view value, TimePoint now = Now());

}  // namespace cordon::entra
