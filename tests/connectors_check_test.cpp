// `cordon connectors check` end to end: the real binary asks the lab's DC and
// the lab's Okta emulator what the configured action accounts may really do.
// The lab's delegated account is ready for every AD action; pointed at an OU
// outside its delegation it is not (exit 7); a refused password or an Okta
// that cannot be reached cannot be checked (exit 5); Okta's token endpoint
// says which scopes it grants, and one it will not grant makes the actions
// not ready. No secret is ever printed.
#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/lab_info.h"
#include "support/temp_dir.h"
#include "support/test_server.h"

namespace cordon::testing {
namespace {

using nlohmann::json;

constexpr int kExitNotReady = 7;
constexpr int kExitUnavailable = 5;

// `base_dn` under which the AD section searches; its other keys as the lab prints them.
std::string AdSection(const LabInfo& lab, const std::string& base_dn, const std::string& password_file) {
  std::string section = LabAdSection(lab);
  section = std::regex_replace(section, std::regex("base_dn = \"[^\"]*\""), "base_dn = \"" + base_dn + "\"");
  return std::regex_replace(section, std::regex("password_file = \"[^\"]*\""),
                            "password_file = \"" + password_file + "\"");
}

class ConnectorsCheckTest : public ::testing::Test {
 protected:
  std::string WriteConfig(const std::string& sections) {
    const std::string path = (dir_ / "cordon.toml").string();
    std::ofstream(path, std::ios::trunc) << "[server]\nplain_http = true\n\n" << sections;
    return path;
  }
  RunResult Check(const std::string& sections, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"connectors", "check", "--config", WriteConfig(sections)};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = Cordon(args);
    for (const std::string& secret : secrets_) {
      if (secret.empty()) {
        ADD_FAILURE() << "a secret file of the lab is empty or missing";
        continue;
      }
      EXPECT_EQ(r.out.find(secret), std::string::npos) << "a secret is printed on stdout";
      EXPECT_EQ(r.err.find(secret), std::string::npos) << "a secret is printed on stderr";
    }
    return r;
  }
  static json Provider(const json& out, const std::string& name) {
    for (const json& p : out.value("providers", json::array()))
      if (p.value("provider", "") == name) return p;
    return json();
  }

  const LabInfo& lab_ = TheLab();
  TempDir dir_{"cordon-connectors-check"};
  std::vector<std::string> secrets_ = {ReadSecretFile(lab_.action_account.password_file),
                                       ReadSecretFile(lab_.admin.password_file), ReadSecretFile(lab_.okta.token_file)};
};

TEST_F(ConnectorsCheckTest, TheLabsActionAccountIsReadyForEveryAdAction) {
  RunResult r = Check(LabAdSection(lab_), {"-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json out = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(out.is_object()) << r.out;
  EXPECT_TRUE(out.value("ready", false));
  const json ad = Provider(out, "ad");
  ASSERT_TRUE(ad.is_object()) << r.out;
  EXPECT_TRUE(ad.value("reachable", false));
  std::vector<std::string> actions;
  for (const json& a : ad["actions"]) {
    actions.push_back(a.value("action", ""));
    EXPECT_TRUE(a.value("ready", false)) << a.dump();
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"disable", "enable", "force_password_reset", "clear_password_reset"}));
  bool saw_uac = false;
  for (const json& c : ad["checks"]) {
    EXPECT_TRUE(c.value("ok", false)) << c.dump();
    if (c.value("name", "") == "write userAccountControl") {
      saw_uac = true;
      // The delegation covers OU=Staff only: the DC says the rest is refused, by container.
      const std::string detail = c.value("detail", "");
      EXPECT_NE(detail.find(lab_.other_ou), std::string::npos) << detail;
      EXPECT_EQ(detail.find(lab_.staff_ou), std::string::npos) << detail;
    }
  }
  EXPECT_TRUE(saw_uac) << r.out;

  // The same as text, and only the provider asked for.
  RunResult text = Check(LabAdSection(lab_) + "\n" + LabOktaSection(lab_), {"--provider", "ad"});
  EXPECT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("ad:\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("will work     disable"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("okta:"), std::string::npos) << text.out;
}

TEST_F(ConnectorsCheckTest, OutsideTheDelegationNoActionIsReady) {
  RunResult r = Check(AdSection(lab_, lab_.other_ou, lab_.action_account.password_file), {"-o", "json"});
  EXPECT_EQ(r.exit_code, kExitNotReady) << r.out << r.err;
  const json ad = Provider(json::parse(r.out, nullptr, false), "ad");
  ASSERT_TRUE(ad.is_object()) << r.out;
  EXPECT_TRUE(ad.value("reachable", false));
  EXPECT_FALSE(ad.value("ready", true));
  ASSERT_EQ(ad["actions"].size(), 4u) << r.out;
  for (const json& a : ad["actions"]) {
    EXPECT_FALSE(a.value("ready", true)) << a.dump();
    EXPECT_NE(a.value("why", "").find("may not write"), std::string::npos) << a.dump();
  }

  RunResult text = Check(AdSection(lab_, lab_.other_ou, lab_.action_account.password_file));
  EXPECT_EQ(text.exit_code, kExitNotReady) << text.out << text.err;
  EXPECT_NE(text.out.find("missing  write userAccountControl"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("will not work disable"), std::string::npos) << text.out;
}

TEST_F(ConnectorsCheckTest, ARefusedPasswordOrAnUnreachableDcCannotBeChecked) {
  const std::string wrong = "Not-The-Password-" + std::to_string(::getpid());
  std::ofstream(dir_ / "wrong.pw") << wrong;
  secrets_.push_back(wrong);
  RunResult refused = Check(AdSection(lab_, lab_.base_dn, (dir_ / "wrong.pw").string()));
  EXPECT_EQ(refused.exit_code, kExitUnavailable) << refused.out << refused.err;
  EXPECT_NE(refused.out.find("cannot be checked"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("ldap:49"), std::string::npos) << refused.out;

  const std::string unreachable =
      std::regex_replace(LabAdSection(lab_), std::regex("url = \"[^\"]*\""), "url = \"ldaps://127.0.0.1:1\"");
  RunResult down = Check(unreachable, {"-o", "json", "--timeout", "5"});
  EXPECT_EQ(down.exit_code, kExitUnavailable) << down.out << down.err;
  const json ad = Provider(json::parse(down.out, nullptr, false), "ad");
  ASSERT_TRUE(ad.is_object()) << down.out;
  EXPECT_FALSE(ad.value("reachable", true));
  EXPECT_EQ(ad["error"].value("providerCode", ""), "ldap:-1") << down.out;
}

TEST_F(ConnectorsCheckTest, OktaReportsTheScopesItsTokenEndpointGrants) {
  const std::string okta = LabOktaSection(lab_);
  ASSERT_FALSE(okta.empty()) << "cordon lab config printed no [connectors.okta]";
  RunResult r = Check(okta, {"-o", "json", "-p", "okta"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json o = Provider(json::parse(r.out, nullptr, false), "okta");
  ASSERT_TRUE(o.is_object()) << r.out;
  std::map<std::string, json> checks;
  for (const json& c : o["checks"]) checks[c.value("name", "")] = c;
  ASSERT_TRUE(checks.count("token") && checks.count("okta.users.manage") && checks.count("read users")) << r.out;
  EXPECT_NE(checks["token"].value("detail", "").find("scopes granted: okta.users.manage"), std::string::npos)
      << checks["token"].dump();
  EXPECT_TRUE(checks["okta.users.manage"].value("ok", false));
  EXPECT_NE(checks["read users"].value("detail", "").find("http:200"), std::string::npos) << r.out;
  EXPECT_EQ(o["actions"].size(), 5u) << r.out;
  for (const json& a : o["actions"]) EXPECT_TRUE(a.value("ready", false)) << a.dump();

  // A scope Okta will not grant this client: Okta is there, the permission is not.
  const std::string read_only =
      std::regex_replace(okta, std::regex("(private_key_file = \"[^\"]*\")"), "$1\nscope = \"okta.users.read\"");
  RunResult limited = Check(read_only, {"-o", "json"});
  EXPECT_EQ(limited.exit_code, kExitNotReady) << limited.out << limited.err;
  const json l = Provider(json::parse(limited.out, nullptr, false), "okta");
  ASSERT_TRUE(l.is_object()) << limited.out;
  EXPECT_TRUE(l.value("reachable", false));
  for (const json& a : l["actions"]) EXPECT_FALSE(a.value("ready", true)) << a.dump();
  EXPECT_NE(limited.out.find("invalid_scope"), std::string::npos) << "Okta's own words: " << limited.out;
}

TEST_F(ConnectorsCheckTest, OktaWithAnSswsTokenReadsAUser) {
  const std::string okta = LabOktaSection(lab_);
  ASSERT_FALSE(okta.empty());
  std::string ssws = std::regex_replace(okta, std::regex("auth_mode = \"private_key_jwt\""), "auth_mode = \"ssws\"");
  ssws = std::regex_replace(ssws, std::regex("\nclient_id = [^\n]*|\nprivate_key_file = [^\n]*"), "");
  ssws += "\ntoken_file = \"" + lab_.okta.token_file + "\"\n";
  RunResult r = Check(ssws);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok       read users: GET /api/v1/users?limit=1 answered http:200"), std::string::npos) << r.out;

  std::ofstream(dir_ / "wrong.token") << "00NotTheToken";
  ssws = std::regex_replace(ssws, std::regex("token_file = \"[^\"]*\""),
                            "token_file = \"" + (dir_ / "wrong.token").string() + "\"");
  RunResult refused = Check(ssws);
  EXPECT_EQ(refused.exit_code, kExitUnavailable) << refused.out << refused.err;
  EXPECT_NE(refused.out.find("http:401"), std::string::npos) << refused.out;
}

TEST(ConnectorsCheckUsageTest, ABadProviderOrAMissingSectionIsAUsageError) {
  TempDir dir("cordon-connectors-check-usage");
  const std::string path = (dir / "cordon.toml").string();
  std::ofstream(path) << "[server]\nplain_http = true\n";
  EXPECT_EQ(Cordon({"connectors", "check", "--config", path}).exit_code, 2);
  EXPECT_EQ(Cordon({"connectors", "check", "--config", path, "--provider", "entra"}).exit_code, 2);
  EXPECT_EQ(Cordon({"connectors", "check", "--config", path, "--provider", "ldap"}).exit_code, 2);
  RunResult help = Cordon({"connectors", "check", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* option : {"--config", "--provider", "--timeout", "--output"})
    EXPECT_NE(help.out.find(option), std::string::npos) << option << "\n" << help.out;
}

}  // namespace
}  // namespace cordon::testing
