// Proof on the lab's DC that the AD connector's TLS trusts exactly what
// [connectors.ad] says, and nothing the machine or the environment adds:
//  * a certificate whose names do not include the host of the URL is refused
//    (a proxy on 127.0.0.2 in front of the DC, whose certificate names
//    dc1.corp.example.test, localhost and 127.0.0.1), blamed on the provider;
//  * with a ca_file that did not sign the DC's certificate the connection is
//    refused, whatever libldap's own client configuration says: the
//    LDAPTLS_REQCERT, LDAPTLS_CACERT and LDAPTLS_CACERTDIR variables, an
//    ldaprc in the working directory, a file named by LDAPRC or LDAPCONF.
//    Each case first shows that a bare libldap client (ldapsearch) given the
//    same setting does trust the DC, so the setting is live and the test
//    could fail; and the real `cordon config check --connect` is run with all
//    of them at once;
//  * without ca_file (or system_ca = true), ldaps:// and StartTLS are refused
//    at start, naming connectors.ad.ca_file.
//
// libldap reads its client configuration once per process, at its first
// call. The tests that set one in this process do so before that call; ctest
// runs each test in its own process. Run by hand as one process, only the
// first of them can show anything, and the others skip.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include "connectors/ad/ad_connector.h"
#include "core/subprocess.h"
#include "support/lab_info.h"
#include "support/tcp_proxy.h"
#include "support/temp_dir.h"

namespace cordon::ad {
namespace {

namespace fs = std::filesystem;
using testing::TcpProxy;
using testing::TempDir;
using testing::TheLab;

// True for the first caller in this process: libldap has not read its
// client configuration yet.
bool FirstLibldapUseInThisProcess() {
  static bool used = false;
  return !std::exchange(used, true);
}

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

RunResult RunOrThrow(const RunOptions& options) {
  auto r = RunProgram(options);
  if (!r) throw std::runtime_error(options.argv.at(0) + ": " + r.error().message);
  return *r;
}

// A CA of our own, which signed nothing the DC has: its PEM file.
std::string ThrowawayCa(const TempDir& dir) {
  const std::string ca = (dir / "throwaway-ca.pem").string();
  RunResult r = RunOrThrow(
      {.argv = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days",
                "2", "-subj", "/CN=Throwaway CA", "-keyout", (dir / "throwaway-ca.key").string(), "-out", ca}});
  if (!r.ok()) throw std::runtime_error("openssl req: " + r.err);
  return ca;
}

// A CA directory holding the lab's CA, hashed as libldap expects.
std::string LabCaDir(const TempDir& dir) {
  const fs::path ca_dir = dir / "cacerts";
  fs::create_directories(ca_dir);
  fs::copy_file(TheLab().ca_file, ca_dir / "lab-ca.pem");
  RunResult r = RunOrThrow({.argv = {"openssl", "rehash", ca_dir.string()}});
  if (!r.ok()) throw std::runtime_error("openssl rehash: " + r.err);
  return ca_dir.string();
}

// A bare libldap client: an anonymous read of the DC's root DSE over LDAPS,
// with libldap's own client configuration from `env` and `cwd`.
RunResult LdapSearch(const EnvVars& env, const std::string& cwd) {
  return RunOrThrow(
      {.argv = {"ldapsearch", "-x", "-H", TheLab().ldaps_url, "-o", "nettimeout=5", "-b", "", "-s", "base", "1.1"},
       .env = env,
       .cwd = cwd});
}

// Probes the lab's DC as the action account with this CA file, as Cordon
// does before it lets work through to a paused provider.
Status ProbeWith(const std::string& ca_file, const std::string& url = TheLab().ldaps_url) {
  toml::table section{{"url", url},
                      {"ca_file", ca_file},
                      {"base_dn", TheLab().base_dn},
                      {"bind_dn", TheLab().action_account.bind_dn},
                      {"password_file", TheLab().action_account.password_file}};
  auto factory = LoadAdConnector(ConnectorSection{section, "connectors.ad", {}});
  if (!factory) return Fail(factory.error());
  auto connector = (*factory)();
  if (!connector) return Fail(connector.error());
  return (*connector)->Probe(ExecutionContext{});
}

// libldap client configuration a process may meet: variables, and a working
// directory (for ./ldaprc).
struct ClientSettings {
  EnvVars env;
  std::string cwd;
};

class AdTls : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(TheLab().base_dn.empty()) << "lab.json not loaded"; }

  // With `settings` in force in this process before libldap's first call,
  // the connector with the throwaway CA is refused, and with the lab's CA
  // connects. `live`: a bare libldap client trusts the DC with them, so the
  // settings matter and this can fail.
  void ExpectTrustExactlyTheCaFileDespite(const ClientSettings& settings, bool live = true) {
    if (!FirstLibldapUseInThisProcess()) GTEST_SKIP() << "libldap already initialised in this process; run via ctest";
    if (live) {
      RunResult control = LdapSearch(settings.env, settings.cwd);
      ASSERT_TRUE(control.ok()) << "the setting does not make libldap trust the DC, so this case shows nothing: "
                                << control.Describe() << " " << control.err;
    }
    for (const auto& [name, value] : settings.env) ASSERT_EQ(::setenv(name.c_str(), value.c_str(), 1), 0);
    const fs::path previous = fs::current_path();
    if (!settings.cwd.empty()) fs::current_path(settings.cwd);
    Status refused = ProbeWith(throwaway_ca_);
    Status trusted = ProbeWith(TheLab().ca_file);
    fs::current_path(previous);

    ASSERT_FALSE(refused) << "connected with a CA that did not sign the DC's certificate";
    EXPECT_EQ(refused.error().blame, Blame::kProvider) << refused.error().message;
    EXPECT_EQ(refused.error().provider_code, "ldap:-1") << refused.error().message;
    EXPECT_TRUE(trusted) << trusted.error().message;
  }

  TempDir dir_{"cordon-ad-tls"};
  std::string throwaway_ca_ = ThrowawayCa(dir_);
};

TEST_F(AdTls, AHostTheCertificateDoesNotNameIsRefused) {
  ASSERT_TRUE(FirstLibldapUseInThisProcess());
  // One proxy, reachable on 127.0.0.2 (not in the certificate) and on
  // 127.0.0.1 (in it).
  auto proxy = TcpProxy::Start({.listen = {"127.0.0.2", "127.0.0.1"}, .target_port = 636});
  ASSERT_TRUE(proxy) << proxy.error().message;
  const std::string port = std::to_string((*proxy)->port());

  Status wrong_name = ProbeWith(TheLab().ca_file, "ldaps://127.0.0.2:" + port);
  ASSERT_FALSE(wrong_name) << "connected to a DC whose certificate does not name 127.0.0.2";
  EXPECT_EQ(wrong_name.error().blame, Blame::kProvider) << wrong_name.error().message;
  EXPECT_EQ(wrong_name.error().code, ErrorCode::kUnavailable) << wrong_name.error().message;
  EXPECT_NE(wrong_name.error().message.find("ldaps://127.0.0.2:" + port), std::string::npos)
      << wrong_name.error().message;
  ASSERT_EQ((*proxy)->accepted(), 1);
  EXPECT_GT((*proxy)->Traffic(1).server_to_client, 0u) << "the DC never answered: not a TLS refusal";

  Status right_name = ProbeWith(TheLab().ca_file, "ldaps://127.0.0.1:" + port);
  EXPECT_TRUE(right_name) << right_name.error().message;
  EXPECT_EQ((*proxy)->accepted(), 2);
}

TEST_F(AdTls, ACaThatDidNotSignTheDcsCertificateIsRefused) {
  RunResult control = LdapSearch({{"LDAPTLS_CACERT", throwaway_ca_}}, "");
  ASSERT_FALSE(control.ok()) << "the throwaway CA is trusted by a bare libldap client: " << control.out;
  ExpectTrustExactlyTheCaFileDespite({}, /*live=*/false);
}

TEST_F(AdTls, LdaptlsReqcertNeverChangesNothing) {
  ExpectTrustExactlyTheCaFileDespite({.env = {{"LDAPTLS_REQCERT", "never"}}});
}

TEST_F(AdTls, LdaptlsCacertDoesNotAddTheCaItNames) {
  ExpectTrustExactlyTheCaFileDespite({.env = {{"LDAPTLS_CACERT", TheLab().ca_file}}});
}

TEST_F(AdTls, LdaptlsCacertdirDoesNotAddItsCas) {
  ExpectTrustExactlyTheCaFileDespite({.env = {{"LDAPTLS_CACERTDIR", LabCaDir(dir_)}}});
}

TEST_F(AdTls, AnLdaprcInTheWorkingDirectoryChangesNothing) {
  const fs::path cwd = dir_ / "work";
  fs::create_directories(cwd);
  WriteText(cwd / "ldaprc", "TLS_REQCERT never\nTLS_CACERT " + TheLab().ca_file + "\n");
  ExpectTrustExactlyTheCaFileDespite({.cwd = cwd.string()});
}

TEST_F(AdTls, AFileNamedByLdaprcChangesNothing) {
  WriteText(dir_ / "cordon-ldaprc", "TLS_REQCERT never\nTLS_CACERT " + TheLab().ca_file + "\n");
  ExpectTrustExactlyTheCaFileDespite({.env = {{"LDAPRC", (dir_ / "cordon-ldaprc").string()}}});
}

TEST_F(AdTls, AFileNamedByLdapconfChangesNothing) {
  WriteText(dir_ / "ldap.conf", "TLS_REQCERT never\nTLS_CACERT " + TheLab().ca_file + "\n");
  ExpectTrustExactlyTheCaFileDespite({.env = {{"LDAPCONF", (dir_ / "ldap.conf").string()}}});
}

// The real binary, given every one of those settings at once.
TEST_F(AdTls, ConfigCheckConnectIgnoresLdapClientSettings) {
  const fs::path home = dir_ / "home";
  fs::create_directories(home);
  const std::string lenient = "TLS_REQCERT never\nTLS_CACERT " + TheLab().ca_file + "\n";
  WriteText(home / ".ldaprc", lenient);
  WriteText(home / "ldaprc", lenient);
  WriteText(dir_ / "ldap.conf", lenient);
  const EnvVars env = {{"HOME", home.string()},
                       {"LDAPTLS_REQCERT", "never"},
                       {"LDAPTLS_CACERT", TheLab().ca_file},
                       {"LDAPTLS_CACERTDIR", LabCaDir(dir_)},
                       {"LDAPRC", "ldaprc"},
                       {"LDAPCONF", (dir_ / "ldap.conf").string()}};
  RunResult control = LdapSearch(env, home.string());
  ASSERT_TRUE(control.ok()) << control.Describe() << " " << control.err;

  auto check = [&](const std::string& ca_file) {
    const fs::path config = dir_ / "cordon.toml";
    WriteText(config, "[server]\nplain_http = true\n\n[connectors.ad]\nurl = \"" + TheLab().ldaps_url +
                          "\"\nca_file = \"" + ca_file + "\"\nbase_dn = \"" + TheLab().base_dn + "\"\nbind_dn = \"" +
                          TheLab().action_account.bind_dn + "\"\npassword_file = \"" +
                          TheLab().action_account.password_file + "\"\n");
    return RunOrThrow({.argv = {CORDON_BINARY, "config", "check", "--connect", "--config", config.string()},
                       .env = env,
                       .cwd = home.string()});
  };
  RunResult refused = check(throwaway_ca_);
  EXPECT_EQ(refused.exit_code, 5) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("connectors.ad: cannot connect"), std::string::npos) << refused.err;
  RunResult trusted = check(TheLab().ca_file);
  EXPECT_EQ(trusted.exit_code, 0) << trusted.out << trusted.err;
  EXPECT_NE(trusted.out.find("connectors.ad: ok"), std::string::npos) << trusted.out;
}

TEST_F(AdTls, WithoutCaFileTlsIsRefusedAtStart) {
  for (const std::string& transport :
       {"url = \"" + TheLab().ldaps_url + "\"\n", "url = \"" + TheLab().ldap_url + "\"\nstart_tls = true\n"}) {
    const fs::path config = dir_ / "cordon.toml";
    WriteText(config, "[server]\nplain_http = true\n\n[store]\npath = \"" + (dir_ / "cordon.db").string() +
                          "\"\n\n[connectors.ad]\n" + transport + "base_dn = \"" + TheLab().base_dn +
                          "\"\nbind_dn = \"" + TheLab().action_account.bind_dn + "\"\npassword_file = \"" +
                          TheLab().action_account.password_file + "\"\n");
    // Not even libldap's own CA setting stands in for ca_file.
    const EnvVars env = {{"LDAPTLS_CACERT", TheLab().ca_file}};
    for (std::vector<std::string> args :
         {std::vector<std::string>{"config", "check"}, std::vector<std::string>{"config", "check", "--connect"},
          std::vector<std::string>{"serve"}}) {
      args.insert(args.begin(), CORDON_BINARY);
      args.insert(args.end(), {"--config", config.string()});
      RunResult r = RunOrThrow({.argv = args, .env = env, .timeout = std::chrono::seconds(30)});
      EXPECT_EQ(r.exit_code, 2) << transport << args[1] << ": " << r.Describe() << " " << r.err;
      EXPECT_NE(r.err.find("connectors.ad.ca_file"), std::string::npos) << transport << args[1] << ": " << r.err;
    }
  }
}

}  // namespace
}  // namespace cordon::ad
