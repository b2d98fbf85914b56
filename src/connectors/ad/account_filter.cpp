#include "connectors/ad/account_filter.h"

#include <array>
#include <charconv>
#include <cstdint>

namespace cordon::ad {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendEscaped(std::string& out, unsigned char c) {
  out.push_back('\\');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 0x0f]);
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != prefix[i]) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <typename T>
bool ParseDecimal(std::string_view s, T& out) {
  if (s.empty() || s.size() > 20) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

constexpr std::size_t kMaxSubAuthorities = 15;  // SID_MAX_SUB_AUTHORITIES

}  // namespace

std::string_view ToString(AccountIdKind kind) {
  switch (kind) {
    case AccountIdKind::kSamAccountName: return "sAMAccountName";
    case AccountIdKind::kUserPrincipalName: return "userPrincipalName";
    case AccountIdKind::kObjectSid: return "objectSid";
    case AccountIdKind::kObjectGuid: return "objectGUID";
  }
  return "sAMAccountName";
}

std::string EscapeFilterValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 || c >= 0x7f) {
      AppendEscaped(out, c);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string EscapeBinaryFilterValue(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 3);
  for (char ch : bytes) AppendEscaped(out, static_cast<unsigned char>(ch));
  return out;
}

Result<std::string> ParseSid(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Fail(Error::InvalidArgument("not a SID (" + std::string(why) + ")"));
  };
  if (text.size() > 200) return bad("too long");
  if (!StartsWithNoCase(text, "s-")) return bad("must start with S-");
  std::string_view rest = text.substr(2);
  std::array<std::string_view, 2 + kMaxSubAuthorities + 1> parts{};
  std::size_t n = 0;
  while (true) {
    if (n == parts.size()) return bad("too many sub-authorities");
    std::size_t dash = rest.find('-');
    parts[n++] = rest.substr(0, dash);
    if (dash == std::string_view::npos) break;
    rest = rest.substr(dash + 1);
  }
  if (n < 3) return bad("needs a revision, an authority and at least one sub-authority");
  uint8_t revision = 0;
  if (!ParseDecimal(parts[0], revision) || revision != 1) return bad("revision must be 1");
  uint64_t authority = 0;
  if (!ParseDecimal(parts[1], authority) || authority > 0xffffffffffffULL) return bad("bad identifier authority");
  std::size_t sub_count = n - 2;
  if (sub_count > kMaxSubAuthorities) return bad("too many sub-authorities");
  std::string out;
  out.push_back(static_cast<char>(revision));
  out.push_back(static_cast<char>(sub_count));
  for (int shift = 40; shift >= 0; shift -= 8) out.push_back(static_cast<char>((authority >> shift) & 0xff));
  for (std::size_t i = 2; i < n; ++i) {
    uint32_t sub = 0;
    if (!ParseDecimal(parts[i], sub)) return bad("bad sub-authority");
    for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((sub >> shift) & 0xff));
  }
  return out;
}

Result<std::string> FormatSid(std::string_view binary) {
  if (binary.size() < 8) return Fail(Error::InvalidArgument("SID too short"));
  auto byte = [&](std::size_t i) { return static_cast<uint8_t>(binary[i]); };
  std::size_t sub_count = byte(1);
  if (sub_count == 0 || sub_count > kMaxSubAuthorities || binary.size() != 8 + 4 * sub_count)
    return Fail(Error::InvalidArgument("SID length does not match its sub-authority count"));
  uint64_t authority = 0;
  for (std::size_t i = 2; i < 8; ++i) authority = (authority << 8) | byte(i);
  std::string out = "S-" + std::to_string(byte(0)) + "-" + std::to_string(authority);
  for (std::size_t i = 0; i < sub_count; ++i) {
    std::size_t at = 8 + 4 * i;
    uint32_t sub = static_cast<uint32_t>(byte(at)) | (static_cast<uint32_t>(byte(at + 1)) << 8) |
                   (static_cast<uint32_t>(byte(at + 2)) << 16) | (static_cast<uint32_t>(byte(at + 3)) << 24);
    out += "-" + std::to_string(sub);
  }
  return out;
}

// Byte i of the binary GUID comes from hex digit pair kGuidOrder[i] of the
// 32 digits in canonical order: the first three groups are little-endian.
static constexpr std::array<int, 16> kGuidOrder = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};

Result<std::string> ParseGuid(std::string_view text) {
  auto bad = [] { return Fail(Error::InvalidArgument("not a GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")); };
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') text = text.substr(1, 36);
  if (text.size() != 36) return bad();
  std::array<uint8_t, 16> canonical{};
  std::size_t digit = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return bad();
      continue;
    }
    int v = HexValue(text[i]);
    if (v < 0) return bad();
    canonical[digit / 2] = static_cast<uint8_t>((canonical[digit / 2] << 4) | v);
    ++digit;
  }
  std::string out(16, '\0');
  for (std::size_t i = 0; i < 16; ++i) out[i] = static_cast<char>(canonical[kGuidOrder[i]]);
  return out;
}

Result<std::string> FormatGuid(std::string_view binary) {
  if (binary.size() != 16) return Fail(Error::InvalidArgument("a GUID has 16 bytes"));
  std::array<uint8_t, 16> canonical{};
  for (std::size_t i = 0; i < 16; ++i) canonical[kGuidOrder[i]] = static_cast<uint8_t>(binary[i]);
  std::string out;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[canonical[i] >> 4]);
    out.push_back(kHex[canonical[i] & 0x0f]);
  }
  return out;
}

Result<AccountId> ParseAccountId(std::string_view account) {
  if (account.empty()) return Fail(Error::InvalidArgument("the account name is empty"));
  if (account.size() > kMaxAccountNameBytes)
    return Fail(Error::InvalidArgument("the account name is longer than " + std::to_string(kMaxAccountNameBytes) +
                                       " bytes"));
  auto name_id = [](AccountIdKind kind, std::string_view name) -> Result<AccountId> {
    if (name.empty()) return Fail(Error::InvalidArgument("the account name is empty"));
    return AccountId{kind, std::string(name), {}};
  };
  auto sid_id = [](std::string_view text) -> Result<AccountId> {
    auto bin = ParseSid(text);
    if (!bin) return Fail(bin.error());
    auto canonical = FormatSid(*bin);
    return AccountId{AccountIdKind::kObjectSid, *canonical, std::move(*bin)};
  };
  auto guid_id = [](std::string_view text) -> Result<AccountId> {
    auto bin = ParseGuid(text);
    if (!bin) return Fail(bin.error());
    auto canonical = FormatGuid(*bin);
    return AccountId{AccountIdKind::kObjectGuid, *canonical, std::move(*bin)};
  };
  if (StartsWithNoCase(account, "sam:")) return name_id(AccountIdKind::kSamAccountName, account.substr(4));
  if (StartsWithNoCase(account, "upn:")) return name_id(AccountIdKind::kUserPrincipalName, account.substr(4));
  if (StartsWithNoCase(account, "sid:")) return sid_id(account.substr(4));
  if (StartsWithNoCase(account, "guid:")) return guid_id(account.substr(5));
  if (StartsWithNoCase(account, "s-1-")) {
    if (auto id = sid_id(account)) return id;
  }
  if (account.size() == 36 || account.size() == 38) {
    if (auto id = guid_id(account)) return id;
  }
  if (account.find('@') != std::string_view::npos) return name_id(AccountIdKind::kUserPrincipalName, account);
  return name_id(AccountIdKind::kSamAccountName, account);
}

std::string AssertionFor(const AccountId& id) {
  std::string value = id.binary.empty() ? EscapeFilterValue(id.canonical) : EscapeBinaryFilterValue(id.binary);
  return "(" + std::string(ToString(id.kind)) + "=" + value + ")";
}

std::string AccountFilter(const AccountId& id) {
  return "(&" + std::string(kUserClassFilter) + AssertionFor(id) + ")";
}

}  // namespace cordon::ad
