// Request text made fit for the access log and the audit trail.
//
// A request's method and path come from the network. Before either reaches a
// log line or an audit row it goes through SafeText: control characters (C0,
// DEL, and the C1 range U+0080..U+009F) and bytes that are not UTF-8 become
// \xNN escapes, a backslash becomes \x5c (so every escape in the output was
// made here), anything shaped like a Cordon bearer token ("cdn_" followed by
// base64url characters) becomes "cdn_***", and the result is cut at a bound
// (whole characters, then "...").
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cordon::api {

// How much of a path a log line or an audit row keeps.
inline constexpr size_t kMaxLoggedPathBytes = 256;
// How much of a method: Beast accepts any token as a method.
inline constexpr size_t kMaxLoggedMethodBytes = 16;

// `text` escaped, with token-shaped runs masked, at most `max_bytes` long
// (plus "..." when cut).
[[nodiscard]] std::string SafeText(std::string_view text, size_t max_bytes);

// The path of a request target (never its query string), through SafeText
// and bounded by kMaxLoggedPathBytes; "-" when empty.
[[nodiscard]] std::string SafePath(std::string_view target);

// A request method through SafeText, bounded by kMaxLoggedMethodBytes; "-" when empty.
[[nodiscard]] std::string SafeMethod(std::string_view method);

}  // namespace cordon::api
