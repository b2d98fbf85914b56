// ActionService: the one door through which work enters Cordon (REST API,
// Graph-compatible API, CLI, later automation rules).
//
// It validates a request completely before anything is written (a refused
// request writes nothing), stores it in one transaction (a bulk request is one
// CreateActions call under one bulk_id) and wakes the engine. Cancel and Undo
// go through here too, so that the rules for them live in one place.
//
// Authorisation is not checked here: the API layer asks authz (roles) before
// calling. The service is nevertheless safe on any input: every size is
// bounded, control characters and invalid UTF-8 are refused.
//
// Thread-safety: every method may be called from any thread concurrently.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/action.h"
#include "core/error.h"
#include "core/limits.h"
#include "store/store.h"

namespace cordon {

class Engine;

struct SubmitRequest {
  ActionType type = ActionType::kDisable;
  Provider provider = Provider::kActiveDirectory;
  std::vector<std::string> targets;  // one account, or many for a bulk request
  std::string reason;                // why; required, shown in the action center
  Actor actor;                       // who asks; recorded in the audit trail
  // A bulk request's actions share a bulk id even when its targets merge
  // into one (e.g. "alice" and "ALICE"), so the requester can follow them.
  bool bulk = false;
  // A hybrid user: with an Entra suspend only, also disable the person's
  // on-premises AD account, named as the Entra user was (the AD connector
  // finds it by userPrincipalName). Each target then gets two actions, the
  // entra suspend and the ad disable, linked to each other and stored in one
  // transaction.
  bool also_on_prem = false;
};

// What an undo created: the undo of the action asked for first, then those
// of the actions linked to it (undone together), and for each linked action
// left as it is, why.
struct UndoResult {
  std::vector<Action> undos;
  std::vector<std::string> notes;
};

struct ActionServiceOptions {
  int max_attempts = 5;  // per action: the action's own transient errors before it fails
  // How long an action may wait for its provider (outages, throttling)
  // before it fails, naming the outage; 0 = for ever.
  Millis time_budget = kDefaultTimeBudget;
  size_t max_bulk = kMaxBulkAccounts;  // targets per request
  size_t max_target_len = kMaxAccountBytes;
  size_t max_reason_len = kMaxReasonBytes;
  size_t max_actor_len = kMaxActorBytes;

  // A day: long enough for a DC reboot, a maintenance window or a rotated
  // action-account password fixed the next morning — the account still needs
  // containing then — and short enough that a forgotten request does not act
  // days later, when nobody expects it.
  static constexpr Millis kDefaultTimeBudget{24 * 3600 * 1000};
};

class ActionService {
 public:
  // `engine` may be null (e.g. a CLI that only records work): then nothing is woken.
  ActionService(Store& store, Engine* engine, std::set<Provider> configured_providers,
                ActionServiceOptions options = {});

  // Stores one action per distinct target (duplicates are merged, order kept).
  [[nodiscard]] Result<std::vector<Action>> Submit(const SubmitRequest& request);

  // pending | awaiting_approval -> cancelled.
  [[nodiscard]] Result<Action> Cancel(std::string_view id, const Actor& actor, std::string_view reason);

  // Creates the action that reverses a succeeded one. It acts on the account
  // the original resolved to (its immutable id), not on the name as typed, so
  // a renamed account is still the one restored. Refused (kFailedPrecondition)
  // when the original changed nothing — its account was already in the target
  // state, so reversing it would change what Cordon never touched — and while
  // another undo of it is under way.
  //
  // An action linked to others (SubmitRequest::also_on_prem) is undone with
  // them, in one transaction, the undos linked to each other. A linked
  // action still under way (awaiting approval, pending, in progress) refuses
  // the whole undo: wait for it or cancel it first. One that the same rules
  // say cannot be undone (it failed or was cancelled, changed nothing, or
  // was already undone) is left as it is, and UndoResult::notes says why.
  [[nodiscard]] Result<UndoResult> UndoWithLinked(std::string_view id, const Actor& actor, std::string_view reason);
  // UndoWithLinked, for callers that want only the undo of `id`.
  [[nodiscard]] Result<Action> Undo(std::string_view id, const Actor& actor, std::string_view reason);

  // The actions an undo of `original` would reverse with it (its linked
  // actions), so the caller can authorise each.
  [[nodiscard]] Result<std::vector<Action>> LinkedActions(const Action& original);

  // The providers configured on this server (work for any other is refused).
  [[nodiscard]] const std::set<Provider>& providers() const { return providers_; }

 private:
  [[nodiscard]] Status CheckActor(const Actor& actor) const;
  [[nodiscard]] TimePoint DeadlineFrom(TimePoint now) const;
  [[nodiscard]] Status CheckReason(std::string_view reason, bool required) const;
  // Why `original` cannot be undone under the rules above, or empty.
  [[nodiscard]] Status Undoable(const Action& original) const;
  void WakeEngine();

  Store& store_;
  Engine* engine_;
  const std::set<Provider> providers_;
  const ActionServiceOptions options_;
};

}  // namespace cordon
