// Run a full scenario and find none of the lab's passwords
// or the API tokens in any log, error, CLI output or API answer — nor the
// tokens in the store (only their digests are kept).
#include <filesystem>

#include <sys/stat.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/ad_probe.h"
#include "support/lab_info.h"
#include "support/test_server.h"

namespace cordon::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto probe = AdProbe::ConnectAsAdmin(lab_);
    ASSERT_TRUE(probe.has_value()) << probe.error().message;
    probe_ = std::make_unique<AdProbe>(std::move(*probe));
    ASSERT_TRUE(probe_->ResetUser(user_).has_value());
    secrets_ = {{"admin password", ReadSecretFile(lab_.admin.password_file)},
                {"action account password", ReadSecretFile(lab_.action_account.password_file)},
                {"users' password", ReadSecretFile(lab_.user_password_file)}};
  }
  void TearDown() override {
    if (probe_) (void)probe_->ResetUser(user_);
  }

  // Everything a person or a log collector could see.
  void ExpectNoSecretIn(const std::string& where, const std::string& text) {
    for (const auto& [name, value] : secrets_) {
      ASSERT_FALSE(value.empty());
      EXPECT_EQ(text.find(value), std::string::npos) << "the " << name << " appears in " << where;
    }
  }

  const LabInfo& lab_ = TheLab();
  const std::string user_ = lab_.staff_users.at(3);
  std::unique_ptr<AdProbe> probe_;
  std::map<std::string, std::string> secrets_;
};

TEST_F(SecretsTest, FullScenarioLeaksNoSecret) {
  ::umask(0022);  // the usual default: the store and the log must not depend on it
  auto created = TestServer::Create({.connectors_toml = LabAdSection(lab_)});
  ASSERT_TRUE(created.has_value());
  TestServer& s = **created;
  std::string seen;  // every output and answer of the scenario
  auto see = [&](const std::string& what, const RunResult& r) { seen += "\n--- " + what + "\n" + r.out + r.err; };

  for (const char* role : {"security_operator", "security_reader"}) {
    auto token = s.Token(role);
    ASSERT_TRUE(token.has_value());
    secrets_[std::string("token of ") + role] = *token;
  }
  ASSERT_TRUE(s.Start().has_value());

  see("act disable", s.Cli({"act", "disable", user_, "--reason", "scenario"}, "security_operator"));
  see("act disable json", s.Cli({"act", "disable", user_, "--reason", "again", "-o", "json"}, "security_operator"));
  see("act force reset", s.Cli({"act", "force_password_reset", user_, "--reason", "scenario"}, "security_operator"));
  see("act on Administrator", s.Cli({"act", "disable", "Administrator", "--reason", "denied"}, "security_operator"));
  see("act by reader", s.Cli({"act", "disable", user_, "--reason", "forbidden"}, "security_reader"));
  see("act injection", s.Cli({"act", "disable", "*)(sAMAccountName=*", "--reason", "x"}, "security_operator"));
  see("list", s.Cli({"actions", "list", "-o", "json"}, "security_reader"));
  RunResult list = s.Cli({"actions", "list", "-o", "json"}, "security_reader");
  const json listed = json::parse(list.out);  // a named value: a loop over a temporary's member dangles
  for (const auto& a : listed["value"]) {
    see("show " + a["id"].get<std::string>(), s.Cli({"actions", "show", a["id"], "-o", "json"}, "security_reader"));
    if (a["status"] == "succeeded" && a["undoneBy"].is_null())
      see("undo", s.Cli({"actions", "undo", a["id"], "--reason", "scenario", "--wait"}, "security_operator"));
  }
  // A wrong token and a token that was never issued.
  auto bad = RunProgram({.argv = {CORDON_BINARY, "actions", "list"},
                  .env = {{"CORDON_SERVER", s.base_url()}, {"CORDON_CA_FILE", s.ca_file()},
                          {"CORDON_TOKEN", secrets_["token of security_reader"] + "x"}, {"CORDON_TOKEN_FILE", ""}}});
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->exit_code, 3);
  seen += bad->out + bad->err;
  auto client = s.Client("security_reader");
  for (const char* path : {"/healthz", "/metrics", "/api/v1/actions?limit=1000", "/api/v1/nope"}) {
    auto r = client->Get(path);
    ASSERT_TRUE(r.has_value());
    seen += "\n--- GET " + std::string(path) + "\n" + r->body.dump();
  }
  see("config check", Cordon({"config", "check", "--config", s.config_path()}));
  ASSERT_TRUE(s.Stop().has_value());

  // The action account's bind failing (a wrong password: the admin's) must
  // not echo it. It pauses AD rather than failing the action; the refusal
  // shows in the action's attempts.
  auto misconfigured = TestServer::Create(
      {.connectors_toml = "[connectors.ad]\nurl = \"" + lab_.ldaps_url + "\"\nca_file = \"" + lab_.ca_file +
                          "\"\nbase_dn = \"" + lab_.base_dn + "\"\nbind_dn = \"" + lab_.action_account.bind_dn +
                          "\"\npassword_file = \"" + lab_.admin.password_file + "\"\n"});
  ASSERT_TRUE(misconfigured.has_value());
  TestServer& m = **misconfigured;
  secrets_["token of misconfigured"] = *m.Token("security_operator");
  ASSERT_TRUE(m.Start().has_value());
  RunResult queued = m.Cli({"act", "disable", user_, "--reason", "wrong bind", "--no-wait", "-o", "json"},
                           "security_operator");
  ASSERT_EQ(queued.exit_code, 0) << queued.out << queued.err;
  see("misconfigured act", queued);
  const std::string id = json::parse(queued.out).value("id", "");
  RunResult shown;
  for (int i = 0; i < 600; ++i) {
    shown = m.Cli({"actions", "show", id}, "security_operator");
    if (shown.out.find("ldap:49") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  see("misconfigured show", shown);
  EXPECT_NE(shown.out.find("ldap:49"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("pending"), std::string::npos) << "an outage fails nothing: " << shown.out;
  ASSERT_TRUE(m.Stop().has_value());

  ExpectNoSecretIn("CLI output and API answers", seen);
  for (TestServer* srv : {&s, &m}) {
    const std::string log = ReadFile(srv->log_path());
    EXPECT_NE(log.find("\"level\""), std::string::npos) << "the server logged nothing; the scan would prove nothing";
    ExpectNoSecretIn("the server log " + srv->log_path(), log);
    ExpectNoSecretIn("the server's stdout/stderr", srv->ServerOutput());
    ExpectNoSecretIn("the store", ReadFile(srv->db_path()) + ReadFile(srv->db_path() + "-wal"));
  }
  // Private by default: what the server wrote is its owner's alone, whatever the umask.
  for (const std::string& file : {s.db_path(), s.db_path() + "-wal", s.db_path() + "-shm", s.log_path()}) {
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
  EXPECT_NE(seen.find("succeeded"), std::string::npos) << "the scenario did not run";
  EXPECT_NE(seen.find("ldap:50"), std::string::npos) << "the scenario did not reach the DC's refusal";
}

}  // namespace
}  // namespace cordon::testing
