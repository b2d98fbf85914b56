// Graph's words for Cordon's: the members of microsoft.graph.security's
// `action` and `identityProvider` enums, which Cordon action each Graph action
// is at each provider, and the cloud SID Graph shows for an Entra user.
//
// The mapping (Defender for Identity's own, as Graph documents which provider
// supports which action):
//   disable                  ad disable, entra suspend, okta suspend
//   enable                   ad enable, entra unsuspend, okta unsuspend
//   forcePasswordReset       ad force_password_reset
//   revokeAllSessions        entra revoke_sessions, okta revoke_sessions
//   requireUserToSignInAgain entra revoke_sessions
//   markUserAsCompromised    entra mark_compromised
//
// Thread-safety: constant data and pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/action.h"

namespace cordon::api {

// microsoft.graph.security.action, without unknownFutureValue (which names no action).
enum class GraphAction {
  kDisable,
  kEnable,
  kForcePasswordReset,
  kRevokeAllSessions,
  kRequireUserToSignInAgain,
  kMarkUserAsCompromised,
};

inline constexpr GraphAction kAllGraphActions[] = {
    GraphAction::kDisable,
    GraphAction::kEnable,
    GraphAction::kForcePasswordReset,
    GraphAction::kRevokeAllSessions,
    GraphAction::kRequireUserToSignInAgain,
    GraphAction::kMarkUserAsCompromised,
};

std::string_view ToString(GraphAction action);                    // "forcePasswordReset", ...
std::optional<GraphAction> ParseGraphAction(std::string_view s);  // exact member names

// microsoft.graph.security.identityProvider: activeDirectory, entraID, okta.
std::string_view GraphProviderName(Provider provider);
std::optional<Provider> ParseGraphProvider(std::string_view s);  // exact member names

// The Cordon action that `action` is at `provider`, if that provider supports it.
std::optional<ActionType> CordonActionFor(GraphAction action, Provider provider);

// The Graph actions `provider` supports, in the enum's order.
std::vector<GraphAction> GraphActionsAt(Provider provider);

// "disable, enable, ..." and "activeDirectory, entraID, okta", for error messages.
std::string KnownGraphActions();
std::string KnownGraphProviders();

// The cloud SID of an Entra user: "S-1-12-1-" and the object id's 16 bytes,
// as .NET's Guid.ToByteArray lays them out, read as four little-endian 32-bit
// numbers. nullopt when `object_id` is not a GUID.
std::optional<std::string> CloudSecurityIdentifier(std::string_view object_id);

}  // namespace cordon::api
