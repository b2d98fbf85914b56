// The action model: what an analyst asks Cordon to do, and what became of it.
//
// An Action is one response action on one account at one provider. Its
// lifecycle (docs/architecture.md, "States of an action"):
//   awaiting_approval -> pending -> in_progress -> succeeded | failed
//   plus cancelled and rejected.
// Nothing is deleted; an undo is a new Action whose undo_of names the one it
// reverses.
//
// Thread-safety: plain value types.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cordon {

using Clock = std::chrono::system_clock;
using TimePoint = std::chrono::time_point<Clock, std::chrono::milliseconds>;
using Millis = std::chrono::milliseconds;

// Milliseconds since the Unix epoch, the store's time representation.
inline int64_t ToUnixMillis(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint FromUnixMillis(int64_t ms) { return TimePoint(Millis(ms)); }
inline TimePoint Now() { return std::chrono::time_point_cast<Millis>(Clock::now()); }
// RFC 3339 UTC with milliseconds, e.g. 2026-11-24T20:31:05.123Z.
std::string FormatTime(TimePoint t);
// Strict RFC 3339 in UTC: YYYY-MM-DDTHH:MM:SS[.fraction]Z, every field in range for its calendar
// (no Feb 31, no leap second), a fraction of any length truncated to milliseconds. Anything else,
// including an offset such as +01:00, is nullopt.
std::optional<TimePoint> ParseTime(std::string_view rfc3339);

enum class Provider { kActiveDirectory, kEntra, kOkta };

enum class ActionType {
  kDisable,              // ad: set ACCOUNTDISABLE
  kEnable,               // ad: clear ACCOUNTDISABLE
  kForcePasswordReset,   // ad: pwdLastSet = 0
  kClearPasswordReset,   // ad: pwdLastSet = -1 (undo of kForcePasswordReset)
  kSuspend,              // entra: accountEnabled=false; okta: lifecycle/suspend
  kUnsuspend,            // entra: accountEnabled=true;  okta: lifecycle/unsuspend
  kDeactivate,           // okta: lifecycle/deactivate
  kActivate,             // okta: lifecycle/activate|reactivate
  kRevokeSessions,       // entra: revokeSignInSessions; okta: DELETE sessions
  kMarkCompromised,      // entra: riskyUsers/confirmCompromised; every provider: Cordon's own risk level -> High
  kDismissRisk,          // entra: riskyUsers/dismiss; every provider: Cordon's own risk level cleared
};

// Cordon's own risk level of an account, kept in the action center whatever
// the provider offers: a mark_compromised that succeeds sets it, a
// dismiss_risk that succeeds clears it. Only High exists today; an account
// without a mark has no level at all.
enum class RiskLevel { kHigh };

enum class ActionStatus {
  kAwaitingApproval,
  kPending,
  kInProgress,
  kSucceeded,
  kFailed,
  kCancelled,
  kRejected,
};

std::string_view ToString(Provider p);
std::string_view ToString(ActionType t);
std::string_view ToString(ActionStatus s);
std::optional<Provider> ParseProvider(std::string_view s);      // "ad", "entra", "okta"
std::optional<ActionType> ParseActionType(std::string_view s);  // "disable", "force_password_reset", ...
std::optional<ActionStatus> ParseActionStatus(std::string_view s);
std::string_view ToString(RiskLevel l);                         // "high"
std::optional<RiskLevel> ParseRiskLevel(std::string_view s);

inline constexpr ActionType kAllActionTypes[] = {
    ActionType::kDisable,        ActionType::kEnable,         ActionType::kForcePasswordReset,
    ActionType::kClearPasswordReset, ActionType::kSuspend,    ActionType::kUnsuspend,
    ActionType::kDeactivate,     ActionType::kActivate,       ActionType::kRevokeSessions,
    ActionType::kMarkCompromised, ActionType::kDismissRisk,
};
inline constexpr Provider kAllProviders[] = {Provider::kActiveDirectory, Provider::kEntra, Provider::kOkta};

bool IsTerminal(ActionStatus s);

// Whether `id` has the exact form of an action id: "act_" and 26 lowercase
// Crockford base32 digits holding 128 bits (so the first digit is 0-7), as
// the store makes them. A client-supplied id is checked before any lookup.
bool IsActionId(std::string_view id);

// Who asks: the API token's name (what people read) and its id (what is
// unique: names may repeat). The token id is empty for local requesters
// such as `cordon token create`.
struct Actor {
  std::string name;
  std::string token_id;
};

// A request before it is stored.
struct NewAction {
  ActionType type = ActionType::kDisable;
  Provider provider = Provider::kActiveDirectory;
  std::string target;              // the account as the requester named it
  std::string account_id;          // the provider's immutable id to act on (an undo's), or empty: resolve target
  std::string requested_by;        // actor: token name
  std::string requested_by_token;  // actor: token id
  std::string reason;
  std::string undo_of;             // id of the action this one reverses, or empty
  std::string bulk_id;             // groups the actions of one bulk request, or empty
  // Actions of one CreateActions call that share a non-empty link_group are
  // linked to each other (Action::linked_actions): one person acted on at
  // several providers by one request. Not stored itself.
  std::string link_group;
  int max_attempts = 5;
  TimePoint deadline{};            // the action fails if not done by then; epoch = no time budget
  ActionStatus initial_status = ActionStatus::kPending;
};

// The provider's last answer, as the action center shows it.
struct ProviderAnswer {
  std::string code;     // "ldap:0", "ldap:50", "http:429"
  std::string detail;   // the provider's own diagnostic text
};

struct Action {
  std::string id;
  ActionType type = ActionType::kDisable;
  Provider provider = Provider::kActiveDirectory;
  std::string target;
  std::string requested_by;
  std::string requested_by_token;
  std::string reason;
  ActionStatus status = ActionStatus::kPending;
  std::string undo_of;
  std::string undone_by;
  std::string bulk_id;
  int attempt_count = 0;  // attempts spent; a provider outage spends none
  int max_attempts = 5;
  TimePoint created_at{};
  TimePoint updated_at{};
  TimePoint next_attempt_at{};
  TimePoint deadline{};  // the time budget: failed if not done by then; epoch = none
  std::string lease_owner;
  TimePoint lease_expires_at{};
  std::string outcome;            // human summary of the result
  std::string resolved_account;   // e.g. the DN the target resolved to
  std::string account_id;         // the provider's immutable id of that account (objectGUID for ad)
  bool already_in_state = false;  // the last attempt found nothing to change
  // What the provider showed before Cordon's first change, recorded before the
  // change was sent and never overwritten by a later attempt: an undo restores
  // this, and an action that found its account already in the target state
  // has nothing to undo. Unset until an attempt observed the account.
  std::optional<bool> prior_in_target;
  std::string prior_state;  // the provider's words for it, e.g. "userAccountControl 0x200"
  ProviderAnswer provider_answer;
  // The actions created with this one for the same person at other
  // providers (an Entra suspend and the AD disable of its on-premises
  // account), or the undos created with this undo: linked each way, undone
  // together. Sorted.
  std::vector<std::string> linked_actions;
  // The risk level this action set (a mark_compromised) while it stands;
  // unset once cleared, and for every other action.
  std::optional<RiskLevel> risk_level;
};

// Cordon's risk level of one account (RiskLevel).
struct RiskMark {
  Provider provider = Provider::kActiveDirectory;
  std::string account;           // as the mark's action named it
  std::string resolved_account;  // what it resolved to (e.g. the DN), or empty
  std::string account_id;        // the provider's immutable id, or empty when the provider gave none
  RiskLevel level = RiskLevel::kHigh;
  TimePoint since{};             // when the mark's action succeeded
  std::string action_id;         // the mark_compromised that set it
};

struct Attempt {
  std::string action_id;
  int number = 0;
  std::string worker;
  TimePoint started_at{};
  TimePoint finished_at{};
  // "succeeded" | "transient_error" | "permanent_error" | "lease_expired" |
  // "provider_error" (the provider could not be worked with; not counted)
  std::string result;
  std::string message;
  ProviderAnswer provider_answer;
};

// What a connector saw of an account before changing it (Action::prior_*).
struct Observation {
  std::string action_id;
  std::string resolved_account;  // e.g. the DN
  std::string account_id;        // the provider's immutable id (objectGUID for ad)
  std::string state;             // the provider's words, e.g. "userAccountControl 0x200"
  bool in_target_state = false;  // nothing to change
};

// One line of the audit trail. action_id is empty for events that concern no
// action (e.g. a refused API call).
struct AuditEvent {
  int64_t seq = 0;
  std::string action_id;
  TimePoint at{};
  std::string actor;
  std::string actor_token;     // the API token's id, when a token acted
  std::string client_address;  // the caller's address, for API events
  int64_t count = 1;           // > 1 for aggregated events (e.g. refused calls in one interval)
  std::string event;        // "created", "transition", "auth.unauthenticated", "auth.forbidden", ...
  std::string from_status;
  std::string to_status;
  std::string reason;
  std::string detail;
};

}  // namespace cordon
