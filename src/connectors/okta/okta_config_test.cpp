#include "connectors/okta/okta_config.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace cordon::okta {
namespace {

using ::testing::HasSubstr;

class OktaConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() / "ca.pem") << "x";
    std::ofstream(dir_.path() / "okta.token") << "t\n";
    std::ofstream(dir_.path() / "key.pem") << "k";
  }
  Result<OktaConfig> Parse(const std::string& text) {
    table_ = toml::parse(text);
    return ParseOktaConfig(ConnectorSection{table_, "connectors.okta", dir_.path()});
  }
  cordon::testing::TempDir dir_{"okta-config"};
  toml::table table_;
};

TEST_F(OktaConfigTest, SswsWithACaFile) {
  auto c = Parse("org_url = 'https://example.okta.com/'\nca_file = 'ca.pem'\nauth_mode = 'ssws'\n"
                 "token_file = 'okta.token'\nrate_share = 0.5\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->org_url, "https://example.okta.com");
  EXPECT_EQ(c->auth, AuthMode::kSsws);
  EXPECT_EQ(c->token.file, (dir_.path() / "okta.token").string());
  EXPECT_DOUBLE_EQ(c->rate_share, 0.5);
}

TEST_F(OktaConfigTest, PrivateKeyJwt) {
  auto c = Parse("org_url = 'https://example.okta.com'\nsystem_ca = true\nauth_mode = 'private_key_jwt'\n"
                 "client_id = '0oa1'\nprivate_key_file = 'key.pem'\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->auth, AuthMode::kPrivateKeyJwt);
  EXPECT_EQ(c->scope, "okta.users.manage");
  EXPECT_DOUBLE_EQ(c->rate_share, 1.0);
}

TEST_F(OktaConfigTest, EveryMistakeNamesItsKey) {
  const std::string ok = "ca_file = 'ca.pem'\nauth_mode = 'ssws'\ntoken_file = 'okta.token'\n";
  struct Case {
    std::string text, message;
  } cases[] = {
      {"org_url = 'http://example.okta.com'\n" + ok, "connectors.okta.org_url: must start with https://"},
      {"org_url = 'http://127.0.0.1:8080'\n" + ok, "connectors.okta.org_url"},
      {"org_url = 'https://example.okta.com/api'\n" + ok, "connectors.okta.org_url"},
      {"org_url = 'https://example.okta.com'\nauth_mode = 'ssws'\ntoken_file = 'okta.token'\n",
       "connectors.okta.ca_file: is required"},
      {"org_url = 'https://example.okta.com'\n" + ok + "token = 'abc'\n", "connectors.okta.token: "},
      {"org_url = 'https://example.okta.com'\n" + ok + "tls_verify = false\n", "connectors.okta.tls_verify"},
      {"org_url = 'https://example.okta.com'\n" + ok + "rate_share = 0\n", "connectors.okta.rate_share"},
      {"org_url = 'https://example.okta.com'\n" + ok + "rate_share = 1.5\n", "connectors.okta.rate_share"},
      {"org_url = 'https://example.okta.com'\n" + ok + "client_id = 'x'\n", "connectors.okta.client_id"},
      {"org_url = 'https://example.okta.com'\n" + ok + "colour = 'red'\n", "connectors.okta.colour: unknown key"},
      {"org_url = 'https://example.okta.com'\nca_file = 'ca.pem'\nauth_mode = 'private_key_jwt'\nclient_id = 'x'\n",
       "connectors.okta.private_key_file"},
      {"org_url = 'https://example.okta.com'\nca_file = 'ca.pem'\nauth_mode = 'basic'\n", "connectors.okta.auth_mode"},
  };
  for (const Case& c : cases) {
    auto parsed = Parse(c.text);
    ASSERT_FALSE(parsed) << c.text;
    EXPECT_THAT(parsed.error().message, HasSubstr(c.message)) << c.text;
  }
}

TEST_F(OktaConfigTest, PlainHttpOnlyToLoopbackAndOnlyWhenAllowed) {
  auto c = Parse("org_url = 'http://127.0.0.1:8080'\nallow_plaintext = true\nauth_mode = 'ssws'\n"
                 "token_file = 'okta.token'\n");
  ASSERT_TRUE(c) << c.error().message;
  auto far = Parse("org_url = 'http://example.com'\nallow_plaintext = true\nauth_mode = 'ssws'\n"
                   "token_file = 'okta.token'\n");
  ASSERT_FALSE(far);
  EXPECT_THAT(far.error().message, HasSubstr("loopback"));
}

}  // namespace
}  // namespace cordon::okta
