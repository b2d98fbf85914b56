// The store conformance suite: what every Store backend must do
// (store/store.h). Instantiated per backend (src/store/<backend>/*_test.cpp).
#include "store_conformance.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <gmock/gmock.h>

namespace cordon::testing {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

void StoreConformance::SetUp() {
  store_ = Reopen();
  ASSERT_NE(store_, nullptr);
}

void StoreConformance::TearDown() { store_.reset(); }

std::unique_ptr<Store> StoreConformance::Reopen() {
  auto store = GetParam().open(dir_.path());
  if (store == nullptr) return nullptr;
  auto migrated = store->Migrate();
  EXPECT_TRUE(migrated) << migrated.error().message;
  return store;
}

NewAction StoreConformance::MakeAction(std::string target, ActionType type, Provider provider) const {
  NewAction n;
  n.type = type;
  n.provider = provider;
  n.target = std::move(target);
  n.requested_by = "analyst";
  n.reason = "incident 42";
  n.max_attempts = 3;
  return n;
}

Action StoreConformance::CreateOne(const NewAction& n, TimePoint at) {
  auto created = store_->CreateActions(std::span(&n, 1), at);
  EXPECT_TRUE(created) << created.error().message;
  if (!created || created->size() != 1) return {};
  return created->front();
}

namespace {

AttemptReport Report(const Action& a, std::string worker, AttemptOutcome outcome, TimePoint at,
                     std::string message = "done") {
  AttemptReport r;
  r.action_id = a.id;
  r.worker = std::move(worker);
  r.outcome = outcome;
  r.started_at = at;
  r.finished_at = at;
  r.message = std::move(message);
  return r;
}

std::vector<std::pair<std::string, std::string>> Transitions(const std::vector<AuditEvent>& events) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const AuditEvent& e : events)
    if (e.event == "transition" || e.event == "created") out.emplace_back(e.from_status, e.to_status);
  return out;
}

std::vector<std::string> Ids(const std::vector<Action>& actions) {
  std::vector<std::string> ids;
  for (const Action& a : actions) ids.push_back(a.id);
  return ids;
}

}  // namespace

TEST_P(StoreConformance, CreatedActionsRoundTripWithIdsAndAudit) {
  std::vector<NewAction> batch = {MakeAction("alice.adams"), MakeAction("bob.brown", ActionType::kEnable)};
  batch[1].bulk_id = "bulk_1";
  batch[1].initial_status = ActionStatus::kAwaitingApproval;
  auto created = store_->CreateActions(batch, t0_);
  ASSERT_TRUE(created) << created.error().message;
  ASSERT_THAT(*created, SizeIs(2));
  EXPECT_EQ((*created)[0].target, "alice.adams");
  EXPECT_EQ((*created)[1].target, "bob.brown");
  EXPECT_NE((*created)[0].id, (*created)[1].id);
  for (const Action& a : *created) {
    EXPECT_TRUE(IsActionId(a.id)) << a.id;
  }

  auto got = store_->GetAction((*created)[1].id);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->type, ActionType::kEnable);
  EXPECT_EQ(got->provider, Provider::kActiveDirectory);
  EXPECT_EQ(got->requested_by, "analyst");
  EXPECT_EQ(got->reason, "incident 42");
  EXPECT_EQ(got->status, ActionStatus::kAwaitingApproval);
  EXPECT_EQ(got->bulk_id, "bulk_1");
  EXPECT_EQ(got->max_attempts, 3);
  EXPECT_EQ(got->attempt_count, 0);
  EXPECT_EQ(got->created_at, t0_);
  EXPECT_EQ(got->next_attempt_at, t0_);
  EXPECT_TRUE(got->undo_of.empty());
  EXPECT_TRUE(got->undone_by.empty());

  auto audit = store_->GetAudit(got->id);
  ASSERT_TRUE(audit);
  ASSERT_THAT(*audit, SizeIs(1));
  EXPECT_EQ((*audit)[0].event, "created");
  EXPECT_EQ((*audit)[0].actor, "analyst");
  EXPECT_EQ((*audit)[0].to_status, "awaiting_approval");
  EXPECT_EQ((*audit)[0].reason, "incident 42");
  EXPECT_EQ((*audit)[0].at, t0_);
}

TEST_P(StoreConformance, CreatingNothingWritesNothing) {
  auto created = store_->CreateActions({}, t0_);
  ASSERT_TRUE(created);
  EXPECT_TRUE(created->empty());
}

TEST_P(StoreConformance, OneInvalidActionRejectsTheWholeBatch) {
  std::vector<NewAction> batch = {MakeAction("a"), MakeAction("b"), MakeAction("c")};
  batch[1].initial_status = ActionStatus::kSucceeded;
  auto created = store_->CreateActions(batch, t0_);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument);

  batch[1] = MakeAction("b");
  batch[2].max_attempts = 0;
  EXPECT_FALSE(store_->CreateActions(batch, t0_));
  batch[2] = MakeAction("");
  EXPECT_FALSE(store_->CreateActions(batch, t0_));

  auto page = store_->ListActions({});
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->actions.empty());
}

TEST_P(StoreConformance, UnknownActionIsNotFound) {
  auto got = store_->GetAction("act_doesnotexist");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
  auto cancelled = store_->Cancel("act_doesnotexist", Actor{"analyst", ""}, "x", t0_);
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreConformance, ListFiltersByEveryField) {
  NewAction okta = MakeAction("carl", ActionType::kSuspend, Provider::kOkta);
  okta.requested_by = "robot";
  NewAction bulk = MakeAction("dana", ActionType::kEnable);
  bulk.bulk_id = "bulk_7";
  Action a1 = CreateOne(MakeAction("alice"), t0_);
  Action a2 = CreateOne(okta, t0_ + Millis(1));
  Action a3 = CreateOne(bulk, t0_ + Millis(2));
  Action a4 = CreateOne(MakeAction("Alice", ActionType::kForcePasswordReset), t0_ + Millis(3));
  ASSERT_TRUE(store_->Cancel(a4.id, Actor{"analyst", ""}, "oops", t0_ + Millis(4)));

  auto ids = [&](ActionFilter f) {
    auto page = store_->ListActions(f);
    EXPECT_TRUE(page) << page.error().message;
    return page ? Ids(page->actions) : std::vector<std::string>{};
  };
  EXPECT_THAT(ids({}), ElementsAre(a4.id, a3.id, a2.id, a1.id));
  ActionFilter f;
  f.status = ActionStatus::kCancelled;
  EXPECT_THAT(ids(f), ElementsAre(a4.id));
  f = {};
  f.type = ActionType::kEnable;
  EXPECT_THAT(ids(f), ElementsAre(a3.id));
  f = {};
  f.provider = Provider::kOkta;
  EXPECT_THAT(ids(f), ElementsAre(a2.id));
  f = {};
  f.target = "alice";  // account names are case-insensitive, as in the directories
  EXPECT_THAT(ids(f), ElementsAre(a4.id, a1.id));
  f = {};
  f.requested_by = "robot";
  EXPECT_THAT(ids(f), ElementsAre(a2.id));
  f = {};
  f.bulk_id = "bulk_7";
  EXPECT_THAT(ids(f), ElementsAre(a3.id));
  f = {};
  f.created_after = t0_ + Millis(1);
  f.created_before = t0_ + Millis(3);
  EXPECT_THAT(ids(f), ElementsAre(a3.id, a2.id));
  f = {};
  f.provider = Provider::kActiveDirectory;
  f.status = ActionStatus::kPending;
  f.target = "alice";
  EXPECT_THAT(ids(f), ElementsAre(a1.id));
  f = {};
  f.target = "*";
  EXPECT_THAT(ids(f), ElementsAre());
}

// The user page's recent actions: those on any of a person's accounts, by
// the immutable id an action resolved to or the name it was asked for.
TEST_P(StoreConformance, ListFiltersByTheAccountsActionsAreOn) {
  const std::string guid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
  Action by_id = CreateOne(MakeAction("CN=Alice Smith,OU=Staff"), t0_);
  Action by_name = CreateOne(MakeAction("ASMITH", ActionType::kForcePasswordReset), t0_ + Millis(1));
  Action by_upn = CreateOne(MakeAction("alice@corp.example.com", ActionType::kEnable), t0_ + Millis(2));
  Action at_okta = CreateOne(MakeAction("00u1", ActionType::kSuspend, Provider::kOkta), t0_ + Millis(3));
  CreateOne(MakeAction("asmith", ActionType::kSuspend, Provider::kOkta), t0_ + Millis(4));  // the name, elsewhere
  CreateOne(MakeAction("bjones"), t0_ + Millis(5));                                      // someone else
  // by_id was asked for by its DN and resolved to the GUID.
  ASSERT_THAT(store_->ClaimDue(Provider::kActiveDirectory, "w", 1, t0_ + Millis(6), Millis(1000)).value(), SizeIs(1));
  AttemptReport done = Report(by_id, "w", AttemptOutcome::kSucceeded, t0_ + Millis(7));
  done.account_id = guid;
  ASSERT_TRUE(store_->FinishAttempt(done));

  auto ids = [&](ActionFilter f) {
    auto page = store_->ListActions(f);
    EXPECT_TRUE(page) << page.error().message;
    return page ? Ids(page->actions) : std::vector<std::string>{};
  };
  ActionFilter f;
  f.accounts = {{Provider::kActiveDirectory, guid, {"asmith", "alice@corp.example.com"}},
                {Provider::kOkta, "00u1", {"00u1", "alice@corp.example.com"}}};
  EXPECT_THAT(ids(f), ElementsAre(at_okta.id, by_upn.id, by_name.id, by_id.id))
      << "newest first; names ignore case; a name counts only at its own provider";
  f.limit = 2;
  auto first = store_->ListActions(f);
  ASSERT_TRUE(first);
  EXPECT_THAT(Ids(first->actions), ElementsAre(at_okta.id, by_upn.id));
  f.cursor = first->next_cursor;
  EXPECT_THAT(ids(f), ElementsAre(by_name.id, by_id.id));
  f = {};
  f.accounts = {{Provider::kActiveDirectory, guid, {}}};
  f.type = ActionType::kDisable;
  EXPECT_THAT(ids(f), ElementsAre(by_id.id)) << "with the other filters";
  f = {};
  f.accounts = {{Provider::kActiveDirectory, "", {}}};
  EXPECT_THAT(ids(f), ElementsAre()) << "an account with neither id nor name is on no action";
  f = {};
  f.accounts = {{Provider::kActiveDirectory, "", {"nobody"}}};
  EXPECT_THAT(ids(f), ElementsAre());
  f = {};
  f.accounts.resize(kMaxFilterAccounts + 1, ActionAccount{Provider::kOkta, "x", {}});
  auto refused = store_->ListActions(f);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, PagingIsNewestFirstAndStableUnderInserts) {
  // Pairs share a timestamp so that the id must break ties.
  std::vector<Action> created;
  for (int i = 0; i < 25; ++i) created.push_back(CreateOne(MakeAction("u" + std::to_string(i)), t0_ + Millis(i / 2)));
  std::sort(created.begin(), created.end(), [](const Action& x, const Action& y) {
    return std::tie(x.created_at, x.id) > std::tie(y.created_at, y.id);
  });
  std::vector<std::string> expected = Ids(created);

  std::vector<std::string> seen;
  ActionFilter f;
  f.limit = 10;
  int pages = 0;
  while (true) {
    auto page = store_->ListActions(f);
    ASSERT_TRUE(page) << page.error().message;
    ++pages;
    for (const Action& a : page->actions) seen.push_back(a.id);
    // New work arriving between pages must not shift or repeat anything.
    CreateOne(MakeAction("late" + std::to_string(pages)), t0_ + Millis(1000 + pages));
    if (page->next_cursor.empty()) break;
    f.cursor = page->next_cursor;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, expected);
}

TEST_P(StoreConformance, ListRefusesBadCursorsAndLimits) {
  ActionFilter f;
  f.cursor = "not-a-cursor";
  auto page = store_->ListActions(f);
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, ErrorCode::kInvalidArgument);
  f.cursor = std::string(5000, 'a');
  EXPECT_FALSE(store_->ListActions(f));
  f = {};
  f.limit = 0;
  EXPECT_FALSE(store_->ListActions(f));
  f.limit = 1001;
  EXPECT_FALSE(store_->ListActions(f));
}

TEST_P(StoreConformance, ClaimTakesDueWorkOfOneProviderOldestFirst) {
  Action old1 = CreateOne(MakeAction("a"), t0_);
  Action old2 = CreateOne(MakeAction("b"), t0_ + Millis(1));
  Action young = CreateOne(MakeAction("c"), t0_ + Millis(2));
  CreateOne(MakeAction("o", ActionType::kSuspend, Provider::kOkta), t0_);
  NewAction waiting = MakeAction("w");
  waiting.initial_status = ActionStatus::kAwaitingApproval;
  CreateOne(waiting, t0_);
  Action future = CreateOne(MakeAction("f"), t0_ + Millis(60000));

  auto claimed = store_->ClaimDue(Provider::kActiveDirectory, "w1", 2, t0_ + Millis(10), Millis(30000));
  ASSERT_TRUE(claimed) << claimed.error().message;
  EXPECT_THAT(Ids(*claimed), ElementsAre(old1.id, old2.id));
  for (const Action& a : *claimed) {
    EXPECT_EQ(a.status, ActionStatus::kInProgress);
    EXPECT_EQ(a.lease_owner, "w1");
    EXPECT_EQ(a.lease_expires_at, t0_ + Millis(30010));
    EXPECT_EQ(a.attempt_count, 1);
  }
  claimed = store_->ClaimDue(Provider::kActiveDirectory, "w2", 10, t0_ + Millis(10), Millis(30000));
  ASSERT_TRUE(claimed);
  EXPECT_THAT(Ids(*claimed), ElementsAre(young.id));  // not the okta one, the waiting one, or the future one
  claimed = store_->ClaimDue(Provider::kActiveDirectory, "w2", 10, t0_ + Millis(60000), Millis(30000));
  ASSERT_TRUE(claimed);
  EXPECT_THAT(Ids(*claimed), ElementsAre(future.id));

  auto got = store_->GetAction(old1.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, ActionStatus::kInProgress);
  EXPECT_EQ(got->lease_owner, "w1");
  EXPECT_FALSE(store_->ClaimDue(Provider::kActiveDirectory, "", 1, t0_, Millis(1000)));
  EXPECT_FALSE(store_->ClaimDue(Provider::kActiveDirectory, "w", 0, t0_, Millis(1000)));
}

TEST_P(StoreConformance, SuccessIsRecordedWithTheProviderAnswer) {
  Action a = CreateOne(MakeAction("alice"), t0_);
  ASSERT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w1", 1, t0_, Millis(30000)));
  AttemptReport r = Report(a, "w1", AttemptOutcome::kSucceeded, t0_ + Millis(5), "already disabled");
  r.started_at = t0_ + Millis(1);
  r.already_in_state = true;
  r.resolved_account = "CN=Alice Adams,OU=Staff,DC=corp,DC=example,DC=test";
  r.provider_answer = {"ldap:0", "Success"};
  auto done = store_->FinishAttempt(r);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->status, ActionStatus::kSucceeded);
  EXPECT_TRUE(done->already_in_state);
  EXPECT_EQ(done->outcome, "already disabled");
  EXPECT_EQ(done->resolved_account, r.resolved_account);
  EXPECT_EQ(done->provider_answer.code, "ldap:0");
  EXPECT_EQ(done->provider_answer.detail, "Success");
  EXPECT_TRUE(done->lease_owner.empty());
  EXPECT_EQ(done->updated_at, t0_ + Millis(5));

  auto attempts = store_->GetAttempts(a.id);
  ASSERT_TRUE(attempts);
  ASSERT_THAT(*attempts, SizeIs(1));
  EXPECT_EQ((*attempts)[0].number, 1);
  EXPECT_EQ((*attempts)[0].worker, "w1");
  EXPECT_EQ((*attempts)[0].result, "succeeded");
  EXPECT_EQ((*attempts)[0].started_at, t0_ + Millis(1));
  EXPECT_EQ((*attempts)[0].finished_at, t0_ + Millis(5));
  EXPECT_EQ((*attempts)[0].provider_answer.detail, "Success");

  // A finished action cannot be finished again.
  auto again = store_->FinishAttempt(r);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
}

TEST_P(StoreConformance, PermanentErrorFailsAtOnce) {
  Action a = CreateOne(MakeAction("administrator"), t0_);
  ASSERT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w1", 1, t0_, Millis(30000)));
  AttemptReport r = Report(a, "w1", AttemptOutcome::kPermanentError, t0_, "insufficient access");
  r.provider_answer = {"ldap:50", "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS)"};
  auto done = store_->FinishAttempt(r);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, ActionStatus::kFailed);
  EXPECT_EQ(done->outcome, "insufficient access");
  EXPECT_THAT(done->provider_answer.detail, HasSubstr("INSUFF_ACCESS_RIGHTS"));
  EXPECT_EQ(done->attempt_count, 1);
}

TEST_P(StoreConformance, FinishingIsFencedByTheLease) {
  Action a = CreateOne(MakeAction("alice"), t0_);
  ASSERT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w1", 1, t0_, Millis(1000)));
  auto stranger = store_->FinishAttempt(Report(a, "w2", AttemptOutcome::kSucceeded, t0_));
  ASSERT_FALSE(stranger);
  EXPECT_EQ(stranger.error().code, ErrorCode::kConflict);

  // w1 stalls past its lease; the action is recovered and handed to w2.
  auto recovered = store_->RecoverExpiredLeases(t0_ + Millis(1000));
  ASSERT_TRUE(recovered);
  EXPECT_EQ(*recovered, 1);
  auto claimed = store_->ClaimDue(Provider::kActiveDirectory, "w2", 1, t0_ + Millis(1001), Millis(1000));
  ASSERT_TRUE(claimed);
  ASSERT_THAT(*claimed, SizeIs(1));
  EXPECT_EQ(claimed->front().attempt_count, 2);

  auto late = store_->FinishAttempt(Report(a, "w1", AttemptOutcome::kSucceeded, t0_ + Millis(1002)));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::kConflict);
  auto ok = store_->FinishAttempt(Report(a, "w2", AttemptOutcome::kSucceeded, t0_ + Millis(1003)));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, ActionStatus::kSucceeded);

  auto attempts = store_->GetAttempts(a.id);
  ASSERT_TRUE(attempts);
  ASSERT_THAT(*attempts, SizeIs(2));
  EXPECT_EQ((*attempts)[0].result, "lease_expired");
  EXPECT_EQ((*attempts)[0].worker, "w1");
  EXPECT_EQ((*attempts)[1].result, "succeeded");
  EXPECT_EQ((*attempts)[1].worker, "w2");
}

TEST_P(StoreConformance, RecoveryReturnsOnlyExpiredLeasesToPending) {
  Action a = CreateOne(MakeAction("a"), t0_);
  ASSERT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w1", 1, t0_, Millis(1000)));
  Action b = CreateOne(MakeAction("b"), t0_ + Millis(500));
  ASSERT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w2", 1, t0_ + Millis(500), Millis(1000)));

  auto none = store_->RecoverExpiredLeases(t0_ + Millis(999));
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0);
  auto one = store_->RecoverExpiredLeases(t0_ + Millis(1200));
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, 1);

  auto got_a = store_->GetAction(a.id);
  auto got_b = store_->GetAction(b.id);
  ASSERT_TRUE(got_a && got_b);
  EXPECT_EQ(got_a->status, ActionStatus::kPending);
  EXPECT_TRUE(got_a->lease_owner.empty());
  EXPECT_EQ(got_a->next_attempt_at, t0_ + Millis(1200));
  EXPECT_EQ(got_b->status, ActionStatus::kInProgress);
  auto audit = store_->GetAudit(a.id);
  ASSERT_TRUE(audit);
  EXPECT_EQ(audit->back().from_status, "in_progress");
  EXPECT_EQ(audit->back().to_status, "pending");
  EXPECT_THAT(audit->back().reason, HasSubstr("lease"));
}

TEST_P(StoreConformance, RenewedLeasesAreNotRecovered) {
  Action a = CreateOne(MakeAction("a"), t0_);
  ASSERT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w1", 1, t0_, Millis(1000)));
  std::vector<std::string> ids = {a.id};
  ASSERT_TRUE(store_->RenewLeases(ids, "w1", t0_ + Millis(900), Millis(1000)));
  auto recovered = store_->RecoverExpiredLeases(t0_ + Millis(1500));
  ASSERT_TRUE(recovered);
  EXPECT_EQ(*recovered, 0);
  auto got = store_->GetAction(a.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->lease_expires_at, t0_ + Millis(1900));

  auto stranger = store_->RenewLeases(ids, "w2", t0_ + Millis(1500), Millis(1000));
  ASSERT_FALSE(stranger);
  EXPECT_EQ(stranger.error().code, ErrorCode::kConflict);
  got = store_->GetAction(a.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->lease_expires_at, t0_ + Millis(1900));
}

TEST_P(StoreConformance, RepeatedlyExpiringLeaseEventuallyGivesUp) {
  NewAction n = MakeAction("poison");
  n.max_attempts = 2;
  Action a = CreateOne(n, t0_);
  for (int i = 0; i < 2; ++i) {
    TimePoint at = t0_ + Millis(10000 * i);
    auto claimed = store_->ClaimDue(Provider::kActiveDirectory, "w", 1, at, Millis(1000));
    ASSERT_TRUE(claimed);
    ASSERT_THAT(*claimed, SizeIs(1));
    ASSERT_TRUE(store_->RecoverExpiredLeases(at + Millis(1000)));
  }
  auto got = store_->GetAction(a.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, ActionStatus::kFailed);
  EXPECT_THAT(got->outcome, HasSubstr("gave up after 2 attempts"));
}

TEST_P(StoreConformance, TransientErrorsRetryAtTheGivenTimeThenGiveUp) {
  Action a = CreateOne(MakeAction("alice"), t0_);  // max_attempts 3
  TimePoint now = t0_;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto claimed = store_->ClaimDue(Provider::kActiveDirectory, "w", 5, now, Millis(1000));
    ASSERT_TRUE(claimed);
    ASSERT_THAT(*claimed, SizeIs(1)) << "attempt " << attempt;
    EXPECT_EQ(claimed->front().attempt_count, attempt);
    AttemptReport r = Report(a, "w", AttemptOutcome::kTransientError, now, "server is busy");
    r.provider_answer = {"ldap:51", "busy"};
    r.retry_at = now + Millis(5000);
    auto done = store_->FinishAttempt(r);
    ASSERT_TRUE(done) << done.error().message;
    if (attempt < 3) {
      EXPECT_EQ(done->status, ActionStatus::kPending);
      EXPECT_EQ(done->next_attempt_at, now + Millis(5000));
      EXPECT_EQ(done->outcome, "server is busy");
      // Not due before retry_at.
      auto early = store_->ClaimDue(Provider::kActiveDirectory, "w", 5, now + Millis(4999), Millis(1000));
      ASSERT_TRUE(early);
      EXPECT_TRUE(early->empty());
    } else {
      EXPECT_EQ(done->status, ActionStatus::kFailed);
      EXPECT_EQ(done->outcome, "gave up after 3 attempts: server is busy");
    }
    now += Millis(5000);
  }
  auto attempts = store_->GetAttempts(a.id);
  ASSERT_TRUE(attempts);
  ASSERT_THAT(*attempts, SizeIs(3));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*attempts)[i].number, i + 1);
    EXPECT_EQ((*attempts)[i].result, "transient_error");
    EXPECT_EQ((*attempts)[i].provider_answer.code, "ldap:51");
  }
}

TEST_P(StoreConformance, OnlyPendingOrAwaitingActionsCanBeCancelled) {
  Action pending = CreateOne(MakeAction("a"), t0_);
  NewAction w = MakeAction("b");
  w.initial_status = ActionStatus::kAwaitingApproval;
  Action waiting = CreateOne(w, t0_);
  Action running = CreateOne(MakeAction("c", ActionType::kSuspend, Provider::kOkta), t0_);
  ASSERT_TRUE(store_->ClaimDue(Provider::kOkta, "w", 1, t0_, Millis(1000)));

  auto c1 = store_->Cancel(pending.id, Actor{"boss", "tok_boss"}, "false positive", t0_ + Millis(1));
  ASSERT_TRUE(c1) << c1.error().message;
  EXPECT_EQ(c1->status, ActionStatus::kCancelled);
  auto c2 = store_->Cancel(waiting.id, Actor{"boss", ""}, "not needed", t0_ + Millis(1));
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->status, ActionStatus::kCancelled);

  auto c3 = store_->Cancel(running.id, Actor{"boss", ""}, "too late", t0_ + Millis(1));
  ASSERT_FALSE(c3);
  EXPECT_EQ(c3.error().code, ErrorCode::kFailedPrecondition);
  auto c4 = store_->Cancel(pending.id, Actor{"boss", ""}, "twice", t0_ + Millis(2));
  ASSERT_FALSE(c4);
  EXPECT_EQ(c4.error().code, ErrorCode::kFailedPrecondition);

  // Cancelled work is never claimed.
  auto claimed = store_->ClaimDue(Provider::kActiveDirectory, "w", 10, t0_ + Millis(10), Millis(1000));
  ASSERT_TRUE(claimed);
  EXPECT_TRUE(claimed->empty());

  auto audit = store_->GetAudit(pending.id);
  ASSERT_TRUE(audit);
  EXPECT_EQ(audit->back().actor, "boss");
  EXPECT_EQ(audit->back().actor_token, "tok_boss");
  EXPECT_EQ(audit->back().reason, "false positive");
  EXPECT_EQ(audit->back().from_status, "pending");
  EXPECT_EQ(audit->back().to_status, "cancelled");
}

TEST_P(StoreConformance, AnUndoIsLinkedWhenItSucceedsAndOnlyOneRunsAtATime) {
  Action a = CreateOne(MakeAction("alice"), t0_);
  ASSERT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w", 1, t0_, Millis(1000)));
  ASSERT_TRUE(store_->FinishAttempt(Report(a, "w", AttemptOutcome::kSucceeded, t0_)));

  NewAction undo = MakeAction("alice", ActionType::kEnable);
  undo.undo_of = a.id;
  undo.account_id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
  undo.requested_by = "boss";
  undo.requested_by_token = "tok_boss";
  undo.reason = "false positive";
  auto created = store_->CreateUndo(undo, t0_ + Millis(10));
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->undo_of, a.id);
  EXPECT_EQ(created->type, ActionType::kEnable);
  EXPECT_EQ(created->status, ActionStatus::kPending);
  EXPECT_EQ(created->account_id, undo.account_id);
  EXPECT_EQ(created->requested_by_token, "tok_boss");
  auto original = store_->GetAction(a.id);
  ASSERT_TRUE(original);
  EXPECT_TRUE(original->undone_by.empty()) << "not undone until the undo succeeds";
  EXPECT_EQ(original->status, ActionStatus::kSucceeded);

  auto while_pending = store_->CreateUndo(undo, t0_ + Millis(20));
  ASSERT_FALSE(while_pending);
  EXPECT_EQ(while_pending.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(while_pending.error().message, HasSubstr(created->id));

  // Only succeeded actions can be undone; the undo itself is still pending.
  NewAction undo_of_undo = MakeAction("alice", ActionType::kDisable);
  undo_of_undo.undo_of = created->id;
  auto not_done = store_->CreateUndo(undo_of_undo, t0_ + Millis(20));
  ASSERT_FALSE(not_done);
  EXPECT_EQ(not_done.error().code, ErrorCode::kFailedPrecondition);

  NewAction ghost = MakeAction("x", ActionType::kEnable);
  ghost.undo_of = "act_nope";
  auto missing = store_->CreateUndo(ghost, t0_);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  // The undo succeeds: now, and only now, the original is undone.
  ASSERT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w", 1, t0_ + Millis(30), Millis(1000)));
  ASSERT_TRUE(store_->FinishAttempt(Report(*created, "w", AttemptOutcome::kSucceeded, t0_ + Millis(40))));
  original = store_->GetAction(a.id);
  ASSERT_TRUE(original);
  EXPECT_EQ(original->undone_by, created->id);
  auto twice = store_->CreateUndo(undo, t0_ + Millis(50));
  ASSERT_FALSE(twice);
  EXPECT_THAT(twice.error().message, HasSubstr("already undone"));

  auto page = store_->ListActions({});
  ASSERT_TRUE(page);
  EXPECT_THAT(page->actions, SizeIs(2));  // refused undos wrote nothing
  auto audit = store_->GetAudit(a.id);
  ASSERT_TRUE(audit);
  std::vector<std::string> events;
  for (const AuditEvent& e : *audit) events.push_back(e.event);
  EXPECT_THAT(events, ElementsAre("created", "transition", "transition", "undo_requested", "undone"));
  EXPECT_EQ((*audit)[3].actor, "boss");
  EXPECT_EQ((*audit)[3].actor_token, "tok_boss");
}

TEST_P(StoreConformance, AFailedOrCancelledUndoLeavesTheOriginalUndoable) {
  Action a = CreateOne(MakeAction("alice"), t0_);
  ASSERT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w", 1, t0_, Millis(1000)));
  ASSERT_TRUE(store_->FinishAttempt(Report(a, "w", AttemptOutcome::kSucceeded, t0_)));
  NewAction undo = MakeAction("alice", ActionType::kEnable);
  undo.undo_of = a.id;
  auto first = store_->CreateUndo(undo, t0_ + Millis(1));
  ASSERT_TRUE(first);
  ASSERT_TRUE(store_->Cancel(first->id, Actor{"boss", ""}, "not now", t0_ + Millis(2)));
  auto second = store_->CreateUndo(undo, t0_ + Millis(3));
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w", 1, t0_ + Millis(4), Millis(1000)));
  ASSERT_TRUE(store_->FinishAttempt(Report(*second, "w", AttemptOutcome::kPermanentError, t0_ + Millis(5))));
  auto original = store_->GetAction(a.id);
  ASSERT_TRUE(original);
  EXPECT_TRUE(original->undone_by.empty());
  EXPECT_TRUE(store_->CreateUndo(undo, t0_ + Millis(6)));
}

TEST_P(StoreConformance, TheFirstObservationIsKeptAndRecordingIsFencedByTheLease) {
  Action a = CreateOne(MakeAction("alice"), t0_);
  Observation first{a.id, "CN=Alice,OU=Staff", "guid-1", "userAccountControl 0x200", false};
  EXPECT_FALSE(store_->RecordObservations(std::span(&first, 1), "w", t0_)) << "not claimed: no lease";
  ASSERT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w", 1, t0_, Millis(1000)));
  auto fenced = store_->RecordObservations(std::span(&first, 1), "someone-else", t0_);
  ASSERT_FALSE(fenced);
  EXPECT_EQ(fenced.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(store_->RecordObservations(std::span(&first, 1), "w", t0_));
  // A re-run (its first change landed, its answer was lost) sees the target state.
  Observation rerun{a.id, "CN=Alice,OU=Staff", "guid-1", "userAccountControl 0x202", true};
  ASSERT_TRUE(store_->RecordObservations(std::span(&rerun, 1), "w", t0_ + Millis(1)));
  auto got = store_->GetAction(a.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->prior_in_target, false);
  EXPECT_EQ(got->prior_state, "userAccountControl 0x200");
  EXPECT_EQ(got->account_id, "guid-1");
  EXPECT_EQ(got->resolved_account, "CN=Alice,OU=Staff");

  Action b = CreateOne(MakeAction("bob"), t0_);
  EXPECT_FALSE(CreateOne(MakeAction("carol"), t0_).prior_in_target.has_value());
  auto unobserved = store_->GetAction(b.id);
  ASSERT_TRUE(unobserved);
  EXPECT_FALSE(unobserved->prior_in_target.has_value());
}

TEST_P(StoreConformance, AProviderErrorGivesTheAttemptBackAndStillShowsInTheAttempts) {
  NewAction n = MakeAction("alice");
  n.max_attempts = 2;
  Action a = CreateOne(n, t0_);
  TimePoint at = t0_;
  for (int outage = 0; outage < 5; ++outage) {
    auto claimed = store_->ClaimDue(Provider::kActiveDirectory, "w", 1, at, Millis(1000));
    ASSERT_TRUE(claimed);
    ASSERT_THAT(*claimed, SizeIs(1));
    EXPECT_EQ(claimed->front().attempt_count, 1) << "spent while it runs";
    AttemptReport r = Report(a, "w", AttemptOutcome::kProviderError, at + Millis(1), "ad is unreachable");
    r.provider_answer = {"ldap:-1", ""};
    r.retry_at = at + Millis(10);
    auto done = store_->FinishAttempt(r);
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_EQ(done->status, ActionStatus::kPending);
    EXPECT_EQ(done->attempt_count, 0) << "given back";
    EXPECT_EQ(done->next_attempt_at, at + Millis(10));
    at += Millis(10);
  }
  auto claimed = store_->ClaimDue(Provider::kActiveDirectory, "w", 1, at, Millis(1000));
  ASSERT_TRUE(claimed);
  ASSERT_TRUE(store_->FinishAttempt(Report(a, "w", AttemptOutcome::kSucceeded, at + Millis(1))));
  auto attempts = store_->GetAttempts(a.id);
  ASSERT_TRUE(attempts);
  ASSERT_THAT(*attempts, SizeIs(6));
  for (int i = 0; i < 6; ++i) EXPECT_EQ((*attempts)[i].number, i + 1);
  EXPECT_EQ((*attempts)[0].result, "provider_error");
  EXPECT_EQ((*attempts)[0].provider_answer.code, "ldap:-1");
  EXPECT_EQ((*attempts)[5].result, "succeeded");
  auto done = store_->GetAction(a.id);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->attempt_count, 1);
}

TEST_P(StoreConformance, TheTimeBudgetEndsWaitingWork) {
  NewAction n = MakeAction("alice");
  n.deadline = t0_ + Millis(1000);
  Action waiting = CreateOne(n, t0_);
  NewAction other = MakeAction("okta-user", ActionType::kSuspend, Provider::kOkta);
  other.deadline = t0_ + Millis(1000);
  Action elsewhere = CreateOne(other, t0_);
  Action unlimited = CreateOne(MakeAction("bob"), t0_);
  NewAction running_n = MakeAction("carol");
  running_n.deadline = t0_ + Millis(1000);
  Action running = CreateOne(running_n, t0_);

  // A provider error after the budget ends the action at once.
  auto claimed = store_->ClaimDue(Provider::kActiveDirectory, "w", 10, t0_ + Millis(1), Millis(5000));
  ASSERT_TRUE(claimed);
  ASSERT_THAT(*claimed, SizeIs(3));
  for (const Action& c : *claimed) {
    if (c.id == running.id) continue;
    AttemptReport r = Report(c, "w", AttemptOutcome::kProviderError, t0_ + Millis(2), "ad is paused");
    r.retry_at = t0_ + Millis(500);
    ASSERT_TRUE(store_->FinishAttempt(r));
  }
  AttemptReport late = Report(running, "w", AttemptOutcome::kProviderError, t0_ + Millis(999), "ad is paused");
  late.retry_at = t0_ + Millis(1500);
  auto ended = store_->FinishAttempt(late);
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->status, ActionStatus::kFailed);
  EXPECT_THAT(ended->outcome, HasSubstr("time budget ran out"));
  EXPECT_THAT(ended->outcome, HasSubstr("ad is paused"));

  // Past the budget, waiting work is not claimed, and FailOverdue ends it.
  auto none = store_->ClaimDue(Provider::kActiveDirectory, "w", 10, t0_ + Millis(1000), Millis(5000));
  ASSERT_TRUE(none);
  ASSERT_THAT(*none, SizeIs(1));
  EXPECT_EQ(none->front().id, unlimited.id);
  auto failed = store_->FailOverdue(Provider::kActiveDirectory, t0_ + Millis(1000), "ad has been paused since T");
  ASSERT_TRUE(failed);
  EXPECT_EQ(*failed, 1);
  auto got = store_->GetAction(waiting.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, ActionStatus::kFailed);
  EXPECT_THAT(got->outcome, HasSubstr("time budget ran out"));
  EXPECT_THAT(got->outcome, HasSubstr("ad has been paused since T"));
  EXPECT_THAT(got->outcome, HasSubstr("last attempt: ad is paused"));
  auto audit = store_->GetAudit(waiting.id);
  ASSERT_TRUE(audit);
  EXPECT_EQ(audit->back().to_status, "failed");
  EXPECT_EQ(store_->GetAction(elsewhere.id)->status, ActionStatus::kPending) << "another provider's work";
  EXPECT_EQ(store_->GetAction(unlimited.id)->status, ActionStatus::kInProgress);
}

TEST_P(StoreConformance, EveryTransitionIsAuditedWithActorTimeAndReason) {
  Action a = CreateOne(MakeAction("alice"), t0_);
  ASSERT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w1", 1, t0_ + Millis(1), Millis(100)));
  ASSERT_TRUE(store_->RecoverExpiredLeases(t0_ + Millis(200)));
  ASSERT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w2", 1, t0_ + Millis(300), Millis(1000)));
  AttemptReport transient = Report(a, "w2", AttemptOutcome::kTransientError, t0_ + Millis(400), "timeout");
  transient.retry_at = t0_ + Millis(500);
  ASSERT_TRUE(store_->FinishAttempt(transient));
  ASSERT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w3", 1, t0_ + Millis(500), Millis(1000)));
  ASSERT_TRUE(store_->FinishAttempt(Report(a, "w3", AttemptOutcome::kSucceeded, t0_ + Millis(600), "disabled")));

  auto audit = store_->GetAudit(a.id);
  ASSERT_TRUE(audit);
  using P = std::pair<std::string, std::string>;
  EXPECT_THAT(Transitions(*audit),
              ElementsAre(P{"", "pending"}, P{"pending", "in_progress"}, P{"in_progress", "pending"},
                          P{"pending", "in_progress"}, P{"in_progress", "pending"}, P{"pending", "in_progress"},
                          P{"in_progress", "succeeded"}));
  std::vector<std::string> actors;
  for (const AuditEvent& e : *audit) actors.push_back(e.actor);
  EXPECT_THAT(actors, ElementsAre("analyst", "w1", "cordon", "w2", "w2", "w3", "w3"));
  EXPECT_EQ(audit->back().at, t0_ + Millis(600));
  EXPECT_EQ(audit->back().reason, "disabled");
  for (size_t i = 1; i < audit->size(); ++i) EXPECT_GT((*audit)[i].seq, (*audit)[i - 1].seq);
}

TEST_P(StoreConformance, StandaloneAuditEventsAreListedByPrefixNewestFirst) {
  AuditEvent e;
  e.at = t0_;
  e.actor = "anonymous";
  e.event = "auth.unauthenticated";
  e.detail = "GET /api/v1/actions";
  ASSERT_TRUE(store_->AppendAudit(e));
  e.event = "token.created";
  e.actor = "admin";
  ASSERT_TRUE(store_->AppendAudit(e));
  e.event = "auth.forbidden";
  e.actor = "reader";
  e.at = t0_ + Millis(1);
  ASSERT_TRUE(store_->AppendAudit(e));

  auto auth = store_->ListAudit("auth.", 10);
  ASSERT_TRUE(auth);
  ASSERT_THAT(*auth, SizeIs(2));
  EXPECT_EQ((*auth)[0].event, "auth.forbidden");
  EXPECT_EQ((*auth)[0].actor, "reader");
  EXPECT_EQ((*auth)[1].event, "auth.unauthenticated");
  EXPECT_EQ((*auth)[1].detail, "GET /api/v1/actions");
  EXPECT_TRUE((*auth)[1].action_id.empty());

  auto all = store_->ListAudit("", 2);
  ASSERT_TRUE(all);
  EXPECT_THAT(*all, SizeIs(2));
  EXPECT_FALSE(store_->ListAudit("", 0));

  AuditEvent dangling = e;
  dangling.action_id = "act_nope";
  EXPECT_FALSE(store_->AppendAudit(dangling));
}

TEST_P(StoreConformance, TokensAreFoundByDigestOnly) {
  TokenRecord t;
  t.id = "tok_1";
  t.name = "alice-cli";
  t.role = "security_operator";
  t.sha256_hex = std::string(64, 'a');
  t.created_at = t0_;
  t.expires_at = t0_ + Millis(86400000);
  ASSERT_TRUE(store_->CreateToken(t));

  auto found = store_->FindTokenByDigest(std::string(64, 'a'));
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, "tok_1");
  EXPECT_EQ((*found)->name, "alice-cli");
  EXPECT_EQ((*found)->role, "security_operator");
  EXPECT_EQ((*found)->created_at, t0_);
  EXPECT_EQ((*found)->expires_at, t0_ + Millis(86400000));
  EXPECT_FALSE((*found)->revoked);
  EXPECT_TRUE((*found)->UsableAt(t0_));
  EXPECT_FALSE((*found)->UsableAt(t0_ + Millis(86400000))) << "expired";

  auto missing = store_->FindTokenByDigest(std::string(64, 'b'));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto junk = store_->FindTokenByDigest("' OR 1=1 --");
  ASSERT_TRUE(junk);
  EXPECT_FALSE(junk->has_value());

  TokenRecord dup = t;
  dup.id = "tok_2";
  auto again = store_->CreateToken(dup);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  TokenRecord bad = t;
  bad.id = "tok_3";
  bad.sha256_hex = "short";
  EXPECT_FALSE(store_->CreateToken(bad));
}

TEST_P(StoreConformance, TokensHaveALifeCycle) {
  TokenRecord t;
  t.id = "tok_1";
  t.name = "ops";
  t.role = "security_reader";
  t.sha256_hex = std::string(64, 'c');
  t.created_at = t0_;
  ASSERT_TRUE(store_->CreateToken(t));
  TokenRecord same_name = t;
  same_name.id = "tok_2";
  same_name.sha256_hex = std::string(64, 'd');
  same_name.created_at = t0_ + Millis(1);
  ASSERT_TRUE(store_->CreateToken(same_name)) << "names are not unique: ids are";

  const std::pair<std::string, TimePoint> used[] = {{"tok_1", t0_ + Millis(50)}, {"tok_1", t0_ + Millis(40)}};
  ASSERT_TRUE(store_->TouchTokens(used));
  auto listed = store_->ListTokens();
  ASSERT_TRUE(listed);
  ASSERT_THAT(*listed, SizeIs(2));
  EXPECT_EQ((*listed)[0].id, "tok_2") << "newest first";
  EXPECT_EQ((*listed)[1].last_used_at, t0_ + Millis(50)) << "never moves back";
  EXPECT_EQ((*listed)[0].last_used_at, TimePoint{});

  auto revoked = store_->RevokeToken("tok_1", Actor{"admin", "tok_9"}, "left the team", t0_ + Millis(60));
  ASSERT_TRUE(revoked) << revoked.error().message;
  EXPECT_TRUE(revoked->revoked);
  EXPECT_EQ(revoked->revoked_at, t0_ + Millis(60));
  EXPECT_FALSE(revoked->UsableAt(t0_ + Millis(61)));
  auto again = store_->RevokeToken("tok_1", Actor{"admin", "tok_9"}, "twice", t0_ + Millis(70));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->revoked_at, t0_ + Millis(60)) << "the first revocation stands";
  auto found = store_->FindTokenByDigest(std::string(64, 'c'));
  ASSERT_TRUE(found && found->has_value());
  EXPECT_TRUE((*found)->revoked);
  auto missing = store_->RevokeToken("tok_nope", Actor{"admin", ""}, "", t0_);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto audit = store_->ListAudit("token.", 10);
  ASSERT_TRUE(audit);
  ASSERT_THAT(*audit, SizeIs(1));
  EXPECT_EQ((*audit)[0].event, "token.revoked");
  EXPECT_EQ((*audit)[0].actor, "admin");
  EXPECT_EQ((*audit)[0].actor_token, "tok_9");
  EXPECT_EQ((*audit)[0].reason, "left the team");
  EXPECT_THAT((*audit)[0].detail, HasSubstr("tok_1"));
}

TEST_P(StoreConformance, AggregatedAuditEventsKeepTheirCountsAndClientAddress) {
  std::vector<AuditEvent> events(2);
  for (AuditEvent& e : events) {
    e.at = t0_;
    e.actor = "anonymous";
    e.event = "auth.unauthenticated";
    e.client_address = "192.0.2.7";
    e.count = 1234;
  }
  events[1].actor_token = "tok_revoked";
  events[1].count = 0;  // treated as one
  ASSERT_TRUE(store_->AppendAudit(events));
  auto listed = store_->ListAudit("auth.", 10);
  ASSERT_TRUE(listed);
  ASSERT_THAT(*listed, SizeIs(2));
  EXPECT_EQ((*listed)[1].count, 1234);
  EXPECT_EQ((*listed)[1].client_address, "192.0.2.7");
  EXPECT_EQ((*listed)[0].count, 1);
  EXPECT_EQ((*listed)[0].actor_token, "tok_revoked");
  // All or nothing.
  events[0].event = "";
  EXPECT_FALSE(store_->AppendAudit(events));
  EXPECT_THAT(*store_->ListAudit("auth.", 10), SizeIs(2));
  EXPECT_TRUE(store_->Ping());
}

// Cordon's own risk level: set when a mark_compromised succeeds, for its
// account at its provider (the immutable id when the provider gave one),
// cleared when a dismiss_risk of that account succeeds, in the transaction
// that records the outcome; the first mark stands.
TEST_P(StoreConformance, ARiskLevelIsSetWhenAMarkSucceedsAndClearedWhenItsDismissDoes) {
  const std::string guid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
  Action mark = CreateOne(MakeAction("alice", ActionType::kMarkCompromised), t0_);
  Action other = CreateOne(MakeAction("bob", ActionType::kMarkCompromised), t0_ + Millis(1));
  Action okta = CreateOne(MakeAction("alice", ActionType::kMarkCompromised, Provider::kOkta), t0_ + Millis(2));
  ASSERT_THAT(store_->ClaimDue(Provider::kActiveDirectory, "w", 10, t0_ + Millis(5), Millis(1000)).value(), SizeIs(2));
  ASSERT_THAT(store_->ClaimDue(Provider::kOkta, "w", 10, t0_ + Millis(5), Millis(1000)).value(), SizeIs(1));

  // Nothing is set before the action succeeds, nor by one that failed.
  auto none = store_->ListRisks({});
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_THAT(*none, SizeIs(0));
  ASSERT_TRUE(store_->FinishAttempt(Report(other, "w", AttemptOutcome::kPermanentError, t0_ + Millis(6))));

  AttemptReport done = Report(mark, "w", AttemptOutcome::kSucceeded, t0_ + Millis(10));
  done.account_id = guid;
  done.resolved_account = "CN=Alice,OU=Staff,DC=corp,DC=example";
  auto finished = store_->FinishAttempt(done);
  ASSERT_TRUE(finished) << finished.error().message;
  EXPECT_EQ(finished->risk_level, RiskLevel::kHigh) << "the action shows the level it set";
  AttemptReport okta_done = Report(okta, "w", AttemptOutcome::kSucceeded, t0_ + Millis(11));
  okta_done.account_id = "00u1";
  ASSERT_TRUE(store_->FinishAttempt(okta_done));

  auto marks = store_->ListRisks({});
  ASSERT_TRUE(marks);
  ASSERT_THAT(*marks, SizeIs(2));  // per account and provider; bob's failed mark set nothing
  EXPECT_EQ(marks->front().provider, Provider::kOkta) << "newest first";
  const RiskMark& ad = marks->back();
  EXPECT_EQ(ad.provider, Provider::kActiveDirectory);
  EXPECT_EQ(ad.account, "alice");
  EXPECT_EQ(ad.account_id, guid);
  EXPECT_EQ(ad.resolved_account, "CN=Alice,OU=Staff,DC=corp,DC=example");
  EXPECT_EQ(ad.level, RiskLevel::kHigh);
  EXPECT_EQ(ad.since, t0_ + Millis(10));
  EXPECT_EQ(ad.action_id, mark.id);

  // Filters: provider; account by name (any case), resolved account or id.
  RiskFilter by_provider;
  by_provider.provider = Provider::kActiveDirectory;
  EXPECT_THAT(store_->ListRisks(by_provider).value(), SizeIs(1));
  for (const std::string& account : std::vector<std::string>{"ALICE", guid, "cn=alice,ou=staff,dc=corp,dc=example"}) {
    RiskFilter f;
    f.provider = Provider::kActiveDirectory;
    f.account = account;
    EXPECT_THAT(store_->ListRisks(f).value(), SizeIs(1)) << account;
  }
  RiskFilter bob;
  bob.account = "bob";
  EXPECT_THAT(store_->ListRisks(bob).value(), SizeIs(0));

  // A second mark of the same account leaves the first standing.
  Action again = CreateOne(MakeAction("Alice", ActionType::kMarkCompromised), t0_ + Millis(20));
  ASSERT_THAT(store_->ClaimDue(Provider::kActiveDirectory, "w", 10, t0_ + Millis(21), Millis(1000)).value(), SizeIs(1));
  AttemptReport again_done = Report(again, "w", AttemptOutcome::kSucceeded, t0_ + Millis(22));
  again_done.account_id = guid;
  auto second = store_->FinishAttempt(again_done);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->risk_level.has_value());
  EXPECT_EQ(store_->ListRisks(by_provider).value().front().action_id, mark.id);

  // The undo (dismiss_risk, on the account's id) clears it; Okta's stays.
  NewAction dismiss = MakeAction("alice", ActionType::kDismissRisk);
  dismiss.undo_of = mark.id;
  dismiss.account_id = guid;
  auto undo = store_->CreateUndo(dismiss, t0_ + Millis(30));
  ASSERT_TRUE(undo) << undo.error().message;
  ASSERT_THAT(store_->ClaimDue(Provider::kActiveDirectory, "w", 10, t0_ + Millis(31), Millis(1000)).value(), SizeIs(1));
  EXPECT_THAT(store_->ListRisks(by_provider).value(), SizeIs(1)) << "not before the dismiss succeeds";
  ASSERT_TRUE(store_->FinishAttempt(Report(*undo, "w", AttemptOutcome::kSucceeded, t0_ + Millis(32))));
  EXPECT_THAT(store_->ListRisks(by_provider).value(), SizeIs(0));
  auto remaining = store_->ListRisks({});
  ASSERT_TRUE(remaining);
  ASSERT_THAT(*remaining, SizeIs(1));
  EXPECT_EQ(remaining->front().action_id, okta.id);
  auto cleared = store_->GetAction(mark.id);
  ASSERT_TRUE(cleared);
  EXPECT_FALSE(cleared->risk_level.has_value());
  EXPECT_EQ(cleared->undone_by, undo->id);

  std::vector<std::string> events;
  const auto mark_audit = store_->GetAudit(mark.id);
  ASSERT_TRUE(mark_audit);
  for (const AuditEvent& e : *mark_audit) events.push_back(e.event);
  EXPECT_THAT(events, ::testing::Contains("risk.set"));
  events.clear();
  const auto undo_audit = store_->GetAudit(undo->id);
  ASSERT_TRUE(undo_audit);
  for (const AuditEvent& e : *undo_audit) events.push_back(e.event);
  EXPECT_THAT(events, ::testing::Contains("risk.cleared"));

  RiskFilter bad;
  bad.limit = 0;
  EXPECT_FALSE(store_->ListRisks(bad));
}

// One request on one person at two providers: the actions are linked to
// each other in the transaction that creates them, and so are their undos.
TEST_P(StoreConformance, LinkedActionsAndTheirUndosAreLinkedEachWay) {
  NewAction entra = MakeAction("alice@corp.example", ActionType::kSuspend, Provider::kEntra);
  NewAction ad = MakeAction("alice@corp.example", ActionType::kDisable);
  NewAction loner = MakeAction("bob");
  entra.link_group = ad.link_group = "pair";
  const NewAction batch[] = {entra, ad, loner};
  auto created = store_->CreateActions(batch, t0_);
  ASSERT_TRUE(created) << created.error().message;
  ASSERT_THAT(*created, SizeIs(3));
  const Action& e = (*created)[0];
  const Action& a = (*created)[1];
  EXPECT_THAT(e.linked_actions, ElementsAre(a.id));
  EXPECT_THAT(a.linked_actions, ElementsAre(e.id));
  EXPECT_THAT((*created)[2].linked_actions, SizeIs(0));
  EXPECT_THAT(store_->GetAction(e.id).value().linked_actions, ElementsAre(a.id));
  EXPECT_THAT(store_->GetAction(a.id).value().linked_actions, ElementsAre(e.id));
  auto page = store_->ListActions({});
  ASSERT_TRUE(page);
  for (const Action& listed : page->actions) {
    if (listed.id == a.id) {
      EXPECT_THAT(listed.linked_actions, ElementsAre(e.id));
    }
  }

  ASSERT_THAT(store_->ClaimDue(Provider::kEntra, "w", 10, t0_, Millis(1000)).value(), SizeIs(1));
  ASSERT_THAT(store_->ClaimDue(Provider::kActiveDirectory, "w", 10, t0_, Millis(1000)).value(), SizeIs(2));
  for (const Action& x : *created) ASSERT_TRUE(store_->FinishAttempt(Report(x, "w", AttemptOutcome::kSucceeded, t0_)));

  NewAction undo_e = MakeAction(e.target, ActionType::kUnsuspend, Provider::kEntra);
  undo_e.undo_of = e.id;
  NewAction undo_a = MakeAction(a.target, ActionType::kEnable);
  undo_a.undo_of = a.id;
  const NewAction undos[] = {undo_e, undo_a};
  auto both = store_->CreateUndos(undos, t0_ + Millis(10));
  ASSERT_TRUE(both) << both.error().message;
  ASSERT_THAT(*both, SizeIs(2));
  EXPECT_THAT((*both)[0].linked_actions, ElementsAre((*both)[1].id));
  EXPECT_THAT(store_->GetAction((*both)[1].id).value().linked_actions, ElementsAre((*both)[0].id));
  EXPECT_EQ((*both)[0].undo_of, e.id);
  EXPECT_EQ((*both)[1].undo_of, a.id);

  // All or nothing: one original that cannot be undone refuses the call.
  NewAction undo_loner = MakeAction("bob", ActionType::kEnable);
  undo_loner.undo_of = (*created)[2].id;
  const NewAction mixed[] = {undo_loner, undo_a};  // undo_a is already under way
  auto refused = store_->CreateUndos(mixed, t0_ + Millis(20));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(store_->ListActions({}).value().actions, SizeIs(5)) << "the refused call wrote nothing";
}

TEST_P(StoreConformance, CountsByStatus) {
  CreateOne(MakeAction("a"), t0_);
  CreateOne(MakeAction("b"), t0_);
  Action c = CreateOne(MakeAction("c"), t0_);
  ASSERT_TRUE(store_->Cancel(c.id, Actor{"x", ""}, "y", t0_));
  auto counts = store_->CountByStatus();
  ASSERT_TRUE(counts);
  int64_t pending = -1, cancelled = -1, failed = -1;
  for (const StatusCount& sc : *counts) {
    if (sc.status == ActionStatus::kPending) pending = sc.count;
    if (sc.status == ActionStatus::kCancelled) cancelled = sc.count;
    if (sc.status == ActionStatus::kFailed) failed = sc.count;
  }
  EXPECT_EQ(pending, 2);
  EXPECT_EQ(cancelled, 1);
  EXPECT_EQ(failed, 0);
}

TEST_P(StoreConformance, ABulkOfAThousandIsOneBatchAndPagesBack) {
  std::vector<NewAction> batch;
  for (int i = 1; i <= 1000; ++i) {
    NewAction n = MakeAction("bulk" + std::to_string(i));
    n.bulk_id = "bulk_big";
    batch.push_back(std::move(n));
  }
  auto created = store_->CreateActions(batch, t0_);
  ASSERT_TRUE(created) << created.error().message;
  ASSERT_THAT(*created, SizeIs(1000));
  EXPECT_EQ(created->back().target, "bulk1000");
  std::set<std::string> ids;
  ActionFilter f;
  f.bulk_id = "bulk_big";
  f.limit = 300;
  do {
    auto page = store_->ListActions(f);
    ASSERT_TRUE(page);
    for (const Action& a : page->actions) ids.insert(a.id);
    f.cursor = page->next_cursor;
  } while (!f.cursor.empty());
  EXPECT_EQ(ids.size(), 1000u);
}

TEST_P(StoreConformance, ConcurrentClaimersNeverShareAnActionWhileReadersRead) {
  std::vector<NewAction> batch;
  for (int i = 0; i < 400; ++i) batch.push_back(MakeAction("u" + std::to_string(i)));
  ASSERT_TRUE(store_->CreateActions(batch, t0_));

  std::mutex mu;
  std::vector<std::string> all_claimed;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string worker = "w" + std::to_string(t);
      while (true) {
        auto claimed = store_->ClaimDue(Provider::kActiveDirectory, worker, 7, t0_ + Millis(1), Millis(60000));
        if (!claimed) {
          ++errors;
          return;
        }
        if (claimed->empty()) return;
        for (const Action& a : *claimed) {
          if (!store_->FinishAttempt(Report(a, worker, AttemptOutcome::kSucceeded, t0_ + Millis(2)))) ++errors;
        }
        std::lock_guard lock(mu);
        for (const Action& a : *claimed) all_claimed.push_back(a.id);
      }
    });
  }
  // Readers run alongside and must never see an error or a half-done action.
  std::atomic<bool> claimers_done{false};
  std::atomic<int> read_errors{0};
  std::thread reader([&] {
    ActionFilter f;
    f.limit = 50;
    while (!claimers_done) {
      auto page = store_->ListActions(f);
      if (!page) {
        ++read_errors;
        continue;
      }
      for (const Action& a : page->actions) {
        auto got = store_->GetAction(a.id);
        if (!got || (got->status == ActionStatus::kInProgress && got->lease_owner.empty())) ++read_errors;
      }
    }
  });
  for (auto& th : threads) th.join();
  claimers_done = true;
  reader.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(read_errors.load(), 0);
  std::set<std::string> unique(all_claimed.begin(), all_claimed.end());
  EXPECT_EQ(all_claimed.size(), 400u);
  EXPECT_EQ(unique.size(), 400u);
  ActionFilter f;
  f.status = ActionStatus::kSucceeded;
  f.limit = 1000;
  auto page = store_->ListActions(f);
  ASSERT_TRUE(page);
  EXPECT_THAT(page->actions, SizeIs(400));
}

TEST_P(StoreConformance, DataSurvivesReopening) {
  Action a = CreateOne(MakeAction("alice"), t0_);
  store_.reset();
  store_ = Reopen();
  ASSERT_NE(store_, nullptr);
  auto got = store_->GetAction(a.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->target, "alice");
}

// A writer killed with SIGKILL loses nothing it committed: each id is sent to
// the parent only after CreateActions returned, and the parent must find
// every one of them after reopening the store.
TEST_P(StoreConformance, CommittedActionsSurviveSigkill) {
  store_.reset();  // no connection may cross fork()
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    auto store = GetParam().open(dir_.path());
    if (store == nullptr || !store->Migrate()) _exit(2);
    for (int i = 0;; ++i) {
      std::vector<NewAction> batch;
      for (int j = 0; j < 10; ++j) batch.push_back(MakeAction("u" + std::to_string(i) + "_" + std::to_string(j)));
      auto created = store->CreateActions(batch, Now());
      if (!created) _exit(3);
      for (const Action& a : *created) {
        std::string line = a.id + "\n";
        if (write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
      }
    }
  }
  close(fds[1]);
  std::string received;
  char buf[4096];
  // Let it commit a good number of batches, then kill it mid-stream.
  while (std::count(received.begin(), received.end(), '\n') < 500) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    received.append(buf, static_cast<size_t>(n));
  }
  kill(child, SIGKILL);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "the writer stopped by itself, status " << wstatus;
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) received.append(buf, static_cast<size_t>(n));
  close(fds[0]);

  std::vector<std::string> ids;
  size_t start = 0;
  for (size_t nl; (nl = received.find('\n', start)) != std::string::npos; start = nl + 1)
    ids.push_back(received.substr(start, nl - start));
  ASSERT_GE(ids.size(), 500u);

  store_ = Reopen();
  ASSERT_NE(store_, nullptr);
  int missing = 0;
  for (const std::string& id : ids)
    if (!store_->GetAction(id)) ++missing;
  EXPECT_EQ(missing, 0) << "of " << ids.size() << " committed actions";
  // The store is still fully usable after the crash.
  EXPECT_TRUE(store_->ClaimDue(Provider::kActiveDirectory, "w", 10, Now(), Millis(1000)));
}

}  // namespace cordon::testing
