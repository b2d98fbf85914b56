// Engine: the workers that carry stored actions out on the providers.
//
// Per provider, a pool of workers and one Governor (governor.h) they share.
// Each worker owns one Connector (made by the provider's ConnectorFactory, so
// it may keep a connection) and loops: ask the governor how much work may go
// to the provider now, claim that much due work from the Store under a
// lease, execute it as a batch, report each outcome with FinishAttempt.
//
// What a failure costs depends on whose it is (Error::blame):
// * the action's: a retryable error schedules a retry with capped, jittered
//   exponential backoff (retry.h, honouring the provider's hint) and spends
//   an attempt; anything else fails at once with the provider's own words;
// * the provider's (unreachable, hung, credentials refused, throttled): the
//   action goes back to pending without spending an attempt, and the
//   governor holds or pauses the provider; while paused, one worker probes it
//   (Connector::Probe) and work resumes when it answers.
// Every action also has a time budget (Action::deadline): once spent, the
// action fails, naming the outage that kept it from running.
//
// Before a connector changes an account it reports what it saw
// (ExecutionContext::record_observations); the engine stores that before the
// change is sent, so an undo knows what to restore even after a crash.
//
// An action the catalogue marks Cordon-only (core/catalogue.h: an AD or Okta
// account marked compromised, or its dismiss) never reaches Execute: the
// worker resolves the account with the connector's Lookup (for its immutable
// id; an undo already has it), records what Cordon's risk level was, and
// reports success; the store sets or clears the level as it records it.
//
// One lease keeper thread renews the leases of batches still in flight (so a
// long batch is never handed to someone else), returns actions whose lease
// expired — a crashed node's work — to pending, and fails actions whose time
// budget ran out, every lease/3.
//
// Reads outside the action queue (Read): the inventory lists a provider's
// accounts and looks accounts up through the engine, because the engine is
// the one place that owns a provider's pacing. A read gets a connector
// instance of its own (made by the provider's factory, kept for the next
// read) and an ExecutionContext whose Pace and ReportRateLimit go to the
// provider's governor, so reads and actions share one rate budget and the
// provider's own limits. A read is refused while the provider is paused or
// held: the provider is not to be called then, and containment comes first.
//
// Finished actions (SetFinishedHook): when an action reaches a final
// status, the hook is told, on the worker's thread, after the store
// recorded it (the inventory reads the account again).
//
// Work starts at once after Wake() (the ActionService calls it after storing
// new work, a governor when its provider resumes); otherwise workers poll
// every poll_interval.
//
// Thread-safety: every public method may be called from any thread. The Store
// must outlive the Engine. Stop() is graceful: in-flight batches finish and are
// recorded, so a stopped engine leaves nothing in_progress.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/registry.h"
#include "core/action.h"
#include "engine/governor.h"
#include "engine/retry.h"
#include "store/store.h"

namespace cordon {

struct EngineOptions {
  Millis lease{30000};
  Millis poll_interval{250};
  Millis backoff_initial{500};
  Millis backoff_max{60000};
  // Probe and hold timings for every provider; the rate budget comes with
  // each provider's settings (AddWorkers).
  GovernorOptions governor;
};

// Counters for /metrics, since the engine started.
struct ProviderStats {
  int64_t executed = 0;  // actions handed to a connector
  int64_t succeeded = 0;
  int64_t failed = 0;           // permanent errors, unsupported actions, retries given up, budgets spent
  int64_t retried = 0;          // the action's transient errors, scheduled for another attempt
  int64_t provider_errors = 0;  // the provider's failures: the action waits, spending nothing
  int64_t out_of_time = 0;      // pending actions failed because their time budget ran out
};

struct EngineStats {
  std::map<Provider, ProviderStats> providers;
  int64_t leases_recovered = 0;  // expired leases returned to pending
  int64_t results_dropped = 0;   // outcomes refused because the lease was lost
  int workers = 0;
  int workers_without_connector = 0;  // the factory is failing (provider down or misconfigured)
};

class Engine {
 public:
  Engine(Store& store, EngineOptions options);
  ~Engine();  // Stop()
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Adds settings.workers workers for `provider`, which claim up to
  // settings.batch_size actions at a time within its rate budget. Call once
  // per provider. Workers added after Start() start at once.
  void AddWorkers(Provider provider, ConnectorFactory factory, const ProviderSettings& settings);
  void Start();
  // Graceful: waits for in-flight batches to be executed and recorded.
  void Stop();
  // New work was stored: idle workers look for it now rather than at the next poll.
  void Wake();

  // Runs `read` against `provider` now, on the caller's thread, with a
  // connector instance of its own and a context paced by the provider's
  // governor until `deadline` (epoch: none). No observation is recorded.
  // kFailedPrecondition when the provider is not configured; kUnavailable
  // (blamed on the provider, with a retry hint) while it is paused or held.
  // A throttling answer the read meets holds the provider as an action's
  // would; its other failures stay the read's (a provider that refuses to
  // list its accounts may still take actions). Any thread.
  using ProviderRead = std::function<Status(Connector& connector, const ExecutionContext& context)>;
  [[nodiscard]] Status Read(Provider provider, TimePoint deadline, const ProviderRead& read);

  // Whether actions of `provider` are due or being carried out now: reads
  // that can wait (a refresh) leave the provider's budget to them.
  [[nodiscard]] bool ActionsUnderWay(Provider provider);
  // The buckets of the provider's own rate limits with a live window (the
  // connector's names, e.g. Okta's users.read): a read whose request the
  // connector does not pace itself (Lookup has no context) asks each for a
  // permit, so it cannot spend a window the budget says is spent.
  [[nodiscard]] std::vector<std::string> RateBuckets(Provider provider) const;

  // Called with each action a worker took to a final status (succeeded or
  // failed), as stored, on the worker's thread: it must return quickly.
  // Set before Start().
  using FinishedHook = std::function<void(const Action& action)>;
  void SetFinishedHook(FinishedHook hook);

  [[nodiscard]] EngineStats Stats() const;
  // Each provider's standing (running, held, paused), for /healthz and /metrics.
  [[nodiscard]] std::vector<ProviderHealth> Health() const;
  [[nodiscard]] const EngineOptions& options() const { return options_; }

 private:
  struct Worker;
  struct Pool;
  struct Reader;

  void StartWorker(Worker& w);
  void RunWorker(Worker& w);
  bool EnsureConnector(Worker& w, uint64_t generation);
  void RunProbe(Worker& w);
  void RunBatch(Worker& w, std::vector<Action> claimed);
  void Finish(Worker& w, const Action& action, AttemptReport report);
  AttemptReport RunCordonOnly(Worker& w, const Action& action);
  void RunLeaseKeeper();
  void FailOverdue(TimePoint now);
  // Waits up to `d`, returning early on Stop() or, if `wakeable`, on a Wake()
  // after `seen_generation`. Returns false once stopping.
  bool Wait(Millis d, uint64_t seen_generation, bool wakeable);
  uint64_t Generation();
  void Count(Provider p, ActionStatus to, AttemptOutcome outcome);

  Store& store_;
  const EngineOptions options_;
  const BackoffPolicy backoff_;
  const std::string instance_;  // distinguishes this process's workers from a crashed predecessor's

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  bool running_ = false;
  bool stopping_ = false;
  uint64_t generation_ = 0;
  std::map<Provider, std::unique_ptr<Pool>> pools_;
  std::list<std::unique_ptr<Worker>> workers_;
  std::thread lease_keeper_;
  EngineStats stats_;
  std::shared_ptr<const FinishedHook> finished_hook_;
};

}  // namespace cordon
