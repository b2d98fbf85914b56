#include "api/action_json.h"

#include <gtest/gtest.h>

#include "core/catalogue.h"

namespace cordon::api {
namespace {

Action SampleAction() {
  Action a;
  a.id = "act_1";
  a.type = ActionType::kForcePasswordReset;
  a.provider = Provider::kActiveDirectory;
  a.target = "alice.adams";
  a.requested_by = "analyst";
  a.reason = "phished";
  a.status = ActionStatus::kSucceeded;
  a.attempt_count = 1;
  a.max_attempts = 5;
  a.created_at = FromUnixMillis(1'700'000'000'123);
  a.updated_at = FromUnixMillis(1'700'000'001'000);
  a.next_attempt_at = FromUnixMillis(1'700'000'000'123);
  a.resolved_account = "CN=Alice Adams,OU=Staff,DC=corp,DC=example,DC=test";
  a.account_id = "6f1c0e1a-0b5e-4c3a-9d2e-1f0a2b3c4d5e";
  a.prior_state = "userAccountControl 0x200";
  a.provider_answer = {"ldap:0", "Success"};
  return a;
}

TEST(ActionJsonTest, UsesCamelCaseNamesAndRfc3339Times) {
  const auto j = ActionToJson(SampleAction());
  EXPECT_EQ(j.at("id"), "act_1");
  EXPECT_EQ(j.at("action"), "force_password_reset");
  EXPECT_EQ(j.at("provider"), "ad");
  EXPECT_EQ(j.at("account"), "alice.adams");
  EXPECT_EQ(j.at("requestedBy"), "analyst");
  EXPECT_EQ(j.at("status"), "succeeded");
  EXPECT_EQ(j.at("createdAt"), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j.at("attemptCount"), 1);
  EXPECT_EQ(j.at("maxAttempts"), 5);
  EXPECT_EQ(j.at("providerAnswer").at("code"), "ldap:0");
  EXPECT_EQ(j.at("providerAnswer").at("detail"), "Success");
  EXPECT_EQ(j.at("alreadyInState"), false);
  EXPECT_EQ(j.at("accountId"), "6f1c0e1a-0b5e-4c3a-9d2e-1f0a2b3c4d5e");
  EXPECT_EQ(j.at("priorState"), "userAccountControl 0x200");
}

TEST(ActionJsonTest, AbsentLinksAndFinishedRetriesAreNull) {
  const auto j = ActionToJson(SampleAction());
  EXPECT_TRUE(j.at("undoOf").is_null());
  EXPECT_TRUE(j.at("undoneBy").is_null());
  EXPECT_TRUE(j.at("bulkId").is_null());
  EXPECT_TRUE(j.at("outcome").is_null());

  Action unseen = SampleAction();
  unseen.account_id.clear();
  unseen.prior_state.clear();
  const auto u = ActionToJson(unseen);
  EXPECT_TRUE(u.at("accountId").is_null());
  EXPECT_TRUE(u.at("priorState").is_null());
  EXPECT_TRUE(j.at("nextAttemptAt").is_null()) << "a succeeded action has no next attempt";

  Action pending = SampleAction();
  pending.status = ActionStatus::kPending;
  pending.provider_answer = {};
  const auto p = ActionToJson(pending);
  EXPECT_EQ(p.at("nextAttemptAt"), "2023-11-14T22:13:20.123Z");
  EXPECT_TRUE(p.at("providerAnswer").is_null());
}

TEST(ActionJsonTest, UndoNamesTheReverseAndWhatItDoesNotBringBack) {
  const auto reset = ActionToJson(SampleAction());
  EXPECT_EQ(reset.at("undo").at("action"), "clear_password_reset");
  EXPECT_TRUE(reset.at("undo").at("limits").is_null()) << "the undo restores what it reverses";

  Action deactivate = SampleAction();
  deactivate.provider = Provider::kOkta;
  deactivate.type = ActionType::kDeactivate;
  const auto d = ActionToJson(deactivate);
  EXPECT_EQ(d.at("undo").at("action"), "activate");
  ASSERT_TRUE(d.at("undo").at("limits").is_string()) << d.dump();
  EXPECT_EQ(d.at("undo").at("limits").get<std::string>(), UndoLimitsOf(Provider::kOkta, ActionType::kDeactivate));

  Action revoke = deactivate;
  revoke.type = ActionType::kRevokeSessions;
  EXPECT_TRUE(ActionToJson(revoke).at("undo").is_null()) << "nothing reverses it";
}

TEST(ActionJsonTest, DetailCarriesAttemptsAndAudit) {
  Attempt at;
  at.action_id = "act_1";
  at.number = 1;
  at.worker = "w1";
  at.result = "succeeded";
  at.provider_answer = {"ldap:0", ""};
  AuditEvent e;
  e.seq = 7;
  e.actor = "analyst";
  e.event = "created";
  e.to_status = "pending";
  const std::vector<Attempt> attempts{at};
  const std::vector<AuditEvent> audit{e};
  const auto j = ActionDetailToJson(SampleAction(), attempts, audit);
  ASSERT_EQ(j.at("attempts").size(), 1u);
  EXPECT_EQ(j.at("attempts")[0].at("number"), 1);
  EXPECT_EQ(j.at("attempts")[0].at("providerAnswer").at("code"), "ldap:0");
  ASSERT_EQ(j.at("audit").size(), 1u);
  EXPECT_EQ(j.at("audit")[0].at("event"), "created");
  EXPECT_EQ(j.at("audit")[0].at("toStatus"), "pending");
  EXPECT_TRUE(j.at("audit")[0].at("fromStatus").is_null());
}

}  // namespace
}  // namespace cordon::api
