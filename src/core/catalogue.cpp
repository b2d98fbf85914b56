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
    {Provider::kActiveDirectory, kDisable, kEnable},
    {Provider::kActiveDirectory, kEnable, kDisable},
    {Provider::kActiveDirectory, kForcePasswordReset, kClearPasswordReset},
    {Provider::kActiveDirectory, kClearPasswordReset, kForcePasswordReset},
    // AD has no risk level of its own: Cordon keeps one (core/action.h, RiskLevel).
    {Provider::kActiveDirectory, kMarkCompromised, kDismissRisk, {}, true},
    {Provider::kActiveDirectory, kDismissRisk, kMarkCompromised, {}, true},
    {Provider::kEntra, kSuspend, kUnsuspend},
    {Provider::kEntra, kUnsuspend, kSuspend},
    {Provider::kEntra, kRevokeSessions, std::nullopt},
    {Provider::kEntra, kMarkCompromised, kDismissRisk},
    {Provider::kEntra, kDismissRisk, kMarkCompromised},
    {Provider::kOkta, kSuspend, kUnsuspend},
    {Provider::kOkta, kUnsuspend, kSuspend},
    {Provider::kOkta, kDeactivate, kActivate, kOktaDeactivateUndoLimits},
    {Provider::kOkta, kActivate, kDeactivate},
    {Provider::kOkta, kRevokeSessions, std::nullopt},
    // Nor has Okta (its risk signals are read, not set, through this API).
    {Provider::kOkta, kMarkCompromised, kDismissRisk, {}, true},
    {Provider::kOkta, kDismissRisk, kMarkCompromised, {}, true},
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

std::string_view UndoLimitsOf(Provider provider, ActionType type) {
  if (!UndoOf(provider, type)) return {};
  return Find(provider, type)->undo_limits;
}

}  // namespace cordon
