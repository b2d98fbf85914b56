// Connector: how Cordon acts on one provider (ad, entra, okta).
//
// A connector reads the account's current state, changes it only if needed
// (already in the target state = success, noted), and reports the provider's
// own answer. Errors say whether a retry can help (Error::retryable).
//
// Thread-safety: an instance is used by one engine worker at a time; the
// engine makes one instance per worker through the ConnectorRegistry, so an
// instance may keep a connection without locking.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/action.h"
#include "core/error.h"

namespace cordon {

struct ExecutionOutcome {
  bool already_in_state = false;  // nothing to change; still a success
  std::string message;            // for the action center
  std::string resolved_account;   // e.g. the DN of the account
  ProviderAnswer provider_answer;
};

// What the user page shows of an account.
struct AccountView {
  std::string id;            // provider's stable id (objectGUID for ad)
  std::string display_name;
  std::string principal;     // sAMAccountName / login
  std::string upn;
  std::string distinguished_name;
  std::string sid;
  bool enabled = true;
  bool must_change_password = false;
};

class Connector {
 public:
  virtual ~Connector() = default;

  [[nodiscard]] virtual Provider provider() const = 0;
  [[nodiscard]] virtual bool Supports(ActionType type) const = 0;

  [[nodiscard]] virtual Result<ExecutionOutcome> Execute(const Action& action) = 0;

  // Executes several actions; the default runs them one by one. A connector
  // overrides it to share round trips (e.g. one LDAP search for all targets).
  // Returns one result per action, in order.
  [[nodiscard]] virtual std::vector<Result<ExecutionOutcome>> ExecuteBatch(std::span<const Action> actions) {
    std::vector<Result<ExecutionOutcome>> out;
    out.reserve(actions.size());
    for (const Action& a : actions) out.push_back(Execute(a));
    return out;
  }

  [[nodiscard]] virtual Result<AccountView> Lookup(const std::string& account) = 0;
};

}  // namespace cordon
