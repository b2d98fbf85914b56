// Splitting a request target into its path and its query parameters.
//
// The target comes from the network, so every step is bounded and total:
// malformed percent escapes, repeated parameters and over-long values are
// reported, never guessed at. Error messages are fixed words: they never
// repeat the target.
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/error.h"

namespace cordon::api {

struct RequestTarget {
  std::string path;                           // percent-decoded
  std::map<std::string, std::string> params;  // percent-decoded, '+' is a space
};

// Limits the parser enforces (a request line is also bounded by the server's
// header limit).
inline constexpr size_t kMaxQueryParams = 32;
inline constexpr size_t kMaxParamValueBytes = 1024;

// Decodes %XX escapes (and '+' as space when `plus_is_space`). Fails on a
// truncated or non-hex escape, and on a decoded NUL.
[[nodiscard]] Result<std::string> PercentDecode(std::string_view in, bool plus_is_space);

// Parses "/path?a=1&b=2". A parameter given twice is an error.
[[nodiscard]] Result<RequestTarget> ParseTarget(std::string_view target);

}  // namespace cordon::api
