// libFuzzer harness for the request-target parser (src/api/query.h), which
// sees every request line from the network first: whatever the target,
// ParseTarget returns rather than crashes; what it accepts keeps its limits
// (at most kMaxQueryParams parameters, values of at most kMaxParamValueBytes,
// no NUL but one the input carried raw); and the result is what it means:
// percent-encoding the decoded path and parameters again and parsing that
// gives the same result.
//
// Built and run by `make fuzz` (fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/query.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

// Escapes everything but unreserved characters (and '/' in the path), so the
// re-encoded target has no '?', '&', '=', '+' or '%' of its own.
std::string Encode(std::string_view in, bool path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : in) {
    const auto u = static_cast<unsigned char>(c);
    const bool plain = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '-' ||
                       c == '.' || c == '_' || c == '~' || (path && c == '/');
    if (plain) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = cordon::api::ParseTarget(input);
  if (!parsed) {
    Check(parsed.error().code == cordon::ErrorCode::kInvalidArgument);
    return 0;
  }
  Check(parsed->params.size() <= cordon::api::kMaxQueryParams);
  for (const auto& [key, value] : parsed->params) Check(!key.empty() && value.size() <= cordon::api::kMaxParamValueBytes);
  // A raw NUL passes through as it came (the HTTP parser refuses it before
  // this one runs) and has no escaped form the parser accepts.
  if (input.find('\0') != std::string_view::npos) return 0;

  Check(parsed->path.find('\0') == std::string::npos);
  std::string again = Encode(parsed->path, true);
  char separator = '?';
  for (const auto& [key, value] : parsed->params) {
    Check(key.find('\0') == std::string::npos && value.find('\0') == std::string::npos);
    again += separator;
    again += Encode(key, false) + "=" + Encode(value, false);
    separator = '&';
  }
  auto reparsed = cordon::api::ParseTarget(again);
  Check(reparsed.has_value());
  Check(reparsed->path == parsed->path);
  Check(reparsed->params == parsed->params);
  return 0;
}
