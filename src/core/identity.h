// Identities: the people behind the accounts. The inventory (src/inventory)
// lists every provider's accounts, correlates them into identities (accounts
// sharing an objectSid, a userPrincipalName or a mail address) and keeps
// each account's state and Cordon's own risk level; the user page, the side
// panel, search and the Graph-compatible API read them.
//
// Thread-safety: plain value types.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/account.h"
#include "core/action.h"

namespace cordon {

// One account as the inventory keeps it.
struct InventoryAccount {
  AccountView account;
  std::string identity_id;
  TimePoint seen_at{};  // when Cordon last read it from its provider
  // Cordon's own risk level of the account (RiskLevel), whatever the
  // provider keeps; unset when it has none.
  std::optional<RiskLevel> risk_level;
};

// A person: the accounts correlated into one identity.
struct Identity {
  // Stable and deterministic: a GUID-formatted id derived from the identity's
  // anchor account (inventory/correlate.h says which and how).
  std::string id;
  std::string display_name;  // the anchor's display name, or its login when it has none
  std::string domain;        // the DNS domain of the anchor's UPN (lower case); may be empty
  std::vector<InventoryAccount> accounts;  // ad, entra, okta; then by login
};

// Which identities to list. Text matching ignores ASCII case.
struct IdentityFilter {
  // A prefix of a display-name word, the whole display name, a UPN, a
  // sAMAccountName or login, a mail address, a SID or a provider's account
  // id, of any of the identity's accounts; empty: every identity.
  std::string text;
  std::optional<std::string> display_name;         // equals
  std::optional<std::string> display_name_prefix;  // the display name starts with it
  std::optional<std::string> domain;               // equals
  std::string cursor;                              // opaque, from IdentityPage::next_cursor; empty: the first page
  int limit = 20;                                  // 1..1000
};

struct IdentityPage {
  std::vector<Identity> identities;  // by display name (ignoring case), then id
  std::string next_cursor;           // empty when there is no further page
};

}  // namespace cordon
