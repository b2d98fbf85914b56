// The web console end to end in a real browser: the real `cordon serve`
// (TestServer, AD on the lab's DC) with a token per role, and the node
// scenarios of tests/console/ (playwright-core driving Debian's chromium),
// each of which fails the test through its exit code. Screenshots go to
// ${build}/console-screenshots. The harness checks what the browser cannot
// see: the directory itself, the action center through the API, and that no
// token reached the server's log.
//
// Until cordon serves the identity routes itself, the scenarios put a stand-in
// for them in front of the server (tests/console/lib/fake_identities.mjs).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/subprocess.h"
#include "support/ad_probe.h"
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
    auto server = TestServer::Create({.connectors_toml = LabAdSection(lab_)});
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = std::move(*server);
    ASSERT_TRUE(server_->Start().has_value()) << server_->ServerOutput();
    for (const char* role : kRoles) {
      auto token = server_->Token(role);
      ASSERT_TRUE(token.has_value()) << token.error().message;
      tokens_[role] = *token;
    }
  }

  void TearDown() override {
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
          {"keyFile", server_->dir() + "/server.key"},
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

  const LabInfo& lab_ = TheLab();
  std::unique_ptr<TestServer> server_;
  std::map<std::string, std::string> tokens_;
  std::string last_output_;
};

TEST_F(ConsoleE2eTest, TheActionCenterShowsAnAdDisableAndUndoesIt) {
  auto probe = AdProbe::ConnectAsAdmin(lab_);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;
  const std::string sam = lab_.staff_users.at(11);
  ASSERT_TRUE(probe->ResetUser(sam).has_value());

  auto client = server_->Client("security_operator");
  const std::string id = SubmitAction(*client, "disable", sam, "phishing: console e2e");
  ASSERT_FALSE(id.empty());
  const json done = WaitForAction(*client, id, IsFinished, std::chrono::seconds(60));
  ASSERT_EQ(StringAt(done, "status"), "succeeded") << done.dump();
  auto disabled = probe->ReadUser(sam);
  ASSERT_TRUE(disabled.has_value());
  ASSERT_TRUE(disabled->disabled());

  Scenario("action-center", {{"actionId", id}, {"account", sam}});

  // The console's undo reached the directory, recorded as the operator's.
  auto enabled = probe->ReadUser(sam);
  ASSERT_TRUE(enabled.has_value());
  EXPECT_FALSE(enabled->disabled()) << "the lab account is enabled again";
  const json original = WaitForAction(
      *client, id, [](const json& a) { return !StringAt(a, "undoneBy").empty(); }, std::chrono::seconds(30));
  const std::string undo_id = StringAt(original, "undoneBy");
  ASSERT_FALSE(undo_id.empty()) << original.dump();
  EXPECT_NE(last_output_.find("undo " + undo_id), std::string::npos) << last_output_;
  auto undo = client->Get("/api/v1/actions/" + undo_id);
  ASSERT_TRUE(undo.has_value());
  EXPECT_EQ(StringAt(undo->body, "reason"), "false positive: console e2e");
  EXPECT_EQ(StringAt(undo->body, "requestedBy"), "e2e-security_operator");
}

TEST_F(ConsoleE2eTest, AReaderSeesEveryActionDisabledWithTheReason) { Scenario("reader"); }

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
  Scenario("screens");
  EXPECT_TRUE(probe->ResetUser(sam).has_value());
  for (const char* shot : {"home", "user-page", "narrow-action-center", "narrow-user-page", "narrow-side-panel"})
    EXPECT_TRUE(fs::exists(fs::path(CORDON_SCREENSHOT_DIR) / (std::string(shot) + ".png"))) << shot;
}

}  // namespace
}  // namespace cordon::testing
