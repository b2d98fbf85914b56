// How an analyst's account name becomes a safe LDAP search filter.
//
// Cordon finds an AD account by sAMAccountName, userPrincipalName, objectSid
// (S-1-5-21-...) or objectGUID (canonical 8-4-4-4-12 form). Every value the
// user supplies is escaped per RFC 4515 before it reaches a filter, so a name
// like `*)(sAMAccountName=*` is searched for literally and matches nothing.
// SIDs and GUIDs are converted to the binary form AD stores and escaped byte
// by byte.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.h"

namespace cordon::ad {

// Longest account name accepted (a userPrincipalName may be long, a SID or
// GUID is far shorter); larger input is refused before it reaches the DC.
inline constexpr std::size_t kMaxAccountNameBytes = 1024;

// Always restricts a lookup to user accounts (not computers, contacts, groups).
inline constexpr std::string_view kUserClassFilter = "(objectCategory=person)(objectClass=user)";

enum class AccountIdKind { kSamAccountName, kUserPrincipalName, kObjectSid, kObjectGuid };

std::string_view ToString(AccountIdKind kind);

// A parsed account identifier. For kObjectSid/kObjectGuid, `binary` holds the
// bytes AD stores and `canonical` the normalised string form; for names,
// `canonical` is the name as given and `binary` is empty.
struct AccountId {
  AccountIdKind kind = AccountIdKind::kSamAccountName;
  std::string canonical;
  std::string binary;
};

// Escapes an assertion value per RFC 4515: `*`, `(`, `)`, `\`, NUL become
// \2a \28 \29 \5c \00. Every byte outside printable ASCII (control bytes and
// all bytes >= 0x80) is escaped too: RFC 4515 allows any octet to be escaped,
// the DC matches on the unescaped octets, and the filter then stays ASCII
// whatever the input (even invalid UTF-8).
[[nodiscard]] std::string EscapeFilterValue(std::string_view value);

// Escapes every byte as \XX: for binary attributes such as objectSid.
[[nodiscard]] std::string EscapeBinaryFilterValue(std::string_view bytes);

// "S-1-5-21-1-2-3-500" <-> the binary SID (revision, sub-authority count,
// 48-bit big-endian authority, 32-bit little-endian sub-authorities).
[[nodiscard]] Result<std::string> ParseSid(std::string_view text);
[[nodiscard]] Result<std::string> FormatSid(std::string_view binary);

// "00112233-4455-6677-8899-aabbccddeeff" (optionally in braces, any case) <->
// AD's 16-byte objectGUID, whose first three groups are little-endian.
[[nodiscard]] Result<std::string> ParseGuid(std::string_view text);
[[nodiscard]] Result<std::string> FormatGuid(std::string_view binary);

// Decides what kind of identifier `account` is. An explicit prefix wins
// ("sam:", "upn:", "sid:", "guid:"); otherwise a string that parses as a SID
// or GUID is one, a name with '@' is a userPrincipalName (sAMAccountName may
// not contain '@'), anything else is a sAMAccountName. Refuses empty and
// oversized input.
[[nodiscard]] Result<AccountId> ParseAccountId(std::string_view account);

// The escaped equality assertion for one id, e.g. "(sAMAccountName=alice)".
[[nodiscard]] std::string AssertionFor(const AccountId& id);

// The full filter for one account: (&<user class>(<attr>=<escaped value>)).
[[nodiscard]] std::string AccountFilter(const AccountId& id);

}  // namespace cordon::ad
