// Okta end to end: the real `cordon serve` and `cordon` CLI against the lab's
// Okta emulator, in both ways of signing in (an SSWS token file, and
// private_key_jwt as `cordon lab config` prints it), with the shipped
// defaults. What Okta holds is read from the emulator directly with the lab's
// SSWS token, never through Cordon.
//
// Each test leaves the emulator's settings and faults at their defaults and
// its users as it found them (ACTIVE), so the order of tests does not matter;
// the two auth modes use different users.
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/lab_info.h"
#include "support/emulator_admin.h"
#include "support/okta_wire.h"
#include "support/test_server.h"

namespace cordon::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

std::string Login(int bulk_index) { return BulkUser(bulk_index) + "@corp.example.test"; }

enum class AuthMode { kSsws, kPrivateKeyJwt };

std::string ModeName(const ::testing::TestParamInfo<AuthMode>& info) {
  return info.param == AuthMode::kSsws ? "Ssws" : "PrivateKeyJwt";
}

// [connectors.okta] as `cordon lab config` prints it (private_key_jwt), or
// with the SSWS token file of the lab instead. Nothing else: shipped defaults.
std::string OktaSection(AuthMode mode) {
  const LabOkta& lab = TheLab().okta;
  if (mode == AuthMode::kSsws)
    return "[connectors.okta]\norg_url = \"" + lab.url + "\"\nca_file = \"" + lab.ca_file +
           "\"\nauth_mode = \"ssws\"\ntoken_file = \"" + lab.token_file + "\"\n";
  const std::string printed = LabOktaSection(TheLab());
  if (printed.empty()) throw std::runtime_error("cordon lab config printed no [connectors.okta]");
  return printed;
}

class OktaE2eTest : public ::testing::TestWithParam<AuthMode> {
 protected:
  void SetUp() override {
    admin_.ResetToDefaults();
    auto server = TestServer::Create({.connectors_toml = OktaSection(GetParam())});
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = std::move(*server);
    ASSERT_TRUE(server_->Token("security_operator").has_value());
    ASSERT_TRUE(server_->Token("security_reader").has_value());
    auto started = server_->Start();
    ASSERT_TRUE(started.has_value()) << started.error().message;
    operator_ = server_->Client("security_operator");
  }
  void TearDown() override {
    admin_.ResetToDefaults();
    for (const std::string& login : touched_) admin_.EnsureActive(login);
  }

  // Users of this test, distinct per auth mode: private_key_jwt uses the
  // ones 300 further (bulk0001-0270 for bulks, bulk0601-0620 one by one).
  std::string User(int first, int k = 0) {
    const std::string login = Login(first + k + (GetParam() == AuthMode::kSsws ? 0 : 300));
    if (touched_.insert(login).second) admin_.EnsureActive(login);
    return login;
  }
  std::vector<std::string> Users(int first, int count) {
    std::vector<std::string> users;
    for (int k = 0; k < count; ++k) users.push_back(User(first, k));
    return users;
  }

  std::string Submit(const std::string& action, const std::string& account) {
    auto r = operator_->Post("/api/v1/actions", json{{"action", action},
                                                     {"provider", "okta"},
                                                     {"account", account},
                                                     {"reason", "okta end-to-end test"}});
    EXPECT_TRUE(r.has_value());
    if (!r) return "";
    EXPECT_EQ(r->status, 202) << r->body.dump();
    return StringAt(r->body, "id");
  }
  json Finish(const std::string& id, seconds limit = seconds(120)) {
    return WaitForAction(*operator_, id, IsFinished, limit);
  }
  std::string Undo(const std::string& id) {
    auto r = operator_->Post("/api/v1/actions/" + id + "/undo", json{{"reason", "false positive"}});
    EXPECT_TRUE(r.has_value());
    if (!r) return "";
    EXPECT_EQ(r->status, 202) << r->body.dump();
    return StringAt(r->body, "id");
  }
  json Detail(const std::string& id) {
    auto r = operator_->Get("/api/v1/actions/" + id);
    return r && r->status == 200 ? r->body : json();
  }
  // A bulk request through the API, waited for; every action's detail (with its attempts).
  std::vector<json> Bulk(const std::string& action, const std::vector<std::string>& accounts, seconds limit) {
    auto r = operator_->Post("/api/v1/actions/bulk", json{{"action", action},
                                                          {"provider", "okta"},
                                                          {"accounts", accounts},
                                                          {"reason", "okta end-to-end bulk"}});
    EXPECT_TRUE(r.has_value());
    if (!r) return {};
    EXPECT_EQ(r->status, 202) << r->body.dump();
    const std::string bulk_id = StringAt(r->body, "bulkId");
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::vector<json> actions;
    while (std::chrono::steady_clock::now() < deadline) {
      actions = BulkActions(*operator_, bulk_id);
      size_t done = 0;
      for (const json& a : actions) done += IsFinished(a) ? 1 : 0;
      if (actions.size() == accounts.size() && done == actions.size()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    std::vector<json> details;
    for (const json& a : actions) details.push_back(Detail(StringAt(a, "id")));
    return details;
  }

  // Every action of a bulk succeeded and the emulator shows every user in `status`.
  void ExpectAllSucceeded(const std::vector<json>& details, const std::vector<std::string>& users,
                          const std::string& status) {
    ASSERT_EQ(details.size(), users.size());
    for (const json& d : details) EXPECT_EQ(StringAt(d, "status"), "succeeded") << d.dump();
    for (const std::string& u : users) EXPECT_EQ(admin_.Status(u), status) << u;
  }
  // Attempts whose provider answer carries `code` (e.g. "E0000047"), and those whose result is `result`.
  static int AttemptsWith(const std::vector<json>& details, const std::string& code, const std::string& result = "") {
    int n = 0;
    for (const json& d : details)
      for (const json& at : d.value("attempts", json::array())) {
        const json& answer = at.value("providerAnswer", json());
        if (!code.empty() && answer.is_object() && StringAt(answer, "detail").find(code) != std::string::npos) ++n;
        if (!result.empty() && StringAt(at, "result") == result) ++n;
      }
    return n;
  }

  void BulkSuspendsUnderLimits(const json& rate_limits, int first_user);

  OktaAdmin admin_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<cli::ApiClient> operator_;
  std::set<std::string> touched_;
};

// 1. Every action through the server; the emulator shows each change.
TEST_P(OktaE2eTest, SuspendThenUndoUnsuspends) {
  const std::string user = User(601);
  const std::string okta_id = admin_.User(user).value("id", "");
  const json suspended = Finish(Submit("suspend", user));
  ASSERT_EQ(StringAt(suspended, "status"), "succeeded") << suspended.dump();
  EXPECT_EQ(StringAt(suspended, "accountId"), okta_id);
  EXPECT_EQ(suspended.value("alreadyInState", true), false);
  EXPECT_EQ(admin_.Status(user), "SUSPENDED");
  EXPECT_EQ(suspended["undo"]["action"], "unsuspend");
  EXPECT_TRUE(suspended["undo"]["limits"].is_null()) << "unsuspend restores the user as they were";

  const json undone = Finish(Undo(StringAt(suspended, "id")));
  ASSERT_EQ(StringAt(undone, "status"), "succeeded") << undone.dump();
  EXPECT_EQ(StringAt(undone, "action"), "unsuspend");
  EXPECT_EQ(StringAt(undone, "accountId"), okta_id);
  EXPECT_EQ(admin_.Status(user), "ACTIVE");
  EXPECT_EQ(StringAt(Detail(StringAt(suspended, "id")), "undoneBy"), StringAt(undone, "id"));
}

TEST_P(OktaE2eTest, DeactivateSucceedsOnlyOnceDeprovisionedThenUndoActivates) {
  const std::string user = User(603);
  const std::string id = Submit("deactivate", user);
  ASSERT_FALSE(id.empty());
  // Read the action first, then Okta: a success seen before Okta finished
  // deprovisioning would show here as a user still transitioning.
  json action;
  bool saw_transition = false;
  const auto deadline = std::chrono::steady_clock::now() + seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    action = Detail(id);
    const json okta = admin_.User(user);
    if (!okta.value("transitioningToStatus", json()).is_null()) saw_transition = true;
    if (StringAt(action, "status") == "succeeded") {
      EXPECT_EQ(okta.value("status", ""), "DEPROVISIONED") << okta.dump();
      EXPECT_TRUE(okta.value("transitioningToStatus", json()).is_null()) << okta.dump();
    }
    if (IsFinished(action)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(StringAt(action, "status"), "succeeded") << action.dump();
  EXPECT_TRUE(saw_transition) << "the emulator's deactivation is asynchronous; the test should have seen it under way";
  EXPECT_EQ(admin_.Status(user), "DEPROVISIONED");
  // The undo says what reactivation does not bring back.
  EXPECT_EQ(action["undo"]["action"], "activate");
  ASSERT_TRUE(action["undo"]["limits"].is_string()) << action.dump();
  const std::string limits = action["undo"]["limits"];
  EXPECT_NE(limits.find("new activation"), std::string::npos) << limits;
  EXPECT_NE(limits.find("apps assigned directly"), std::string::npos) << limits;

  const json undone = Finish(Undo(id));
  ASSERT_EQ(StringAt(undone, "status"), "succeeded") << undone.dump();
  EXPECT_EQ(StringAt(undone, "action"), "activate");
  EXPECT_EQ(admin_.Status(user), "ACTIVE");
}

TEST_P(OktaE2eTest, RevokeSessionsLeavesNoSessionAndNoOAuthToken) {
  const std::string user = User(605);
  const std::string okta_id = admin_.User(user).value("id", "");
  admin_.AddSession(okta_id, 2);
  admin_.AddSession(okta_id, 1);
  json sessions = admin_.Sessions(okta_id);
  ASSERT_EQ(sessions["sessions"].size(), 2u) << sessions.dump();
  ASSERT_EQ(sessions["oauthTokens"], 3);

  const json revoked = Finish(Submit("revoke_sessions", user));
  ASSERT_EQ(StringAt(revoked, "status"), "succeeded") << revoked.dump();
  EXPECT_TRUE(revoked["undo"].is_null()) << "sessions cannot be restored";
  sessions = admin_.Sessions(okta_id);
  EXPECT_TRUE(sessions["sessions"].empty()) << sessions.dump();
  EXPECT_EQ(sessions["oauthTokens"], 0) << "oauthTokens=true by default";
  EXPECT_EQ(admin_.Status(user), "ACTIVE") << "only the sessions go";
  auto undo = operator_->Post("/api/v1/actions/" + StringAt(revoked, "id") + "/undo", json{{"reason", "x"}});
  ASSERT_TRUE(undo.has_value());
  EXPECT_EQ(undo->status, 409);
}

// 2. Already there: a success with a note. Illegal: fails at once with Okta's words.
TEST_P(OktaE2eTest, AlreadyInTheTargetStateSucceedsWithANote) {
  const json suspended = Finish(Submit("suspend", "susan.suspended@corp.example.test"));
  ASSERT_EQ(StringAt(suspended, "status"), "succeeded") << suspended.dump();
  EXPECT_EQ(suspended.value("alreadyInState", false), true);
  EXPECT_NE(StringAt(suspended, "outcome").find("already suspended"), std::string::npos) << suspended.dump();
  EXPECT_EQ(admin_.Status("susan.suspended@corp.example.test"), "SUSPENDED");

  const std::string user = User(607);
  const json active = Finish(Submit("unsuspend", user));
  ASSERT_EQ(StringAt(active, "status"), "succeeded") << active.dump();
  EXPECT_EQ(active.value("alreadyInState", false), true);
  EXPECT_NE(StringAt(active, "outcome").find("already active"), std::string::npos) << active.dump();
  EXPECT_EQ(admin_.Status(user), "ACTIVE");
  auto undo = operator_->Post("/api/v1/actions/" + StringAt(active, "id") + "/undo", json{{"reason", "x"}});
  ASSERT_TRUE(undo.has_value());
  EXPECT_EQ(undo->status, 409) << "nothing was changed, so nothing to undo";
}

TEST_P(OktaE2eTest, AnIllegalTransitionFailsAtOnceWithOktasWords) {
  const json failed = Finish(Submit("suspend", "stella.staged@corp.example.test"));
  ASSERT_EQ(StringAt(failed, "status"), "failed") << failed.dump();
  EXPECT_EQ(failed.value("attemptCount", 0), 1) << "a refusal is not retried";
  const json& answer = failed["providerAnswer"];
  ASSERT_TRUE(answer.is_object()) << failed.dump();
  EXPECT_EQ(StringAt(answer, "code"), "http:400");
  const std::string detail = StringAt(answer, "detail");
  EXPECT_NE(detail.find("E0000001"), std::string::npos) << detail;
  EXPECT_NE(detail.find("Cannot suspend a user that is not active"), std::string::npos) << detail;
  EXPECT_NE(detail.find("errorId oae"), std::string::npos) << detail;
  EXPECT_EQ(admin_.Status("stella.staged@corp.example.test"), "STAGED");
}

// 3. Deactivate never deletes, even asked twice; the emulator deletes on a second DELETE.
TEST_P(OktaE2eTest, ASecondDeactivateSucceedsWithANoteAndTheUserStays) {
  const std::string user = User(609);
  const json first = Finish(Submit("deactivate", user));
  ASSERT_EQ(StringAt(first, "status"), "succeeded") << first.dump();
  EXPECT_EQ(first.value("alreadyInState", true), false);
  const json second = Finish(Submit("deactivate", user));
  ASSERT_EQ(StringAt(second, "status"), "succeeded") << second.dump();
  EXPECT_EQ(second.value("alreadyInState", false), true);
  EXPECT_NE(StringAt(second, "outcome").find("already deactivated"), std::string::npos) << second.dump();
  const auto read = admin_.Send("GET", "/api/v1/users/" + user);
  ASSERT_EQ(read.status, 200) << "the user is still there: " << read.body;
  EXPECT_EQ(read.Json().value("status", ""), "DEPROVISIONED");
}

TEST(OktaEmulatorContrast, ASecondDeleteDeletesTheUserForGood) {
  const OktaAdmin admin;
  admin.ResetToDefaults();
  // bulk0990..bulk0999 are this test's; each run deletes one.
  std::string user;
  for (int i = 990; i <= 999 && user.empty(); ++i)
    if (admin.Send("GET", "/api/v1/users/" + Login(i)).status == 200) user = Login(i);
  ASSERT_FALSE(user.empty()) << "every user of this test is deleted: restart the lab";
  const std::string id = admin.User(user).value("id", "");
  if (admin.Status(id) != "DEPROVISIONED") {
    const auto first = admin.Send("DELETE", "/api/v1/users/" + id);
    ASSERT_EQ(first.status, 204) << first.body;
    ASSERT_EQ(admin.Status(id), "DEPROVISIONED") << "the first DELETE deactivates";
  }
  const auto second = admin.Send("DELETE", "/api/v1/users/" + id);
  ASSERT_EQ(second.status, 204) << second.body;
  const auto gone = admin.Send("GET", "/api/v1/users/" + id);
  EXPECT_EQ(gone.status, 404) << gone.body;
  EXPECT_EQ(gone.Json().value("errorCode", ""), "E0000007");
}

// 4 and 5. The CLI asks before a deactivation and says what its undo leaves behind.
TEST_P(OktaE2eTest, CliDeactivateWantsConfirmationAndSaysWhatTheUndoDoesNotRestore) {
  const std::string user = User(611);
  RunResult r = server_->Cli({"act", "deactivate", user, "--provider", "okta", "--reason", "account takeover"},
                             "security_operator");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("no terminal"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--yes"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("new activation"), std::string::npos) << r.err;
  r = server_->Cli({"actions", "list", "--target", user, "-o", "json"}, "security_reader");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(json::parse(r.out)["value"].empty()) << "nothing was created: " << r.out;
  EXPECT_EQ(admin_.Status(user), "ACTIVE");

  // On a terminal it asks; anything but yes asks nothing of the server.
  auto token = server_->Token("security_operator");
  ASSERT_TRUE(token.has_value());
  const std::string command = std::string("'") + CORDON_BINARY + "' act deactivate '" + user +
                              "' --provider okta --reason 'account takeover'";
  auto on_tty = RunProgram({.argv = {"script", "-qefc", command, "/dev/null"},
                            .stdin_text = "n\n",
                            .env = {{"CORDON_SERVER", server_->base_url()},
                                    {"CORDON_CA_FILE", server_->ca_file()},
                                    {"CORDON_TOKEN", *token},
                                    {"CORDON_TOKEN_FILE", ""}}});
  ASSERT_TRUE(on_tty.has_value()) << on_tty.error().message;
  EXPECT_EQ(on_tty->exit_code, 2) << on_tty->out << on_tty->err;
  EXPECT_NE(on_tty->out.find("Deactivate 1 Okta user(s)?"), std::string::npos) << on_tty->out;
  EXPECT_NE(on_tty->out.find("[y/N]"), std::string::npos) << on_tty->out;
  EXPECT_NE(on_tty->out.find("not confirmed"), std::string::npos) << on_tty->out;
  EXPECT_EQ(on_tty->out.find(*token), std::string::npos) << "the token is never printed";
  EXPECT_EQ(admin_.Status(user), "ACTIVE");

  r = server_->Cli({"act", "deactivate", user, "--provider", "okta", "--reason", "account takeover", "--yes"},
                   "security_operator");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("succeeded"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("undo:      activate — activate is a new activation"), std::string::npos) << r.out;
  EXPECT_EQ(admin_.Status(user), "DEPROVISIONED");

  r = server_->Cli({"actions", "list", "--target", user, "-o", "json"}, "security_reader");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json list = json::parse(r.out);
  ASSERT_EQ(list["value"].size(), 1u) << r.out;
  r = server_->Cli({"actions", "show", list["value"][0]["id"]}, "security_reader");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("undo:      activate — "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("apps assigned directly"), std::string::npos) << r.out;

  // Suspension is undone completely: no question asked.
  const std::string other = User(612);
  r = server_->Cli({"act", "suspend", other, "-p", "okta", "--reason", "account takeover"}, "security_operator");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("undo:"), std::string::npos) << r.out;
  EXPECT_EQ(admin_.Status(other), "SUSPENDED");
}

TEST_P(OktaE2eTest, CliBulkDeactivateWantsConfirmationToo) {
  const std::vector<std::string> users = Users(613, 3);
  const std::string file = server_->dir() + "/accounts.txt";
  {
    std::ofstream out(file);
    for (const std::string& u : users) out << u << "\n";
  }
  RunResult r = server_->Cli({"act", "deactivate", "--accounts-file", file, "-p", "okta", "--reason", "campaign"},
                             "security_operator");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--yes"), std::string::npos) << r.err;
  r = server_->Cli({"actions", "list", "--provider", "okta", "-o", "json"}, "security_reader");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(json::parse(r.out)["value"].empty()) << "nothing was created: " << r.out;

  r = server_->Cli({"act", "deactivate", "--accounts-file", file, "-p", "okta", "--reason", "campaign", "-y"},
                   "security_operator");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("3 succeeded, 0 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("undo: activate — activate is a new activation"), std::string::npos) << r.out;
  for (const std::string& u : users) EXPECT_EQ(admin_.Status(u), "DEPROVISIONED") << u;
}

// The bulk drills below wait out rate-limit windows and faults for a minute
// or more each; the auth mode changes nothing in them, so they run once, with
// the mode `cordon lab config` prints (private_key_jwt).
class OktaDrillTest : public OktaE2eTest {};

// 6. A low limit with Okta's clock behind or ahead of ours: the wait follows
// Okta's clock (Reset minus the answer's Date), so no request is refused. A
// client measuring Reset on the local clock would, 30 s behind, take every
// window for over and collect 429s.
void OktaE2eTest::BulkSuspendsUnderLimits(const json& rate_limits, int first_user) {
  for (const int offset : {-30, 30}) {
    SCOPED_TRACE("clock_offset_seconds " + std::to_string(offset));
    // The users first: checking them reads from the budget the test lowers.
    const std::vector<std::string> users = Users(offset < 0 ? first_user : first_user + 60, 60);
    // A skew and a limit are Okta's from the start, not a change in the middle
    // of a window: the server meets them from its first request (its
    // inventory's listing at start), as it would an org whose clock is off.
    ASSERT_TRUE(server_->Stop().has_value());
    admin_.Settings({{"clock_offset_seconds", offset}, {"rate_limits", rate_limits}});
    auto restarted = server_->Start();
    ASSERT_TRUE(restarted.has_value()) << restarted.error().message;
    operator_ = server_->Client("security_operator");
    const std::vector<json> details = Bulk("suspend", users, seconds(300));
    admin_.ResetToDefaults();
    ExpectAllSucceeded(details, users, "SUSPENDED");
    EXPECT_EQ(AttemptsWith(details, "E0000047"), 0) << "Okta refused requests for its rate limit";
  }
}

// Both families Cordon calls (reading users, changing them) at 20 per 5 s:
// their windows end together.
TEST_P(OktaDrillTest, BulkSuspendFollowsOktasClockUnderALowLimit) {
  const json low{{"limit", 20}, {"window_seconds", 5}};
  BulkSuspendsUnderLimits({{"users.read", low}, {"users.manage", low}}, 1);
}

// Only users.manage low, users.read at its 600 per 60 s: each of Okta's
// families has a window of its own, with its own Reset, and the governor
// keeps one per bucket, so the reads' larger budget never paces the changes.
TEST_P(OktaDrillTest, BulkSuspendRespectsALowLimitOfOneFamilyOnly) {
  BulkSuspendsUnderLimits({{"users.manage", {{"limit", 20}, {"window_seconds", 5}}}}, 121);
}

TEST_P(OktaDrillTest, BulkSuspendRidesOutErrorsAndDroppedConnections) {
  const std::vector<std::string> users = Users(241, 60);
  admin_.Faults({{"error_rate", 0.3}, {"drop_rate", 0.1}});
  const std::vector<json> details = Bulk("suspend", users, seconds(300));
  admin_.ResetToDefaults();
  ExpectAllSucceeded(details, users, "SUSPENDED");
  EXPECT_GT(AttemptsWith(details, "", "provider_error"), 0) << "the faults show in the attempts";
  for (const json& d : details) EXPECT_LE(d.value("attemptCount", 0), d.value("maxAttempts", 0)) << d.dump();
}

// 7. Odd headers from Okta never make a negative or endless wait.
TEST_P(OktaDrillTest, HeaderQuirksNeverStallABulk) {
  int first = 1;
  for (const char* quirk : {"duplicate_reset", "bad_date", "past_reset"}) {
    SCOPED_TRACE(quirk);
    admin_.Faults({{"header_quirks", {quirk}}});
    const std::vector<std::string> users = Users(first, 30);
    first += 30;
    const std::vector<json> details = Bulk("suspend", users, seconds(120));
    ExpectAllSucceeded(details, users, "SUSPENDED");
    admin_.ResetToDefaults();
  }
}

INSTANTIATE_TEST_SUITE_P(AuthModes, OktaE2eTest, ::testing::Values(AuthMode::kSsws, AuthMode::kPrivateKeyJwt),
                         ModeName);
INSTANTIATE_TEST_SUITE_P(AuthModes, OktaDrillTest, ::testing::Values(AuthMode::kPrivateKeyJwt), ModeName);

}  // namespace
}  // namespace cordon::testing
