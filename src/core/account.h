// Accounts as Cordon sees them, whatever their provider: what a connector
// reads of one (Connector::Lookup, Connector::ListAccounts), what the
// inventory keeps and correlates into people, and what the user page shows.
//
// Thread-safety: plain value types.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/action.h"

namespace cordon {

// How an account stands at its provider, in words every provider shares.
enum class AccountStatus {
  kEnabled,      // can sign in (ad enabled, entra accountEnabled, okta ACTIVE)
  kDisabled,     // ad disabled, entra accountEnabled=false
  kSuspended,    // okta SUSPENDED
  kDeactivated,  // okta DEPROVISIONED
  kOther,        // a provider state with no equivalent here (e.g. okta STAGED)
};
std::string_view ToString(AccountStatus status);  // "enabled", "disabled", "suspended", "deactivated", "other"
std::optional<AccountStatus> ParseAccountStatus(std::string_view s);

// One account at one provider.
struct AccountView {
  Provider provider = Provider::kActiveDirectory;
  std::string id;            // the provider's immutable id (objectGUID, Okta id, Entra object id)
  std::string login;         // what people type: sAMAccountName, Okta login, userPrincipalName
  std::string display_name;
  AccountStatus status = AccountStatus::kOther;
  bool must_change_password = false;

  // What correlates accounts into one person (inventory/correlate.h); empty
  // when the provider has none.
  std::string upn;   // ad userPrincipalName, entra userPrincipalName, okta login
  std::string sid;   // ad objectSid, entra onPremisesSecurityIdentifier (S-1-5-21-...)
  std::string mail;  // ad mail, entra mail, okta profile.email

  // The provider's own risk level, in Graph's words (none, low, medium, high,
  // hidden), where the provider keeps one (entra, Identity Protection); empty
  // where it does not, or its licence is missing.
  std::string provider_risk;

  // What an analyst must know before acting on the account.
  // ad adminCount=1: protected by AdminSDHolder, so a delegation on its OU
  // does not reach it and the action account is refused.
  bool admin_protected = false;
  // entra onPremisesSyncEnabled: synced from AD, so a change made only in the
  // cloud is reverted by the next directory sync.
  bool synced_from_ad = false;
  // entra userType Guest: its sessions belong to its home tenant, so
  // revoking them here has no effect.
  bool guest = false;

  // Provider-specific identifiers and states by name, for the user page:
  // "dn" (ad), "userType", "onPremisesSyncEnabled" (entra), "status" (okta), ...
  std::map<std::string, std::string> identifiers;
};

}  // namespace cordon
