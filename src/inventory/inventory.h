// Inventory: keeps the identity inventory (inventory_store.h) in step with
// the providers.
//
// Sync: per configured provider, a complete listing (Connector::ListAccounts)
// through the engine's paced read path (Engine::Read: the provider's rate
// budget and its own limits hold, and nothing is read from a paused or held
// provider); then the accounts are correlated with every other provider's
// (correlate.h) and stored in one write (InventoryStore::ReplaceAccounts):
// new accounts added, known ones updated, those no longer listed removed. A
// listing that fails keeps the provider's previous accounts and records the
// error. Syncs run at start, then every sync_interval (0: only on demand),
// and on demand (RequestSync); one per provider at a time, so a request
// while one runs joins it. While a listing runs, Runs() shows how many
// accounts it has read.
//
// Refresh: when an action that changes what the inventory shows succeeds at
// a provider (the engine's finished hook: ActionFinished), its account is
// read again (Connector::Lookup by the immutable id the action resolved to,
// through the same paced read path) and written
// (InventoryStore::UpsertAccounts), so the user page shows the new state at
// once. Refreshes run on a thread of their own, never the worker's; a
// refresh already queued for the same account absorbs a repeat. Actions come
// first: a provider's refreshes wait while it has actions due or under way,
// and a burst of them (a bulk action) becomes one sync of the provider. A
// refresh that does not change what correlates the account (its SID, UPN,
// mail) touches only its identity; one that does correlates everything again.
//
// A write names the generation of the snapshot it was correlated on, so a
// concurrent writer (another node) makes it start again, never interleave.
//
// Thread-safety: every public method may be called from any thread. The
// store and the engine must outlive the Inventory; Stop() before either goes.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/action.h"
#include "core/error.h"
#include "engine/engine.h"
#include "inventory/inventory_store.h"

namespace cordon {

struct InventoryOptions {
  // Between the end of one sync of a provider and the start of the next;
  // zero: only on demand. The first sync runs at Start().
  Millis sync_interval{900'000};
  // How long a listing may take, waits for the rate budget included.
  Millis sync_timeout{3'600'000};
  // How long the lookup of one refresh may take.
  Millis refresh_timeout{30'000};
  // More refreshes than this waiting for one provider (a bulk action)
  // become one sync of it: a listing is paced page by page, and costs a
  // request per page rather than one per account.
  size_t refreshes_before_sync = 100;
  // While the provider has actions due or under way, its refreshes wait
  // (they would spend the budget the actions need); asked again this often.
  Millis refresh_backoff{500};
};

// At most this many accounts are taken from one provider's listing; a
// larger one fails rather than exhaust the server's memory.
inline constexpr size_t kMaxListedAccounts = 2'000'000;

class Inventory {
 public:
  Inventory(InventoryStore& store, Engine& engine, std::set<Provider> providers, InventoryOptions options = {});
  ~Inventory();  // Stop()
  Inventory(const Inventory&) = delete;
  Inventory& operator=(const Inventory&) = delete;

  // Starts the syncs (one at once per provider, then on schedule) and the refreshes.
  void Start();
  // Ends a listing in progress (its accounts stay as they were), waits for
  // the threads. Refreshes still queued are dropped.
  void Stop();

  [[nodiscard]] const std::set<Provider>& providers() const { return providers_; }

  // Asks for a sync of `provider` now, or of every configured provider; one
  // already running is joined. kFailedPrecondition for a provider that is
  // not configured, or before Start(). Returns the runs asked for.
  [[nodiscard]] Result<std::vector<SyncRun>> RequestSync(std::optional<Provider> provider = std::nullopt);
  // RequestSync of one provider, then waits until that sync finished; its run.
  [[nodiscard]] Result<SyncRun> SyncAndWait(Provider provider);
  // Each configured provider's sync: the one running (accounts read so far)
  // or the last one, with when the next is due.
  [[nodiscard]] std::vector<SyncRun> Runs() const;

  // The engine's finished hook: a succeeded action's account is refreshed
  // (queued; returns at once). Actions that change nothing the inventory
  // shows (Cordon-only marks, whose level is read from the action center;
  // session revocations) are left alone.
  void ActionFinished(const Action& action);
  // Reads the account (its id, or a name the connector resolves) again and
  // writes it, on the caller's thread.
  [[nodiscard]] Status Refresh(Provider provider, const std::string& account);
  // Waits until no refresh is queued or running.
  void WaitForRefreshes();

 private:
  struct ProviderSync {
    Provider provider = Provider::kActiveDirectory;
    bool requested = false;
    bool running = false;
    TimePoint started_at{};
    TimePoint next_at{};
    uint64_t finished = 0;  // syncs finished so far
    SyncRun last;           // the last finished (or stored) run
    std::atomic<int64_t> progress{0};
    std::thread thread;
  };

  // Asks for a sync of `p` unless one runs or is asked for; the count of
  // finished syncs at which it will have finished. Under mu_.
  uint64_t Ask(ProviderSync& p);
  void RunSyncs(ProviderSync& p);
  SyncRun SyncOnce(Provider provider, TimePoint started, std::atomic<int64_t>& progress);
  [[nodiscard]] Result<InventoryWriteResult> StoreListing(Provider provider, std::vector<AccountView>& listed,
                                                          const SyncRun& run);
  [[nodiscard]] Status StoreRefreshed(AccountView view);
  void RunRefreshes();
  [[nodiscard]] SyncRun RunOf(const ProviderSync& p) const;  // under mu_

  InventoryStore& store_;
  Engine& engine_;
  const std::set<Provider> providers_;
  const InventoryOptions options_;
  std::atomic<bool> stopping_{false};
  // Correlations and writes, one at a time in this process (the generation
  // fences them against other processes).
  std::mutex write_mu_;

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;       // work for a runner: a request, a refresh, Stop
  std::condition_variable done_cv_;  // a sync finished, the refresh queue drained
  bool started_ = false;
  std::map<Provider, std::unique_ptr<ProviderSync>> syncs_;
  std::deque<std::pair<Provider, std::string>> refresh_queue_;
  std::set<std::pair<Provider, std::string>> queued_;
  int refreshing_ = 0;
  std::thread refresher_;
};

}  // namespace cordon
