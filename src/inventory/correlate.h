// Correlation: which accounts are one person.
//
// Accounts sharing any key are one identity, transitively (a union of
// accounts): the same objectSid (AD objectSid == Entra
// onPremisesSecurityIdentifier), the same userPrincipalName (AD
// userPrincipalName == Entra userPrincipalName == Okta login) or the same
// mail address (AD mail, Entra mail, Okta profile.email). Keys compare
// ignoring ASCII case, and only with keys of the same kind (a UPN never
// matches a mail address); an empty key matches nothing.
//
// Each identity has an anchor: its AD account if it has one, else its Entra
// account, else its Okta account, the lowest account id on ties. The
// identity's id is derived from the anchor alone, so it is stable while the
// anchor lasts and the same on every node: the first 16 bytes of SHA-256 of
// "<provider>:<account id>" (provider as ad, entra, okta), with the version
// (5) and variant bits of RFC 4122 set, written 8-4-4-4-12 in lower-case
// hex. Its display name is the anchor's (its login when it has none); its
// domain is the DNS domain of the anchor's UPN (after '@', lower case), or
// for an AD anchor without one, the DNS name of the domain its DN is in.
//
// The result depends only on the set of accounts, never on their order.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/account.h"

namespace cordon {

// What correlation needs of an account.
struct AccountKeys {
  Provider provider = Provider::kActiveDirectory;
  std::string id;
  std::string login;
  std::string display_name;
  std::string upn;
  std::string sid;
  std::string mail;
  std::string dn;           // ad: the account's distinguished name (its domain); empty elsewhere
  std::string identity_id;  // where the inventory has it now; empty for an account it does not hold
};

[[nodiscard]] AccountKeys KeysOf(const AccountView& account);

// An identity without its accounts.
struct IdentityHeader {
  std::string id;
  std::string display_name;
  std::string domain;
};

struct Correlation {
  // The identity of each input account: an index into `identities`.
  std::vector<size_t> identity_of;
  // Every identity, ordered by id.
  std::vector<IdentityHeader> identities;
};

[[nodiscard]] Correlation Correlate(std::span<const AccountKeys> accounts);

// The header of the identity these accounts make (they are assumed to be
// one identity's, none missing); an empty header for no accounts.
[[nodiscard]] IdentityHeader HeaderOf(std::span<const AccountKeys> members);

// The identity id an anchor account gives ("<provider>:<id>" as above).
[[nodiscard]] std::string IdentityIdOf(Provider provider, std::string_view account_id);

// "DC=corp,DC=example,DC=com" anywhere in a DN -> "corp.example.com"; empty without DC parts.
[[nodiscard]] std::string DnsDomainOfDn(std::string_view dn);

// Whether `id` has the exact form of an identity id (8-4-4-4-12 lower-case hex).
[[nodiscard]] bool IsIdentityId(std::string_view id);

// ASCII lower case: how every key and search term is compared.
[[nodiscard]] std::string LowerAscii(std::string_view s);

}  // namespace cordon
