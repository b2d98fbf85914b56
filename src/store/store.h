// Store: the durable action center. One interface, one implementation per
// backend (src/store/sqlite today; PostgreSQL later), all held to the same
// conformance suite (tests/store_conformance_test.cpp).
//
// Every method is one transaction: an action row never changes without its
// audit event. Status changes made by workers are fenced by the lease: a
// worker whose lease expired (and whose action was handed to another) gets
// ErrorCode::kConflict and must drop the result.
//
// Attempts: ClaimDue spends one of the action's attempts up front (so a
// worker that dies mid-attempt has spent it when its lease expires);
// FinishAttempt with kProviderError gives it back, because an outage of the
// whole provider is not the action's fault. Attempt rows are numbered in the
// order they happened, whether they were counted or not.
//
// Thread-safety: every method may be called from any thread concurrently.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/action.h"
#include "core/error.h"

namespace cordon {

// An account actions may be on (ActionFilter::accounts): at `provider`, an
// action resolved to `account_id` (Action::account_id), or asked for by one
// of `names` (Action::target, ignoring ASCII case).
struct ActionAccount {
  Provider provider = Provider::kActiveDirectory;
  std::string account_id;  // empty: by name only
  std::vector<std::string> names;
};
inline constexpr size_t kMaxFilterAccounts = 100;
inline constexpr size_t kMaxFilterAccountNames = 8;

struct ActionFilter {
  std::optional<ActionStatus> status;
  std::optional<ActionType> type;
  std::optional<Provider> provider;
  std::optional<std::string> target;
  std::optional<std::string> requested_by;
  std::optional<std::string> bulk_id;
  std::optional<TimePoint> created_after;   // inclusive
  std::optional<TimePoint> created_before;  // exclusive
  // On any of these accounts (at most kMaxFilterAccounts, each with at most
  // kMaxFilterAccountNames names); empty: on any account.
  std::vector<ActionAccount> accounts;
  std::string cursor;  // opaque, from ActionPage::next_cursor; empty = first page
  int limit = 100;     // 1..1000
};

struct ActionPage {
  std::vector<Action> actions;  // newest first
  std::string next_cursor;      // empty when there is no further page
};

// How a worker's attempt ended.
enum class AttemptOutcome {
  kSucceeded,       // action -> succeeded
  kPermanentError,  // action -> failed
  kTransientError,  // action -> pending at retry_at, or failed when attempts are used up
  // The provider, not the action, failed (outage, refused credentials,
  // throttling): the attempt is recorded but not counted, and the action goes
  // back to pending at retry_at, or fails once its time budget is spent.
  kProviderError,
};

struct AttemptReport {
  std::string action_id;
  std::string worker;  // must hold the lease
  AttemptOutcome outcome = AttemptOutcome::kSucceeded;
  TimePoint started_at{};
  TimePoint finished_at{};
  std::string message;  // for the action center
  ProviderAnswer provider_answer;
  std::string resolved_account;
  std::string account_id;  // the provider's immutable id, when known
  bool already_in_state = false;
  TimePoint retry_at{};  // for kTransientError and kProviderError
};

struct TokenRecord {
  std::string id;          // public id, e.g. "tok_..."
  std::string name;        // the actor name recorded in the audit trail (not unique)
  std::string role;        // see authz/permissions.h
  std::string sha256_hex;  // digest of the bearer token; the token itself is never stored
  TimePoint created_at{};
  TimePoint expires_at{};    // epoch: never expires
  TimePoint last_used_at{};  // epoch: never used (updated at most about once a minute)
  TimePoint revoked_at{};    // epoch: not revoked
  bool revoked = false;

  // Revoked, or past its expiry at `now`: refused at once.
  [[nodiscard]] bool UsableAt(TimePoint now) const {
    return !revoked && (expires_at == TimePoint{} || now < expires_at);
  }
};

// Which of Cordon's risk levels to list (ListRisks).
struct RiskFilter {
  std::optional<Provider> provider;
  // The account as its mark's action named it, what it resolved to, or its
  // immutable id; case-insensitive.
  std::optional<std::string> account;
  int limit = 1000;  // 1..1000
};

struct StatusCount {
  ActionStatus status;
  int64_t count;
};

class Store {
 public:
  virtual ~Store() = default;

  // Creates the schema if needed. Called once at start.
  [[nodiscard]] virtual Status Migrate() = 0;

  // Stores the actions and one "created" audit event each, in one transaction.
  // Returns them with ids and timestamps, in input order. Actions that share
  // a non-empty NewAction::link_group are linked to each other in the same
  // transaction (each gets the others in Action::linked_actions, and a
  // "linked" audit event).
  [[nodiscard]] virtual Result<std::vector<Action>> CreateActions(std::span<const NewAction> actions,
                                                                  TimePoint now) = 0;

  [[nodiscard]] virtual Result<Action> GetAction(std::string_view id) = 0;
  [[nodiscard]] virtual Result<std::vector<Attempt>> GetAttempts(std::string_view action_id) = 0;
  [[nodiscard]] virtual Result<std::vector<AuditEvent>> GetAudit(std::string_view action_id) = 0;
  [[nodiscard]] virtual Result<ActionPage> ListActions(const ActionFilter& filter) = 0;

  // Moves up to `max` due pending actions of `provider` (next_attempt_at <= now,
  // time budget not spent) to in_progress with a lease held by `worker` until
  // now + lease, oldest first, spending one attempt each.
  [[nodiscard]] virtual Result<std::vector<Action>> ClaimDue(Provider provider, std::string_view worker, int max,
                                                             TimePoint now, Millis lease) = 0;

  // How many pending actions of `provider` ClaimDue would hand out at `now`,
  // if asked for all: the work waiting for the provider.
  [[nodiscard]] virtual Result<int64_t> CountDue(Provider provider, TimePoint now) = 0;

  // Records what the connector saw before changing each account, for actions
  // whose first observation this is (a later attempt never overwrites it).
  // Fenced by the lease, all or nothing: kConflict if `worker` no longer holds
  // one of them, and then no change may be sent.
  [[nodiscard]] virtual Status RecordObservations(std::span<const Observation> observations,
                                                  std::string_view worker, TimePoint now) = 0;

  // Extends the leases `worker` holds on these actions to now + lease.
  [[nodiscard]] virtual Status RenewLeases(std::span<const std::string> action_ids, std::string_view worker,
                                           TimePoint now, Millis lease) = 0;

  // Records one attempt and moves the action on (see AttemptOutcome). Fenced
  // by the lease: kConflict if `worker` no longer holds it. When an undo
  // succeeds, the action it reverses gets undone_by in the same transaction.
  // Cordon's own risk level follows in that transaction too: when a
  // mark_compromised succeeds, its account (provider and immutable id, or
  // the resolved account, or the target, when the provider gave no id) gets
  // RiskLevel::kHigh unless it already has a level (the first mark stands);
  // when a dismiss_risk succeeds, the account's level is cleared. Each change
  // is audited on the action ("risk.set", "risk.cleared").
  [[nodiscard]] virtual Result<Action> FinishAttempt(const AttemptReport& report) = 0;

  // Fails the pending actions of `provider` whose time budget is spent by
  // `now`, saying `why` (e.g. which outage kept them from running) and what
  // their last attempt said. Returns how many.
  [[nodiscard]] virtual Result<int> FailOverdue(Provider provider, TimePoint now, std::string_view why) = 0;

  // Returns in_progress actions whose lease expired to pending (the attempt
  // is recorded as "lease_expired"). Returns how many.
  [[nodiscard]] virtual Result<int> RecoverExpiredLeases(TimePoint now) = 0;

  // awaiting_approval | pending -> cancelled, audited with the actor's name
  // and token id. kFailedPrecondition otherwise.
  [[nodiscard]] virtual Result<Action> Cancel(std::string_view id, const Actor& actor, std::string_view reason,
                                              TimePoint now) = 0;

  // Creates each undo (whose undo_of names its original), all in one
  // transaction, each with an "undo_requested" event on its original; when
  // there are several (the undos of linked actions), they are linked to each
  // other as CreateActions links a group. The original's undone_by is set
  // only when the undo succeeds, so a failed or cancelled undo can be asked
  // again. All or nothing: kFailedPrecondition if any original is not
  // succeeded, was already undone, or has an undo under way.
  [[nodiscard]] virtual Result<std::vector<Action>> CreateUndos(std::span<const NewAction> undos, TimePoint now) = 0;
  [[nodiscard]] Result<Action> CreateUndo(const NewAction& undo, TimePoint now) {
    auto created = CreateUndos(std::span(&undo, 1), now);
    if (!created) return Fail(created.error());
    if (created->size() != 1) return Fail(Error::Internal("the store created no undo"));
    return std::move(created->front());
  }

  // Cordon's risk levels now in force, newest first.
  [[nodiscard]] virtual Result<std::vector<RiskMark>> ListRisks(const RiskFilter& filter) = 0;

  // Audit events that concern no single action (refused API calls, token
  // life cycle). AppendAudit writes several in one transaction.
  [[nodiscard]] virtual Status AppendAudit(std::span<const AuditEvent> events) = 0;
  [[nodiscard]] Status AppendAudit(const AuditEvent& event) { return AppendAudit(std::span(&event, 1)); }
  [[nodiscard]] virtual Result<std::vector<AuditEvent>> ListAudit(std::string_view event_prefix, int limit) = 0;

  [[nodiscard]] virtual Status CreateToken(const TokenRecord& token) = 0;
  [[nodiscard]] virtual Result<std::optional<TokenRecord>> FindTokenByDigest(std::string_view sha256_hex) = 0;
  // Every token, newest first (digests included: callers show ids, never digests).
  [[nodiscard]] virtual Result<std::vector<TokenRecord>> ListTokens() = 0;
  // Revokes a token by id, with an audit event; kNotFound for an unknown id,
  // and revoking twice keeps the first time.
  [[nodiscard]] virtual Result<TokenRecord> RevokeToken(std::string_view id, const Actor& actor,
                                                        std::string_view reason, TimePoint now) = 0;
  // Records when tokens were last used (token id -> time), in one transaction.
  [[nodiscard]] virtual Status TouchTokens(std::span<const std::pair<std::string, TimePoint>> used) = 0;

  [[nodiscard]] virtual Result<std::vector<StatusCount>> CountByStatus() = 0;
  // A constant-cost check that the store answers (for /healthz).
  [[nodiscard]] virtual Status Ping() = 0;
};

}  // namespace cordon
