#include "api/query.h"

namespace cordon::api {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return Fail(Error::InvalidArgument("truncated percent escape"));
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return Fail(Error::InvalidArgument("malformed percent escape"));
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return Fail(Error::InvalidArgument("NUL in request target"));
      out += decoded;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Result<RequestTarget> ParseTarget(std::string_view target) {
  RequestTarget out;
  const size_t q = target.find('?');
  auto path = PercentDecode(target.substr(0, q), false);
  if (!path) return Fail(std::move(path.error()));
  out.path = std::move(*path);
  if (q == std::string_view::npos) return out;

  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    if (!key) return Fail(std::move(key.error()));
    auto value = PercentDecode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!value) return Fail(std::move(value.error()));
    if (key->empty()) return Fail(Error::InvalidArgument("empty query parameter name"));
    if (value->size() > kMaxParamValueBytes)
      return Fail(Error::InvalidArgument("a query parameter value is longer than " +
                                         std::to_string(kMaxParamValueBytes) + " bytes"));
    if (out.params.size() >= kMaxQueryParams) return Fail(Error::InvalidArgument("too many query parameters"));
    if (!out.params.emplace(std::move(*key), std::move(*value)).second)
      return Fail(Error::InvalidArgument("a query parameter is given twice"));
  }
  return out;
}

}  // namespace cordon::api
