// Entra ID end to end: the real `cordon serve` and `cordon` CLI against the
// lab's Microsoft Graph emulator, signing in both ways an app can (a client
// secret, and a certificate as `cordon lab config` prints it), with the
// shipped defaults. What Graph holds is read from the emulator directly with
// a token of the lab's own app, never through Cordon.
//
// Each test leaves the emulator's settings and faults at their defaults and
// its users enabled and unmarked, so the order of tests does not matter; the
// two auth modes use different users.
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/ad_probe.h"
#include "support/lab_info.h"
#include "support/emulator_admin.h"
#include "support/okta_wire.h"
#include "support/test_server.h"

namespace cordon::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

std::string Upn(const std::string& sam) { return sam + "@corp.example.test"; }

enum class AuthMode { kSecret, kCertificate };

std::string ModeName(const ::testing::TestParamInfo<AuthMode>& info) {
  return info.param == AuthMode::kSecret ? "Secret" : "Certificate";
}

// [connectors.entra] as `cordon lab config` prints it (a certificate), or with
// the lab app's client secret instead. `secret_file` replaces the secret's file.
std::string EntraSection(AuthMode mode, const std::string& secret_file = "") {
  const LabEntra& lab = TheLab().entra;
  if (mode == AuthMode::kSecret)
    return "[connectors.entra]\ntenant = \"" + lab.tenant + "\"\nclient_id = \"" + lab.client_id +
           "\"\nclient_secret_file = \"" + (secret_file.empty() ? lab.client_secret_file : secret_file) +
           "\"\nauthority = \"" + lab.authority + "\"\ngraph_url = \"" + lab.graph_url + "\"\nca_file = \"" +
           lab.ca_file + "\"\n";
  const std::string printed = LabEntraSection(TheLab());
  if (printed.empty()) throw std::runtime_error("cordon lab config printed no [connectors.entra]");
  return printed;
}

class EntraE2eTest : public ::testing::TestWithParam<AuthMode> {
 protected:
  void SetUp() override { Serve(EntraSection(GetParam())); }
  void Serve(const std::string& connectors) {
    admin_.ResetToDefaults();
    auto server = TestServer::Create({.connectors_toml = connectors});
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = std::move(*server);
    auto started = server_->Start();
    ASSERT_TRUE(started.has_value()) << started.error().message;
    global_ = server_->Client("global_administrator");
    security_admin_ = server_->Client("security_administrator");
  }
  void TearDown() override {
    admin_.ResetToDefaults();
    for (const std::string& upn : touched_) admin_.Restore(upn);
  }

  // Users of this test, distinct per auth mode: the certificate mode uses the
  // ones 300 further (bulk0001-0200 for bulks, bulk0601-0620 one by one).
  std::string User(int first, int k = 0) {
    const std::string upn = Upn(BulkUser(first + k + (GetParam() == AuthMode::kSecret ? 0 : 300)));
    if (touched_.insert(upn).second) admin_.Restore(upn);
    return upn;
  }
  std::vector<std::string> Users(int first, int count) {
    std::vector<std::string> users;
    for (int k = 0; k < count; ++k) users.push_back(User(first, k));
    return users;
  }
  std::string Touch(const std::string& upn) {
    if (touched_.insert(upn).second) admin_.Restore(upn);
    return upn;
  }

  std::string Submit(const std::string& action, const std::string& account, cli::ApiClient* as = nullptr,
                     json extra = json::object()) {
    json body{{"action", action}, {"provider", "entra"}, {"account", account}, {"reason", "entra end-to-end test"}};
    body.update(extra);
    auto r = (as != nullptr ? as : global_.get())->Post("/api/v1/actions", body);
    EXPECT_TRUE(r.has_value());
    if (!r) return "";
    EXPECT_EQ(r->status, 202) << r->body.dump();
    return StringAt(r->body, "id");
  }
  json Finish(const std::string& id, seconds limit = seconds(120)) {
    return WaitForAction(*global_, id, IsFinished, limit);
  }
  json Detail(const std::string& id) {
    auto r = global_->Get("/api/v1/actions/" + id);
    return r && r->status == 200 ? r->body : json();
  }
  std::string Undo(const std::string& id) {
    auto r = global_->Post("/api/v1/actions/" + id + "/undo", json{{"reason", "false positive"}});
    EXPECT_TRUE(r.has_value());
    if (!r) return "";
    EXPECT_EQ(r->status, 202) << r->body.dump();
    return StringAt(r->body, "id");
  }
  std::vector<json> Bulk(const std::string& action, const std::vector<std::string>& accounts, seconds limit) {
    auto r = global_->Post("/api/v1/actions/bulk", json{{"action", action},
                                                        {"provider", "entra"},
                                                        {"accounts", accounts},
                                                        {"reason", "entra end-to-end bulk"}});
    EXPECT_TRUE(r.has_value());
    if (!r) return {};
    EXPECT_EQ(r->status, 202) << r->body.dump();
    const std::string bulk_id = StringAt(r->body, "bulkId");
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline && BulkHasUnfinished(*global_, bulk_id))
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    std::vector<json> details;
    for (const json& a : BulkActions(*global_, bulk_id)) details.push_back(Detail(StringAt(a, "id")));
    return details;
  }
  static int AttemptsWithCode(const std::vector<json>& details, const std::string& code) {
    int n = 0;
    for (const json& d : details)
      for (const json& at : d.value("attempts", json::array())) {
        const json& answer = at.value("providerAnswer", json());
        if (answer.is_object() && StringAt(answer, "code") == code) ++n;
      }
    return n;
  }
  // The risk level Cordon itself keeps for an Entra account, or "" if none.
  std::string CordonRisk(const std::string& object_id) {
    auto r = global_->Get("/api/v1/risks?provider=entra");
    if (!r || r->status != 200) return "?";
    for (const json& risk : r->body.value("value", json::array()))
      if (StringAt(risk, "accountId") == object_id) return StringAt(risk, "level");
    return "";
  }

  GraphAdmin admin_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<cli::ApiClient> global_, security_admin_;
  std::set<std::string> touched_;
};

// 1. Each action through the server; the emulator shows each change.
TEST_P(EntraE2eTest, SuspendPatchesAccountEnabledThenUndoEnables) {
  const std::string user = User(601);
  const std::string object_id = admin_.User(user).value("id", "");
  const json suspended = Finish(Submit("suspend", user));
  ASSERT_EQ(StringAt(suspended, "status"), "succeeded") << suspended.dump();
  EXPECT_EQ(StringAt(suspended, "accountId"), object_id);
  EXPECT_FALSE(admin_.Enabled(user));
  EXPECT_EQ(suspended["undo"]["action"], "unsuspend");
  // A synced user: the analyst is told that the next sync undoes a cloud-only suspend.
  EXPECT_NE(StringAt(suspended, "outcome").find("--also-on-prem"), std::string::npos) << suspended.dump();

  const json undone = Finish(Undo(StringAt(suspended, "id")));
  ASSERT_EQ(StringAt(undone, "status"), "succeeded") << undone.dump();
  EXPECT_EQ(StringAt(undone, "action"), "unsuspend");
  EXPECT_TRUE(admin_.Enabled(user));
}

TEST_P(EntraE2eTest, ACloudOnlyUserIsSuspendedWithoutTheSyncWarning) {
  const std::string user = Touch(GetParam() == AuthMode::kSecret ? "chloe.cloudonly@corp.example.test"
                                                                 : "colin.cloudonly@corp.example.test");
  const json suspended = Finish(Submit("suspend", user));
  ASSERT_EQ(StringAt(suspended, "status"), "succeeded") << suspended.dump();
  EXPECT_FALSE(admin_.Enabled(user));
  EXPECT_EQ(StringAt(suspended, "outcome").find("--also-on-prem"), std::string::npos) << suspended.dump();
}

TEST_P(EntraE2eTest, RevokeSessionsIsReportedAsARequestAndCannotBeUndone) {
  const std::string user = User(603);
  admin_.AddSession(user);
  admin_.AddSession(user);
  ASSERT_EQ(admin_.Sessions(user).value("sessions", json::array()).size(), 2u);
  const json revoked = Finish(Submit("revoke_sessions", user));
  ASSERT_EQ(StringAt(revoked, "status"), "succeeded") << revoked.dump();
  EXPECT_NE(StringAt(revoked, "outcome").find("within minutes"), std::string::npos) << revoked.dump();
  EXPECT_TRUE(admin_.Sessions(user).value("sessions", json::array()).empty());
  EXPECT_TRUE(admin_.Enabled(user)) << "only the sessions go";
  EXPECT_TRUE(revoked["undo"].is_null());
  auto undo = global_->Post("/api/v1/actions/" + StringAt(revoked, "id") + "/undo", json{{"reason", "x"}});
  ASSERT_TRUE(undo.has_value());
  EXPECT_EQ(undo->status, 409);
}

TEST_P(EntraE2eTest, AGuestsRevocationIsFlaggedAsHavingNoEffect) {
  const json revoked = Finish(Submit("revoke_sessions", "gary.guest_partner.example#EXT#@corp.example.test"));
  ASSERT_EQ(StringAt(revoked, "status"), "succeeded") << revoked.dump();
  EXPECT_NE(StringAt(revoked, "outcome").find("guest"), std::string::npos) << revoked.dump();
}

// 2. Mark compromised: in Graph's Identity Protection and in Cordon's own risk level.
TEST_P(EntraE2eTest, MarkCompromisedSetsGraphsAndCordonsRiskAndTheUndoClearsBoth) {
  const std::string user = User(605);
  const std::string object_id = admin_.User(user).value("id", "");
  const json marked = Finish(Submit("mark_compromised", user, security_admin_.get()));
  ASSERT_EQ(StringAt(marked, "status"), "succeeded") << marked.dump();
  json risk = admin_.Risk(object_id);
  EXPECT_EQ(risk.value("riskLevel", ""), "high") << risk.dump();
  EXPECT_EQ(risk.value("riskState", ""), "confirmedCompromised") << risk.dump();
  EXPECT_EQ(CordonRisk(object_id), "high");

  const json dismissed = Finish(Undo(StringAt(marked, "id")));
  ASSERT_EQ(StringAt(dismissed, "status"), "succeeded") << dismissed.dump();
  risk = admin_.Risk(object_id);
  EXPECT_EQ(risk.value("riskState", ""), "dismissed") << risk.dump();
  EXPECT_EQ(CordonRisk(object_id), "");
}

// 3. What goes wrong, in the analyst's words.
TEST_P(EntraE2eTest, AnAdminIsRefusedAndTheActionCenterNamesTheHigherPrivilege) {
  const json refused = Finish(Submit("suspend", Touch("dana.admin@corp.example.test")));
  ASSERT_EQ(StringAt(refused, "status"), "failed") << refused.dump();
  EXPECT_EQ(refused.value("attemptCount", 0), 1) << "a refusal is not retried";
  EXPECT_EQ(StringAt(refused["providerAnswer"], "code"), "http:403");
  const std::string detail = StringAt(refused["providerAnswer"], "detail");
  EXPECT_NE(detail.find("Authorization_RequestDenied"), std::string::npos) << detail;
  EXPECT_NE(detail.find("request-id"), std::string::npos) << detail;
  EXPECT_NE(StringAt(refused, "outcome").find("admin"), std::string::npos) << refused.dump();
  EXPECT_TRUE(admin_.Enabled("dana.admin@corp.example.test"));
}

TEST_P(EntraE2eTest, AMissingPermissionIsNamed) {
  // The app's permissions travel in its token's roles claim, fixed when the
  // token is issued, and the server took one at start (the inventory's first
  // sync): the consent is withdrawn while it is down, so its next token lacks it.
  const std::string upn = User(607);
  ASSERT_TRUE(server_->Stop().has_value());
  admin_.Settings({{"app_roles", {"User.Read.All", "User.EnableDisableAccount.All", "IdentityRiskyUser.ReadWrite.All"}}});
  auto restarted = server_->Start();
  ASSERT_TRUE(restarted.has_value()) << restarted.error().message;
  global_ = server_->Client("global_administrator");
  const json refused = Finish(Submit("revoke_sessions", upn));
  ASSERT_EQ(StringAt(refused, "status"), "failed") << refused.dump();
  EXPECT_EQ(StringAt(refused["providerAnswer"], "code"), "http:403");
  EXPECT_NE(StringAt(refused, "outcome").find("User.RevokeSessions.All"), std::string::npos) << refused.dump();
}

TEST_P(EntraE2eTest, WithoutTheIdentityProtectionLicenceMarkCompromisedFailsSayingSo) {
  admin_.Settings({{"identity_protection_licence", false}});
  const json refused = Finish(Submit("mark_compromised", User(609), security_admin_.get()));
  ASSERT_EQ(StringAt(refused, "status"), "failed") << refused.dump();
  EXPECT_EQ(StringAt(refused["providerAnswer"], "code"), "http:403");
  EXPECT_NE(StringAt(refused, "outcome").find("licen"), std::string::npos) << refused.dump();
}

TEST_P(EntraE2eTest, AnUnknownUserFailsAtOnceWithGraphsWords) {
  const json failed = Finish(Submit("suspend", "nobody.here@corp.example.test"));
  ASSERT_EQ(StringAt(failed, "status"), "failed") << failed.dump();
  EXPECT_EQ(failed.value("attemptCount", 0), 1);
  EXPECT_EQ(StringAt(failed["providerAnswer"], "code"), "http:404");
  EXPECT_NE(StringAt(failed["providerAnswer"], "detail").find("Request_ResourceNotFound"), std::string::npos)
      << failed.dump();
}

// 4. Bulk work goes through $batch; throttled items are retried on their own,
// whatever form Retry-After takes; tokens that run out mid-run are renewed.
TEST_P(EntraE2eTest, BulkRevokeThroughBatchRidesOutThrottlingInEveryRetryAfterForm) {
  int first = 1;
  for (const std::string form : {"integer", "decimal", "missing"}) {
    SCOPED_TRACE(form);
    const std::vector<std::string> users = Users(first, 60);
    first += 60;
    admin_.Settings({{"throttle", {{"requests_per_second", 20}, {"window_seconds", 1}, {"retry_after", form}}}});
    admin_.ClearStats();
    const std::vector<json> details = Bulk("revoke_sessions", users, seconds(180));
    ASSERT_EQ(details.size(), users.size());
    for (const json& d : details) {
      EXPECT_EQ(StringAt(d, "status"), "succeeded") << d.dump();
      EXPECT_EQ(d.value("attemptCount", 0), 1) << "throttling spends no attempt: " << d.dump();
    }
    const json stats = admin_.Stats();
    EXPECT_GT(stats.value("batch_requests", 0), 0) << stats.dump();
    EXPECT_LT(stats.value("http_requests", 1000), 60) << "fewer HTTP requests than users: " << stats.dump();
  }
}

TEST_P(EntraE2eTest, TokensThatExpireDuringABulkAreRenewed) {
  const std::vector<std::string> users = Users(181, 80);
  admin_.Settings({{"token_lifetime_seconds", 2}, {"throttle", {{"requests_per_second", 20}, {"window_seconds", 1}, {"retry_after", "integer"}}}});
  const std::vector<json> details = Bulk("suspend", users, seconds(180));
  ASSERT_EQ(details.size(), users.size());
  for (const json& d : details) EXPECT_EQ(StringAt(d, "status"), "succeeded") << d.dump();
  for (const std::string& u : users) EXPECT_FALSE(admin_.Enabled(u)) << u;
  EXPECT_EQ(AttemptsWithCode(details, "http:401"), 0) << "renewed before expiry, or once on a 401 without a failure";
}

INSTANTIATE_TEST_SUITE_P(AuthModes, EntraE2eTest, ::testing::Values(AuthMode::kSecret, AuthMode::kCertificate),
                         ModeName);

// A rotated secret: Graph's 401 pauses Entra (no attempt spent) until the
// right secret is in the file, then the action goes through.
class EntraSecretTest : public EntraE2eTest {
 protected:
  void SetUp() override {
    secret_file_ = std::string(::testing::TempDir()) + "/entra-secret-" + std::to_string(::getpid());
    std::ofstream(secret_file_) << "not-the-app-s-secret\n";
    ::chmod(secret_file_.c_str(), 0600);
    Serve(EntraSection(AuthMode::kSecret, secret_file_));
  }
  std::string secret_file_;
};

TEST_P(EntraSecretTest, AWrongSecretPausesEntraUntilTheRightOneIsInTheFile) {
  const std::string user = User(611);
  const std::string id = Submit("suspend", user);
  json action;
  bool refused = false;
  const auto end = std::chrono::steady_clock::now() + seconds(60);
  while (!refused && std::chrono::steady_clock::now() < end) {
    action = Detail(id);
    for (const json& at : action.value("attempts", json::array()))
      if (StringAt(at.value("providerAnswer", json()), "code") == "http:401") refused = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(refused) << action.dump();
  EXPECT_TRUE(admin_.Enabled(user));
  EXPECT_EQ(ReadFile(server_->log_path()).find("not-the-app-s-secret"), std::string::npos) << "no secret in the log";

  std::ofstream(secret_file_, std::ios::trunc) << ReadSecretFile(TheLab().entra.client_secret_file) << "\n";
  action = Finish(id, seconds(180));
  ASSERT_EQ(StringAt(action, "status"), "succeeded") << action.dump();
  EXPECT_EQ(action.value("attemptCount", 0), 1) << "a refused secret spends no attempt";
  EXPECT_FALSE(admin_.Enabled(user));
}

INSTANTIATE_TEST_SUITE_P(SecretOnly, EntraSecretTest, ::testing::Values(AuthMode::kSecret), ModeName);

// 5. Hybrid users: one request suspends in Entra ID and disables in AD, and
// one undo reverses both.
class EntraHybridTest : public EntraE2eTest {
 protected:
  void SetUp() override { Serve(EntraSection(AuthMode::kSecret) + LabAdSection(TheLab())); }
};

TEST_P(EntraHybridTest, AlsoOnPremDisablesInAdTooAndOneUndoReversesBoth) {
  const std::string sam = BulkUser(621);
  const std::string user = Touch(Upn(sam));
  auto ad = AdProbe::ConnectAsAdmin(TheLab());
  ASSERT_TRUE(ad.has_value()) << ad.error().message;
  ASSERT_TRUE(ad->SetDisabled(sam, false).has_value());
  const auto disabled_in_ad = [&] {
    const auto state = ad->ReadUser(sam);
    return state.has_value() && state->disabled();
  };

  const std::string id = Submit("suspend", user, nullptr, {{"alsoOnPrem", true}});
  const json suspended = Finish(id);
  ASSERT_EQ(StringAt(suspended, "status"), "succeeded") << suspended.dump();
  ASSERT_TRUE(suspended["linkedActions"].is_array()) << suspended.dump();
  ASSERT_EQ(suspended["linkedActions"].size(), 1u) << suspended.dump();
  const json disabled = Finish(suspended["linkedActions"][0].get<std::string>());
  ASSERT_EQ(StringAt(disabled, "status"), "succeeded") << disabled.dump();
  EXPECT_EQ(StringAt(disabled, "provider"), "ad");
  EXPECT_EQ(StringAt(disabled, "action"), "disable");
  EXPECT_FALSE(admin_.Enabled(user));
  EXPECT_TRUE(disabled_in_ad()) << sam << " should be disabled in AD";

  const json undone = Finish(Undo(id));
  ASSERT_EQ(StringAt(undone, "status"), "succeeded") << undone.dump();
  ASSERT_TRUE(undone["linkedActions"].is_array() && undone["linkedActions"].size() == 1u) << undone.dump();
  const json enabled = Finish(undone["linkedActions"][0].get<std::string>());
  ASSERT_EQ(StringAt(enabled, "status"), "succeeded") << enabled.dump();
  EXPECT_TRUE(admin_.Enabled(user));
  EXPECT_FALSE(disabled_in_ad()) << sam << " should be enabled again in AD";
}

INSTANTIATE_TEST_SUITE_P(SecretOnly, EntraHybridTest, ::testing::Values(AuthMode::kSecret), ModeName);

// 6. `cordon connectors check` says which actions will work, before an incident.
TEST_P(EntraE2eTest, ConnectorsCheckSaysWhichActionsWillWork) {
  RunResult r = Cordon({"connectors", "check", "--config", server_->config_path(), "--provider", "entra", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json all = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(all.is_discarded()) << r.out;
  EXPECT_NE(r.out.find("User.RevokeSessions.All"), std::string::npos) << r.out;

  admin_.Settings({{"app_roles", {"User.Read.All", "User.EnableDisableAccount.All", "IdentityRiskyUser.ReadWrite.All"}},
                   {"identity_protection_licence", false}});
  r = Cordon({"connectors", "check", "--config", server_->config_path(), "--provider", "entra"});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("User.RevokeSessions.All"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("revoke_sessions"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("licen"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace cordon::testing
