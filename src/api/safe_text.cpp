#include "api/safe_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "authz/tokens.h"

namespace cordon::api {
namespace {

bool IsBase64Url(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no
// overlongs, no surrogates, at most U+10FFFF), or 0.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t len = 0;
  uint32_t cp = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

}  // namespace

std::string SafeText(std::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 3);
  auto append = [&](std::string_view piece) {
    if (out.size() + piece.size() > max_bytes) return false;
    out.append(piece);
    return true;
  };
  size_t i = 0;
  while (i < text.size()) {
    std::string piece;
    size_t used = 1;
    const auto c = static_cast<unsigned char>(text[i]);
    if (text.substr(i, kTokenPrefix.size()) == kTokenPrefix) {
      used = kTokenPrefix.size();
      while (i + used < text.size() && IsBase64Url(text[i + used])) ++used;
      piece = std::string(kTokenPrefix) + "***";
    } else if (c < 0x20 || c == 0x7f || c == '\\') {
      piece = fmt::format("\\x{:02x}", c);
    } else if (c < 0x80) {
      piece.assign(1, static_cast<char>(c));
    } else if (const size_t len = Utf8Length(text, i); len == 0) {
      piece = fmt::format("\\x{:02x}", c);
    } else if (c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0) {
      // C1 controls (e.g. the 8-bit CSI that drives terminals).
      piece = fmt::format("\\x{:02x}\\x{:02x}", c, static_cast<unsigned char>(text[i + 1]));
      used = 2;
    } else {
      piece.assign(text.substr(i, len));
      used = len;
    }
    if (!append(piece)) {
      out += "...";
      return out;
    }
    i += used;
  }
  return out;
}

std::string SafePath(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path.empty()) return "-";
  return SafeText(path, kMaxLoggedPathBytes);
}

std::string SafeMethod(std::string_view method) {
  if (method.empty()) return "-";
  return SafeText(method, kMaxLoggedMethodBytes);
}

}  // namespace cordon::api
