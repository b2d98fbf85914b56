// Search terms: what an identity is found by (IdentityFilter::text).
//
// An identity's terms are, in lower case (ASCII), the whole display name and
// each of its words (of the identity and of each of its accounts), and each
// account's UPN, login, mail address, SID and provider id. A query matches
// an identity when it is a prefix of one of its terms, so "smi" finds Alice
// Smith, "alice.sm" her UPN and "s-1-5-21-1004" her SID. A store keeps the
// terms beside the identities and answers a prefix with a range scan of an
// ordered index: [query, query + "\xff") (UTF-8 never holds the byte 0xff).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/correlate.h"

namespace cordon {

// Longer terms are cut (at a character boundary): a prefix that long finds nothing more.
inline constexpr size_t kMaxTermBytes = 256;

// The identity's terms, sorted, each once.
[[nodiscard]] std::vector<std::string> SearchTermsOf(std::string_view display_name,
                                                     std::span<const AccountKeys> members);

// A query as terms are written: lower case, white space trimmed and runs of
// it made one space, cut as terms are.
[[nodiscard]] std::string NormalizeSearchText(std::string_view text);

// The exclusive upper bound of the terms that start with `prefix`.
[[nodiscard]] std::string PrefixEnd(std::string_view prefix);

}  // namespace cordon
