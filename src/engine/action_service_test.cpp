// ActionService against the real SQLite store (no engine: nothing runs).
#include "engine/action_service.h"

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace cordon {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

class ActionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open((dir_ / "cordon.db").string());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate());
    ActionServiceOptions options;
    options.max_attempts = 4;
    options.max_bulk = 100;
    service_ =
        std::make_unique<ActionService>(*store_, nullptr, std::set<Provider>{Provider::kActiveDirectory}, options);
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
  }

  SubmitRequest Request(std::vector<std::string> targets, ActionType type = ActionType::kDisable) {
    return {type, Provider::kActiveDirectory, std::move(targets), "incident 42", Actor{"analyst", "tok_analyst"}};
  }
  int StoredCount() {
    ActionFilter f;
    f.limit = 1000;
    auto page = store_->ListActions(f);
    return page ? static_cast<int>(page->actions.size()) : -1;
  }
  // Runs an action as a worker would: claim, report what the account looked
  // like first (`seen`, one observation per attempt; none: no observation), and
  // end with `outcome`. Other due actions fail.
  void Run(const Action& a, AttemptOutcome outcome, std::vector<bool> seen_in_target = {}) {
    auto claimed = store_->ClaimDue(a.provider, "w", 1000, Now() + Millis(1000), Millis(10000));
    ASSERT_TRUE(claimed);
    for (const Action& c : *claimed) {
      if (c.id == a.id) {
        for (bool in_target : seen_in_target) {
          Observation o{c.id, "CN=" + c.target, "guid-of-" + c.target, in_target ? "disabled" : "enabled", in_target};
          ASSERT_TRUE(store_->RecordObservations(std::span(&o, 1), "w", Now()));
        }
      }
      AttemptReport r;
      r.action_id = c.id;
      r.worker = "w";
      r.outcome = c.id == a.id ? outcome : AttemptOutcome::kPermanentError;
      r.started_at = r.finished_at = Now();
      ASSERT_TRUE(store_->FinishAttempt(r));
    }
  }
  void Succeed(const Action& a, std::vector<bool> seen_in_target = {false}) {
    Run(a, AttemptOutcome::kSucceeded, std::move(seen_in_target));
  }

  const Actor boss_{"boss", "tok_boss"};

  testing::TempDir dir_{"cordon-svc"};
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<ActionService> service_;
};

TEST_F(ActionServiceTest, SubmitsOneAction) {
  auto created = service_->Submit(Request({"alice.adams"}));
  ASSERT_TRUE(created) << created.error().message;
  ASSERT_THAT(*created, SizeIs(1));
  const Action& a = created->front();
  EXPECT_EQ(a.status, ActionStatus::kPending);
  EXPECT_EQ(a.target, "alice.adams");
  EXPECT_EQ(a.requested_by, "analyst");
  EXPECT_EQ(a.reason, "incident 42");
  EXPECT_EQ(a.max_attempts, 4);
  EXPECT_EQ(a.requested_by_token, "tok_analyst");
  EXPECT_TRUE(a.bulk_id.empty());
  // The default time budget: a day from now.
  EXPECT_GE(a.deadline, a.created_at + std::chrono::hours(23));
  EXPECT_LE(a.deadline, a.created_at + std::chrono::hours(25));
  auto stored = store_->GetAction(a.id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->target, "alice.adams");
}

TEST_F(ActionServiceTest, BulkSharesOneBulkIdAndDedupes) {
  auto created = service_->Submit(Request({"a", " b ", "A", "c", "b"}));
  ASSERT_TRUE(created) << created.error().message;
  ASSERT_THAT(*created, SizeIs(3));
  EXPECT_EQ((*created)[0].target, "a");
  EXPECT_EQ((*created)[1].target, "b");
  EXPECT_EQ((*created)[2].target, "c");
  EXPECT_EQ((*created)[0].bulk_id.rfind("bulk_", 0), 0u);
  for (const Action& a : *created) EXPECT_EQ(a.bulk_id, (*created)[0].bulk_id);
}

TEST_F(ActionServiceTest, ABulkRequestKeepsItsBulkIdWhenItsTargetsMergeIntoOne) {
  SubmitRequest r = Request({"alice", "ALICE"});
  r.bulk = true;
  auto created = service_->Submit(r);
  ASSERT_TRUE(created) << created.error().message;
  ASSERT_THAT(*created, SizeIs(1));
  EXPECT_EQ(created->front().bulk_id.rfind("bulk_", 0), 0u) << "the requester follows it by its bulk id";
}

TEST_F(ActionServiceTest, RefusesBadRequestsWithClearTextAndWritesNothing) {
  struct Case {
    SubmitRequest request;
    std::string expected;
  };
  std::vector<Case> cases;
  cases.push_back({Request({"alice"}, ActionType::kSuspend), "offers no action suspend"});
  SubmitRequest okta = Request({"alice"}, ActionType::kSuspend);
  okta.provider = Provider::kOkta;
  cases.push_back({okta, "not configured"});
  cases.push_back({Request({}), "at least one target"});
  cases.push_back({Request({"alice", ""}), "target #2 is empty"});
  cases.push_back({Request({"   "}), "the target is empty"});
  cases.push_back({Request({"ali\nce"}), "control characters"});
  cases.push_back({Request({std::string("ali\0ce", 6)}), "control characters"});
  cases.push_back({Request({"\xc3\x28"}), "invalid UTF-8"});
  cases.push_back({Request({"\xed\xa0\x80"}), "invalid UTF-8"});        // a UTF-16 surrogate
  cases.push_back({Request({"\xc0\xaf"}), "invalid UTF-8"});            // overlong '/'
  cases.push_back({Request({"alice\xc2\x9b"}), "control characters"});  // C1 CSI
  cases.push_back({Request({"\xe2\x80\xae"
                            "ecila"}),
                   "control characters"});  // right-to-left override
  cases.push_back({Request({std::string(kMaxAccountBytes + 1, 'a')}), "longer than 256"});
  cases.push_back({Request(std::vector<std::string>(101, "x")), "at most 100"});
  SubmitRequest no_reason = Request({"alice"});
  no_reason.reason = "  ";
  cases.push_back({no_reason, "reason is required"});
  SubmitRequest long_reason = Request({"alice"});
  long_reason.reason = std::string(kMaxReasonBytes + 1, 'r');
  cases.push_back({long_reason, "reason is longer"});
  SubmitRequest no_actor = Request({"alice"});
  no_actor.actor = Actor{};
  cases.push_back({no_actor, "actor"});

  for (const Case& c : cases) {
    auto created = service_->Submit(c.request);
    ASSERT_FALSE(created) << c.expected;
    EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument) << c.expected;
    EXPECT_THAT(created.error().message, HasSubstr(c.expected));
  }
  EXPECT_EQ(StoredCount(), 0);
}

TEST_F(ActionServiceTest, AFilterInjectionLookingTargetIsStoredVerbatim) {
  auto created = service_->Submit(Request({"*)(sAMAccountName=*"}));
  ASSERT_TRUE(created);
  EXPECT_EQ(created->front().target, "*)(sAMAccountName=*");
}

TEST_F(ActionServiceTest, NonAsciiNamesAreWelcome) {
  auto created = service_->Submit(Request({"zoë.müller", "\xe5\xbc\xa0\xe4\xbc\x9f"}));
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_THAT(*created, SizeIs(2));
}

TEST_F(ActionServiceTest, ReasonMayHoldNewlines) {
  SubmitRequest r = Request({"alice"});
  r.reason = "ticket 7\nphished at 09:00";
  EXPECT_TRUE(service_->Submit(r));
}

TEST_F(ActionServiceTest, CancelsPendingWork) {
  auto created = service_->Submit(Request({"alice"}));
  ASSERT_TRUE(created);
  auto cancelled = service_->Cancel(created->front().id, boss_, "false positive");
  ASSERT_TRUE(cancelled) << cancelled.error().message;
  EXPECT_EQ(cancelled->status, ActionStatus::kCancelled);
  auto again = service_->Cancel(created->front().id, boss_, "");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);
  auto bad = service_->Cancel(std::string(500, 'x'), boss_, "");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  auto missing = service_->Cancel("act_nope", boss_, "");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(ActionServiceTest, UndoCreatesTheReverseActionOnTheResolvedAccount) {
  auto created = service_->Submit(Request({"alice"}));
  ASSERT_TRUE(created);
  Succeed(created->front());
  auto undo = service_->Undo(created->front().id, boss_, "false positive");
  ASSERT_TRUE(undo) << undo.error().message;
  EXPECT_EQ(undo->type, ActionType::kEnable);
  EXPECT_EQ(undo->target, "alice");
  EXPECT_EQ(undo->account_id, "guid-of-alice") << "the immutable id the original resolved to, not the name";
  EXPECT_EQ(undo->undo_of, created->front().id);
  EXPECT_EQ(undo->requested_by, "boss");
  EXPECT_EQ(undo->requested_by_token, "tok_boss");
  EXPECT_EQ(undo->status, ActionStatus::kPending);
  auto original = store_->GetAction(created->front().id);
  ASSERT_TRUE(original);
  EXPECT_TRUE(original->undone_by.empty()) << "linked only once the undo succeeds";

  auto while_running = service_->Undo(created->front().id, boss_, "again");
  ASSERT_FALSE(while_running);
  EXPECT_EQ(while_running.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(while_running.error().message, HasSubstr("already being undone by " + undo->id));

  Succeed(*undo);
  original = store_->GetAction(created->front().id);
  ASSERT_TRUE(original);
  EXPECT_EQ(original->undone_by, undo->id);
  auto twice = service_->Undo(created->front().id, boss_, "again");
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(twice.error().message, HasSubstr("already undone"));
}

TEST_F(ActionServiceTest, AFailedOrCancelledUndoCanBeAskedAgain) {
  auto created = service_->Submit(Request({"alice"}));
  ASSERT_TRUE(created);
  Succeed(created->front());
  auto first = service_->Undo(created->front().id, boss_, "false positive");
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(service_->Cancel(first->id, boss_, "not now"));
  auto second = service_->Undo(created->front().id, boss_, "false positive, now");
  ASSERT_TRUE(second) << second.error().message;
  Run(*second, AttemptOutcome::kPermanentError, {true});
  auto original = store_->GetAction(created->front().id);
  ASSERT_TRUE(original);
  EXPECT_TRUE(original->undone_by.empty());
  auto third = service_->Undo(created->front().id, boss_, "third time");
  ASSERT_TRUE(third) << third.error().message;
}

TEST_F(ActionServiceTest, AnActionThatChangedNothingHasNothingToUndo) {
  // The account was already disabled when Cordon looked: enabling it would
  // change what Cordon never touched.
  auto created = service_->Submit(Request({"alice"}));
  ASSERT_TRUE(created);
  Succeed(created->front(), {true});
  auto undo = service_->Undo(created->front().id, boss_, "false positive");
  ASSERT_FALSE(undo);
  EXPECT_EQ(undo.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(undo.error().message, HasSubstr("changed nothing"));
  EXPECT_EQ(StoredCount(), 1) << "nothing was created";
}

TEST_F(ActionServiceTest, TheFirstObservationDecidesNotARerun) {
  // The first attempt saw the account enabled and sent the change; its answer
  // was lost; the re-run found it disabled. Cordon did change it.
  auto created = service_->Submit(Request({"alice"}));
  ASSERT_TRUE(created);
  Run(created->front(), AttemptOutcome::kProviderError, {false});
  auto after_first = store_->GetAction(created->front().id);
  ASSERT_TRUE(after_first);
  ASSERT_EQ(after_first->status, ActionStatus::kPending);
  Succeed(created->front(), {true});
  auto original = store_->GetAction(created->front().id);
  ASSERT_TRUE(original);
  EXPECT_EQ(original->prior_in_target, false);
  EXPECT_EQ(original->prior_state, "enabled");
  auto undo = service_->Undo(created->front().id, boss_, "false positive");
  EXPECT_TRUE(undo) << undo.error().message;
}

TEST_F(ActionServiceTest, UndoOfPasswordResetClearsIt) {
  auto created = service_->Submit(Request({"alice"}, ActionType::kForcePasswordReset));
  ASSERT_TRUE(created);
  Succeed(created->front());
  auto undo = service_->Undo(created->front().id, boss_, "wrong user");
  ASSERT_TRUE(undo) << undo.error().message;
  EXPECT_EQ(undo->type, ActionType::kClearPasswordReset);
}

TEST_F(ActionServiceTest, UndoRefusesUnfinishedWorkAndNeedsAReason) {
  auto created = service_->Submit(Request({"alice"}));
  ASSERT_TRUE(created);
  auto not_yet = service_->Undo(created->front().id, boss_, "why");
  ASSERT_FALSE(not_yet);
  EXPECT_EQ(not_yet.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(not_yet.error().message, HasSubstr("only a succeeded action"));
  auto no_reason = service_->Undo(created->front().id, boss_, "");
  ASSERT_FALSE(no_reason);
  EXPECT_EQ(no_reason.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ActionServiceTest, IrreversibleActionsCannotBeUndone) {
  // Sessions revoked at Okta cannot be given back: the store holds such an
  // action (submitted while okta was configured), the service refuses to undo it.
  NewAction n;
  n.type = ActionType::kRevokeSessions;
  n.provider = Provider::kOkta;
  n.target = "alice";
  n.requested_by = "analyst";
  n.reason = "r";
  auto created = store_->CreateActions(std::span(&n, 1), Now());
  ASSERT_TRUE(created);
  Run(created->front(), AttemptOutcome::kSucceeded);
  auto undo = service_->Undo(created->front().id, boss_, "oops");
  ASSERT_FALSE(undo);
  EXPECT_EQ(undo.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(undo.error().message, HasSubstr("cannot be undone (irreversible)"));
}

// A hybrid user: an Entra suspend with alsoOnPrem also disables the
// on-premises AD account of the same name.
class HybridTest : public ActionServiceTest {
 protected:
  void SetUp() override {
    ActionServiceTest::SetUp();
    hybrid_ = std::make_unique<ActionService>(
        *store_, nullptr, std::set<Provider>{Provider::kActiveDirectory, Provider::kEntra}, ActionServiceOptions{});
  }
  void TearDown() override {
    hybrid_.reset();
    ActionServiceTest::TearDown();
  }
  SubmitRequest Suspend(std::vector<std::string> targets) {
    SubmitRequest r{ActionType::kSuspend, Provider::kEntra, std::move(targets), "incident 42",
                    Actor{"analyst", "tok_analyst"}};
    r.also_on_prem = true;
    return r;
  }
  // Both halves of one person, succeeded.
  std::pair<Action, Action> SucceededPair() {
    auto created = hybrid_->Submit(Suspend({"alice@corp.example"}));
    EXPECT_TRUE(created) << created.error().message;
    if (!created || created->size() != 2) return {};
    Succeed((*created)[0]);
    Succeed((*created)[1]);
    return {(*created)[0], (*created)[1]};
  }
  std::unique_ptr<ActionService> hybrid_;
};

TEST_F(HybridTest, AlsoOnPremCreatesAnEntraSuspendAndALinkedAdDisable) {
  auto created = hybrid_->Submit(Suspend({"alice@corp.example"}));
  ASSERT_TRUE(created) << created.error().message;
  ASSERT_THAT(*created, SizeIs(2));
  const Action& entra = (*created)[0];
  const Action& ad = (*created)[1];
  EXPECT_EQ(entra.provider, Provider::kEntra);
  EXPECT_EQ(entra.type, ActionType::kSuspend);
  EXPECT_EQ(ad.provider, Provider::kActiveDirectory);
  EXPECT_EQ(ad.type, ActionType::kDisable);
  EXPECT_EQ(ad.target, "alice@corp.example") << "the name the analyst gave: AD resolves it by UPN";
  EXPECT_THAT(entra.linked_actions, ::testing::ElementsAre(ad.id));
  EXPECT_THAT(ad.linked_actions, ::testing::ElementsAre(entra.id));
  EXPECT_TRUE(entra.bulk_id.empty()) << "one person is not a bulk";

  // Many people: a pair each, linked within the pair, one bulk.
  auto bulk = hybrid_->Submit(Suspend({"bob@corp.example", "carol@corp.example"}));
  ASSERT_TRUE(bulk) << bulk.error().message;
  ASSERT_THAT(*bulk, SizeIs(4));
  EXPECT_FALSE((*bulk)[0].bulk_id.empty());
  for (size_t i = 0; i < 4; i += 2) {
    EXPECT_THAT((*bulk)[i].linked_actions, ::testing::ElementsAre((*bulk)[i + 1].id));
    EXPECT_EQ((*bulk)[i].target, (*bulk)[i + 1].target);
    EXPECT_EQ((*bulk)[i].bulk_id, (*bulk)[0].bulk_id);
    EXPECT_EQ((*bulk)[i + 1].bulk_id, (*bulk)[0].bulk_id);
  }
}

TEST_F(HybridTest, AlsoOnPremIsForAnEntraSuspendOnlyAndNeedsAd) {
  SubmitRequest disable = Suspend({"alice"});
  disable.provider = Provider::kActiveDirectory;
  disable.type = ActionType::kDisable;
  auto refused = hybrid_->Submit(disable);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(refused.error().message, HasSubstr("applies to an entra suspend only"));
  SubmitRequest revoke = Suspend({"alice"});
  revoke.type = ActionType::kRevokeSessions;
  EXPECT_FALSE(hybrid_->Submit(revoke));

  ActionService entra_only(*store_, nullptr, {Provider::kEntra});
  auto no_ad = entra_only.Submit(Suspend({"alice"}));
  ASSERT_FALSE(no_ad);
  EXPECT_THAT(no_ad.error().message, HasSubstr("needs provider ad"));
  EXPECT_EQ(StoredCount(), 0);
}

TEST_F(HybridTest, UndoingEitherHalfReversesBothTogether) {
  auto [entra, ad] = SucceededPair();
  auto undone = hybrid_->UndoWithLinked(ad.id, boss_, "false positive");
  ASSERT_TRUE(undone) << undone.error().message;
  ASSERT_THAT(undone->undos, SizeIs(2));
  EXPECT_THAT(undone->notes, SizeIs(0));
  const Action& enable = undone->undos[0];
  const Action& unsuspend = undone->undos[1];
  EXPECT_EQ(enable.type, ActionType::kEnable);
  EXPECT_EQ(enable.undo_of, ad.id);
  EXPECT_EQ(unsuspend.type, ActionType::kUnsuspend);
  EXPECT_EQ(unsuspend.provider, Provider::kEntra);
  EXPECT_EQ(unsuspend.undo_of, entra.id);
  EXPECT_EQ(unsuspend.account_id, "guid-of-alice@corp.example");
  EXPECT_THAT(enable.linked_actions, ::testing::ElementsAre(unsuspend.id));
  EXPECT_THAT(unsuspend.linked_actions, ::testing::ElementsAre(enable.id));

  // Asking from the other half now finds its undo under way.
  auto again = hybrid_->UndoWithLinked(entra.id, boss_, "again");
  ASSERT_FALSE(again);
  EXPECT_THAT(again.error().message, HasSubstr("already being undone"));
}

TEST_F(HybridTest, AHalfStillRunningRefusesTheUndoAndAFailedOneIsLeftWithANote) {
  auto created = hybrid_->Submit(Suspend({"alice@corp.example"}));
  ASSERT_TRUE(created);
  const Action entra = (*created)[0];
  const Action ad = (*created)[1];
  Succeed(ad);
  auto running = hybrid_->UndoWithLinked(ad.id, boss_, "false positive");
  ASSERT_FALSE(running);
  EXPECT_EQ(running.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(running.error().message, HasSubstr("still pending"));
  EXPECT_THAT(running.error().message, HasSubstr(entra.id));
  EXPECT_EQ(StoredCount(), 2) << "nothing was created";

  Run(entra, AttemptOutcome::kPermanentError);
  auto undone = hybrid_->UndoWithLinked(ad.id, boss_, "false positive");
  ASSERT_TRUE(undone) << undone.error().message;
  ASSERT_THAT(undone->undos, SizeIs(1));
  EXPECT_EQ(undone->undos[0].undo_of, ad.id);
  EXPECT_THAT(undone->undos[0].linked_actions, SizeIs(0));
  ASSERT_THAT(undone->notes, SizeIs(1));
  EXPECT_THAT(undone->notes[0], HasSubstr(entra.id));
  EXPECT_THAT(undone->notes[0], HasSubstr("is left as it is"));
  EXPECT_THAT(undone->notes[0], HasSubstr("failed"));

  // The failed half itself still follows the usual rule.
  auto failed = hybrid_->UndoWithLinked(entra.id, boss_, "why");
  ASSERT_FALSE(failed);
  EXPECT_THAT(failed.error().message, HasSubstr("only a succeeded action can be undone"));
}

}  // namespace
}  // namespace cordon
