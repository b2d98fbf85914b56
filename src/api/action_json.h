// The JSON shapes of the REST API (/api/v1): actions, attempts, audit events.
//
// Field names are camelCase; times are RFC 3339 UTC; links and times that do
// not apply are null. docs: src/api/README.md.
//
// Thread-safety: pure functions.
#pragma once

#include <span>

#include <nlohmann/json.hpp>

#include "core/action.h"

namespace cordon::api {

[[nodiscard]] nlohmann::json ActionToJson(const Action& action);
[[nodiscard]] nlohmann::json AttemptToJson(const Attempt& attempt);
[[nodiscard]] nlohmann::json AuditToJson(const AuditEvent& event);
// One of Cordon's risk levels, as GET /api/v1/risks lists it.
[[nodiscard]] nlohmann::json RiskToJson(const RiskMark& mark);

// An action with its attempts and status history, as GET /api/v1/actions/{id}
// returns it.
[[nodiscard]] nlohmann::json ActionDetailToJson(const Action& action, std::span<const Attempt> attempts,
                                                std::span<const AuditEvent> audit);

}  // namespace cordon::api
