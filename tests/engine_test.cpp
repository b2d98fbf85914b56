// The engine against the real SQLite store, with a fake connector that
// counts how often each action is executed. (The end-to-end tests against
// the lab's domain controller drive the real AD connector.)
#include "engine/engine.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/action_service.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace cordon {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

// What the fake directory does, shared by every connector instance.
struct FakeDirectory {
  std::mutex mu;
  std::map<std::string, int> executions;      // by action id
  std::map<std::string, int> transient_left;  // by target: fail this many more times
  std::set<std::string> permanent;            // targets refused for good
  std::set<std::string> already;              // targets already in the target state
  std::set<std::string> always_transient;     // targets that never recover
  Millis delay{0};                            // per action
  std::atomic<int> factory_failures_left{0};
  std::atomic<int> instances{0};
  // The provider as a whole: unreachable, refusing the action account, or
  // throttling (each execution while throttle_left > 0 gets a 429).
  std::atomic<bool> down{false};
  std::atomic<bool> refuses_credentials{false};
  std::atomic<int> throttle_left{0};
  Millis retry_after{0};
  std::atomic<int> probes{0};
  std::vector<std::chrono::steady_clock::time_point> execution_times;  // guarded by mu

  int ExecutionsOf(const std::string& id) {
    std::lock_guard lock(mu);
    auto it = executions.find(id);
    return it == executions.end() ? 0 : it->second;
  }
};

class FakeConnector : public Connector {
 public:
  explicit FakeConnector(FakeDirectory& dir) : dir_(dir) {}
  Provider provider() const override { return Provider::kActiveDirectory; }
  bool Supports(ActionType type) const override { return type == ActionType::kDisable || type == ActionType::kEnable; }
  Result<ExecutionOutcome> Execute(const Action& action, const ExecutionContext& context) override {
    if (auto paced = context.Pace(); !paced) return Fail(paced.error());
    Millis delay;
    {
      std::lock_guard lock(dir_.mu);
      ++dir_.executions[action.id];
      dir_.execution_times.push_back(std::chrono::steady_clock::now());
      delay = dir_.delay;
    }
    if (auto outage = Outage(); !outage) return Fail(outage.error());
    if (dir_.throttle_left.fetch_sub(1) > 0)
      return Fail(Error::ResourceExhausted("too many requests")
                      .WithProvider("http:429", "rate limit")
                      .WithRetryAfter(dir_.retry_after)
                      .BlameProvider());
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    bool already;
    {
      std::lock_guard lock(dir_.mu);
      if (dir_.permanent.count(action.target))
        return Fail(Error::PermissionDenied("insufficient access")
                        .WithProvider("ldap:50", "00002098: SecErr: problem 4003 (INSUFF_ACCESS_RIGHTS)"));
      if (dir_.always_transient.count(action.target) || dir_.transient_left[action.target]-- > 0)
        return Fail(Error::Conflict("the account changed meanwhile").WithProvider("ldap:16", "no such attribute"));
      already = dir_.already.count(action.target) != 0;
    }
    Observation seen{action.id, "CN=" + action.target + ",OU=Staff", "guid-" + action.target,
                     already ? "disabled" : "enabled", already};
    if (auto recorded = context.Record(std::span(&seen, 1)); !recorded)
      return Fail(Error::Unavailable("not recorded: " + recorded.error().message));
    ExecutionOutcome out;
    out.already_in_state = already;
    out.message = out.already_in_state ? "already disabled" : "disabled";
    out.resolved_account = seen.resolved_account;
    out.account_id = seen.account_id;
    out.provider_answer = {"ldap:0", "Success"};
    return out;
  }
  Status Probe(const ExecutionContext& context) override {
    if (auto paced = context.Pace(); !paced) return paced;
    ++dir_.probes;
    return Outage();
  }
  Result<AccountView> Lookup(const std::string&) override { return Fail(Error::NotFound("fake")); }

 private:
  Status Outage() {
    if (dir_.down) return Fail(Error::Unavailable("Can't contact LDAP server").WithProvider("ldap:-1", "").BlameProvider());
    if (dir_.refuses_credentials)
      return Fail(Error::Unauthenticated("bind as svc-cordon: Invalid credentials (49)")
                      .WithProvider("ldap:49", "80090308: LdapErr: DSID-0C0903A9, data 52e")
                      .BlameProvider());
    return {};
  }
  FakeDirectory& dir_;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open((dir_ / "cordon.db").string());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate());
    options_.lease = Millis(2000);
    options_.poll_interval = Millis(20);
    options_.backoff_initial = Millis(30);
    options_.backoff_max = Millis(60);
    options_.governor.probe_initial = Millis(20);
    options_.governor.probe_max = Millis(80);
    settings_.batch_size = 8;
  }
  void TearDown() override {
    store_.reset();
  }

  ConnectorFactory Factory() {
    return [this]() -> Result<std::unique_ptr<Connector>> {
      if (directory_.factory_failures_left.fetch_sub(1) > 0) return Fail(Error::Unavailable("cannot reach the DC"));
      ++directory_.instances;
      return std::make_unique<FakeConnector>(directory_);
    };
  }
  std::unique_ptr<Engine> MakeEngine(int workers = 1) {
    auto engine = std::make_unique<Engine>(*store_, options_);
    ProviderSettings settings = settings_;
    settings.workers = workers;
    engine->AddWorkers(Provider::kActiveDirectory, Factory(), settings);
    return engine;
  }
  std::vector<Action> Submit(std::vector<std::string> targets, ActionType type = ActionType::kDisable,
                             int max_attempts = 5, Engine* engine = nullptr, Millis budget = Millis(3600000)) {
    ActionServiceOptions o;
    o.max_attempts = max_attempts;
    o.time_budget = budget;
    ActionService service(*store_, engine, {Provider::kActiveDirectory}, o);
    auto created = service.Submit(
        {type, Provider::kActiveDirectory, std::move(targets), "incident 42", Actor{"analyst", "tok_1"}});
    EXPECT_TRUE(created) << created.error().message;
    return created ? *created : std::vector<Action>{};
  }
  // Waits (not a timing assertion: a generous deadline for a loaded machine)
  // until every action is in a final state.
  bool WaitSettled(const std::vector<Action>& actions, Millis deadline = Millis(30000)) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      bool settled = true;
      for (const Action& a : actions) {
        auto got = store_->GetAction(a.id);
        if (!got || !IsTerminal(got->status)) {
          settled = false;
          break;
        }
      }
      if (settled) return true;
      std::this_thread::sleep_for(Millis(10));
    }
    return false;
  }
  Action Get(const Action& a) {
    auto got = store_->GetAction(a.id);
    EXPECT_TRUE(got);
    return got ? *got : Action{};
  }
  int64_t CountOf(ActionStatus status) {
    auto counts = store_->CountByStatus();
    if (!counts) return -1;
    for (const StatusCount& c : *counts)
      if (c.status == status) return c.count;
    return 0;
  }

  // Waits until the engine's only provider is in `state` (or the deadline).
  bool WaitForState(Engine& engine, ProviderState state, Millis deadline = Millis(30000)) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      auto health = engine.Health();
      if (!health.empty() && health.front().state == state) return true;
      std::this_thread::sleep_for(Millis(5));
    }
    return false;
  }

  testing::TempDir dir_{"cordon-engine"};
  std::unique_ptr<SqliteStore> store_;
  EngineOptions options_;
  ProviderSettings settings_;
  FakeDirectory directory_;
};

TEST_F(EngineTest, ExecutesAndRecordsSuccess) {
  auto engine = MakeEngine();
  engine->Start();
  auto actions = Submit({"alice"});
  ASSERT_TRUE(WaitSettled(actions));
  engine->Stop();
  Action a = Get(actions[0]);
  EXPECT_EQ(a.status, ActionStatus::kSucceeded);
  EXPECT_EQ(a.outcome, "disabled");
  EXPECT_FALSE(a.already_in_state);
  EXPECT_EQ(a.resolved_account, "CN=alice,OU=Staff");
  EXPECT_EQ(a.provider_answer.code, "ldap:0");
  auto attempts = store_->GetAttempts(a.id);
  ASSERT_TRUE(attempts);
  ASSERT_THAT(*attempts, SizeIs(1));
  EXPECT_EQ((*attempts)[0].result, "succeeded");
  EXPECT_EQ(directory_.ExecutionsOf(a.id), 1);
  EngineStats stats = engine->Stats();
  EXPECT_EQ(stats.providers[Provider::kActiveDirectory].executed, 1);
  EXPECT_EQ(stats.providers[Provider::kActiveDirectory].succeeded, 1);
}

TEST_F(EngineTest, AlreadyInStateIsASuccessWithANote) {
  directory_.already.insert("bob");
  auto engine = MakeEngine();
  engine->Start();
  auto actions = Submit({"bob"});
  ASSERT_TRUE(WaitSettled(actions));
  Action a = Get(actions[0]);
  EXPECT_EQ(a.status, ActionStatus::kSucceeded);
  EXPECT_TRUE(a.already_in_state);
  EXPECT_EQ(a.outcome, "already disabled");
}

TEST_F(EngineTest, TransientErrorsAreRetriedWithBackoffUntilSuccess) {
  directory_.transient_left["carl"] = 2;
  auto engine = MakeEngine();
  engine->Start();
  auto actions = Submit({"carl"});
  ASSERT_TRUE(WaitSettled(actions));
  engine->Stop();
  Action a = Get(actions[0]);
  EXPECT_EQ(a.status, ActionStatus::kSucceeded);
  EXPECT_EQ(a.attempt_count, 3);
  auto attempts = store_->GetAttempts(a.id);
  ASSERT_TRUE(attempts);
  ASSERT_THAT(*attempts, SizeIs(3));
  EXPECT_EQ((*attempts)[0].result, "transient_error");
  EXPECT_EQ((*attempts)[0].message, "the account changed meanwhile");
  EXPECT_EQ((*attempts)[0].provider_answer.code, "ldap:16");
  EXPECT_EQ((*attempts)[1].result, "transient_error");
  EXPECT_EQ((*attempts)[2].result, "succeeded");
  // The backoff floor is backoff_initial: no retry starts earlier than that.
  for (int i = 1; i < 3; ++i)
    EXPECT_GE((*attempts)[i].started_at - (*attempts)[i - 1].finished_at, options_.backoff_initial) << i;
  EXPECT_EQ(engine->Stats().providers[Provider::kActiveDirectory].retried, 2);
  EXPECT_EQ(directory_.ExecutionsOf(a.id), 3);
}

TEST_F(EngineTest, PermanentErrorsFailAtOnceWithTheProvidersWords) {
  directory_.permanent.insert("administrator");
  auto engine = MakeEngine();
  engine->Start();
  auto actions = Submit({"administrator"});
  ASSERT_TRUE(WaitSettled(actions));
  Action a = Get(actions[0]);
  EXPECT_EQ(a.status, ActionStatus::kFailed);
  EXPECT_EQ(a.outcome, "insufficient access");
  EXPECT_EQ(a.provider_answer.code, "ldap:50");
  EXPECT_THAT(a.provider_answer.detail, HasSubstr("INSUFF_ACCESS_RIGHTS"));
  EXPECT_EQ(a.attempt_count, 1);
  EXPECT_EQ(directory_.ExecutionsOf(a.id), 1);
}

TEST_F(EngineTest, GivesUpAfterMaxAttempts) {
  directory_.always_transient.insert("dana");
  auto engine = MakeEngine();
  engine->Start();
  auto actions = Submit({"dana"}, ActionType::kDisable, 3);
  ASSERT_TRUE(WaitSettled(actions));
  Action a = Get(actions[0]);
  EXPECT_EQ(a.status, ActionStatus::kFailed);
  EXPECT_EQ(a.outcome, "gave up after 3 attempts: the account changed meanwhile");
  EXPECT_EQ(directory_.ExecutionsOf(a.id), 3);
  EngineStats stats = engine->Stats();
  EXPECT_EQ(stats.providers[Provider::kActiveDirectory].retried, 2);
  EXPECT_EQ(stats.providers[Provider::kActiveDirectory].failed, 1);
}

TEST_F(EngineTest, AnActionTheConnectorDoesNotSupportFailsWithoutExecuting) {
  auto engine = MakeEngine();
  engine->Start();
  auto actions = Submit({"erin"}, ActionType::kForcePasswordReset);
  ASSERT_TRUE(WaitSettled(actions));
  Action a = Get(actions[0]);
  EXPECT_EQ(a.status, ActionStatus::kFailed);
  EXPECT_EQ(a.outcome, "the ad connector does not support force_password_reset");
  EXPECT_EQ(directory_.ExecutionsOf(a.id), 0);
}

TEST_F(EngineTest, TheLeaseOfACrashedWorkerExpiresAndAnotherWorkerFinishesTheAction) {
  auto actions = Submit({"frank"});
  // A worker of a process that then died: it claimed and never reported.
  auto claimed = store_->ClaimDue(Provider::kActiveDirectory, "dead-node/ad-1", 10, Now(), Millis(100));
  ASSERT_TRUE(claimed);
  ASSERT_THAT(*claimed, SizeIs(1));

  options_.lease = Millis(300);
  auto engine = MakeEngine();
  engine->Start();
  ASSERT_TRUE(WaitSettled(actions));
  engine->Stop();
  Action a = Get(actions[0]);
  EXPECT_EQ(a.status, ActionStatus::kSucceeded);
  auto attempts = store_->GetAttempts(a.id);
  ASSERT_TRUE(attempts);
  ASSERT_THAT(*attempts, SizeIs(2));
  EXPECT_EQ((*attempts)[0].result, "lease_expired");
  EXPECT_EQ((*attempts)[0].worker, "dead-node/ad-1");
  EXPECT_EQ((*attempts)[1].result, "succeeded");
  EXPECT_NE((*attempts)[1].worker, "dead-node/ad-1");
  EXPECT_EQ(directory_.ExecutionsOf(a.id), 1);
  EXPECT_GE(engine->Stats().leases_recovered, 1);
}

TEST_F(EngineTest, ALongBatchKeepsItsLease) {
  // Execution takes several leases' worth of time; a second engine sharing the
  // store must not take the action over, because the first renews its lease.
  options_.lease = Millis(600);
  directory_.delay = Millis(2000);
  auto slow = MakeEngine();
  auto actions = Submit({"gina"});
  slow->Start();
  auto deadline = std::chrono::steady_clock::now() + Millis(30000);
  while (Get(actions[0]).status == ActionStatus::kPending && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(Millis(5));
  auto other = MakeEngine();
  other->Start();
  ASSERT_TRUE(WaitSettled(actions));
  slow->Stop();
  other->Stop();
  EXPECT_EQ(Get(actions[0]).status, ActionStatus::kSucceeded);
  EXPECT_EQ(directory_.ExecutionsOf(actions[0].id), 1);
  EXPECT_EQ(slow->Stats().results_dropped, 0);
  EXPECT_EQ(other->Stats().leases_recovered, 0);
}

TEST_F(EngineTest, StopLeavesNothingInProgressAndARestartFinishesTheRest) {
  directory_.delay = Millis(5);
  std::vector<std::string> targets;
  for (int i = 0; i < 150; ++i) targets.push_back("user" + std::to_string(i));
  auto engine = MakeEngine(2);
  engine->Start();
  auto actions = Submit(targets);
  ASSERT_THAT(actions, SizeIs(150));
  auto deadline = std::chrono::steady_clock::now() + Millis(30000);
  while (CountOf(ActionStatus::kSucceeded) < 20 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(Millis(5));
  engine->Stop();
  EXPECT_EQ(CountOf(ActionStatus::kInProgress), 0);
  EXPECT_GT(CountOf(ActionStatus::kPending), 0) << "stopped too late to show anything";
  engine.reset();

  directory_.delay = Millis(0);
  auto restarted = MakeEngine(2);
  restarted->Start();
  ASSERT_TRUE(WaitSettled(actions));
  restarted->Stop();
  EXPECT_EQ(CountOf(ActionStatus::kSucceeded), 150);
  for (const Action& a : actions) EXPECT_EQ(directory_.ExecutionsOf(a.id), 1) << a.target;
}

TEST_F(EngineTest, ManyActionsAcrossSeveralWorkersEachSucceedExactlyOnce) {
  settings_.batch_size = 16;
  std::vector<std::string> targets;
  for (int i = 0; i < 600; ++i) targets.push_back("bulk" + std::to_string(i));
  auto engine = MakeEngine(4);
  auto actions = Submit(targets);
  engine->Start();
  ASSERT_TRUE(WaitSettled(actions));
  engine->Stop();
  EXPECT_EQ(CountOf(ActionStatus::kSucceeded), 600);
  for (const Action& a : actions) ASSERT_EQ(directory_.ExecutionsOf(a.id), 1) << a.target;
  EngineStats stats = engine->Stats();
  EXPECT_EQ(stats.providers[Provider::kActiveDirectory].executed, 600);
  EXPECT_EQ(stats.providers[Provider::kActiveDirectory].succeeded, 600);
  EXPECT_EQ(stats.workers, 4);
  EXPECT_EQ(directory_.instances.load(), 4);  // one connector per worker
}

TEST_F(EngineTest, WakeStartsNewWorkWithoutWaitingForThePoll) {
  options_.poll_interval = Millis(3600 * 1000);
  auto engine = MakeEngine();
  engine->Start();
  // Let the worker find nothing and settle into its hour-long wait.
  std::this_thread::sleep_for(Millis(100));
  auto actions = Submit({"hank"}, ActionType::kDisable, 5, engine.get());
  ASSERT_TRUE(WaitSettled(actions));
  EXPECT_EQ(Get(actions[0]).status, ActionStatus::kSucceeded);
  engine->Stop();  // must not wait for the poll either
}

TEST_F(EngineTest, AFailingConnectorFactoryIsRetried) {
  directory_.factory_failures_left = 2;
  auto engine = MakeEngine();
  engine->Start();
  auto actions = Submit({"ivy"});
  ASSERT_TRUE(WaitSettled(actions));
  EXPECT_EQ(Get(actions[0]).status, ActionStatus::kSucceeded);
  EXPECT_EQ(engine->Stats().workers_without_connector, 0);
}

// A node killed with SIGKILL in the middle of a bulk request loses nothing;
// after a restart every action ends succeeded and none is left in_progress. (The dead node may have changed an account without
// recording it: that attempt is repeated, which is why connectors are
// idempotent — already in the target state counts as success.)
TEST_F(EngineTest, ASigkilledNodeLosesNothingAndARestartFinishesEverything) {
  std::vector<std::string> targets;
  for (int i = 0; i < 200; ++i) targets.push_back("bulk" + std::to_string(i));
  auto actions = Submit(targets);
  ASSERT_THAT(actions, SizeIs(200));
  store_.reset();  // no SQLite connection may cross fork()

  options_.lease = Millis(500);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = SqliteStore::Open((dir_ / "cordon.db").string());
    if (!store) _exit(2);
    FakeDirectory dir;
    dir.delay = Millis(5);
    Engine engine(**store, options_);
    ProviderSettings two;
    two.workers = 2;
    engine.AddWorkers(
        Provider::kActiveDirectory,
        [&dir]() -> Result<std::unique_ptr<Connector>> { return std::make_unique<FakeConnector>(dir); }, two);
    engine.Start();
    while (true) pause();
  }

  auto reopened = SqliteStore::Open((dir_ / "cordon.db").string());
  ASSERT_TRUE(reopened);
  store_ = std::move(*reopened);
  auto deadline = std::chrono::steady_clock::now() + Millis(30000);
  while (CountOf(ActionStatus::kSucceeded) < 40 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(Millis(2));
  kill(child, SIGKILL);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus));
  int64_t done_before = CountOf(ActionStatus::kSucceeded);
  EXPECT_LT(done_before, 200) << "killed too late to show anything";

  auto restarted = MakeEngine(2);
  restarted->Start();
  ASSERT_TRUE(WaitSettled(actions));
  restarted->Stop();
  EXPECT_EQ(CountOf(ActionStatus::kSucceeded), 200);
  EXPECT_EQ(CountOf(ActionStatus::kInProgress), 0);
  int executed_here = 0;
  for (const Action& a : actions) {
    EXPECT_LE(directory_.ExecutionsOf(a.id), 1) << a.target;
    executed_here += directory_.ExecutionsOf(a.id);
  }
  EXPECT_EQ(executed_here, 200 - done_before);
}

TEST_F(EngineTest, ObservationsAreRecordedBeforeTheChangeAndNeverOverwritten) {
  auto engine = MakeEngine();
  engine->Start();
  auto actions = Submit({"olga"});
  ASSERT_TRUE(WaitSettled(actions));
  Action a = Get(actions[0]);
  EXPECT_EQ(a.prior_in_target, false);
  EXPECT_EQ(a.prior_state, "enabled");
  EXPECT_EQ(a.account_id, "guid-olga");
  EXPECT_EQ(a.resolved_account, "CN=olga,OU=Staff");
}

TEST_F(EngineTest, AProviderOutagePausesItSpendsNoAttemptsAndWorkResumesWhenItAnswers) {
  directory_.down = true;
  settings_.batch_size = 4;
  auto engine = MakeEngine(2);
  engine->Start();
  std::vector<std::string> targets;
  for (int i = 0; i < 12; ++i) targets.push_back("user" + std::to_string(i));
  // Two attempts each: an outage that spent them would fail everything.
  auto actions = Submit(targets, ActionType::kDisable, 2);
  ASSERT_TRUE(WaitForState(*engine, ProviderState::kPaused));
  // While paused, the provider is probed, and nothing else is sent to it.
  auto deadline = std::chrono::steady_clock::now() + Millis(30000);
  while (directory_.probes < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(Millis(5));
  ASSERT_GE(directory_.probes.load(), 3);
  int executions_while_paused;
  {
    std::lock_guard lock(directory_.mu);
    executions_while_paused = static_cast<int>(directory_.execution_times.size());
  }
  std::this_thread::sleep_for(Millis(200));
  {
    std::lock_guard lock(directory_.mu);
    EXPECT_EQ(static_cast<int>(directory_.execution_times.size()), executions_while_paused)
        << "a paused provider is probed, not sent work";
  }
  for (const Action& a : actions) {
    Action now = Get(a);
    EXPECT_EQ(now.status, ActionStatus::kPending) << a.target;
    EXPECT_EQ(now.attempt_count, 0) << a.target << ": an outage spends no attempt";
  }
  ProviderHealth health = engine->Health().front();
  EXPECT_EQ(health.cause, "unreachable");
  EXPECT_THAT(health.reason, HasSubstr("Can't contact LDAP server"));
  EXPECT_GE(health.pauses, 1);

  directory_.down = false;
  ASSERT_TRUE(WaitSettled(actions));
  engine->Stop();
  EXPECT_EQ(CountOf(ActionStatus::kSucceeded), 12);
  bool saw_provider_error = false;
  for (const Action& a : actions) {
    Action done = Get(a);
    EXPECT_EQ(done.attempt_count, 1) << a.target;
    auto attempts = store_->GetAttempts(a.id);
    ASSERT_TRUE(attempts);
    for (const Attempt& at : *attempts)
      if (at.result == "provider_error") {
        saw_provider_error = true;
        EXPECT_THAT(at.message, HasSubstr("not counted"));
        EXPECT_EQ(at.provider_answer.code, "ldap:-1");
      }
  }
  EXPECT_TRUE(saw_provider_error) << "the pause shows in the actions' attempts";
  EXPECT_EQ(engine->Health().front().state, ProviderState::kRunning);
  EXPECT_GT(engine->Stats().providers[Provider::kActiveDirectory].provider_errors, 0);
}

TEST_F(EngineTest, RefusedCredentialsPauseAtOnceAndFailNothing) {
  directory_.refuses_credentials = true;
  auto engine = MakeEngine();
  engine->Start();
  auto actions = Submit({"pat", "quinn", "rosa"}, ActionType::kDisable, 1);
  ASSERT_TRUE(WaitForState(*engine, ProviderState::kPaused));
  EXPECT_EQ(engine->Health().front().cause, "credentials_refused");
  std::this_thread::sleep_for(Millis(300));
  for (const Action& a : actions) EXPECT_EQ(Get(a).status, ActionStatus::kPending) << a.target;
  directory_.refuses_credentials = false;  // the operator fixed the password file
  ASSERT_TRUE(WaitSettled(actions));
  EXPECT_EQ(CountOf(ActionStatus::kSucceeded), 3);
}

TEST_F(EngineTest, WhenTheTimeBudgetRunsOutTheActionFailsNamingTheOutage) {
  options_.lease = Millis(300);  // the keeper that fails overdue work ticks every lease/3
  directory_.refuses_credentials = true;
  auto engine = MakeEngine();
  engine->Start();
  auto actions = Submit({"sam"}, ActionType::kDisable, 5, nullptr, Millis(500));
  ASSERT_TRUE(WaitSettled(actions));
  Action a = Get(actions[0]);
  EXPECT_EQ(a.status, ActionStatus::kFailed);
  EXPECT_THAT(a.outcome, HasSubstr("time budget ran out"));
  EXPECT_THAT(a.outcome, HasSubstr("ad has been paused since"));
  EXPECT_THAT(a.outcome, HasSubstr("credentials_refused"));
  EXPECT_THAT(a.outcome, HasSubstr("Invalid credentials (49)"));
  EXPECT_THAT(a.outcome, HasSubstr("(credentials_refused, ldap:49)"));
  EXPECT_EQ(a.attempt_count, 0);
  // The keeper counts what it failed just after the store committed it; Stop
  // joins the keeper, so the count is complete.
  engine->Stop();
  EXPECT_GE(engine->Stats().providers[Provider::kActiveDirectory].out_of_time, 1);
}

TEST_F(EngineTest, ThrottlingHoldsTheProviderForItsRetryAfterAndFailsNothing) {
  directory_.throttle_left = 2;
  directory_.retry_after = Millis(300);
  auto engine = MakeEngine();
  engine->Start();
  auto actions = Submit({"tess"}, ActionType::kDisable, 1);
  ASSERT_TRUE(WaitSettled(actions));
  engine->Stop();
  Action a = Get(actions[0]);
  EXPECT_EQ(a.status, ActionStatus::kSucceeded) << a.outcome;
  EXPECT_EQ(a.attempt_count, 1);
  std::lock_guard lock(directory_.mu);
  ASSERT_EQ(directory_.execution_times.size(), 3u);
  for (size_t i = 1; i < 3; ++i)
    EXPECT_GE(directory_.execution_times[i] - directory_.execution_times[i - 1], Millis(300)) << i;
  EXPECT_GE(engine->Health().front().holds, 1);
}

TEST_F(EngineTest, TheRateBudgetIsNeverExceeded) {
  settings_.rate_limit = 20;
  settings_.rate_window = Millis(500);
  auto engine = MakeEngine(3);
  std::vector<std::string> targets;
  for (int i = 0; i < 70; ++i) targets.push_back("rate" + std::to_string(i));
  auto actions = Submit(targets);
  engine->Start();
  ASSERT_TRUE(WaitSettled(actions));
  engine->Stop();
  EXPECT_EQ(CountOf(ActionStatus::kSucceeded), 70);
  std::lock_guard lock(directory_.mu);
  auto& times = directory_.execution_times;
  std::sort(times.begin(), times.end());
  // The governor's permits are exact (governor_test); what the provider sees
  // also carries the scheduling delay between permit and request, so the
  // windows checked here are a tenth shorter than the budget's.
  const auto window = settings_.rate_window - settings_.rate_window / 10;
  for (size_t i = 0; i < times.size(); ++i) {
    size_t in_window = 0;
    for (size_t j = i; j < times.size() && times[j] - times[i] < window; ++j) ++in_window;
    ASSERT_LE(in_window, 20u) << "window starting at execution " << i;
  }
  // 70 requests at 20 per 500 ms cannot take less than about 1.5 s.
  EXPECT_GE(times.back() - times.front(), Millis(1400));
}

TEST_F(EngineTest, StopWithoutStartAndTwiceIsHarmless) {
  auto engine = MakeEngine();
  engine->Stop();
  engine->Start();
  engine->Stop();
  engine->Stop();
}

// Reads outside the action queue (the inventory's listings and lookups).
TEST_F(EngineTest, AReadOfAProviderThatIsNotConfiguredIsRefused) {
  auto engine = MakeEngine();
  bool called = false;
  Status read = engine->Read(Provider::kOkta, TimePoint{}, [&](Connector&, const ExecutionContext&) -> Status {
    called = true;
    return {};
  });
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(called);
}

TEST_F(EngineTest, AReadHasAConnectorOfItsOwnAndSharesTheProvidersRateBudget) {
  settings_.rate_limit = 10;
  settings_.rate_window = Millis(1000);
  auto engine = MakeEngine();
  std::vector<std::chrono::steady_clock::time_point> permits;
  Connector* first = nullptr;
  for (int read = 0; read < 2; ++read) {
    Status done = engine->Read(Provider::kActiveDirectory, Now() + Millis(10000),
                               [&](Connector& connector, const ExecutionContext& context) -> Status {
                                 if (first == nullptr) first = &connector;
                                 EXPECT_EQ(&connector, first) << "kept for the next read";
                                 EXPECT_FALSE(context.record_observations) << "a read records nothing";
                                 for (int i = 0; i < 6; ++i) {
                                   if (auto paced = context.Pace(); !paced) return paced;
                                   permits.push_back(std::chrono::steady_clock::now());
                                 }
                                 return {};
                               });
    ASSERT_TRUE(done) << done.error().message;
  }
  EXPECT_EQ(directory_.instances.load(), 1) << "made by the provider's factory, once";
  // What a read's answers say of the provider's own limits is the governor's too.
  EXPECT_TRUE(engine->RateBuckets(Provider::kActiveDirectory).empty());
  ASSERT_TRUE(engine->Read(Provider::kActiveDirectory, TimePoint{}, [](Connector&, const ExecutionContext& context) {
    RateLimitReport report;
    report.bucket = "users.read";
    report.limit = 600;
    report.remaining = 500;
    report.reset_epoch_seconds = ToUnixMillis(Now()) / 1000 + 60;
    context.ReportRateLimit(report);
    return Status{};
  }));
  EXPECT_EQ(engine->RateBuckets(Provider::kActiveDirectory), std::vector<std::string>{"users.read"});
  EXPECT_TRUE(engine->RateBuckets(Provider::kOkta).empty()) << "not configured";
  EXPECT_EQ(engine->Health().front().permits, 12);
  EXPECT_FALSE(engine->ActionsUnderWay(Provider::kActiveDirectory));
  Submit({"yuri"});
  EXPECT_TRUE(engine->ActionsUnderWay(Provider::kActiveDirectory)) << "an action is due";
  // Ten requests per second, spread: twelve cannot all go in the first second.
  ASSERT_EQ(permits.size(), 12u);
  EXPECT_GE(permits.back() - permits.front(), Millis(900));

  // The provider's throttling holds actions too; any other refusal of a read does not.
  Status refused = engine->Read(Provider::kActiveDirectory, TimePoint{}, [](Connector&, const ExecutionContext&) {
    return Status(Fail(Error::PermissionDenied("may not list users").WithProvider("http:403", "").BlameProvider()));
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(engine->Health().front().state, ProviderState::kRunning);
  Status throttled = engine->Read(Provider::kActiveDirectory, TimePoint{}, [](Connector&, const ExecutionContext&) {
    return Status(Fail(Error::ResourceExhausted("too many requests")
                           .WithProvider("http:429", "")
                           .WithRetryAfter(Millis(60000))
                           .BlameProvider()));
  });
  ASSERT_FALSE(throttled);
  EXPECT_EQ(engine->Health().front().state, ProviderState::kHeld);
  Status held = engine->Read(Provider::kActiveDirectory, TimePoint{}, [](Connector&, const ExecutionContext&) {
    ADD_FAILURE() << "a held provider was read";
    return Status{};
  });
  ASSERT_FALSE(held);
  EXPECT_EQ(held.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(held.error().blame, Blame::kProvider);
  EXPECT_THAT(held.error().message, HasSubstr("held"));
  ASSERT_TRUE(held.error().retry_after.has_value());
  EXPECT_GT(*held.error().retry_after, Millis(50000));
}

TEST_F(EngineTest, NothingIsReadFromAPausedProvider) {
  directory_.refuses_credentials = true;
  auto engine = MakeEngine();
  engine->Start();
  auto actions = Submit({"uma"});
  ASSERT_TRUE(WaitForState(*engine, ProviderState::kPaused));
  bool called = false;
  Status read = engine->Read(Provider::kActiveDirectory, TimePoint{}, [&](Connector&, const ExecutionContext&) {
    called = true;
    return Status{};
  });
  ASSERT_FALSE(read);
  EXPECT_FALSE(called);
  EXPECT_EQ(read.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(read.error().message, HasSubstr("ad is paused"));
  EXPECT_THAT(read.error().message, HasSubstr("credentials_refused"));
  directory_.refuses_credentials = false;
  ASSERT_TRUE(WaitSettled(actions));
}

TEST_F(EngineTest, TheFinishedHookHearsOfEveryActionAWorkerSettles) {
  directory_.permanent.insert("vera");
  auto engine = MakeEngine();
  std::mutex mu;
  std::map<std::string, ActionStatus> heard;
  std::map<std::string, std::string> account_ids;
  engine->SetFinishedHook([&](const Action& a) {
    std::lock_guard lock(mu);
    heard[a.target] = a.status;
    account_ids[a.target] = a.account_id;
  });
  engine->Start();
  directory_.transient_left["will"] = 1;
  auto actions = Submit({"vera", "will", "xena"});
  ASSERT_TRUE(WaitSettled(actions));
  engine->Stop();
  std::lock_guard lock(mu);
  EXPECT_EQ(heard.size(), 3u) << "a retry is not an end";
  EXPECT_EQ(heard["vera"], ActionStatus::kFailed);
  EXPECT_EQ(heard["will"], ActionStatus::kSucceeded);
  EXPECT_EQ(heard["xena"], ActionStatus::kSucceeded);
  EXPECT_EQ(account_ids["xena"], "guid-xena") << "as stored, with the id it resolved to";
}

}  // namespace
}  // namespace cordon
