// Cordon's own risk level and hybrid users through the real API (server,
// SQLite store, ActionService; no engine: actions are moved on through the
// store, as a worker would):
// * a mark_compromised that succeeds gives its account Cordon's level High,
//   per account and provider, listed by GET /api/v1/risks for every role and
//   shown on the action; its undo (dismiss_risk) clears it;
// * alsoOnPrem on an Entra suspend creates the AD disable of the same person,
//   linked to it; undoing either half reverses both; a half still running
//   refuses the undo, a failed one is left with a note; alsoOnPrem on any
//   other action is a 422.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/api_fixture.h"

namespace cordon::api {
namespace {

using nlohmann::json;
using testing::ApiFixture;
using testing::HttpResult;
using testing::TestClient;

constexpr const char* kActions = "/api/v1/actions";
constexpr const char* kRisks = "/api/v1/risks";

json Body(const std::string& action, const std::string& provider, const std::string& account) {
  return json{{"action", action}, {"provider", provider}, {"account", account}, {"reason", "phishing incident"}};
}

class RiskHybridApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = ApiFixture::Start();
    ASSERT_TRUE(f.has_value()) << f.error().message;
    fixture_ = std::move(*f);
    client_.emplace(fixture_->Client());
    admin_ = fixture_->Token(Role::kGlobalAdministrator);
    secadmin_ = fixture_->Token(Role::kSecurityAdministrator);
    operator_ = fixture_->Token(Role::kSecurityOperator);
    reader_ = fixture_->Token(Role::kSecurityReader);
  }
  void TearDown() override {
    client_.reset();
    fixture_.reset();
  }

  // Submits, expecting 202; the new action's JSON.
  json Accepted(const json& body, const std::string& token) {
    HttpResult r = client_->Post(kActions, body, token);
    EXPECT_EQ(r.status, 202u) << r.body;
    return r.Json();
  }
  json Get(const std::string& id) {
    HttpResult r = client_->Get(std::string(kActions) + "/" + id, reader_);
    EXPECT_EQ(r.status, 200u) << r.body;
    return r.Json();
  }
  json Risks(const std::string& query, const std::string& token) {
    HttpResult r = client_->Get(kRisks + query, token);
    EXPECT_EQ(r.status, 200u) << r.body;
    return r.Json().value("value", json::array());
  }
  HttpResult Undo(const std::string& id, const std::string& token) {
    return client_->Post(std::string(kActions) + "/" + id + "/undo", json{{"reason", "false positive"}}, token);
  }
  void Succeed(const std::string& id) { ASSERT_TRUE(fixture_->Succeed(id).has_value()) << id; }
  // Fails a pending action through the store, as a worker would.
  void FailIt(const std::string& id) {
    auto action = fixture_->store().GetAction(id);
    ASSERT_TRUE(action.has_value());
    auto claimed = fixture_->store().ClaimDue(action->provider, "test-worker", 1000, Now(), Millis(60000));
    ASSERT_TRUE(claimed.has_value());
    for (const Action& a : *claimed) {
      AttemptReport r;
      r.action_id = a.id;
      r.worker = "test-worker";
      r.started_at = r.finished_at = Now();
      r.outcome = a.id == id ? AttemptOutcome::kPermanentError : AttemptOutcome::kTransientError;
      r.retry_at = Now();
      r.message = "refused in test";
      ASSERT_TRUE(fixture_->store().FinishAttempt(r).has_value());
    }
  }

  std::unique_ptr<ApiFixture> fixture_;
  std::optional<TestClient> client_;
  std::string admin_, secadmin_, operator_, reader_;
};

TEST_F(RiskHybridApiTest, AMarkSetsCordonsLevelPerAccountAndItsUndoClearsIt) {
  const json ad = Accepted(Body("mark_compromised", "ad", "alice"), secadmin_);
  const json okta = Accepted(Body("mark_compromised", "okta", "alice@corp.example"), secadmin_);
  const json bob = Accepted(Body("mark_compromised", "ad", "bob"), secadmin_);
  EXPECT_TRUE(ad.at("riskLevel").is_null()) << "nothing is set before the action succeeds";
  EXPECT_TRUE(Risks("", reader_).empty());

  Succeed(ad.at("id"));
  Succeed(okta.at("id"));
  json all = Risks("", reader_);  // every role reads them
  ASSERT_EQ(all.size(), 2u) << all.dump(2) << " (bob's mark has not run)";
  json only_ad = Risks("?provider=ad", operator_);
  ASSERT_EQ(only_ad.size(), 1u);
  EXPECT_EQ(only_ad[0].at("provider"), "ad");
  EXPECT_EQ(only_ad[0].at("account"), "alice");
  EXPECT_EQ(only_ad[0].at("level"), "high");
  EXPECT_EQ(only_ad[0].at("actionId"), ad.at("id"));
  EXPECT_TRUE(only_ad[0].at("since").is_string());
  EXPECT_TRUE(only_ad[0].contains("accountId"));
  EXPECT_EQ(Risks("?account=ALICE", reader_).size(), 1u) << "account names ignore case";
  EXPECT_EQ(Risks("?provider=okta&account=alice%40corp.example", reader_).size(), 1u);
  EXPECT_TRUE(Risks("?account=bob", reader_).empty()) << "the level is per account";
  EXPECT_EQ(Get(ad.at("id")).at("riskLevel"), "high") << "the mark's action shows the level it set";

  // Only those who may mark may dismiss.
  EXPECT_EQ(Undo(ad.at("id"), operator_).status, 403u);
  HttpResult undo = Undo(ad.at("id"), secadmin_);
  ASSERT_EQ(undo.status, 202u) << undo.body;
  EXPECT_EQ(undo.Json().at("action"), "dismiss_risk");
  EXPECT_EQ(Risks("?provider=ad", reader_).size(), 1u) << "cleared only once the dismiss succeeds";
  Succeed(undo.Json().at("id"));
  EXPECT_TRUE(Risks("?provider=ad", reader_).empty());
  EXPECT_EQ(Risks("", reader_).size(), 1u) << "Okta's mark stands";
  EXPECT_TRUE(Get(ad.at("id")).at("riskLevel").is_null());
  (void)bob;

  // The list is authenticated, read-only and refuses what it does not know.
  EXPECT_EQ(client_->Get(kRisks, "").status, 401u);
  EXPECT_EQ(client_->Post(kRisks, json::object(), reader_).status, 405u);
  EXPECT_EQ(client_->Get(std::string(kRisks) + "?level=high", reader_).status, 400u);
  EXPECT_EQ(client_->Get(std::string(kRisks) + "?provider=ldap", reader_).status, 400u);
}

TEST_F(RiskHybridApiTest, AlsoOnPremCreatesTwoLinkedActions) {
  json body = Body("suspend", "entra", "alice@corp.example");
  body["alsoOnPrem"] = true;
  const json entra = Accepted(body, admin_);
  EXPECT_EQ(entra.at("provider"), "entra");
  ASSERT_EQ(entra.at("linkedActions").size(), 1u) << entra.dump(2);
  const json ad = Get(entra.at("linkedActions")[0]);
  EXPECT_EQ(ad.at("provider"), "ad");
  EXPECT_EQ(ad.at("action"), "disable");
  EXPECT_EQ(ad.at("account"), "alice@corp.example");
  EXPECT_EQ(ad.at("linkedActions"), json::array({entra.at("id")}));

  // The bulk door takes it too: a linked pair per person.
  json bulk = {{"action", "suspend"}, {"provider", "entra"}, {"accounts", {"bob@corp.example", "carol@corp.example"}},
               {"reason", "r"}, {"alsoOnPrem", true}};
  HttpResult r = client_->Post(std::string(kActions) + "/bulk", bulk, admin_);
  ASSERT_EQ(r.status, 202u) << r.body;
  EXPECT_EQ(r.Json().at("count"), 4);

  // Refused before anything is stored: a role that may not run both halves.
  EXPECT_EQ(client_->Post(kActions, body, secadmin_).status, 403u);
}

TEST_F(RiskHybridApiTest, AlsoOnPremOnAnyOtherActionIs422) {
  for (const auto& [action, provider] : {std::pair<std::string, std::string>{"disable", "ad"},
                                         {"suspend", "okta"},
                                         {"revoke_sessions", "entra"},
                                         {"mark_compromised", "entra"}}) {
    json body = Body(action, provider, "alice@corp.example");
    body["alsoOnPrem"] = true;
    HttpResult r = client_->Post(kActions, body, admin_);
    EXPECT_EQ(r.status, 422u) << action << " " << provider << ": " << r.body;
    EXPECT_NE(r.Json().value("detail", "").find("applies to an entra suspend only"), std::string::npos) << r.body;
  }
  json wrong_type = Body("suspend", "entra", "alice");
  wrong_type["alsoOnPrem"] = "yes";
  EXPECT_EQ(client_->Post(kActions, wrong_type, admin_).status, 400u);
  json off = Body("disable", "ad", "alice");
  off["alsoOnPrem"] = false;
  EXPECT_EQ(Accepted(off, admin_).at("linkedActions"), json::array());
}

TEST_F(RiskHybridApiTest, UndoOfEitherHalfReversesBoth) {
  json body = Body("suspend", "entra", "alice@corp.example");
  body["alsoOnPrem"] = true;
  const json entra = Accepted(body, admin_);
  const std::string entra_id = entra.at("id");
  const std::string ad_id = entra.at("linkedActions")[0];
  Succeed(entra_id);
  Succeed(ad_id);

  // Undoing the AD half also unsuspends at Entra: the operator may enable in
  // AD but not unsuspend in Entra, so may not undo the pair.
  HttpResult forbidden = Undo(ad_id, operator_);
  EXPECT_EQ(forbidden.status, 403u) << forbidden.body;
  EXPECT_NE(forbidden.Json().value("detail", "").find("suspend at entra"), std::string::npos) << forbidden.body;

  HttpResult undo = Undo(ad_id, admin_);
  ASSERT_EQ(undo.status, 202u) << undo.body;
  const json enable = undo.Json();
  EXPECT_EQ(enable.at("action"), "enable");
  EXPECT_EQ(enable.at("undoOf"), ad_id);
  EXPECT_EQ(enable.at("notes"), json::array());
  ASSERT_EQ(enable.at("linkedActions").size(), 1u);
  const json unsuspend = Get(enable.at("linkedActions")[0]);
  EXPECT_EQ(unsuspend.at("action"), "unsuspend");
  EXPECT_EQ(unsuspend.at("undoOf"), entra_id);
  EXPECT_EQ(unsuspend.at("linkedActions"), json::array({enable.at("id")}));

  HttpResult again = Undo(entra_id, admin_);
  EXPECT_EQ(again.status, 409u) << "already being undone: " << again.body;
}

TEST_F(RiskHybridApiTest, AHalfStillRunningRefusesTheUndoAFailedOneIsNoted) {
  json body = Body("suspend", "entra", "alice@corp.example");
  body["alsoOnPrem"] = true;
  const json entra = Accepted(body, admin_);
  const std::string entra_id = entra.at("id");
  const std::string ad_id = entra.at("linkedActions")[0];
  Succeed(ad_id);

  HttpResult running = Undo(ad_id, admin_);
  EXPECT_EQ(running.status, 409u) << running.body;
  EXPECT_NE(running.Json().value("detail", "").find("still pending"), std::string::npos) << running.body;

  FailIt(entra_id);
  HttpResult undo = Undo(ad_id, admin_);
  ASSERT_EQ(undo.status, 202u) << undo.body;
  EXPECT_EQ(undo.Json().at("linkedActions"), json::array());
  ASSERT_EQ(undo.Json().at("notes").size(), 1u);
  const std::string note = undo.Json().at("notes")[0];
  EXPECT_NE(note.find("entra suspend"), std::string::npos) << note;
  EXPECT_NE(note.find("failed"), std::string::npos) << note;
}

}  // namespace
}  // namespace cordon::api
