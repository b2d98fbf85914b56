#include "engine/engine.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <exception>
#include <random>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/catalogue.h"

namespace cordon {
namespace {

std::string MakeInstanceId() {
  std::array<char, 64> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  std::random_device rd;
  std::string id = host.data();
  if (id.size() > 32) id.resize(32);
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(rd()));
  return (id.empty() ? "cordon" : id) + "/" + suffix;
}

// How many times a store write is retried when the store itself is busy.
constexpr int kStoreTries = 3;

// Nonsense settings would make every claim fail or the loop spin; the config
// layer validates them, this keeps the engine safe without it.
EngineOptions Sane(EngineOptions o) {
  o.lease = std::max(o.lease, Millis(50));
  o.poll_interval = std::max(o.poll_interval, Millis(1));
  o.backoff_initial = std::max(o.backoff_initial, Millis(1));
  o.backoff_max = std::max(o.backoff_max, o.backoff_initial);
  o.governor.probe_initial = std::max(o.governor.probe_initial, Millis(1));
  o.governor.probe_max = std::max(o.governor.probe_max, o.governor.probe_initial);
  o.governor.failures_to_pause = std::max(o.governor.failures_to_pause, 1);
  return o;
}

// The part of the lease a batch may use: the rest is margin to record the
// outcomes before anyone could take the actions over.
Millis BatchBudget(Millis lease) { return lease - lease / 6; }

}  // namespace

// A connector instance for reads (Engine::Read), and the name it sends its
// requests under to the governor: workers are 0, 1, ...; readers -1, -2, ...
struct Engine::Reader {
  int caller = 0;
  std::unique_ptr<Connector> connector;
};

struct Engine::Pool {
  Provider provider;
  ProviderSettings settings;
  ConnectorFactory factory;
  std::unique_ptr<Governor> governor;
  // Readers not in use, kept with their connections for the next read.
  std::mutex read_mu;
  std::vector<std::unique_ptr<Reader>> idle_readers;
  int readers = 0;
  // One claim at a time, with the count of what is left after it: a count
  // taken before another worker's claim but told after it would make the
  // backlog look bigger than it is until the next claim.
  std::mutex claim_mu;
};

struct Engine::Worker {
  Provider provider;
  int index = 0;  // names the worker to its governor
  Pool* pool = nullptr;
  ConnectorFactory factory;
  std::string id;
  std::thread thread;
  std::mt19937_64 rng{std::random_device{}()};
  std::unique_ptr<Connector> connector;  // touched by the worker thread only
  int factory_failures = 0;              // worker thread only
  // Guarded by Engine::mu_.
  std::vector<std::string> in_flight;
  bool has_connector = false;
};

Engine::Engine(Store& store, EngineOptions options)
    : store_(store),
      options_(Sane(options)),
      backoff_{options_.backoff_initial, options_.backoff_max},
      instance_(MakeInstanceId()) {}

Engine::~Engine() { Stop(); }

void Engine::AddWorkers(Provider provider, ConnectorFactory factory, const ProviderSettings& settings) {
  std::lock_guard lock(mu_);
  auto& pool = pools_[provider];
  if (!pool) {
    pool = std::make_unique<Pool>();
    pool->provider = provider;
    pool->settings = settings;
    pool->factory = factory;
    pool->settings.batch_size = std::clamp(settings.batch_size, 1, kMaxBatchSize);
    GovernorOptions g = options_.governor;
    g.rate_limit = settings.rate_limit;
    g.rate_window = settings.rate_window;
    pool->governor = std::make_unique<Governor>(provider, g, [this] { Wake(); });
  }
  for (int i = 0; i < settings.workers; ++i) {
    auto w = std::make_unique<Worker>();
    w->provider = provider;
    w->index = static_cast<int>(workers_.size());
    w->pool = pool.get();
    w->factory = factory;
    w->id = instance_ + "/" + std::string(ToString(provider)) + "-" + std::to_string(workers_.size() + 1);
    Worker& ref = *w;
    workers_.push_back(std::move(w));
    ++stats_.workers;
    stats_.providers[provider];  // so /metrics shows zeros rather than nothing
    if (running_) StartWorker(ref);
  }
}

void Engine::StartWorker(Worker& w) {
  w.thread = std::thread([this, &w] { RunWorker(w); });
}

void Engine::Start() {
  std::lock_guard lock(mu_);
  if (running_) return;
  running_ = true;
  stopping_ = false;
  for (auto& w : workers_) StartWorker(*w);
  lease_keeper_ = std::thread([this] { RunLeaseKeeper(); });
  for (const auto& [provider, pool] : pools_)
    spdlog::info("engine {}: {} {} workers, batch {}, rate limit {}", instance_, pool->settings.workers,
                 ToString(provider), pool->settings.batch_size,
                 pool->settings.rate_limit > 0 ? std::to_string(pool->settings.rate_limit) + " per " +
                                                     std::to_string(pool->settings.rate_window.count() / 1000) + " s"
                                               : std::string("none"));
}

void Engine::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    stopping_ = true;
    for (auto& w : workers_)
      if (w->thread.joinable()) threads.push_back(std::move(w->thread));
    if (lease_keeper_.joinable()) threads.push_back(std::move(lease_keeper_));
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
  std::lock_guard lock(mu_);
  running_ = false;
  spdlog::info("engine {} stopped", instance_);
}

void Engine::Wake() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

uint64_t Engine::Generation() {
  std::lock_guard lock(mu_);
  return generation_;
}

bool Engine::Wait(Millis d, uint64_t seen_generation, bool wakeable) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return stopping_ || (wakeable && generation_ != seen_generation); });
  return !stopping_;
}

EngineStats Engine::Stats() const {
  std::lock_guard lock(mu_);
  EngineStats s = stats_;
  s.workers_without_connector = 0;
  for (const auto& w : workers_)
    if (!w->has_connector) ++s.workers_without_connector;
  return s;
}

std::vector<ProviderHealth> Engine::Health() const {
  std::vector<const Governor*> governors;
  {
    std::lock_guard lock(mu_);
    for (const auto& [provider, pool] : pools_) governors.push_back(pool->governor.get());
  }
  std::vector<ProviderHealth> out;
  out.reserve(governors.size());
  for (const Governor* g : governors) out.push_back(g->Health());
  return out;
}

void Engine::Count(Provider p, ActionStatus to, AttemptOutcome outcome) {
  std::lock_guard lock(mu_);
  ProviderStats& s = stats_.providers[p];
  if (to == ActionStatus::kSucceeded) ++s.succeeded;
  if (to == ActionStatus::kFailed) ++s.failed;
  if (to == ActionStatus::kPending && outcome == AttemptOutcome::kTransientError) ++s.retried;
  if (outcome == AttemptOutcome::kProviderError) ++s.provider_errors;
}

bool Engine::EnsureConnector(Worker& w, uint64_t generation) {
  if (w.connector) return true;
  Result<std::unique_ptr<Connector>> made = Fail(Error::Internal("no connector"));
  try {
    made = w.factory();
  } catch (const std::exception& e) {
    made = Fail(Error::Internal(std::string("connector factory threw: ") + e.what()));
  }
  if (!made || *made == nullptr) {
    std::string why = made ? "the factory returned nothing" : made.error().message;
    ++w.factory_failures;
    Millis delay = RetryDelay(backoff_, w.factory_failures, std::nullopt, w.rng);
    spdlog::warn("worker {}: cannot make a {} connector ({}); retrying in {} ms", w.id, ToString(w.provider), why,
                 delay.count());
    (void)Wait(delay, generation, false);
    return false;
  }
  w.connector = std::move(*made);
  w.factory_failures = 0;
  std::lock_guard lock(mu_);
  w.has_connector = true;
  return true;
}

void Engine::RunWorker(Worker& w) {
  Governor& governor = *w.pool->governor;
  const int batch = w.pool->settings.batch_size;
  while (true) {
    const uint64_t generation = Generation();
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    if (!EnsureConnector(w, generation)) continue;

    const Governor::Admission admission = governor.Admit(batch, Now());
    if (admission.probe) {
      RunProbe(w);
      continue;
    }
    if (admission.count == 0) {
      if (!Wait(std::min(admission.wait, options_.lease), generation, true)) return;
      continue;
    }

    std::unique_lock claim_lock(w.pool->claim_mu);
    auto claimed = store_.ClaimDue(w.provider, w.id, admission.count, Now(), options_.lease);
    if (!claimed) {
      claim_lock.unlock();
      spdlog::error("worker {}: cannot claim work: {}", w.id, claimed.error().message);
      if (!Wait(options_.poll_interval, generation, false)) return;
      continue;
    }
    // What is still waiting decides how the provider's rate budget is spent
    // (engine/governor.h): all at once when it fits, evenly when it does not.
    // An empty claim already says nothing is due: idle polling costs no count.
    if (claimed->empty()) {
      governor.SetQueued(0);
    } else {
      governor.BeginBatch(w.index, static_cast<int>(claimed->size()));
      if (auto due = store_.CountDue(w.provider, Now())) governor.SetQueued(*due);
    }
    claim_lock.unlock();
    if (claimed->empty()) {
      if (!Wait(options_.poll_interval, generation, true)) return;
      continue;
    }
    RunBatch(w, std::move(*claimed));
  }
}

void Engine::RunProbe(Worker& w) {
  ExecutionContext context;
  context.deadline = Now() + BatchBudget(options_.lease);
  context.pace = [&governor = *w.pool->governor, deadline = context.deadline, caller = w.index](
                     std::string_view bucket) { return governor.AwaitPermit(deadline, bucket, caller); };
  context.report_rate_limit = [&governor = *w.pool->governor, caller = w.index](const RateLimitReport& report) {
    governor.ReportRateLimit(report, Now(), caller);
  };
  Status result = Fail(Error::Internal("the probe did not run"));
  try {
    result = w.connector->Probe(context);
  } catch (const std::exception& e) {
    result = Fail(Error::Internal(std::string("the connector's probe threw: ") + e.what()));
  }
  w.pool->governor->EndBatch(w.index);
  w.pool->governor->ProbeFinished(result, Now());
  // A probe that failed leaves the connector's connection in doubt: the next
  // batch starts from a new one.
  if (!result) {
    w.connector.reset();
    std::lock_guard lock(mu_);
    w.has_connector = false;
  }
}

void Engine::RunBatch(Worker& w, std::vector<Action> claimed) {
  Governor& governor = *w.pool->governor;
  {
    std::lock_guard lock(mu_);
    for (const Action& a : claimed) w.in_flight.push_back(a.id);
  }
  std::vector<Action> runnable;
  runnable.reserve(claimed.size());
  for (Action& a : claimed) {
    if (IsCordonOnly(a.provider, a.type)) {
      Finish(w, a, RunCordonOnly(w, a));
      std::lock_guard lock(mu_);
      std::erase(w.in_flight, a.id);
      continue;
    }
    if (w.connector->Supports(a.type)) {
      runnable.push_back(std::move(a));
      continue;
    }
    TimePoint now = Now();
    AttemptReport r;
    r.action_id = a.id;
    r.worker = w.id;
    r.outcome = AttemptOutcome::kPermanentError;
    r.started_at = now;
    r.finished_at = now;
    r.message =
        "the " + std::string(ToString(a.provider)) + " connector does not support " + std::string(ToString(a.type));
    Finish(w, a, std::move(r));
  }

  if (!runnable.empty()) {
    const TimePoint started = Now();
    ExecutionContext context;
    context.deadline = started + BatchBudget(options_.lease);
    context.record_observations = [this, &w](std::span<const Observation> observations) {
      return store_.RecordObservations(observations, w.id, Now());
    };
    context.pace = [&governor, deadline = context.deadline, caller = w.index](std::string_view bucket) {
      return governor.AwaitPermit(deadline, bucket, caller);
    };
    context.report_rate_limit = [&governor, caller = w.index](const RateLimitReport& report) {
      governor.ReportRateLimit(report, Now(), caller);
    };
    std::vector<Result<ExecutionOutcome>> results;
    try {
      results = w.connector->ExecuteBatch(runnable, context);
    } catch (const std::exception& e) {
      results.clear();
      spdlog::error("worker {}: the {} connector threw: {}", w.id, ToString(w.provider), e.what());
    }
    if (results.size() != runnable.size()) {
      // A connector that breaks its contract gets a fresh instance; its
      // answers cannot be matched to actions, so every action gets a retry.
      results.assign(runnable.size(), Fail(Error::Internal("the connector failed without an answer")));
      for (auto& r : results) r.error().retryable = true;
      w.connector.reset();
    }
    const TimePoint finished = Now();
    {
      std::lock_guard lock(mu_);
      stats_.providers[w.provider].executed += static_cast<int64_t>(runnable.size());
    }
    bool reconnect = false;
    bool answered = false;
    for (size_t i = 0; i < runnable.size(); ++i) {
      const Action& a = runnable[i];
      AttemptReport r;
      r.action_id = a.id;
      r.worker = w.id;
      r.started_at = started;
      r.finished_at = finished;
      if (results[i]) {
        const ExecutionOutcome& out = *results[i];
        r.outcome = AttemptOutcome::kSucceeded;
        r.message = out.message;
        r.already_in_state = out.already_in_state;
        r.resolved_account = out.resolved_account;
        r.account_id = out.account_id;
        r.provider_answer = out.provider_answer;
        answered = true;
      } else {
        const Error& e = results[i].error();
        r.provider_answer = {e.provider_code, e.provider_detail};
        if (e.blame == Blame::kProvider) {
          r.outcome = AttemptOutcome::kProviderError;
          r.message = "the " + std::string(ToString(a.provider)) +
                      " provider could not be worked with (not counted against this action): " + e.message;
          r.retry_at = finished + governor.RetryDelay(e);
          governor.Failed(e, finished);
        } else {
          r.outcome = e.retryable ? AttemptOutcome::kTransientError : AttemptOutcome::kPermanentError;
          r.message = e.message;
          if (e.retryable) r.retry_at = finished + RetryDelay(backoff_, a.attempt_count, e.retry_after, w.rng);
          answered = true;
        }
        if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kTimeout) reconnect = true;
      }
      Finish(w, a, std::move(r));
      std::lock_guard lock(mu_);
      std::erase(w.in_flight, a.id);
    }
    if (answered) governor.Answered(finished);
    // The connection may be what failed; the next batch starts from a new one.
    if (reconnect) w.connector.reset();
  }

  governor.EndBatch(w.index);
  std::lock_guard lock(mu_);
  w.in_flight.clear();
  if (!w.connector) w.has_connector = false;
}

AttemptReport Engine::RunCordonOnly(Worker& w, const Action& a) {
  const std::string provider(ToString(a.provider));
  AttemptReport r;
  r.action_id = a.id;
  r.worker = w.id;
  r.started_at = Now();
  r.account_id = a.account_id;
  r.resolved_account = a.resolved_account;
  auto fail = [&](const Error& e) {
    r.finished_at = Now();
    r.provider_answer = {e.provider_code, e.provider_detail};
    if (e.blame == Blame::kProvider) {
      r.outcome = AttemptOutcome::kProviderError;
      r.message = "the " + provider + " provider could not be worked with (not counted against this action): " +
                  e.message;
      r.retry_at = r.finished_at + w.pool->governor->RetryDelay(e);
      w.pool->governor->Failed(e, r.finished_at);
    } else {
      r.outcome = e.retryable ? AttemptOutcome::kTransientError : AttemptOutcome::kPermanentError;
      r.message = e.message;
      if (e.retryable) r.retry_at = r.finished_at + RetryDelay(backoff_, a.attempt_count, e.retry_after, w.rng);
    }
    return r;
  };
  // An undo acts on the id its original resolved to; anything else is the
  // name the analyst gave, which the connector resolves.
  if (r.account_id.empty()) {
    Result<AccountView> view = Fail(Error::Internal("the lookup did not run"));
    try {
      view = w.connector->Lookup(a.target);
    } catch (const std::exception& e) {
      view = Fail(Error::Internal(std::string("the connector's lookup threw: ") + e.what()));
    }
    if (!view) return fail(view.error());
    r.account_id = view->id;
    const auto dn = view->identifiers.find("dn");
    r.resolved_account = dn != view->identifiers.end() ? dn->second : view->login;
    w.pool->governor->Answered(Now());
  }
  // What Cordon's level was before: a mark of a marked account, or a dismiss
  // of an unmarked one, changes nothing (and so has nothing to undo).
  RiskFilter filter;
  filter.provider = a.provider;
  filter.account = r.account_id.empty() ? (r.resolved_account.empty() ? a.target : r.resolved_account) : r.account_id;
  auto marks = store_.ListRisks(filter);
  if (!marks) return fail(Error::Unavailable("cannot read Cordon's risk level: " + marks.error().message));
  const bool marked = !marks->empty();
  Observation seen;
  seen.action_id = a.id;
  seen.resolved_account = r.resolved_account;
  seen.account_id = r.account_id;
  seen.state = marked ? "Cordon's risk level high since " + FormatTime(marks->front().since) + " (" +
                            marks->front().action_id + ")"
                      : "no risk level in Cordon";
  const bool mark = a.type == ActionType::kMarkCompromised;
  seen.in_target_state = mark == marked;
  if (auto recorded = store_.RecordObservations(std::span(&seen, 1), w.id, Now()); !recorded) {
    Error e = recorded.error();
    e.retryable = true;
    return fail(e);
  }
  r.outcome = AttemptOutcome::kSucceeded;
  r.already_in_state = seen.in_target_state;
  const std::string own = "; " + provider + " has no risk level of its own";
  if (mark) {
    r.message = marked ? "Cordon's risk level was already High (" + marks->front().action_id + ")" + own
                       : "Cordon's risk level set to High" + own;
  } else {
    r.message = marked ? "Cordon's risk level cleared" + own : "Cordon had no risk level for this account" + own;
  }
  r.finished_at = Now();
  std::lock_guard lock(mu_);
  ++stats_.providers[w.provider].executed;
  return r;
}

void Engine::Finish(Worker& w, const Action& action, AttemptReport report) {
  const AttemptOutcome outcome = report.outcome;
  for (int attempt = 1;; ++attempt) {
    auto done = store_.FinishAttempt(report);
    if (done) {
      Count(action.provider, done->status, outcome);
      if (IsTerminal(done->status)) {
        std::shared_ptr<const FinishedHook> hook;
        {
          // Over for the worker too: whoever the hook tells must not find it under way.
          std::lock_guard lock(mu_);
          std::erase(w.in_flight, action.id);
          hook = finished_hook_;
        }
        if (hook) (*hook)(*done);
      }
      if (done->status == ActionStatus::kSucceeded) {
        spdlog::debug("action {} {} {} {}: succeeded{}", action.id, ToString(action.provider), ToString(action.type),
                      action.target, done->already_in_state ? " (already in state)" : "");
      } else if (done->status == ActionStatus::kPending) {
        spdlog::info("action {} {} {} {}: {} ({}); retry at {}", action.id, ToString(action.provider),
                     ToString(action.type), action.target,
                     outcome == AttemptOutcome::kProviderError ? "provider error, no attempt spent"
                                                               : "attempt " + std::to_string(done->attempt_count) +
                                                                     " failed",
                     report.message, FormatTime(done->next_attempt_at));
      } else {
        spdlog::warn("action {} {} {} {}: {}: {}", action.id, ToString(action.provider), ToString(action.type),
                     action.target, ToString(done->status), done->outcome);
      }
      return;
    }
    const Error& e = done.error();
    if (e.code == ErrorCode::kConflict) {
      // Our lease expired and the action went to another worker: its result wins.
      spdlog::warn("action {}: result dropped, worker {} lost its lease", action.id, w.id);
      std::lock_guard lock(mu_);
      ++stats_.results_dropped;
      return;
    }
    if (!e.retryable || attempt >= kStoreTries) {
      // The action stays in_progress; lease recovery will return it to pending.
      spdlog::error("action {}: cannot record the attempt: {}", action.id, e.message);
      return;
    }
    std::this_thread::sleep_for(Millis(50 * attempt));
  }
}

bool Engine::ActionsUnderWay(Provider provider) {
  {
    std::lock_guard lock(mu_);
    for (const auto& w : workers_)
      if (w->provider == provider && !w->in_flight.empty()) return true;
  }
  auto due = store_.CountDue(provider, Now());
  // A store that cannot say: assume work waits, the read can wait too.
  return !due || *due > 0;
}

std::vector<std::string> Engine::RateBuckets(Provider provider) const {
  const Governor* governor = nullptr;
  {
    std::lock_guard lock(mu_);
    const auto it = pools_.find(provider);
    if (it == pools_.end()) return {};
    governor = it->second->governor.get();
  }
  std::vector<std::string> out;
  for (const RateWindowHealth& w : governor->Health().rate_windows) out.push_back(w.bucket);
  return out;
}

void Engine::SetFinishedHook(FinishedHook hook) {
  std::lock_guard lock(mu_);
  finished_hook_ = hook ? std::make_shared<const FinishedHook>(std::move(hook)) : nullptr;
}

Status Engine::Read(Provider provider, TimePoint deadline, const ProviderRead& read) {
  Pool* pool = nullptr;
  {
    std::lock_guard lock(mu_);
    const auto it = pools_.find(provider);
    if (it == pools_.end())
      return Fail(Error::FailedPrecondition("the " + std::string(ToString(provider)) + " provider is not configured"));
    pool = it->second.get();
  }
  Governor& governor = *pool->governor;
  // A paused or held provider is not to be called: say so, and when to ask again.
  auto standing = [&governor, provider]() -> Status {
    const ProviderHealth health = governor.Health();
    if (health.state == ProviderState::kRunning) return {};
    Error e = Error::Unavailable(std::string(ToString(provider)) + " is " + std::string(ToString(health.state)) +
                                 " since " + FormatTime(health.since) + " (" + health.cause +
                                 "): nothing is read from it until it works again");
    const TimePoint now = Now();
    if (health.until > now) e.retry_after = std::chrono::duration_cast<Millis>(health.until - now);
    return Fail(std::move(e).BlameProvider());
  };
  if (auto s = standing(); !s) return s;

  std::unique_ptr<Reader> reader;
  {
    std::lock_guard lock(pool->read_mu);
    if (!pool->idle_readers.empty()) {
      reader = std::move(pool->idle_readers.back());
      pool->idle_readers.pop_back();
    } else {
      reader = std::make_unique<Reader>();
      reader->caller = -(++pool->readers);
    }
  }
  auto give_back = [&] {
    std::lock_guard lock(pool->read_mu);
    pool->idle_readers.push_back(std::move(reader));
  };
  if (!reader->connector) {
    auto made = pool->factory();
    if (!made) {
      give_back();
      return Fail(made.error());
    }
    reader->connector = std::move(*made);
  }

  ExecutionContext context;
  context.deadline = deadline;
  const int caller = reader->caller;
  // Each request waits for the rate budget, and stops when the provider
  // stops being worked with (a pause or a hold that began mid-listing).
  context.pace = [&governor, &standing, deadline, caller](std::string_view bucket) -> Status {
    if (auto s = standing(); !s) return s;
    return governor.AwaitPermit(deadline, bucket, caller);
  };
  context.report_rate_limit = [&governor, caller](const RateLimitReport& report) {
    governor.ReportRateLimit(report, Now(), caller);
  };
  Status result = Fail(Error::Internal("the read did not run"));
  try {
    result = read(*reader->connector, context);
  } catch (const std::exception& e) {
    result = Fail(Error::Internal(std::string("the ") + std::string(ToString(provider)) + " connector's read threw: " +
                                  e.what()));
    reader->connector.reset();
  }
  governor.EndBatch(caller);
  if (!result) {
    const Error& e = result.error();
    // The provider's own throttling concerns actions too (one budget); any
    // other refusal of a read (the action account may not list) does not.
    if (e.blame == Blame::kProvider && e.code == ErrorCode::kResourceExhausted && !e.provider_code.empty())
      governor.Failed(e, Now());
    if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kTimeout) reader->connector.reset();
  }
  give_back();
  return result;
}

void Engine::FailOverdue(TimePoint now) {
  std::vector<std::pair<Provider, ProviderHealth>> providers;
  {
    std::lock_guard lock(mu_);
    for (const auto& [provider, pool] : pools_) providers.emplace_back(provider, ProviderHealth{});
  }
  for (auto& [provider, health] : providers) {
    {
      std::lock_guard lock(mu_);
      health = pools_.at(provider)->governor->Health();
    }
    std::string why;
    if (health.state == ProviderState::kRunning) {
      why = "it could not be carried out in time";
    } else {
      why = std::string(ToString(provider)) + " has been " + std::string(ToString(health.state)) + " since " +
            FormatTime(health.since) + " (" + health.cause +
            (health.provider_code.empty() ? "" : ", " + health.provider_code) + "): " + health.reason;
    }
    auto failed = store_.FailOverdue(provider, now, why);
    if (!failed) {
      spdlog::error("engine: cannot fail the actions whose time budget ran out: {}", failed.error().message);
    } else if (*failed > 0) {
      spdlog::warn("engine: {} {} action(s) failed: their time budget ran out ({})", *failed, ToString(provider), why);
      std::lock_guard lock(mu_);
      stats_.providers[provider].out_of_time += *failed;
      stats_.providers[provider].failed += *failed;
    }
  }
}

void Engine::RunLeaseKeeper() {
  const Millis tick = std::max(options_.lease / 3, Millis(10));
  while (true) {
    std::vector<std::pair<std::string, std::vector<std::string>>> held;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      for (const auto& w : workers_)
        if (!w->in_flight.empty()) held.emplace_back(w->id, w->in_flight);
    }
    for (const auto& [worker, ids] : held) {
      auto renewed = store_.RenewLeases(ids, worker, Now(), options_.lease);
      // A conflict here is usually an action that finished while we renewed.
      if (!renewed && renewed.error().code != ErrorCode::kConflict)
        spdlog::warn("worker {}: lease renewal: {}", worker, renewed.error().message);
    }
    auto recovered = store_.RecoverExpiredLeases(Now());
    if (!recovered) {
      spdlog::error("engine: lease recovery failed: {}", recovered.error().message);
    } else if (*recovered > 0) {
      spdlog::warn("engine: {} action(s) with an expired lease returned to pending", *recovered);
      {
        std::lock_guard lock(mu_);
        stats_.leases_recovered += *recovered;
      }
      Wake();
    }
    FailOverdue(Now());
    if (!Wait(tick, 0, false)) return;
  }
}

}  // namespace cordon
