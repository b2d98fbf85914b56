#include "core/catalogue.h"

#include <array>

namespace cordon {
namespace {

using enum ActionType;

// From Okta's descriptions of the deactivate and activate operations and of
// user deactivation: deprovisioning removes app assignments and admin roles
// (group memberships stay), apps may delete the user's data, and activation
// starts the welcome flow again.
constexpr std::string_view kOktaDeactivateUndoLimits =
    "activate is a new activation, not a restore: the user must complete activation again (the activation link "
    "from an admin, or a password an admin sets); apps assigned directly and admin roles removed at deactivation "
    "must be assigned again (group memberships stay, so apps assigned through groups and group rules return); "
    "data the apps deleted when the user was deprovisioned (mail, files) is not recovered";

constexpr std::array<CatalogueEntry, 18> kCatalogue{{
    {.provider = Provider::kActiveDirectory, .type = kDisable, .undo = kEnable,
     .what = "Disables the Active Directory account {account} (sets ACCOUNTDISABLE in userAccountControl): it can "
             "no longer sign in to the domain; Kerberos tickets it already holds stay valid until they expire."},
    {.provider = Provider::kActiveDirectory, .type = kEnable, .undo = kDisable,
     .what = "Enables the Active Directory account {account} again (clears ACCOUNTDISABLE in userAccountControl)."},
    {.provider = Provider::kActiveDirectory, .type = kForcePasswordReset, .undo = kClearPasswordReset,
     .what = "Makes the Active Directory account {account} change its password at its next sign-in (pwdLastSet = 0); "
             "until it does, the domain accepts its password for nothing else."},
    {.provider = Provider::kActiveDirectory, .type = kClearPasswordReset, .undo = kForcePasswordReset,
     .what = "Withdraws the forced password change of the Active Directory account {account} (pwdLastSet = -1): "
             "its current password works again."},
    // AD has no risk level of its own: Cordon keeps one (core/action.h, RiskLevel).
    {.provider = Provider::kActiveDirectory, .type = kMarkCompromised, .undo = kDismissRisk, .cordon_only = true,
     .what = "Gives the Active Directory account {account} Cordon's risk level High; nothing changes in Active "
             "Directory, which keeps no risk level of its own."},
    {.provider = Provider::kActiveDirectory, .type = kDismissRisk, .undo = kMarkCompromised, .cordon_only = true,
     .what = "Clears Cordon's risk level of the Active Directory account {account}; nothing changes in Active "
             "Directory."},
    {.provider = Provider::kEntra, .type = kSuspend, .undo = kUnsuspend,
     .what = "Blocks sign-in of the Entra ID user {account} (accountEnabled = false); sessions already open go on "
             "until their tokens expire unless they are revoked too."},
    {.provider = Provider::kEntra, .type = kUnsuspend, .undo = kSuspend,
     .what = "Allows the Entra ID user {account} to sign in again (accountEnabled = true)."},
    {.provider = Provider::kEntra, .type = kRevokeSessions, .undo = std::nullopt,
     .what = "Revokes the refresh tokens and session cookies of the Entra ID user {account} "
             "(revokeSignInSessions): it must sign in again everywhere; access tokens already issued work until "
             "they expire, about an hour. Cannot be undone."},
    {.provider = Provider::kEntra, .type = kMarkCompromised, .undo = kDismissRisk,
     .what = "Confirms the Entra ID user {account} compromised in Identity Protection (its user risk becomes high, "
             "which risk-based Conditional Access acts on) and gives it Cordon's risk level High."},
    {.provider = Provider::kEntra, .type = kDismissRisk, .undo = kMarkCompromised,
     .what = "Dismisses the risk of the Entra ID user {account} in Identity Protection and clears Cordon's risk "
             "level."},
    {.provider = Provider::kOkta, .type = kSuspend, .undo = kUnsuspend,
     .what = "Suspends the Okta user {account} (lifecycle/suspend): it can no longer sign in; its app assignments "
             "and groups stay."},
    {.provider = Provider::kOkta, .type = kUnsuspend, .undo = kSuspend,
     .what = "Unsuspends the Okta user {account} (lifecycle/unsuspend): it can sign in again."},
    {.provider = Provider::kOkta, .type = kDeactivate, .undo = kActivate, .undo_limits = kOktaDeactivateUndoLimits,
     .what = "Deactivates the Okta user {account} (lifecycle/deactivate): it can no longer sign in, it is "
             "deprovisioned from its apps and loses its admin roles; only a new activation brings it back."},
    {.provider = Provider::kOkta, .type = kActivate, .undo = kDeactivate,
     .what = "Activates the Okta user {account} (lifecycle/activate): a new activation, which the user must "
             "complete before signing in."},
    {.provider = Provider::kOkta, .type = kRevokeSessions, .undo = std::nullopt,
     .what = "Ends every Okta session of the user {account} (DELETE /api/v1/users/{id}/sessions): it must sign in "
             "again. Cannot be undone."},
    // Nor has Okta (its risk signals are read, not set, through this API).
    {.provider = Provider::kOkta, .type = kMarkCompromised, .undo = kDismissRisk, .cordon_only = true,
     .what = "Gives the Okta user {account} Cordon's risk level High; nothing changes in Okta."},
    {.provider = Provider::kOkta, .type = kDismissRisk, .undo = kMarkCompromised, .cordon_only = true,
     .what = "Clears Cordon's risk level of the Okta user {account}; nothing changes in Okta."},
}};

const CatalogueEntry* Find(Provider provider, ActionType type) {
  for (const CatalogueEntry& e : kCatalogue)
    if (e.provider == provider && e.type == type) return &e;
  return nullptr;
}

}  // namespace

std::span<const CatalogueEntry> Catalogue() { return kCatalogue; }

bool CatalogueHas(Provider provider, ActionType type) { return Find(provider, type) != nullptr; }

std::optional<ActionType> UndoOf(Provider provider, ActionType type) {
  const CatalogueEntry* e = Find(provider, type);
  if (e == nullptr || !e->undo || !CatalogueHas(provider, *e->undo)) return std::nullopt;
  return e->undo;
}

bool IsCordonOnly(Provider provider, ActionType type) {
  const CatalogueEntry* e = Find(provider, type);
  return e != nullptr && e->cordon_only;
}

std::string WhatItDoes(Provider provider, ActionType type, std::string_view account) {
  const CatalogueEntry* e = Find(provider, type);
  if (e == nullptr) return {};
  constexpr std::string_view kPlaceholder = "{account}";
  std::string out(e->what);
  if (const size_t at = out.find(kPlaceholder); at != std::string::npos) out.replace(at, kPlaceholder.size(), account);
  return out;
}

std::string_view UndoLimitsOf(Provider provider, ActionType type) {
  if (!UndoOf(provider, type)) return {};
  return Find(provider, type)->undo_limits;
}

}  // namespace cordon
