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
    return {type, Provider::kActiveDirectory, std::move(targets), "incident 42", "analyst"};
  }
  int StoredCount() {
    ActionFilter f;
    f.limit = 1000;
    auto page = store_->ListActions(f);
    return page ? static_cast<int>(page->actions.size()) : -1;
  }
  // Marks an action succeeded as a worker would.
  void Succeed(const Action& a) {
    auto claimed = store_->ClaimDue(a.provider, "w", 1000, Now() + Millis(1000), Millis(10000));
    ASSERT_TRUE(claimed);
    for (const Action& c : *claimed) {
      AttemptReport r;
      r.action_id = c.id;
      r.worker = "w";
      r.outcome = c.id == a.id ? AttemptOutcome::kSucceeded : AttemptOutcome::kPermanentError;
      r.started_at = r.finished_at = Now();
      ASSERT_TRUE(store_->FinishAttempt(r));
    }
  }

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
  EXPECT_TRUE(a.bulk_id.empty());
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
  cases.push_back({Request({std::string(513, 'a')}), "longer than 512"});
  cases.push_back({Request(std::vector<std::string>(101, "x")), "at most 100"});
  SubmitRequest no_reason = Request({"alice"});
  no_reason.reason = "  ";
  cases.push_back({no_reason, "reason is required"});
  SubmitRequest long_reason = Request({"alice"});
  long_reason.reason = std::string(2049, 'r');
  cases.push_back({long_reason, "reason is longer"});
  SubmitRequest no_actor = Request({"alice"});
  no_actor.actor = "";
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
  auto cancelled = service_->Cancel(created->front().id, "boss", "false positive");
  ASSERT_TRUE(cancelled) << cancelled.error().message;
  EXPECT_EQ(cancelled->status, ActionStatus::kCancelled);
  auto again = service_->Cancel(created->front().id, "boss", "");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);
  auto bad = service_->Cancel(std::string(500, 'x'), "boss", "");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  auto missing = service_->Cancel("act_nope", "boss", "");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(ActionServiceTest, UndoCreatesTheLinkedReverseAction) {
  auto created = service_->Submit(Request({"alice"}));
  ASSERT_TRUE(created);
  Succeed(created->front());
  auto undo = service_->Undo(created->front().id, "boss", "false positive");
  ASSERT_TRUE(undo) << undo.error().message;
  EXPECT_EQ(undo->type, ActionType::kEnable);
  EXPECT_EQ(undo->target, "alice");
  EXPECT_EQ(undo->undo_of, created->front().id);
  EXPECT_EQ(undo->requested_by, "boss");
  EXPECT_EQ(undo->status, ActionStatus::kPending);
  auto original = store_->GetAction(created->front().id);
  ASSERT_TRUE(original);
  EXPECT_EQ(original->undone_by, undo->id);

  auto twice = service_->Undo(created->front().id, "boss", "again");
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(twice.error().message, HasSubstr("already undone"));
}

TEST_F(ActionServiceTest, UndoOfPasswordResetClearsIt) {
  auto created = service_->Submit(Request({"alice"}, ActionType::kForcePasswordReset));
  ASSERT_TRUE(created);
  Succeed(created->front());
  auto undo = service_->Undo(created->front().id, "boss", "wrong user");
  ASSERT_TRUE(undo) << undo.error().message;
  EXPECT_EQ(undo->type, ActionType::kClearPasswordReset);
}

TEST_F(ActionServiceTest, UndoRefusesUnfinishedWorkAndNeedsAReason) {
  auto created = service_->Submit(Request({"alice"}));
  ASSERT_TRUE(created);
  auto not_yet = service_->Undo(created->front().id, "boss", "why");
  ASSERT_FALSE(not_yet);
  EXPECT_EQ(not_yet.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(not_yet.error().message, HasSubstr("only a succeeded action"));
  auto no_reason = service_->Undo(created->front().id, "boss", "");
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
  Succeed(created->front());
  auto undo = service_->Undo(created->front().id, "boss", "oops");
  ASSERT_FALSE(undo);
  EXPECT_EQ(undo.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(undo.error().message, HasSubstr("cannot be undone (irreversible)"));
}

}  // namespace
}  // namespace cordon
