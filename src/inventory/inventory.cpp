#include "inventory/inventory.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <spdlog/spdlog.h>

#include "core/catalogue.h"
#include "inventory/correlate.h"

namespace cordon {
namespace {

// A write that met another writer's change correlates again, this often.
constexpr int kWriteTries = 3;

// A sync's listing and correlation are large and short-lived, and each
// provider's runs on a thread (so a malloc arena) of its own: without this,
// glibc keeps what they freed, and the server stays as large as the largest
// sync. Once per sync, the cost is nothing.
void ReleaseFreedMemory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

std::string Describe(const Error& e) {
  return e.provider_code.empty() ? e.message : e.message + " (" + e.provider_code + ")";
}

bool SameKey(std::string_view a, std::string_view b) { return LowerAscii(a) == LowerAscii(b); }

bool SameAccount(const AccountKeys& k, Provider provider, std::string_view id) {
  return k.provider == provider && SameKey(k.id, id);
}

// What a correlation decides for the accounts it is asked about: the
// written accounts' identities, the other accounts it moved, and the
// headers of every identity those belong to.
struct Placement {
  std::vector<std::string> identity_of_written;
  std::vector<AccountPlacement> moved;
  std::vector<IdentityHeader> identities;
};

// `keys` = the accounts kept (their identity_id: where they are now), then
// the `written` accounts, which start at `first_written`.
Placement Place(const std::vector<AccountKeys>& keys, size_t first_written) {
  const Correlation c = Correlate(keys);
  Placement out;
  std::vector<bool> used(c.identities.size(), false);
  for (size_t i = 0; i < keys.size(); ++i) {
    const size_t identity = c.identity_of[i];
    const std::string& id = c.identities[identity].id;
    if (i >= first_written) {
      out.identity_of_written.push_back(id);
      used[identity] = true;
    } else if (keys[i].identity_id != id) {
      out.moved.push_back({keys[i].provider, keys[i].id, id});
      used[identity] = true;
    }
  }
  for (size_t i = 0; i < c.identities.size(); ++i)
    if (used[i]) out.identities.push_back(c.identities[i]);
  return out;
}

}  // namespace

Inventory::Inventory(InventoryStore& store, Engine& engine, std::set<Provider> providers, InventoryOptions options)
    : store_(store), engine_(engine), providers_(std::move(providers)), options_(options) {
  for (Provider p : providers_) {
    auto sync = std::make_unique<ProviderSync>();
    sync->provider = p;
    sync->last.provider = p;
    syncs_.emplace(p, std::move(sync));
  }
}

Inventory::~Inventory() { Stop(); }

void Inventory::Start() {
  auto stored = store_.ListSyncRuns();
  if (!stored) spdlog::warn("inventory: cannot read the last syncs: {}", stored.error().message);
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  stopping_ = false;
  const TimePoint now = Now();
  for (auto& [provider, sync] : syncs_) {
    if (stored)
      for (const SyncRun& run : *stored)
        if (run.provider == provider) sync->last = run;
    sync->next_at = now;
    ProviderSync& p = *sync;
    p.thread = std::thread([this, &p] { RunSyncs(p); });
  }
  refresher_ = std::thread([this] { RunRefreshes(); });
  spdlog::info("inventory: syncing {} provider(s) now and {}", syncs_.size(),
               options_.sync_interval.count() > 0
                   ? "every " + std::to_string(options_.sync_interval.count() / 1000) + " s"
                   : std::string("on demand"));
}

void Inventory::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    if (!started_) return;
    stopping_ = true;
    for (auto& [provider, sync] : syncs_)
      if (sync->thread.joinable()) threads.push_back(std::move(sync->thread));
    if (refresher_.joinable()) threads.push_back(std::move(refresher_));
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
  std::lock_guard lock(mu_);
  started_ = false;
  refresh_queue_.clear();
  queued_.clear();
  done_cv_.notify_all();
}

SyncRun Inventory::RunOf(const ProviderSync& p) const {
  SyncRun run = p.last;
  run.provider = p.provider;
  if (p.running || p.requested) {
    run.running = true;
    run.started_at = p.started_at;
    run.finished_at = TimePoint{};
    run.accounts = p.progress.load();
    run.error.clear();
  }
  if (options_.sync_interval.count() > 0 && started_) run.next_at = p.next_at;
  return run;
}

std::vector<SyncRun> Inventory::Runs() const {
  std::lock_guard lock(mu_);
  std::vector<SyncRun> out;
  for (const auto& [provider, sync] : syncs_) out.push_back(RunOf(*sync));
  return out;
}

Result<std::vector<SyncRun>> Inventory::RequestSync(std::optional<Provider> provider) {
  std::vector<SyncRun> out;
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopping_) return Fail(Error::FailedPrecondition("the inventory is not running"));
    if (provider && !syncs_.count(*provider))
      return Fail(Error::FailedPrecondition("the " + std::string(ToString(*provider)) + " provider is not configured"));
    for (auto& [p, sync] : syncs_) {
      if (provider && p != *provider) continue;
      Ask(*sync);
      out.push_back(RunOf(*sync));
    }
  }
  cv_.notify_all();
  return out;
}

uint64_t Inventory::Ask(ProviderSync& p) {
  if (!p.running && !p.requested) {
    p.requested = true;
    p.started_at = Now();
    p.progress = 0;
  }
  // The one running, or the one asked for: the next to finish either way.
  return p.finished + 1;
}

Result<SyncRun> Inventory::SyncAndWait(Provider provider) {
  std::unique_lock lock(mu_);
  if (!started_ || stopping_) return Fail(Error::FailedPrecondition("the inventory is not running"));
  const auto it = syncs_.find(provider);
  if (it == syncs_.end())
    return Fail(Error::FailedPrecondition("the " + std::string(ToString(provider)) + " provider is not configured"));
  ProviderSync& p = *it->second;
  const uint64_t target = Ask(p);
  cv_.notify_all();
  done_cv_.wait(lock, [&] { return stopping_ || p.finished >= target; });
  if (p.finished < target) return Fail(Error::Unavailable("the inventory stopped before the sync finished"));
  return RunOf(p);
}

void Inventory::RunSyncs(ProviderSync& p) {
  std::unique_lock lock(mu_);
  while (true) {
    const bool scheduled = options_.sync_interval.count() > 0 || p.finished == 0;
    auto due = [&] { return stopping_ || p.requested || (scheduled && Now() >= p.next_at); };
    if (scheduled)
      cv_.wait_until(lock, Clock::time_point(p.next_at), due);
    else
      cv_.wait(lock, due);
    if (stopping_) return;
    if (!due()) continue;
    if (!p.requested) {
      p.started_at = Now();
      p.progress = 0;
    }
    p.requested = false;
    p.running = true;
    const TimePoint started = p.started_at;
    lock.unlock();
    SyncRun run = SyncOnce(p.provider, started, p.progress);
    lock.lock();
    p.running = false;
    p.last = std::move(run);
    ++p.finished;
    p.next_at = Now() + options_.sync_interval;
    done_cv_.notify_all();
  }
}

SyncRun Inventory::SyncOnce(Provider provider, TimePoint started, std::atomic<int64_t>& progress) {
  const std::string name(ToString(provider));
  SyncRun run;
  run.provider = provider;
  run.started_at = started;
  std::vector<AccountView> listed;
  // One account per id: a provider that serves an account twice (a page
  // boundary moving under a long listing) lists it once.
  std::unordered_map<std::string, size_t> index;
  const auto deadline = started + options_.sync_timeout;
  Status listing = engine_.Read(provider, deadline, [&](Connector& connector, const ExecutionContext& context) {
    ExecutionContext paced = context;
    paced.pace = [this, &context](std::string_view bucket) -> Status {
      if (stopping_) return Fail(Error::Unavailable("Cordon is stopping"));
      return context.Pace(bucket);
    };
    return connector.ListAccounts(paced, [&](std::vector<AccountView>&& page) -> Status {
      if (stopping_) return Fail(Error::Unavailable("Cordon is stopping"));
      for (AccountView& account : page) {
        if (account.provider != provider || account.id.empty())
          return Fail(Error::Internal("the " + name + " connector listed an account without an id of its own"));
        const auto [it, inserted] = index.emplace(LowerAscii(account.id), listed.size());
        if (inserted)
          listed.push_back(std::move(account));
        else
          listed[it->second] = std::move(account);
      }
      if (listed.size() > kMaxListedAccounts)
        return Fail(Error::ResourceExhausted("the listing holds more than " + std::to_string(kMaxListedAccounts) +
                                             " accounts"));
      progress = static_cast<int64_t>(listed.size());
      return {};
    });
  });
  run.accounts = static_cast<int64_t>(listed.size());
  if (listing) {
    auto stored = StoreListing(provider, listed, run);
    listed = {};
    index = {};
    ReleaseFreedMemory();
    if (stored) {
      run.finished_at = Now();
      const auto seconds = std::chrono::duration<double>(run.finished_at - started).count();
      spdlog::info("inventory: {} listed {} account(s) in {:.1f} s: {} added, {} changed, {} removed; {} identities "
                   "changed",
                   name, run.accounts, seconds, stored->added, stored->updated, stored->removed, stored->identities);
      return run;
    }
    listing = Fail(stored.error());
  }
  run.finished_at = Now();
  run.error = Describe(listing.error());
  spdlog::warn("inventory: the {} sync failed after {} account(s); its accounts stay as they were: {}", name,
               run.accounts, run.error);
  if (auto recorded = store_.RecordSyncRun(run); !recorded)
    spdlog::error("inventory: cannot record the {} sync: {}", name, recorded.error().message);
  return run;
}

Result<InventoryWriteResult> Inventory::StoreListing(Provider provider, std::vector<AccountView>& listed,
                                                     const SyncRun& run) {
  std::lock_guard lock(write_mu_);
  for (int attempt = 1;; ++attempt) {
    // The other providers' accounts, then this listing's.
    auto snapshot = store_.AccountsForCorrelation(provider);
    if (!snapshot) return Fail(snapshot.error());
    std::vector<AccountKeys> keys = std::move(snapshot->accounts);
    keys.reserve(keys.size() + listed.size());
    const size_t first = keys.size();
    for (const AccountView& a : listed) keys.push_back(KeysOf(a));
    Placement placed = Place(keys, first);
    keys.clear();
    keys.shrink_to_fit();

    InventoryWrite write;
    write.generation = snapshot->generation;
    write.moved = std::move(placed.moved);
    write.identities = std::move(placed.identities);
    write.accounts.reserve(listed.size());
    for (size_t i = 0; i < listed.size(); ++i)
      write.accounts.push_back(
          {std::move(listed[i]), std::move(placed.identity_of_written[i]), run.started_at, std::nullopt});
    auto written = store_.ReplaceAccounts(provider, write, run);
    if (written || written.error().code != ErrorCode::kConflict || attempt >= kWriteTries) return written;
    for (size_t i = 0; i < listed.size(); ++i) listed[i] = std::move(write.accounts[i].account);
    spdlog::info("inventory: the inventory changed while {} was correlated; correlating again", ToString(provider));
  }
}

void Inventory::ActionFinished(const Action& action) {
  if (action.status != ActionStatus::kSucceeded || IsCordonOnly(action.provider, action.type)) return;
  // Sessions are not part of what the inventory keeps of an account.
  if (action.type == ActionType::kRevokeSessions) return;
  if (!providers_.count(action.provider)) return;
  // The immutable id the action resolved to; the name it was asked for
  // when the provider gave none.
  std::pair<Provider, std::string> key{action.provider, action.account_id.empty() ? action.target : action.account_id};
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopping_ || queued_.count(key)) return;
    ProviderSync& sync = *syncs_.at(key.first);
    const size_t waiting = static_cast<size_t>(std::count_if(
        refresh_queue_.begin(), refresh_queue_.end(), [&](const auto& k) { return k.first == key.first; }));
    if (waiting >= options_.refreshes_before_sync) {
      // A sync reads them all, and those queued with them.
      std::erase_if(refresh_queue_, [&](const auto& k) { return k.first == key.first; });
      std::erase_if(queued_, [&](const auto& k) { return k.first == key.first; });
      if (!sync.running && !sync.requested)
        spdlog::info("inventory: {} accounts of {} changed at once: a sync reads them", waiting + 1,
                     ToString(key.first));
      Ask(sync);
    } else {
      queued_.insert(key);
      refresh_queue_.push_back(std::move(key));
    }
  }
  cv_.notify_all();
}

void Inventory::WaitForRefreshes() {
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] { return !started_ || (refresh_queue_.empty() && refreshing_ == 0); });
}

void Inventory::RunRefreshes() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !refresh_queue_.empty(); });
    if (stopping_) return;
    auto key = std::move(refresh_queue_.front());
    refresh_queue_.pop_front();
    ++refreshing_;
    lock.unlock();
    if (engine_.ActionsUnderWay(key.first)) {
      // Actions first: this one waits at the back of the queue.
      lock.lock();
      --refreshing_;
      refresh_queue_.push_back(std::move(key));
      cv_.wait_for(lock, options_.refresh_backoff, [&] { return stopping_.load(); });
      continue;
    }
    lock.lock();
    // Taken off the set before the read: an action finishing during this
    // read queues another, which reads what this one may have missed.
    queued_.erase(key);
    lock.unlock();
    if (auto done = Refresh(key.first, key.second); !done)
      spdlog::warn("inventory: cannot refresh {} account {}: {}", ToString(key.first), key.second,
                   Describe(done.error()));
    lock.lock();
    --refreshing_;
    if (refresh_queue_.empty() && refreshing_ == 0) done_cv_.notify_all();
  }
}

Status Inventory::Refresh(Provider provider, const std::string& account) {
  if (!providers_.count(provider))
    return Fail(Error::FailedPrecondition("the " + std::string(ToString(provider)) + " provider is not configured"));
  AccountView view;
  auto read = engine_.Read(provider, Now() + options_.refresh_timeout,
                           [&](Connector& connector, const ExecutionContext& context) -> Status {
                             // Lookup takes no context: its one request is paced here, by
                             // Cordon's budget and by every live window of the provider's
                             // own limits (whichever its request counts against).
                             if (auto paced = context.Pace(); !paced) return paced;
                             for (const std::string& bucket : engine_.RateBuckets(provider))
                               if (auto paced = context.Pace(bucket); !paced) return paced;
                             auto found = connector.Lookup(account);
                             if (!found) return Fail(found.error());
                             view = std::move(*found);
                             return {};
                           });
  if (!read) return read;
  if (view.id.empty() || view.provider != provider)
    return Fail(Error::Internal("the " + std::string(ToString(provider)) + " connector's lookup gave no id of its own"));
  return StoreRefreshed(std::move(view));
}

Status Inventory::StoreRefreshed(AccountView view) {
  std::lock_guard lock(write_mu_);
  const Provider provider = view.provider;
  for (int attempt = 1;; ++attempt) {
    InventoryWrite write;
    AccountKeys fresh = KeysOf(view);
    auto members = store_.IdentityMembersOf(provider, view.id);
    if (!members) return Fail(members.error());
    const auto known = std::find_if(members->accounts.begin(), members->accounts.end(),
                                    [&](const AccountKeys& k) { return SameAccount(k, provider, view.id); });
    if (known != members->accounts.end() && SameKey(known->sid, fresh.sid) && SameKey(known->upn, fresh.upn) &&
        SameKey(known->mail, fresh.mail)) {
      // Nothing that correlates it changed: it stays in its identity, whose
      // header may still change (a renamed anchor).
      fresh.identity_id = known->identity_id;
      *known = fresh;
      write.generation = members->generation;
      write.identities.push_back(HeaderOf(members->accounts));
      write.accounts.push_back({std::move(view), fresh.identity_id, Now(), std::nullopt});
    } else {
      auto snapshot = store_.AccountsForCorrelation(std::nullopt);
      if (!snapshot) return Fail(snapshot.error());
      std::vector<AccountKeys> keys;
      keys.reserve(snapshot->accounts.size() + 1);
      for (AccountKeys& k : snapshot->accounts)
        if (!SameAccount(k, provider, view.id)) keys.push_back(std::move(k));
      const size_t first = keys.size();
      keys.push_back(std::move(fresh));
      Placement placed = Place(keys, first);
      write.generation = snapshot->generation;
      write.moved = std::move(placed.moved);
      write.identities = std::move(placed.identities);
      write.accounts.push_back({view, placed.identity_of_written.front(), Now(), std::nullopt});
    }
    auto written = store_.UpsertAccounts(write);
    if (written) return {};
    if (written.error().code != ErrorCode::kConflict || attempt >= kWriteTries) return Fail(written.error());
  }
}

}  // namespace cordon
