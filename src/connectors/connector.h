// Connector: how Cordon acts on one provider (ad, entra, okta).
//
// A connector reads the account's current state, tells the engine what it saw
// (ExecutionContext::RecordObservations) before it changes anything, changes
// the account only if needed (already in the target state = success, noted),
// and reports the provider's own answer. Errors say whether a retry can help
// (Error::retryable), whose problem they are (Error::blame: a provider that
// cannot be worked with at all is paused by the engine instead of failing
// actions) and when the provider asked to be called again (Error::retry_after).
//
// Thread-safety: an instance is used by one engine worker at a time; the
// engine makes one instance per worker through the provider's factory, so an
// instance may keep a connection without locking. What a provider's
// instances share (credentials, OAuth tokens) lives in a thread-safe object
// the factory hands to each of them (connectors/credential_cache.h), so it
// survives an instance being thrown away after a lost connection.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "core/account.h"
#include "core/action.h"
#include "core/error.h"
#include "core/rate_limit.h"

namespace cordon {

struct ExecutionOutcome {
  bool already_in_state = false;  // nothing to change; still a success
  std::string message;            // for the action center
  std::string resolved_account;   // e.g. the DN of the account
  std::string account_id;         // the provider's immutable id (objectGUID for ad)
  ProviderAnswer provider_answer;
};

// What the engine gives a connector for one batch.
struct ExecutionContext {
  // When the work must be done: the engine's lease on the batch runs out soon
  // after. A connector bounds every provider call by it.
  TimePoint deadline{};
  // Records what each account looked like before any change is sent (the
  // undo restores it). Observation::action_id names the action. A connector
  // must not send a change for an action unless this succeeded for it; when
  // it fails, the actions get a retryable error. Empty: nothing to record
  // (e.g. a connection check), and changes go ahead.
  std::function<Status(std::span<const Observation>)> record_observations;
  // Waits until the provider's rate budget allows one more request to
  // `bucket` (the connector's name for the provider's limit the request
  // counts against, the one its answer's report names; "" when the provider
  // has only one). A connector calls it before every request it sends to the
  // provider, so the budget holds for what the provider sees. An error means
  // the budget will not allow a request before the deadline: it is the
  // provider's (Blame::kProvider), with a retry_after hint. Empty: no budget.
  std::function<Status(std::string_view bucket)> pace;
  // Tells the engine what the provider said about its own rate limit in an
  // answer (RateLimitReport::bucket names which), so the budget adapts to it
  // (see engine/governor.h). Empty: nobody listens.
  std::function<void(const RateLimitReport&)> report_rate_limit;

  [[nodiscard]] Status Record(std::span<const Observation> observations) const {
    return record_observations ? record_observations(observations) : Status{};
  }
  [[nodiscard]] Status Pace(std::string_view bucket = {}) const { return pace ? pace(bucket) : Status{}; }
  void ReportRateLimit(const RateLimitReport& report) const {
    if (report_rate_limit) report_rate_limit(report);
  }
  // Milliseconds left before the deadline (at least 1), or `fallback` when no deadline is set.
  [[nodiscard]] Millis Remaining(Millis fallback) const;
};

// What `cordon connectors check` learns of one provider: each thing the action
// account needs (a token, a permission, a licence, a right on an OU), and
// which actions will therefore work, before an analyst finds out mid-incident.
struct CapabilityCheck {
  std::string name;    // e.g. "token", "User.EnableDisableAccount.All", "Identity Protection licence"
  bool ok = false;
  std::string detail;  // what was asked and what the provider answered; never a secret
};
struct ActionReadiness {
  ActionType type = ActionType::kDisable;
  bool ready = false;
  std::string why;  // when not ready: what is missing; when ready: any caveat
};
struct CheckReport {
  std::vector<CapabilityCheck> checks;
  std::vector<ActionReadiness> actions;  // one per action the connector supports
};

class Connector {
 public:
  virtual ~Connector() = default;

  [[nodiscard]] virtual Provider provider() const = 0;
  [[nodiscard]] virtual bool Supports(ActionType type) const = 0;

  [[nodiscard]] virtual Result<ExecutionOutcome> Execute(const Action& action, const ExecutionContext& context) = 0;

  // Executes several actions; the default runs them one by one. A connector
  // overrides it to share round trips (e.g. one LDAP search for all targets).
  // Returns one result per action, in order.
  [[nodiscard]] virtual std::vector<Result<ExecutionOutcome>> ExecuteBatch(std::span<const Action> actions,
                                                                          const ExecutionContext& context) {
    std::vector<Result<ExecutionOutcome>> out;
    out.reserve(actions.size());
    for (const Action& a : actions) out.push_back(Execute(a, context));
    return out;
  }

  // Can the provider be worked with right now, with the action account's
  // credentials? The engine asks this of a paused provider before it lets
  // work through again. Cheap, changes nothing.
  [[nodiscard]] virtual Status Probe(const ExecutionContext& context) = 0;

  [[nodiscard]] virtual Result<AccountView> Lookup(const std::string& account) = 0;

  // Lists every account the action account can see, for the inventory
  // (src/inventory), one page at a time as the provider serves them: `page`
  // is called with each page as it arrives, so a long listing shows progress
  // and memory stays bounded by a page; an error returned by `page` ends the
  // listing and is returned. Every request is paced by `context` as an
  // action's are (ExecutionContext::Pace), so a listing never spends the
  // budget actions need. Changes nothing. The default: kFailedPrecondition,
  // "this provider's connector does not list its accounts".
  [[nodiscard]] virtual Status ListAccounts(const ExecutionContext& context,
                                            const std::function<Status(std::vector<AccountView>&& page)>& page);

  // Asks the provider what the action account may really do; changes
  // nothing. The default only probes the connection and reports every
  // supported action as ready "as far as the connection shows"; a connector
  // that can ask for its permissions overrides it. An error: the provider
  // could not be asked at all (it cannot be reached, or it refuses the
  // action account's credentials: Blame::kProvider).
  [[nodiscard]] virtual Result<CheckReport> Check(const ExecutionContext& context);
};

// Makes a provider's connector instances (one per engine worker); callable
// from any thread.
using ConnectorFactory = std::function<Result<std::unique_ptr<Connector>>()>;

// A connector's own config section, as its loader sees it.
struct ConnectorSection {
  const toml::table& table;  // without the keys the registry reads (ProviderSettings)
  std::string key_path;      // its dotted name for messages, e.g. "connectors.ad"
  std::filesystem::path base_dir;  // relative paths in the section resolve against it

  // `path` as the config means it: absolute as is, relative to base_dir otherwise.
  [[nodiscard]] std::string Resolve(const std::string& path) const;
};

// Validates a section (every error names the key: "connectors.ad.url: ...")
// and returns the factory of its connectors.
using ConnectorLoader = std::function<Result<ConnectorFactory>(const ConnectorSection& section)>;

}  // namespace cordon
