// The web console end to end in a real browser: the real `cordon serve`
// (TestServer with the lab's AD, Okta and Entra ID connectors, shipped
// defaults, its inventory synced before each scenario) with a token per role,
// and the node scenarios of tests/console/ (playwright-core driving Debian's
// chromium) on the lab's people, each of which fails the test through its
// exit code. Screenshots go to ${build}/console-screenshots. The harness
// checks what the browser cannot see: the directory (an LDAP bind as the
// user), the Okta and Graph emulators, the action center through the API,
// and that no token reached the server's log.
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "core/subprocess.h"
#include "support/ad_probe.h"
#include "support/emulator_admin.h"
#include "support/test_server.h"

namespace cordon::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char* const kRoles[] = {"security_reader", "security_operator", "security_administrator", "global_administrator"};

class ConsoleE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(fs::path(CORDON_SOURCE_DIR) / "tests/console/node_modules/playwright-core"))
        << "tests/console/node_modules is missing: run scripts/install-deps.sh";
    ASSERT_TRUE(fs::exists("/usr/bin/chromium")) << "chromium is missing: run scripts/install-deps.sh";
    okta_.ResetToDefaults();
    graph_.ResetToDefaults();
    const std::string okta = LabOktaSection(lab_), entra = LabEntraSection(lab_);
    ASSERT_FALSE(okta.empty() || entra.empty()) << "cordon lab config printed no [connectors.okta] or [connectors.entra]";
    auto server = TestServer::Create({.connectors_toml = LabAdSection(lab_) + "\n" + okta + "\n" + entra});
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = std::move(*server);
    ASSERT_TRUE(server_->Start().has_value()) << server_->ServerOutput();
    for (const char* role : kRoles) {
      auto token = server_->Token(role);
      ASSERT_TRUE(token.has_value()) << token.error().message;
      tokens_[role] = *token;
    }
    auto synced = server_->SyncInventory();
    ASSERT_TRUE(synced.has_value()) << synced.error().message;
  }

  void TearDown() override {
    for (const std::string& login : okta_touched_) okta_.EnsureActive(login);
    for (const std::string& upn : entra_touched_) graph_.Restore(upn);
    if (!ad_seed_.empty()) {
      auto probe = AdProbe::ConnectAsAdmin(lab_);
      EXPECT_TRUE(probe && probe->DeleteUser(ad_seed_).has_value()) << ad_seed_;
    }
    if (!okta_seed_.empty()) okta_.DeleteUser(okta_seed_);
    if (!server_) return;
    // Whatever the scenario did, no token reached the server's log.
    (void)server_->Stop();
    const std::string log = ReadFile(server_->log_path()) + server_->ServerOutput();
    EXPECT_NE(log.find("/console/session"), std::string::npos) << "the scenario signed in through the server";
    for (const auto& [role, token] : tokens_) EXPECT_EQ(log.find(token), std::string::npos) << role;
  }

  // Runs tests/console/run.mjs <name>; its output is printed when it fails.
  void Scenario(const std::string& name, const json& args = json::object()) {
    const std::string settings = server_->dir() + "/console-" + name + ".json";
    {
      std::ofstream out(settings, std::ios::trunc);
      out << json{
          {"baseUrl", server_->base_url()},
          {"certFile", server_->ca_file()},
          {"tokens", tokens_},
          {"screenshots", CORDON_SCREENSHOT_DIR},
          {"args",
           args}}.dump();
    }
    fs::permissions(settings, fs::perms::owner_read | fs::perms::owner_write);
    auto run = RunProgram({.argv = {"node", std::string(CORDON_SOURCE_DIR) + "/tests/console/run.mjs", name},
                           .env = {{"CORDON_CONSOLE_E2E", settings}, {"HOME", server_->dir()}},
                           .timeout = std::chrono::minutes(4)});
    ASSERT_TRUE(run.has_value()) << run.error().message;
    last_output_ = run->out;
    EXPECT_TRUE(run->ok()) << name << ": " << run->Describe() << "\n" << run->out << run->err;
  }

  // The one person the inventory finds by `q`, as the scenarios name them:
  // {id, displayName, query}.
  json Person(const std::string& q) {
    auto r = server_->Client("security_reader")->Get("/api/v1/identities?q=" + FormEncode(q));
    EXPECT_TRUE(r && r->status == 200 && r->body["value"].size() == 1) << q << ": " << (r ? r->body.dump() : "");
    if (!r || r->status != 200 || r->body["value"].size() != 1) return json::object();
    const json& found = r->body["value"][0];
    return {{"id", StringAt(found, "id")}, {"displayName", StringAt(found, "displayName")}, {"query", q}};
  }
  // The id a scenario printed as "action <id>".
  std::string PrintedAction() const {
    std::smatch m;
    return std::regex_search(last_output_, m, std::regex("action (act_[A-Za-z0-9_-]+)")) ? m[1].str() : "";
  }

  const LabInfo& lab_ = TheLab();
  OktaAdmin okta_{lab_};
  GraphAdmin graph_{lab_};
  std::set<std::string> okta_touched_, entra_touched_;
  std::string ad_seed_, okta_seed_;  // users a test created, deleted after it
  std::unique_ptr<TestServer> server_;
  std::map<std::string, std::string> tokens_;
  std::string last_output_;
};

TEST_F(ConsoleE2eTest, AnAdDisableFromTheUserPageStopsTheBindAndItsUndoInTheActionCenterRestoresIt) {
  auto probe = AdProbe::ConnectAsAdmin(lab_);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;
  const std::string sam = lab_.staff_users.at(11), upn = lab_.Upn(sam);
  const std::string password = ReadSecretFile(lab_.user_password_file);
  ASSERT_TRUE(probe->ResetUser(sam).has_value());
  ASSERT_TRUE(TryBind(lab_, upn, password).ok()) << "the user signs in before";
  const json person = Person(upn);

  Scenario("user-page-disable", {{"query", upn}, {"name", person["displayName"]}, {"account", sam}});
  const std::string id = PrintedAction();
  ASSERT_FALSE(id.empty()) << last_output_;
  auto client = server_->Client("security_operator");
  const json done = WaitForAction(*client, id, IsFinished, std::chrono::seconds(60));
  ASSERT_EQ(StringAt(done, "status"), "succeeded") << done.dump();
  EXPECT_EQ(StringAt(done, "requestedBy"), "e2e-security_operator");
  // The DC itself refuses the user now: 533, the account is disabled.
  const LdapAnswer refused = TryBind(lab_, upn, password);
  EXPECT_TRUE(refused.HasData("533")) << refused.Describe();

  Scenario("action-center", {{"actionId", id}, {"account", sam}});

  // The console's undo reached the directory, recorded as the operator's.
  EXPECT_TRUE(TryBind(lab_, upn, password).ok()) << "the user signs in again";
  const json original = WaitForAction(
      *client, id, [](const json& a) { return !StringAt(a, "undoneBy").empty(); }, std::chrono::seconds(30));
  const std::string undo_id = StringAt(original, "undoneBy");
  ASSERT_FALSE(undo_id.empty()) << original.dump();
  EXPECT_NE(last_output_.find("undo " + undo_id), std::string::npos) << last_output_;
  auto undo = client->Get("/api/v1/actions/" + undo_id);
  ASSERT_TRUE(undo.has_value());
  EXPECT_EQ(StringAt(undo->body, "reason"), "false positive: console e2e");
  EXPECT_EQ(StringAt(undo->body, "requestedBy"), "e2e-security_operator");
  EXPECT_TRUE(probe->ResetUser(sam).has_value());
}

TEST_F(ConsoleE2eTest, AnOktaSuspendFromTheSidePanelReachesOkta) {
  const std::string upn = lab_.Upn(lab_.staff_users.at(15));
  okta_touched_.insert(upn);
  ASSERT_EQ(okta_.Status(upn), "ACTIVE");
  Scenario("panel-suspend", {{"role", "security_operator"},
                             {"query", upn},
                             {"name", Person(upn)["displayName"]},
                             {"provider", "okta"},
                             {"where", "Okta"},
                             {"account", upn},
                             {"state", "suspended"}});
  const std::string id = PrintedAction();
  ASSERT_FALSE(id.empty()) << last_output_;
  const json done = WaitForAction(*server_->Client("security_operator"), id, IsFinished, std::chrono::seconds(60));
  EXPECT_EQ(StringAt(done, "status"), "succeeded") << done.dump();
  EXPECT_EQ(okta_.Status(upn), "SUSPENDED") << "Okta itself holds the user suspended";
}

TEST_F(ConsoleE2eTest, AnEntraSuspendFromTheSidePanelReachesGraph) {
  const std::string upn = "colin.cloudonly@corp.example.test";
  entra_touched_.insert(upn);
  graph_.Restore(upn);
  Scenario("panel-suspend", {{"role", "global_administrator"},
                             {"query", upn},
                             {"name", Person(upn)["displayName"]},
                             {"provider", "entra"},
                             {"where", "Entra ID"},
                             {"account", upn},
                             {"state", "disabled"}});
  const std::string id = PrintedAction();
  ASSERT_FALSE(id.empty()) << last_output_;
  const json done = WaitForAction(*server_->Client("global_administrator"), id, IsFinished, std::chrono::seconds(60));
  EXPECT_EQ(StringAt(done, "status"), "succeeded") << done.dump();
  EXPECT_FALSE(graph_.User(upn).value("accountEnabled", true)) << "Graph itself holds accountEnabled false";
}

TEST_F(ConsoleE2eTest, AReaderSeesEveryActionDisabledWithTheReason) {
  Scenario("reader", {{"person", Person(lab_.Upn(lab_.staff_users.at(0)))}});
}

TEST_F(ConsoleE2eTest, TheKeyboardPathSearchPanelAndConfirmation) { Scenario("keyboard"); }

TEST_F(ConsoleE2eTest, ThePagesAtFullWidthAndInANarrowWindow) {
  // Something to show: a disable that succeeds and one that fails with the DC's words.
  auto probe = AdProbe::ConnectAsAdmin(lab_);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;
  const std::string sam = lab_.staff_users.at(12);
  ASSERT_TRUE(probe->ResetUser(sam).has_value());
  auto client = server_->Client("security_operator");
  for (const std::string& account : {sam, std::string("no.such.user")}) {
    const std::string id = SubmitAction(*client, "disable", account, "password spray: INC-2207");
    ASSERT_FALSE(id.empty());
    EXPECT_TRUE(IsFinished(WaitForAction(*client, id, IsFinished, std::chrono::seconds(60))));
  }
  Scenario("screens", {{"person", Person(lab_.Upn(sam))},
                       {"admin", Person(lab_.Upn("dana.admin"))},
                       {"guest", Person("gary.guest")}});
  EXPECT_TRUE(probe->ResetUser(sam).has_value());
  for (const char* shot : {"home", "user-page", "side-panel", "narrow-action-center", "narrow-user-page",
                           "narrow-side-panel"})
    EXPECT_TRUE(fs::exists(fs::path(CORDON_SCREENSHOT_DIR) / (std::string(shot) + ".png"))) << shot;
}

// A display name of markup in each provider, seeded by its administrator
// under names of this run (the Graph emulator deletes no user; the AD and
// Okta seeds are deleted after the test).
TEST_F(ConsoleE2eTest, ADisplayNameOfMarkupFromEachProviderIsShownAsText) {
  const std::string markup = "<img src=x onerror=alert(1)>";
  char run_text[9];
  std::snprintf(run_text, sizeof run_text, "%08x", static_cast<unsigned>(::time(nullptr) ^ (::getpid() << 16)));
  const std::string run = run_text;
  const std::string password = ReadSecretFile(lab_.user_password_file);
  auto probe = AdProbe::ConnectAsAdmin(lab_);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;

  const std::string ad_sam = "xss-" + run;
  ASSERT_TRUE(probe->AddUser(lab_.staff_ou, ad_sam, ad_sam, password, false).has_value());
  ad_seed_ = ad_sam;
  const LdapAnswer named = ReplaceAs(lab_, lab_.admin.bind_dn, ReadSecretFile(lab_.admin.password_file),
                                     "CN=" + ad_sam + "," + lab_.staff_ou, "displayName", markup);
  ASSERT_TRUE(named.ok()) << named.Describe();
  const std::string okta_login = "xss-okta-" + run + "@corp.example.test";
  const std::string okta_id = okta_.CreateUser(
      {{"login", okta_login}, {"email", okta_login}, {"firstName", "Xss"}, {"lastName", "Okta"}, {"displayName", markup}},
      password);
  okta_seed_ = okta_id;
  const std::string entra_upn = "xss-entra-" + run + "@corp.example.test";
  const std::string entra_id = graph_.CreateUser({{"accountEnabled", true},
                                                  {"displayName", markup},
                                                  {"mailNickname", "xss-entra-" + run},
                                                  {"userPrincipalName", entra_upn},
                                                  {"passwordProfile", {{"password", password}}}});
  EXPECT_FALSE(okta_id.empty());
  EXPECT_FALSE(entra_id.empty());
  auto synced = server_->SyncInventory();
  ASSERT_TRUE(synced.has_value()) << synced.error().message;

  Scenario("xss", {{"name", markup},
                   {"seeds", {{{"query", ad_sam}, {"provider", "ad"}},
                              {{"query", "xss-okta-" + run}, {"provider", "okta"}},
                              {{"query", "xss-entra-" + run}, {"provider", "entra"}}}}});
}

}  // namespace
}  // namespace cordon::testing
