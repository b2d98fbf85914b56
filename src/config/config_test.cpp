#include "config/config.h"

#include <gtest/gtest.h>

namespace cordon {
namespace {

constexpr std::string_view kGood = R"(
[server]
address = "127.0.0.1"
port = 9443
tls_cert_file = "tls/server.pem"
tls_key_file = "tls/server.key"

[store]
path = "data/cordon.db"

[engine]
max_attempts = 7

[connectors.ad]
url = "ldaps://127.0.0.1"
)";

TEST(ConfigTest, ParsesAGoodFile) {
  auto c = ParseConfig(kGood, "/etc/cordon/cordon.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->server.port, 9443);
  EXPECT_EQ(c->engine.max_attempts, 7);
  EXPECT_EQ(c->engine.lease_seconds, 30);
  ASSERT_EQ(c->connectors.count(Provider::kActiveDirectory), 1u);
  EXPECT_EQ(ResolvePath(*c, c->store.path), "/etc/cordon/data/cordon.db");
  EXPECT_EQ(ResolvePath(*c, "/abs/x"), "/abs/x");
  EXPECT_EQ(c->store.synchronous, "full") << "durable by default";
  EXPECT_EQ(c->engine.action_budget_seconds, 86400);
  EXPECT_EQ(c->inventory.sync_interval_seconds, 900) << "every 15 minutes by default";
  EXPECT_EQ(c->inventory.sync_timeout_seconds, 3600);
}

TEST(ConfigTest, TheInventoryMaySyncOnDemandOnly) {
  auto c = ParseConfig("[server]\nplain_http = true\n[inventory]\nsync_interval_seconds = 0\nsync_timeout_seconds = 600\n",
                       "cordon.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->inventory.sync_interval_seconds, 0);
  EXPECT_EQ(c->inventory.sync_timeout_seconds, 600);
}

TEST(ConfigTest, RelativePathsResolveAgainstTheConfigFilesFolderWhereverItWasNamedFrom) {
  // `cordon serve --config conf/cordon.toml` run from another folder: paths in
  // the file mean the file's folder, not the working directory.
  auto c = ParseConfig(kGood, "conf/cordon.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const std::string folder = ConfigFolder(*c);
  ASSERT_FALSE(folder.empty());
  EXPECT_EQ(folder.front(), '/') << "absolute, so a later chdir changes nothing";
  EXPECT_EQ(ResolvePath(*c, "data/cordon.db"), folder + "/data/cordon.db");
  EXPECT_EQ(ResolvePath(*c, "./logs/../cordon.log"), folder + "/cordon.log");
  EXPECT_EQ(ResolvePath(*c, ""), "") << "unset stays unset (stderr for the log)";
}

struct BadCase {
  std::string text;
  std::string expected_key;  // the key the message must name
};

class ConfigErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigErrorTest, NamesTheWrongKey) {
  auto c = ParseConfig(GetParam().text, "cordon.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find(GetParam().expected_key), std::string::npos) << c.error().message;
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(
    Keys, ConfigErrorTest,
    ::testing::Values(
        BadCase{"[server]\nplain_http = true\nport = 70000\n", "server.port"},
        BadCase{"[server]\nplain_http = true\nprot = 1\n", "server.prot"},
        BadCase{"[server]\nplain_http = \"yes\"\n", "server.plain_http"},
        BadCase{"[server]\nport = 1\n", "server.tls_cert_file"},
        BadCase{"[server]\nplain_http = true\n[engine]\nmax_attempts = 0\n", "engine.max_attempts"},
        BadCase{"[server]\nplain_http = true\n[engine]\nbackoff_initial_ms = 10\nbackoff_max_ms = 5\n",
                "engine.backoff_max_ms"},
        BadCase{"[server]\nplain_http = true\n[store]\nbackend = \"mysql\"\n", "store.backend"},
        BadCase{"[server]\nplain_http = true\n[store]\nsynchronous = \"off\"\n", "store.synchronous"},
        BadCase{"[server]\nplain_http = true\n[engine]\naction_budget_seconds = 1\n", "engine.action_budget_seconds"},
        BadCase{"[server]\nplain_http = true\n[log]\nlevel = \"loud\"\n", "log.level"},
        BadCase{"[server]\nplain_http = true\n[inventory]\nsync_interval_seconds = 5\n", "inventory.sync_interval_seconds"},
        BadCase{"[server]\nplain_http = true\n[inventory]\nsync_interval_seconds = -1\n",
                "inventory.sync_interval_seconds"},
        BadCase{"[server]\nplain_http = true\n[inventory]\nsync_timeout_seconds = 1\n", "inventory.sync_timeout_seconds"},
        BadCase{"[server]\nplain_http = true\n[inventory]\nsync_every = 60\n", "inventory.sync_every"},
        BadCase{"[server]\nplain_http = true\n[connectors.ldap]\nurl = \"x\"\n", "connectors.ldap"},
        BadCase{"[server]\nplain_http = true\n[srever]\n", "srever"},
        BadCase{"[server\n", "cordon.toml:1"}));

}  // namespace
}  // namespace cordon
