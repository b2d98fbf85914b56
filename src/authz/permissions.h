// Built-in roles and the permissions table (docs/architecture.md, "Roles"):
// which role may run which action at which provider. What a provider offers
// at all is the catalogue's (core/catalogue.h).
//
// Every role may read the action center; only the table below grants acting.
// Cancelling or undoing an action needs the right to run the action that the
// cancel or undo amounts to (authz decides; the API asks).
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "core/action.h"
#include "core/catalogue.h"

namespace cordon {

enum class Role {
  kSecurityReader,         // read the action center only
  kResponseManager,        // "Response (manage)"
  kSecurityOperator,
  kSecurityAdministrator,
  kGlobalAdministrator,
};

inline constexpr Role kAllRoles[] = {Role::kSecurityReader, Role::kResponseManager, Role::kSecurityOperator,
                                     Role::kSecurityAdministrator, Role::kGlobalAdministrator};

std::string_view ToString(Role r);
std::optional<Role> ParseRole(std::string_view s);

// May `role` run `type` at `provider`? False for combinations no provider offers.
bool MayRun(Role role, Provider provider, ActionType type);

inline bool MayRead(Role) { return true; }

// May `role` ask for an inventory sync now (POST /api/v1/inventory/sync)?
// Every role that acts may: a reader only reads.
bool MaySyncInventory(Role role);

}  // namespace cordon
