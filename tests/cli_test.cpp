// The `cordon` CLI end to end — act (waits, prints the
// outcome), --no-wait, actions list/show/undo/cancel, -o json, a progress bar
// for bulk work, the token life cycle (create with an expiry, list, revoke),
// config check (with --connect: a bind to the lab's DC), meaningful exit
// codes (a forced reset that would force nothing fails, saying why) and
// --help on every command.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/sqlite/sqlite_store.h"
#include "support/ad_probe.h"
#include "support/lab_info.h"
#include "support/temp_dir.h"
#include "support/test_server.h"

namespace cordon::testing {
namespace {

using nlohmann::json;

TEST(CliHelpTest, EveryCommandHasHelp) {
  const std::vector<std::vector<std::string>> commands = {
      {},         {"serve"},   {"act"},         {"actions"},          {"actions", "list"}, {"actions", "show"},
      {"actions", "undo"},     {"actions", "cancel"}, {"token"},       {"token", "create"}, {"token", "list"},
      {"token", "revoke"},     {"config"},
      {"config", "check"},     {"connectors"},  {"connectors", "check"}, {"lab"},        {"lab", "up"},        {"lab", "down"},     {"lab", "status"},
      {"lab", "stop"},         {"lab", "start"}, {"lab", "config"}, {"risks"},
      {"identities"},          {"identities", "search"}, {"identities", "show"}, {"inventory"},
      {"inventory", "sync"},   {"inventory", "status"}};
  for (auto cmd : commands) {
    cmd.push_back("--help");
    RunResult r = Cordon(cmd);
    EXPECT_EQ(r.exit_code, 0) << json(cmd).dump() << r.err;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << json(cmd).dump() << r.out;
  }
  RunResult act = Cordon({"act", "--help"});
  EXPECT_NE(act.out.find("--also-on-prem"), std::string::npos) << act.out;
  EXPECT_NE(act.out.find("userPrincipalName"), std::string::npos) << act.out;
  RunResult none = Cordon({});
  EXPECT_EQ(none.exit_code, 2);
  RunResult unknown = Cordon({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
}

TEST(CliConfigTest, ServeRefusesABadConfigNamingTheKey) {
  const std::string dir = ::testing::TempDir() + "/cordon-cli-config-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/cordon.toml";
  struct Case {
    std::string text;
    std::string key;
  };
  const std::vector<Case> cases = {
      {"[server]\nplain_http = true\n[engine]\nmax_attempts = -1\n", "engine.max_attempts"},
      {"[server]\nplain_http = true\n[connectors.ad]\nurl = \"ldaps://127.0.0.1\"\nbase_dn = \"DC=x\"\n"
       "bind_dn = \"a@b\"\npassword = \"hunter2\"\n",
       "connectors.ad.password"},
      {"[server]\naddress = \"127.0.0.1\"\n", "server.tls_cert_file"},
  };
  for (const Case& c : cases) {
    std::ofstream(path, std::ios::trunc) << c.text;
    for (const char* verb : {"serve", "check"}) {
      RunResult r = std::string(verb) == "serve" ? Cordon({"serve", "--config", path})
                                                 : Cordon({"config", "check", "--config", path});
      EXPECT_EQ(r.exit_code, 2) << verb << " " << c.key << ": " << r.err;
      EXPECT_NE(r.err.find(c.key), std::string::npos) << verb << ": " << r.err;
      EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << "a literal secret is echoed: " << r.err;
    }
  }
  // The documented example is valid as shipped, once the files it names exist on this
  // machine (the AD loader checks that it can read them).
  std::string example = ReadFile(CORDON_SOURCE_DIR "/examples/cordon.toml");
  const json lab = json::parse(ReadFile(TheLab().dir + "/lab.json"), nullptr, false);
  ASSERT_TRUE(lab.is_object() && lab.contains("okta")) << "lab.json has no okta section";
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"/etc/cordon/tls/corp-ca.pem", TheLab().ca_file},
        {"/etc/cordon/secrets/svc-cordon.pw", TheLab().action_account.password_file},
        {"/etc/cordon/secrets/okta-app.key", lab["okta"].value("private_key_file", "")}}) {
    ASSERT_NE(example.find(from), std::string::npos) << from;
    example.replace(example.find(from), from.size(), to);
  }
  std::ofstream(path, std::ios::trunc) << example;
  RunResult checked = Cordon({"config", "check", "--config", path});
  EXPECT_EQ(checked.exit_code, 0) << checked.err;

  // Plain HTTP on a non-loopback address is refused at start.
  std::ofstream(path, std::ios::trunc) << "[server]\naddress = \"0.0.0.0\"\nport = 0\nplain_http = true\n"
                                          "[store]\npath = \"" << dir << "/c.db\"\n";
  RunResult r = Cordon({"serve", "--config", path});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("loopback"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

// --connect binds as the action account and says what the DC answered,
// never the password.
TEST(CliConfigTest, CheckConnectBindsAsTheActionAccount) {
  const LabInfo& lab = TheLab();
  TempDir dir("cordon-cli-connect");
  const std::string wrong_password = "Not-The-Password-" + std::to_string(::getpid());
  std::ofstream(dir / "wrong.pw") << wrong_password;
  auto write_config = [&](const std::string& password_file, const std::string& url) {
    const std::string path = (dir / "cordon.toml").string();
    std::ofstream(path, std::ios::trunc)
        << "[server]\nplain_http = true\n\n[connectors.ad]\nurl = \"" << url << "\"\nca_file = \"" << lab.ca_file
        << "\"\nbase_dn = \"" << lab.base_dn << "\"\nbind_dn = \"" << lab.action_account.bind_dn
        << "\"\npassword_file = \"" << password_file << "\"\n";
    return path;
  };
  const std::string real_password = ReadSecretFile(lab.action_account.password_file);

  std::string path = write_config(lab.action_account.password_file, lab.ldaps_url);
  RunResult good = Cordon({"config", "check", "--connect", "--config", path});
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_NE(good.out.find("connectors.ad: ok"), std::string::npos) << good.out;

  // Relative to the config's folder, like every path in it.
  path = write_config("wrong.pw", lab.ldaps_url);
  RunResult offline = Cordon({"config", "check", "--config", path});
  EXPECT_EQ(offline.exit_code, 0) << "without --connect the DC is not contacted: " << offline.err;
  RunResult refused = Cordon({"config", "check", "--connect", "--config", path});
  EXPECT_EQ(refused.exit_code, 5) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("connectors.ad: cannot connect"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("ldap:49"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("data 52e"), std::string::npos) << "the DC's own words: " << refused.err;
  for (const std::string& secret : {wrong_password, real_password}) {
    EXPECT_EQ(refused.out.find(secret), std::string::npos) << "a password is printed";
    EXPECT_EQ(refused.err.find(secret), std::string::npos) << "a password is printed";
  }

  path = write_config(lab.action_account.password_file, "ldaps://127.0.0.1:1");
  RunResult unreachable = Cordon({"config", "check", "--connect", "--config", path});
  EXPECT_EQ(unreachable.exit_code, 5) << unreachable.out << unreachable.err;
  EXPECT_NE(unreachable.err.find("ldap:-1"), std::string::npos) << unreachable.err;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto probe = AdProbe::ConnectAsAdmin(lab_);
    ASSERT_TRUE(probe.has_value()) << probe.error().message;
    probe_ = std::make_unique<AdProbe>(std::move(*probe));
    for (const auto& u : Users()) ASSERT_TRUE(probe_->ResetUser(u).has_value());
    auto server = TestServer::Create({.connectors_toml = LabAdSection(lab_)});
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = std::move(*server);
    ASSERT_TRUE(server_->Token("security_operator").has_value());
    ASSERT_TRUE(server_->Token("security_reader").has_value());
    auto started = server_->Start();
    ASSERT_TRUE(started.has_value()) << started.error().message;
  }
  void TearDown() override {
    if (probe_)
      for (const auto& u : Users()) (void)probe_->ResetUser(u);
  }
  std::vector<std::string> Users() const {
    std::vector<std::string> users{lab_.staff_users.at(1), lab_.staff_users.at(2)};
    for (int i = 1; i <= 30; ++i) users.push_back(lab_.BulkUser(i));
    return users;
  }

  const LabInfo& lab_ = TheLab();
  std::unique_ptr<AdProbe> probe_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(CliTest, ActWaitsAndPrintsTheOutcomeThenUndoReverses) {
  const std::string user = lab_.staff_users.at(1);
  RunResult r = server_->Cli({"act", "disable", user, "--provider", "ad", "--reason", "phishing INC-1"},
                             "security_operator");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("succeeded"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ldap:0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("OU=Staff"), std::string::npos) << r.out;
  ASSERT_TRUE(probe_->ReadUser(user)->disabled());

  // Again: already in that state, still a success.
  r = server_->Cli({"act", "disable", user, "--reason", "again", "-o", "json"}, "security_operator");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json again = json::parse(r.out);
  EXPECT_EQ(again["status"], "succeeded");
  EXPECT_EQ(again["alreadyInState"], true);

  // The first action, found through the list, undone and waited for.
  r = server_->Cli({"actions", "list", "--target", user, "--type", "disable", "-o", "json"}, "security_reader");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json list = json::parse(r.out);
  ASSERT_EQ(list["value"].size(), 2u) << r.out;
  const std::string first = list["value"][1]["id"];  // newest first
  r = server_->Cli({"actions", "undo", first, "--reason", "false positive", "--wait"}, "security_operator");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("enable"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(first), std::string::npos) << "the undo names what it undoes: " << r.out;
  EXPECT_FALSE(probe_->ReadUser(user)->disabled());

  r = server_->Cli({"actions", "show", first}, "security_reader");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("undone by"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("attempt 1: succeeded"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pending -> in_progress"), std::string::npos) << r.out;

  // Undo twice: refused, exit 2.
  r = server_->Cli({"actions", "undo", first, "--reason", "twice"}, "security_operator");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

// An AD account has no risk level of its own: marking it compromised is
// Cordon's mark, on the account the real AD connector resolves (objectGUID),
// listed by `cordon risks` and cleared by the undo.
TEST_F(CliTest, MarkCompromisedOnAdSetsCordonsLevelAndItsUndoClearsIt) {
  const std::string user = lab_.staff_users.at(2);
  ASSERT_TRUE(server_->Token("security_administrator").has_value());
  RunResult r = server_->Cli({"act", "mark_compromised", user, "--provider", "ad", "--reason", "INC-9", "-o", "json"},
                             "security_administrator");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json mark = json::parse(r.out);
  EXPECT_EQ(mark["status"], "succeeded");
  EXPECT_EQ(mark["outcome"], "Cordon's risk level set to High; ad has no risk level of its own");
  EXPECT_EQ(mark["riskLevel"], "high");
  const auto seen = probe_->ReadUser(user);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(mark["accountId"], seen->guid);
  EXPECT_FALSE(seen->disabled()) << "the account itself is left alone";

  r = server_->Cli({"risks", "--provider", "ad", "-o", "json"}, "security_reader");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json risks = json::parse(r.out)["value"];
  ASSERT_EQ(risks.size(), 1u) << r.out;
  EXPECT_EQ(risks[0]["account"], user);
  EXPECT_EQ(risks[0]["accountId"], seen->guid);
  EXPECT_EQ(risks[0]["level"], "high");
  EXPECT_EQ(risks[0]["actionId"], mark["id"]);
  r = server_->Cli({"risks"}, "security_reader");
  EXPECT_NE(r.out.find(user), std::string::npos) << r.out;

  // The operator may not mark or dismiss; the security administrator's undo clears it.
  r = server_->Cli({"actions", "undo", mark["id"], "--reason", "false positive"}, "security_operator");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  r = server_->Cli({"actions", "undo", mark["id"], "--reason", "false positive", "--wait"}, "security_administrator");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Cordon's risk level cleared"), std::string::npos) << r.out;
  r = server_->Cli({"risks", "--account", user, "-o", "json"}, "security_reader");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(json::parse(r.out)["value"].empty()) << r.out;
}

// --also-on-prem reaches the API: on anything but an Entra suspend the
// server refuses it (422), saying so.
TEST_F(CliTest, AlsoOnPremReachesTheApi) {
  const std::string user = lab_.staff_users.at(1);
  RunResult r = server_->Cli({"act", "disable", user, "--provider", "ad", "--also-on-prem", "--reason", "x"},
                             "security_operator");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("applies to an entra suspend only"), std::string::npos) << r.err;
  EXPECT_FALSE(probe_->ReadUser(user)->disabled()) << "nothing was done";
}

TEST_F(CliTest, NoWaitThenCancelAndExitCodes) {
  const std::string user = lab_.staff_users.at(2);
  RunResult r = server_->Cli({"act", "force_password_reset", user, "--reason", "token theft", "--no-wait", "-o",
                              "json"},
                             "security_operator");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = json::parse(r.out)["id"];
  // Finished by now or soon: cancelling a finished action is refused (exit 2), an unknown one is 4.
  r = server_->Cli({"actions", "show", id, "-o", "json"}, "security_reader");
  ASSERT_EQ(r.exit_code, 0);
  r = server_->Cli({"actions", "cancel", "act_doesnotexist", "--reason", "x"}, "security_operator");
  EXPECT_EQ(r.exit_code, 4) << r.err;

  // The reader may look but not act: 3.
  r = server_->Cli({"act", "disable", user, "--reason", "x"}, "security_reader");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("403"), std::string::npos) << r.err;

  // Unknown action: 2, with the API's words.
  r = server_->Cli({"act", "obliterate", user, "--reason", "x"}, "security_operator");
  EXPECT_EQ(r.exit_code, 2) << r.err;

  // A failing action: 1, with the DC's words.
  r = server_->Cli({"act", "disable", "Administrator", "--reason", "x"}, "security_operator");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ldap:50"), std::string::npos) << r.out;

  // No token: 3. Unreachable server: 5.
  auto none = RunProgram({.argv = {CORDON_BINARY, "actions", "list"},
                   .env = {{"CORDON_SERVER", server_->base_url()}, {"CORDON_CA_FILE", server_->ca_file()},
                           {"CORDON_TOKEN", ""}, {"CORDON_TOKEN_FILE", ""}}});
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->exit_code, 3) << none->err;
  auto token = server_->Token("security_reader");
  auto down = RunProgram({.argv = {CORDON_BINARY, "actions", "list", "--server", "https://127.0.0.1:1"},
                   .env = {{"CORDON_TOKEN", *token}, {"CORDON_TOKEN_FILE", ""}}});
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->exit_code, 5) << down->err;
  // Without the server's CA the TLS handshake is refused: verification is on.
  auto untrusted = RunProgram({.argv = {CORDON_BINARY, "actions", "list", "--server", server_->base_url()},
                        .env = {{"CORDON_TOKEN", *token}, {"CORDON_TOKEN_FILE", ""}, {"CORDON_CA_FILE", ""}}});
  ASSERT_TRUE(untrusted.has_value());
  EXPECT_EQ(untrusted->exit_code, 5) << untrusted->err;
}

// A forced reset that would force nothing fails at once (exit 1), and the CLI
// prints why, naming the flag; the account is left as it was.
TEST_F(CliTest, AForcedResetThatWouldForceNothingFailsAndSaysWhy) {
  struct Case {
    std::string sam;
    std::string flag;
  };
  for (const Case& c : {Case{lab_.special_users.password_never_expires, "DONT_EXPIRE_PASSWORD"},
                        Case{lab_.special_users.smartcard_required, "SMARTCARD_REQUIRED"}}) {
    auto before = probe_->ReadUser(c.sam);
    ASSERT_TRUE(before.has_value()) << c.sam;
    RunResult r = server_->Cli({"act", "force_password_reset", c.sam, "--provider", "ad", "--reason", "token theft"},
                               "security_operator");
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("failed"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("cannot force a password change"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(c.flag), std::string::npos) << r.out;

    r = server_->Cli({"actions", "list", "--target", c.sam, "-o", "json"}, "security_reader");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json list = json::parse(r.out);
    ASSERT_EQ(list["value"].size(), 1u) << r.out;
    EXPECT_EQ(list["value"][0]["status"], "failed");
    EXPECT_EQ(list["value"][0]["attemptCount"], 1) << "a permanent refusal is not retried";

    auto after = probe_->ReadUser(c.sam);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->pwd_last_set, before->pwd_last_set) << c.sam;
    EXPECT_EQ(after->user_account_control, before->user_account_control) << c.sam;
  }
}

TEST_F(CliTest, TwoSpellingsOfOneAccountAreOneAction) {
  const std::string user = lab_.staff_users.at(2);
  std::string upper = user;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_NE(upper, user);
  RunResult r = server_->Cli({"act", "disable", user, upper, "--reason", "phishing INC-2"}, "security_operator");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::istringstream lines(r.out);
  int results = 0;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("act_", 0) == 0) {
      ++results;
      EXPECT_NE(line.find("succeeded"), std::string::npos) << line;
    }
  EXPECT_EQ(results, 1) << r.out;
  EXPECT_TRUE(probe_->ReadUser(user)->disabled());
}

TEST_F(CliTest, TokenLifeCycleCreateWithExpiryListRevoke) {
  auto local = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--config", server_->config_path()});
    return Cordon(args);
  };
  auto with_token = [&](const std::string& token, std::vector<std::string> args) {
    std::vector<std::string> argv{CORDON_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    auto run = RunProgram({.argv = argv,
                           .env = {{"CORDON_SERVER", server_->base_url()}, {"CORDON_CA_FILE", server_->ca_file()},
                                   {"CORDON_TOKEN", token}, {"CORDON_TOKEN_FILE", ""}}});
    return run ? *run : RunResult{};
  };

  RunResult created = local({"token", "create", "--role", "security_reader", "--name", "contractor", "--expires-in",
                             "90d", "-o", "json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const json issued = json::parse(created.out);
  const std::string id = issued.at("id");
  const std::string token = issued.at("token");
  ASSERT_TRUE(issued.at("expiresAt").is_string()) << created.out;
  RunResult dated = local({"token", "create", "--role", "security_reader", "--name", "auditor", "--expires-at",
                           "2099-01-01T00:00:00Z"});
  ASSERT_EQ(dated.exit_code, 0) << dated.err;
  EXPECT_NE(dated.err.find("expires 2099-01-01T00:00:00.000Z"), std::string::npos) << dated.err;
  EXPECT_EQ(local({"token", "create", "--role", "security_reader", "--name", "x", "--expires-in", "soon"}).exit_code,
            2);

  EXPECT_EQ(with_token(token, {"actions", "list"}).exit_code, 0);

  for (const char* format : {"json", "text"}) {
    RunResult listed = local({"token", "list", "-o", format});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_NE(listed.out.find(id), std::string::npos) << listed.out;
    EXPECT_NE(listed.out.find("contractor"), std::string::npos) << listed.out;
    EXPECT_NE(listed.out.find("2099-01-01T00:00:00.000Z"), std::string::npos) << listed.out;
    EXPECT_FALSE(std::regex_search(listed.out, std::regex("[0-9a-f]{64}"))) << "no digest: " << listed.out;
    EXPECT_EQ(listed.out.find(token), std::string::npos);
  }
  const json list = json::parse(local({"token", "list", "-o", "json"}).out);
  bool found = false;
  for (const json& t : list) {
    if (t.at("id") != id) continue;
    found = true;
    EXPECT_EQ(t.at("name"), "contractor");
    EXPECT_EQ(t.at("role"), "security_reader");
    EXPECT_TRUE(t.at("createdAt").is_string());
    EXPECT_EQ(t.at("expiresAt"), issued.at("expiresAt"));
    EXPECT_TRUE(t.contains("lastUsedAt"));
    EXPECT_EQ(t.at("revoked"), false);
  }
  EXPECT_TRUE(found) << list.dump();

  RunResult revoked = local({"token", "revoke", id, "--reason", "contract ended"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_NE(revoked.out.find("revoked at"), std::string::npos) << revoked.out;
  EXPECT_EQ(local({"token", "revoke", "tok_doesnotexist", "--reason", "x"}).exit_code, 4);

  // Refused from the very next request: the API keeps no cache of tokens.
  RunResult refused = with_token(token, {"actions", "list"});
  EXPECT_EQ(refused.exit_code, 3) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("401"), std::string::npos) << refused.err;

  // The revocation is audited with the local operator as the actor.
  auto store = SqliteStore::Open(server_->db_path());
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto events = (*store)->ListAudit("token.revoked", 10);
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().actor.rfind("local:", 0), 0u) << events->front().actor;
  EXPECT_TRUE(events->front().actor_token.empty());
  EXPECT_EQ(events->front().reason, "contract ended");
  EXPECT_NE(events->front().detail.find(id), std::string::npos) << events->front().detail;
}

TEST_F(CliTest, BulkFromAFileShowsProgressAndSummary) {
  const std::string file = server_->dir() + "/accounts.txt";
  {
    std::ofstream out(file);
    out << "# accounts from the hunting query\n";
    for (int i = 1; i <= 30; ++i) out << lab_.BulkUser(i) << "\n";
  }
  RunResult r = server_->Cli({"act", "disable", "--accounts-file", file, "--reason", "campaign"},
                             "security_operator");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("30/30 done, 0 failed"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("30 succeeded, 0 failed"), std::string::npos) << r.out;
  for (int i = 1; i <= 30; ++i) EXPECT_TRUE(probe_->ReadUser(lab_.BulkUser(i))->disabled()) << i;
}

}  // namespace
}  // namespace cordon::testing
