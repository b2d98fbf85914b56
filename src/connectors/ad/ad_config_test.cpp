#include "connectors/ad/ad_config.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace cordon::ad {
namespace {

namespace fs = std::filesystem;

class AdConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cordon-ad-config-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    for (const char* name : {"ca.pem", "svc.pw", "svc.keytab", "krb5.conf"}) std::ofstream(dir_ / name) << "x\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const char* name) const { return (dir_ / name).string(); }

  // A valid simple-bind section plus `extra` lines (which may override keys
  // by being parsed into a fresh table, so we build the text per test).
  std::string Simple(const std::string& overrides = "") const {
    return "url = \"ldaps://dc1.corp.example.test\"\n"
           "ca_file = \"" + Path("ca.pem") + "\"\n"
           "base_dn = \"DC=corp,DC=example,DC=test\"\n"
           "bind_dn = \"svc-cordon@corp.example.test\"\n"
           "password_file = \"" + Path("svc.pw") + "\"\n" + overrides;
  }

  Result<AdConfig> Parse(const std::string& text) const {
    toml::table table = toml::parse(text);
    return ParseAdConfig(ConnectorSection{table, "connectors.ad", dir_});
  }
  // The ca_file line every TLS section needs.
  std::string Ca() const { return "ca_file = \"" + Path("ca.pem") + "\"\n"; }

  // Expects a failure whose message starts with the exact key path.
  void ExpectWrongKey(const std::string& text, const std::string& key) const {
    auto c = Parse(text);
    ASSERT_FALSE(c) << "accepted:\n" << text;
    EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(c.error().message.rfind("connectors.ad." + key + ": ", 0), 0u)
        << "message: " << c.error().message << "\nexpected key: " << key;
  }

  fs::path dir_;
};

TEST_F(AdConfigTest, AcceptsAMinimalSimpleSectionWithDefaults) {
  auto c = Parse(Simple());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->url, "ldaps://dc1.corp.example.test");
  EXPECT_EQ(c->bind_mode, BindMode::kSimple);
  EXPECT_EQ(c->password.file, Path("svc.pw"));
  EXPECT_EQ(c->timeout_ms, 10000);
  EXPECT_TRUE(c->UsesTls());
}

TEST_F(AdConfigTest, AcceptsStartTlsGssapiAndEnvPassword) {
  auto tls = Parse("url = \"ldap://127.0.0.1:389\"\nstart_tls = true\nbase_dn = \"DC=x\"\n" + Ca() +
                   "bind_dn = \"svc\"\npassword_env = \"CORDON_AD_PW\"\ntimeout_ms = 2500\n");
  ASSERT_TRUE(tls) << tls.error().message;
  EXPECT_TRUE(tls->start_tls);
  EXPECT_EQ(tls->password.env, "CORDON_AD_PW");
  EXPECT_EQ(tls->timeout_ms, 2500);

  auto gss = Parse("url = \"ldap://localhost\"\nbind_mode = \"gssapi\"\nbase_dn = \"DC=x\"\n"
                   "keytab = \"" + Path("svc.keytab") + "\"\nprincipal = \"svc-cordon@CORP.EXAMPLE.TEST\"\n"
                   "krb5_conf = \"" + Path("krb5.conf") + "\"\n");
  ASSERT_TRUE(gss) << gss.error().message;
  EXPECT_EQ(gss->bind_mode, BindMode::kGssapi);
  EXPECT_EQ(gss->principal, "svc-cordon@CORP.EXAMPLE.TEST");
}

TEST_F(AdConfigTest, NamesTheWrongKey) {
  struct Case {
    std::string text;
    std::string key;
  };
  const std::string gss_base = "url = \"ldap://localhost\"\nbind_mode = \"gssapi\"\nbase_dn = \"DC=x\"\n";
  const Case cases[] = {
      {Simple("colour = \"blue\"\n"), "colour"},
      {Simple("password = \"hunter2\"\n"), "password"},
      {Simple("tls_verify = false\n"), "tls_verify"},
      {"ca_file = \"" + Path("ca.pem") + "\"\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\npassword_env = \"E\"\n", "url"},
      {"url = \"http://dc1\"\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\npassword_env = \"E\"\n", "url"},
      {"url = \"ldaps://\"\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\npassword_env = \"E\"\n", "url"},
      {"url = \"ldaps://dc1:99999\"\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\npassword_env = \"E\"\n", "url"},
      {"url = \"ldaps://dc1/dc=x?cn\"\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\npassword_env = \"E\"\n", "url"},
      {"url = 389\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\npassword_env = \"E\"\n", "url"},
      {"url = \"ldap://dc1\"\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\npassword_env = \"E\"\n", "start_tls"},
      {"url = \"ldap://dc1\"\nstart_tls = \"yes\"\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\npassword_env = \"E\"\n",
       "start_tls"},
      {Simple("start_tls = true\n"), "start_tls"},
      {"url = \"ldap://dc1\"\nallow_plaintext = 1\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\npassword_env = \"E\"\n",
       "allow_plaintext"},
      {"url = \"ldaps://dc1\"\n" + Ca() + "bind_dn = \"a\"\npassword_env = \"E\"\n", "base_dn"},
      {"url = \"ldaps://dc1\"\n" + Ca() + "base_dn = \"\"\nbind_dn = \"a\"\npassword_env = \"E\"\n", "base_dn"},
      {Simple("bind_mode = \"kerberos\"\n"), "bind_mode"},
      {"url = \"ldaps://dc1\"\n" + Ca() + "base_dn = \"DC=x\"\npassword_env = \"E\"\n", "bind_dn"},
      {"url = \"ldaps://dc1\"\n" + Ca() + "base_dn = \"DC=x\"\nbind_dn = \"a\"\n", "password_file"},
      {Simple("password_env = \"E\"\n"), "password_env"},
      {"url = \"ldaps://dc1\"\n" + Ca() + "base_dn = \"DC=x\"\nbind_dn = \"a\"\npassword_file = \"" +
           Path("nope.pw") + "\"\n",
       "password_file"},
      {Simple("keytab = \"" + Path("svc.keytab") + "\"\n"), "keytab"},
      {Simple("principal = \"p\"\n"), "principal"},
      {gss_base + "principal = \"p\"\n", "keytab"},
      {gss_base + "keytab = \"" + Path("nope.keytab") + "\"\nprincipal = \"p\"\n", "keytab"},
      {gss_base + "keytab = \"" + Path("svc.keytab") + "\"\n", "principal"},
      {gss_base + "keytab = \"" + Path("svc.keytab") + "\"\nprincipal = \"p\"\nbind_dn = \"a\"\n", "bind_dn"},
      {gss_base + "keytab = \"" + Path("svc.keytab") + "\"\nprincipal = \"p\"\nkrb5_conf = \"/nonexistent\"\n",
       "krb5_conf"},
      {Simple("timeout_ms = 0\n"), "timeout_ms"},
      {Simple("timeout_ms = \"10s\"\n"), "timeout_ms"},
      // How the engine drives AD is the registry's to read, never the connector's.
      {Simple("workers = 4\n"), "workers"},
      {"url = \"ldaps://dc1\"\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\npassword_env = \"E\"\n", "ca_file"},
      {"url = \"ldap://dc1\"\nstart_tls = true\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\npassword_env = \"E\"\n",
       "ca_file"},
      {Simple("system_ca = true\n"), "system_ca"},
      {Simple("system_ca = \"yes\"\n"), "system_ca"},
  };
  for (const Case& c : cases) ExpectWrongKey(c.text, c.key);
}

TEST_F(AdConfigTest, CaFileMissingIsNamed) {
  ExpectWrongKey("url = \"ldaps://dc1\"\nca_file = \"" + Path("missing.pem") +
                     "\"\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\npassword_env = \"E\"\n",
                 "ca_file");
}

TEST_F(AdConfigTest, PasswordValueNeverAppearsInTheError) {
  auto c = Parse(Simple("password = \"S3cret-Value-42\"\n"));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message.find("S3cret-Value-42"), std::string::npos);
  EXPECT_NE(c.error().message.find("password_file"), std::string::npos);
}

TEST_F(AdConfigTest, PlaintextOnlyWhenExplicit) {
  auto c = Parse("url = \"ldap://dc1\"\nallow_plaintext = true\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\n"
                 "password_env = \"E\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->UsesTls());
}

TEST_F(AdConfigTest, TlsTrustsOnlyWhatTheSectionNames) {
  // No CA named: refused rather than falling back on whatever libldap would read.
  auto none = Parse("url = \"ldaps://dc1\"\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\npassword_env = \"E\"\n");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("system_ca = true"), std::string::npos) << none.error().message;

  auto system = Parse("url = \"ldaps://dc1\"\nsystem_ca = true\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\n"
                      "password_env = \"E\"\n");
  bool have_bundle = false;
  for (std::string_view bundle : kSystemCaBundles) have_bundle = have_bundle || fs::exists(std::string(bundle));
  if (have_bundle) {
    ASSERT_TRUE(system) << system.error().message;
    EXPECT_FALSE(system->ca_file.empty());
  } else {
    ASSERT_FALSE(system);
  }

  // GSSAPI over plain LDAP seals with Kerberos: no TLS, so no CA.
  auto gss = Parse("url = \"ldap://localhost\"\nbind_mode = \"gssapi\"\nbase_dn = \"DC=x\"\nkeytab = \"" +
                   Path("svc.keytab") + "\"\nprincipal = \"p\"\n");
  ASSERT_TRUE(gss) << gss.error().message;
  EXPECT_TRUE(gss->ca_file.empty());
}

TEST_F(AdConfigTest, RelativePathsResolveAgainstTheConfigFolder) {
  auto c = Parse("url = \"ldaps://dc1\"\nca_file = \"ca.pem\"\nbase_dn = \"DC=x\"\nbind_dn = \"a\"\n"
                 "password_file = \"./svc.pw\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->ca_file, Path("ca.pem"));
  EXPECT_EQ(c->password.file, Path("svc.pw"));
  auto gss = Parse("url = \"ldap://localhost\"\nbind_mode = \"gssapi\"\nbase_dn = \"DC=x\"\n"
                   "keytab = \"svc.keytab\"\nprincipal = \"p\"\nkrb5_conf = \"krb5.conf\"\n");
  ASSERT_TRUE(gss) << gss.error().message;
  EXPECT_EQ(gss->keytab, Path("svc.keytab"));
  EXPECT_EQ(gss->krb5_conf, Path("krb5.conf"));
}

}  // namespace
}  // namespace cordon::ad
