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
#include "store/store.h"

namespace cordon {

class Engine;

struct SubmitRequest {
  ActionType type = ActionType::kDisable;
  Provider provider = Provider::kActiveDirectory;
  std::vector<std::string> targets;  // one account, or many for a bulk request
  std::string reason;                // why; required, shown in the action center
  std::string actor;                 // who asks (token name); recorded in the audit trail
};

struct ActionServiceOptions {
  int max_attempts = 5;     // per action, before a transient failure becomes final
  size_t max_bulk = 10000;  // targets per request
  size_t max_target_len = 512;
  size_t max_reason_len = 2048;
  size_t max_actor_len = 256;
};

class ActionService {
 public:
  // `engine` may be null (e.g. a CLI that only records work): then nothing is woken.
  ActionService(Store& store, Engine* engine, std::set<Provider> configured_providers,
                ActionServiceOptions options = {});

  // Stores one action per distinct target (duplicates are merged, order kept).
  [[nodiscard]] Result<std::vector<Action>> Submit(const SubmitRequest& request);

  // pending | awaiting_approval -> cancelled.
  [[nodiscard]] Result<Action> Cancel(std::string_view id, std::string_view actor, std::string_view reason);

  // Creates the action that reverses a succeeded one, linked both ways.
  [[nodiscard]] Result<Action> Undo(std::string_view id, std::string_view actor, std::string_view reason);

 private:
  [[nodiscard]] Status CheckActor(std::string_view actor) const;
  [[nodiscard]] Status CheckReason(std::string_view reason, bool required) const;
  void WakeEngine();

  Store& store_;
  Engine* engine_;
  const std::set<Provider> providers_;
  const ActionServiceOptions options_;
};

}  // namespace cordon
