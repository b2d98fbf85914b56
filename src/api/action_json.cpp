#include "api/action_json.h"

#include <string>

#include "core/catalogue.h"

namespace cordon::api {
namespace {

using nlohmann::json;

json TimeOrNull(TimePoint t) {
  if (ToUnixMillis(t) == 0) return nullptr;
  return FormatTime(t);
}

json StringOrNull(const std::string& s) {
  if (s.empty()) return nullptr;
  return s;
}

json AnswerToJson(const ProviderAnswer& answer) {
  if (answer.code.empty() && answer.detail.empty()) return nullptr;
  return json{{"code", answer.code}, {"detail", answer.detail}};
}

// What an undo of this action type would ask for, and what it leaves behind.
json UndoToJson(Provider provider, ActionType type) {
  const auto undo = UndoOf(provider, type);
  if (!undo) return nullptr;
  const std::string_view limits = UndoLimitsOf(provider, type);
  return json{{"action", ToString(*undo)}, {"limits", limits.empty() ? json(nullptr) : json(std::string(limits))}};
}

}  // namespace

json ActionToJson(const Action& a) {
  return json{
      {"id", a.id},
      {"action", ToString(a.type)},
      {"provider", ToString(a.provider)},
      {"account", a.target},
      {"reason", a.reason},
      {"status", ToString(a.status)},
      {"requestedBy", a.requested_by},
      {"createdAt", TimeOrNull(a.created_at)},
      {"updatedAt", TimeOrNull(a.updated_at)},
      {"attemptCount", a.attempt_count},
      {"maxAttempts", a.max_attempts},
      // A finished action has no next attempt, whatever the row still holds.
      {"nextAttemptAt", IsTerminal(a.status) ? json(nullptr) : TimeOrNull(a.next_attempt_at)},
      {"undoOf", StringOrNull(a.undo_of)},
      {"undoneBy", StringOrNull(a.undone_by)},
      {"bulkId", StringOrNull(a.bulk_id)},
      {"outcome", StringOrNull(a.outcome)},
      {"resolvedAccount", StringOrNull(a.resolved_account)},
      {"accountId", StringOrNull(a.account_id)},
      {"priorState", StringOrNull(a.prior_state)},
      {"alreadyInState", a.already_in_state},
      {"providerAnswer", AnswerToJson(a.provider_answer)},
      {"undo", UndoToJson(a.provider, a.type)},
      {"linkedActions", a.linked_actions},
      {"riskLevel", a.risk_level ? json(std::string(ToString(*a.risk_level))) : json(nullptr)},
  };
}

json RiskToJson(const RiskMark& m) {
  return json{
      {"provider", ToString(m.provider)},
      {"account", m.account},
      {"resolvedAccount", StringOrNull(m.resolved_account)},
      {"accountId", StringOrNull(m.account_id)},
      {"level", ToString(m.level)},
      {"since", TimeOrNull(m.since)},
      {"actionId", m.action_id},
  };
}

json AttemptToJson(const Attempt& at) {
  return json{
      {"number", at.number},
      {"worker", at.worker},
      {"startedAt", TimeOrNull(at.started_at)},
      {"finishedAt", TimeOrNull(at.finished_at)},
      {"result", at.result},
      {"message", at.message},
      {"providerAnswer", AnswerToJson(at.provider_answer)},
  };
}

json AuditToJson(const AuditEvent& e) {
  return json{
      {"seq", e.seq},
      {"at", TimeOrNull(e.at)},
      {"actor", e.actor},
      {"event", e.event},
      {"fromStatus", StringOrNull(e.from_status)},
      {"toStatus", StringOrNull(e.to_status)},
      {"reason", e.reason},
      {"detail", e.detail},
  };
}

json ActionDetailToJson(const Action& action, std::span<const Attempt> attempts, std::span<const AuditEvent> audit) {
  json out = ActionToJson(action);
  json attempts_json = json::array();
  for (const Attempt& at : attempts) attempts_json.push_back(AttemptToJson(at));
  json audit_json = json::array();
  for (const AuditEvent& e : audit) audit_json.push_back(AuditToJson(e));
  out["attempts"] = std::move(attempts_json);
  out["audit"] = std::move(audit_json);
  return out;
}

}  // namespace cordon::api
