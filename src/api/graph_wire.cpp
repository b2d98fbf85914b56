#include "api/graph_wire.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace cordon::api {

std::optional<std::string_view> GraphVersionOf(std::string_view path) {
  for (const std::string_view version : kGraphVersions) {
    if (path.size() > version.size() + 1 && path[0] == '/' && path.substr(1, version.size()) == version &&
        path[version.size() + 1] == '/')
      return version;
  }
  return std::nullopt;
}

bool IsGuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

std::string GraphRequestId(std::string_view cordon_request_id) {
  // The last 24 characters of a Cordon request id are its hex digits; any
  // other id (none is made) gives zeros rather than text from elsewhere.
  std::string hex(24, '0');
  if (cordon_request_id.size() >= 24) {
    const std::string_view tail = cordon_request_id.substr(cordon_request_id.size() - 24);
    if (std::all_of(tail.begin(), tail.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
      hex = std::string(tail);
  }
  return fmt::format("00000000-{}-{}-{}-{}", hex.substr(0, 4), hex.substr(4, 4), hex.substr(8, 4), hex.substr(12));
}

std::string ClientRequestId(std::string_view sent, std::string_view graph_request_id) {
  if (!IsGuid(sent)) return std::string(graph_request_id);
  std::string out(sent);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string GraphErrorDate(TimePoint at) { return FormatTime(at).substr(0, 19); }

nlohmann::json GraphErrorBody(std::string_view code, std::string_view message, const GraphRequestIds& ids,
                              TimePoint at) {
  return nlohmann::json{{"error",
                         {{"code", std::string(code)},
                          {"message", std::string(message)},
                          {"innerError",
                           {{"date", GraphErrorDate(at)},
                            {"request-id", ids.request_id},
                            {"client-request-id", ids.client_request_id}}}}}};
}

std::string IdentityAccountsContext(std::string_view origin, std::string_view version,
                                    const std::vector<std::string>& select, bool entity) {
  std::string out = fmt::format("{}/{}/$metadata#{}", origin, version, kIdentityAccountsPath);
  if (!select.empty()) out += fmt::format("({})", fmt::join(select, ","));
  if (entity) out += "/$entity";
  return out;
}

std::string TypeContext(std::string_view origin, std::string_view version, std::string_view qualified_type) {
  return fmt::format("{}/{}/$metadata#{}", origin, version, qualified_type);
}

std::string EncodeQueryValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace cordon::api
