// Cordon-only actions through the engine, the real SQLite store and the
// ActionService, with fake AD and Okta connectors: marking an AD or Okta
// account compromised resolves it with the connector's Lookup (never
// Execute), sets Cordon's own risk level to High for that account, and the
// undo (dismiss_risk) clears it. (cli_test does the same on the lab's DC.)
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/action_service.h"
#include "engine/engine.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace cordon {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

struct Calls {
  std::atomic<int> executes{0};
  std::atomic<int> lookups{0};
};

// Knows "alice" and "bob"; Execute must never be reached.
class LookupOnlyConnector : public Connector {
 public:
  LookupOnlyConnector(Provider provider, Calls& calls) : provider_(provider), calls_(calls) {}
  Provider provider() const override { return provider_; }
  bool Supports(ActionType) const override { return false; }
  Result<ExecutionOutcome> Execute(const Action&, const ExecutionContext&) override {
    ++calls_.executes;
    return Fail(Error::Internal("Execute called for a Cordon-only action"));
  }
  Status Probe(const ExecutionContext&) override { return {}; }
  Result<AccountView> Lookup(const std::string& account) override {
    ++calls_.lookups;
    if (account != "alice" && account != "bob") return Fail(Error::NotFound("no account " + account));
    AccountView view;
    view.provider = provider_;
    view.id = std::string(ToString(provider_)) + "-id-" + account;
    view.login = account;
    if (provider_ == Provider::kActiveDirectory) view.identifiers["dn"] = "CN=" + account + ",OU=Staff";
    return view;
  }

 private:
  Provider provider_;
  Calls& calls_;
};

class CordonRiskEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open((dir_.path() / "cordon.db").string());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate());
    EngineOptions options;
    options.poll_interval = Millis(20);
    engine_ = std::make_unique<Engine>(*store_, options);
    for (const Provider p : {Provider::kActiveDirectory, Provider::kOkta}) {
      ProviderSettings settings;
      settings.workers = 1;
      (void)calls_[p];
      engine_->AddWorkers(
          p,
          [this, p]() -> Result<std::unique_ptr<Connector>> {
            return std::make_unique<LookupOnlyConnector>(p, calls_[p]);
          },
          settings);
    }
    service_ = std::make_unique<ActionService>(
        *store_, engine_.get(), std::set<Provider>{Provider::kActiveDirectory, Provider::kOkta});
    engine_->Start();
  }
  void TearDown() override {
    engine_->Stop();
    service_.reset();
    engine_.reset();
    store_.reset();
  }

  Action Submit(ActionType type, Provider provider, const std::string& target) {
    SubmitRequest r{type, provider, {target}, "incident 7", Actor{"analyst", "tok_analyst"}};
    auto created = service_->Submit(r);
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->front() : Action{};
  }
  // Waits for the action to finish (an upper bound for a loaded machine, not a timing assert).
  Action Finished(const std::string& id) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (true) {
      auto a = store_->GetAction(id);
      EXPECT_TRUE(a);
      if (!a) return {};
      if (IsTerminal(a->status) || std::chrono::steady_clock::now() > give_up) return *a;
      std::this_thread::sleep_for(Millis(10));
    }
  }
  std::vector<RiskMark> Risks(std::optional<Provider> provider = std::nullopt) {
    RiskFilter f;
    f.provider = provider;
    auto marks = store_->ListRisks(f);
    EXPECT_TRUE(marks) << marks.error().message;
    return marks ? *marks : std::vector<RiskMark>{};
  }

  testing::TempDir dir_{"cordon-risk"};
  std::map<Provider, Calls> calls_;  // filled before the engine starts
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ActionService> service_;
  const Actor boss_{"boss", "tok_boss"};
};

TEST_F(CordonRiskEngineTest, MarkOnAdAndOktaSetsTheLevelAndTheDismissClearsIt) {
  const Action ad = Finished(Submit(ActionType::kMarkCompromised, Provider::kActiveDirectory, "alice").id);
  const Action okta = Finished(Submit(ActionType::kMarkCompromised, Provider::kOkta, "alice").id);
  ASSERT_EQ(ad.status, ActionStatus::kSucceeded) << ad.outcome;
  ASSERT_EQ(okta.status, ActionStatus::kSucceeded) << okta.outcome;
  EXPECT_EQ(ad.outcome, "Cordon's risk level set to High; ad has no risk level of its own");
  EXPECT_EQ(okta.outcome, "Cordon's risk level set to High; okta has no risk level of its own");
  EXPECT_EQ(ad.account_id, "ad-id-alice") << "the immutable id from the connector's Lookup";
  EXPECT_EQ(ad.resolved_account, "CN=alice,OU=Staff");
  EXPECT_EQ(ad.risk_level, RiskLevel::kHigh);
  EXPECT_EQ(ad.prior_in_target, false);
  EXPECT_EQ(ad.prior_state, "no risk level in Cordon");

  const auto marks = Risks();
  ASSERT_THAT(marks, SizeIs(2));
  const auto ad_marks = Risks(Provider::kActiveDirectory);
  ASSERT_THAT(ad_marks, SizeIs(1));
  EXPECT_EQ(ad_marks[0].account_id, "ad-id-alice");
  EXPECT_EQ(ad_marks[0].action_id, ad.id);

  // The undo acts on the id already known: no second lookup.
  const int lookups = calls_[Provider::kActiveDirectory].lookups;
  auto undo = service_->Undo(ad.id, boss_, "false positive");
  ASSERT_TRUE(undo) << undo.error().message;
  EXPECT_EQ(undo->type, ActionType::kDismissRisk);
  const Action dismissed = Finished(undo->id);
  ASSERT_EQ(dismissed.status, ActionStatus::kSucceeded) << dismissed.outcome;
  EXPECT_EQ(dismissed.outcome, "Cordon's risk level cleared; ad has no risk level of its own");
  EXPECT_EQ(calls_[Provider::kActiveDirectory].lookups, lookups);
  EXPECT_THAT(Risks(Provider::kActiveDirectory), SizeIs(0));
  EXPECT_THAT(Risks(Provider::kOkta), SizeIs(1)) << "Okta's mark is another account's";

  auto okta_undo = service_->Undo(okta.id, boss_, "false positive");
  ASSERT_TRUE(okta_undo) << okta_undo.error().message;
  EXPECT_EQ(Finished(okta_undo->id).status, ActionStatus::kSucceeded);
  EXPECT_THAT(Risks(), SizeIs(0));

  EXPECT_EQ(calls_[Provider::kActiveDirectory].executes, 0) << "a Cordon-only action never reaches Execute";
  EXPECT_EQ(calls_[Provider::kOkta].executes, 0);
}

TEST_F(CordonRiskEngineTest, TheLevelIsPerAccountAndAMarkedAccountIsMarkedOnce) {
  const Action alice = Finished(Submit(ActionType::kMarkCompromised, Provider::kActiveDirectory, "alice").id);
  ASSERT_EQ(alice.status, ActionStatus::kSucceeded);
  // bob has no level: dismissing it changes nothing.
  const Action bob = Finished(Submit(ActionType::kDismissRisk, Provider::kActiveDirectory, "bob").id);
  ASSERT_EQ(bob.status, ActionStatus::kSucceeded) << bob.outcome;
  EXPECT_TRUE(bob.already_in_state);
  EXPECT_THAT(bob.outcome, HasSubstr("no risk level for this account"));
  EXPECT_THAT(Risks(), SizeIs(1));

  // Marking alice again changes nothing, and so has nothing to undo.
  const Action again = Finished(Submit(ActionType::kMarkCompromised, Provider::kActiveDirectory, "alice").id);
  ASSERT_EQ(again.status, ActionStatus::kSucceeded);
  EXPECT_TRUE(again.already_in_state);
  EXPECT_THAT(again.outcome, HasSubstr(alice.id));
  EXPECT_FALSE(again.risk_level.has_value());
  auto undo = service_->Undo(again.id, boss_, "oops");
  ASSERT_FALSE(undo);
  EXPECT_THAT(undo.error().message, HasSubstr("changed nothing"));
  EXPECT_EQ(Risks().front().action_id, alice.id);
}

TEST_F(CordonRiskEngineTest, AnAccountTheProviderDoesNotKnowIsNotMarked) {
  const Action ghost = Finished(Submit(ActionType::kMarkCompromised, Provider::kOkta, "ghost").id);
  EXPECT_EQ(ghost.status, ActionStatus::kFailed);
  EXPECT_THAT(ghost.outcome, HasSubstr("no account ghost"));
  EXPECT_THAT(Risks(), SizeIs(0));
}

}  // namespace
}  // namespace cordon
