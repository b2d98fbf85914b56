// Engine: the workers that carry stored actions out on the providers.
//
// Per provider, a pool of workers; each owns one Connector (made by the
// provider's ConnectorFactory, so it may keep a connection) and loops:
// claim due actions from the Store under a lease, execute them as a batch,
// report each outcome with FinishAttempt. A retryable Error schedules a retry
// with capped, jittered exponential backoff (retry.h); anything else fails at
// once with the provider's own words; success records whether the account was
// already in the target state, the provider's answer and the resolved account.
//
// One lease keeper thread renews the leases of batches still in flight (so a
// long batch is never handed to someone else) and returns actions whose lease
// expired — a crashed node's work — to pending, every lease/3.
//
// Work starts at once after Wake() (the ActionService calls it after storing
// new work); otherwise workers poll every poll_interval.
//
// Thread-safety: every public method may be called from any thread. The Store
// must outlive the Engine. Stop() is graceful: in-flight batches finish and are
// recorded, so a stopped engine leaves nothing in_progress.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/registry.h"
#include "core/action.h"
#include "engine/retry.h"
#include "store/store.h"

namespace cordon {

struct EngineOptions {
  Millis lease{30000};
  Millis poll_interval{250};
  Millis backoff_initial{500};
  Millis backoff_max{60000};
  int batch_size{50};
};

// Counters for /metrics, since the engine started.
struct ProviderStats {
  int64_t executed = 0;  // actions handed to a connector
  int64_t succeeded = 0;
  int64_t failed = 0;   // permanent errors, unsupported actions, retries given up
  int64_t retried = 0;  // transient errors scheduled for another attempt
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

  // Adds `count` workers for `provider`. Workers added after Start() start at once.
  void AddWorkers(Provider provider, ConnectorFactory factory, int count);
  void Start();
  // Graceful: waits for in-flight batches to be executed and recorded.
  void Stop();
  // New work was stored: idle workers look for it now rather than at the next poll.
  void Wake();

  [[nodiscard]] EngineStats Stats() const;
  [[nodiscard]] const EngineOptions& options() const { return options_; }

 private:
  struct Worker;

  void StartWorker(Worker& w);
  void RunWorker(Worker& w);
  void RunBatch(Worker& w, std::vector<Action> claimed);
  void Finish(Worker& w, const Action& action, AttemptReport report);
  void RunLeaseKeeper();
  // Waits up to `d`, returning early on Stop() or, if `wakeable`, on a Wake()
  // after `seen_generation`. Returns false once stopping.
  bool Wait(Millis d, uint64_t seen_generation, bool wakeable);
  uint64_t Generation();
  void Count(Provider p, ActionStatus to);

  Store& store_;
  const EngineOptions options_;
  const BackoffPolicy backoff_;
  const std::string instance_;  // distinguishes this process's workers from a crashed predecessor's

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  bool running_ = false;
  bool stopping_ = false;
  uint64_t generation_ = 0;
  std::list<std::unique_ptr<Worker>> workers_;
  std::thread lease_keeper_;
  EngineStats stats_;
};

}  // namespace cordon
