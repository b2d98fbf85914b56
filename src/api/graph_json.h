// An inventory identity as Graph's microsoft.graph.security.identityAccounts,
// and the invokeActionResult of an action Cordon took for an invokeAction.
//
//   id                            the identity id
//   displayName, domain           the identity's (domain null when unknown)
//   isEnabled                     any of its accounts enabled
//   onPremisesSecurityIdentifier  the AD account's SID (else an account's
//                                 on-premises SID, as Entra keeps it for a
//                                 synced user); null without one
//   cloudSecurityIdentifier       the Entra user's cloud SID; null without one
//   accounts[]                    {identifier: the provider's immutable id,
//                                  identityProvider, actions: the Graph
//                                  actions that provider supports}
//
// Answers keep Graph's order (ordered_json): annotations first, then `id`.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/graph_mapping.h"
#include "core/identity.h"

namespace cordon::api {

using ordered_json = nlohmann::ordered_json;

// The identityAccounts of `identity`; only the properties in `select` when
// it is not empty (canonical names, as ParseGraphSelect gives them).
[[nodiscard]] ordered_json IdentityAccountsJson(const Identity& identity, const std::vector<std::string>& select);

// The invokeActionResult members: accountId, action, identityProvider, correlationId.
[[nodiscard]] ordered_json InvokeActionResultJson(std::string_view account_id, GraphAction action, Provider provider,
                                                  std::string_view correlation_id);

// An ordered_json as the API writes JSON (invalid UTF-8 replaced, never thrown).
[[nodiscard]] std::string DumpOrdered(const ordered_json& j);

}  // namespace cordon::api
