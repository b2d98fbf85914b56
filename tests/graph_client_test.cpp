// Microsoft's own Graph JavaScript client against Cordon's Graph-compatible
// API: the real `cordon serve` over a seeded inventory (no lab), driven by
// tests/graph-client/graph_client_test.mjs with @microsoft/microsoft-graph-client
// as pinned in its package-lock.json (scripts/install-deps.sh installs it).
// The script lists with .filter()/.top(), pages with PageIterator, gets one
// identity, invokes actions and finds them in the action center, and checks
// Graph errors arrive as GraphError with Graph's codes; this harness fails on
// its exit code and on any "not ok" line.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/graph_mapping.h"
#include "core/subprocess.h"
#include "inventory/correlate.h"
#include "store/sqlite/sqlite_store.h"
#include "support/inventory_seed.h"
#include "support/test_server.h"

namespace cordon::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kClientDir = fs::path(CORDON_SOURCE_DIR) / "tests" / "graph-client";

AccountView Account(Provider provider, std::string id, std::string login, std::string display_name, std::string upn,
                    std::string sid = "") {
  AccountView a;
  a.provider = provider;
  a.id = std::move(id);
  a.login = std::move(login);
  a.display_name = std::move(display_name);
  a.status = AccountStatus::kEnabled;
  a.upn = std::move(upn);
  a.sid = std::move(sid);
  return a;
}

// Every identity the script expects, written as the seed file it reads.
struct Seed {
  std::vector<AccountView> accounts;
  json file;
};

Seed MakeSeed() {
  Seed seed;
  json prefixed = json::array();
  for (int i = 1; i <= 12; ++i) {
    const std::string id = fmt::format("4a1b2c3d-0000-4000-8000-0000000000{:02}", i);
    // Names out of order, so that the listing's order is the server's doing.
    const std::string name = fmt::format("Graph Client {:02}", 13 - i);
    seed.accounts.push_back(Account(Provider::kActiveDirectory, id, fmt::format("gclient{:02}", i), name,
                                        fmt::format("gclient{:02}@corp.example.test", i)));
    prefixed.push_back(json{{"id", IdentityIdOf(Provider::kActiveDirectory, id)}, {"displayName", name}});
  }

  // Ann has an account at each provider, correlated by SID and UPN.
  const std::string ad = "9e8d7c6b-5a49-4837-8261-504f3e2d1c0b";
  const std::string entra = "73d664e4-0886-4a73-b745-c694da45ddb4";
  const std::string okta = "00u1ann00000000000001";
  const std::string sid = "S-1-5-21-1004336348-1177238915-682003330-2201";
  const std::string upn = "ann.obrien@other.example.test";
  seed.accounts.push_back(Account(Provider::kActiveDirectory, ad, "ann.obrien", "Ann O'Brien", upn, sid));
  seed.accounts.push_back(Account(Provider::kEntra, entra, upn, "Ann O'Brien", upn, sid));
  seed.accounts.push_back(Account(Provider::kOkta, okta, upn, "Ann O'Brien", upn));
  auto actions_at = [](Provider p) {
    json out = json::array();
    for (const api::GraphAction a : api::GraphActionsAt(p)) out.push_back(api::ToString(a));
    return out;
  };
  const std::string ann = IdentityIdOf(Provider::kActiveDirectory, ad);
  seed.file = json{
      {"prefix", "Graph Client"},
      {"prefixed", prefixed},
      {"quoted",
       {{"id", ann},
        {"displayName", "Ann O'Brien"},
        {"domain", "other.example.test"},
        {"onPremisesSecurityIdentifier", sid},
        // Worked out independently (src/api/graph_mapping_test.cpp).
        {"cloudSecurityIdentifier", "S-1-12-1-1943430372-1249052806-2496021943-3034400218"},
        {"accounts",
         json::array({{{"identifier", ad}, {"identityProvider", "activeDirectory"}, {"actions", actions_at(Provider::kActiveDirectory)}},
                      {{"identifier", entra}, {"identityProvider", "entraID"}, {"actions", actions_at(Provider::kEntra)}},
                      {{"identifier", okta}, {"identityProvider", "okta"}, {"actions", actions_at(Provider::kOkta)}}})}}},
      {"invoke",
       {{"identityId", ann},
        {"accountId", okta},
        {"action", "disable"},
        {"identityProvider", "okta"},
        {"cordonAction", "suspend"},
        {"cordonProvider", "okta"}}},
      {"tokenName", "e2e-security_administrator"},
  };
  return seed;
}

TEST(GraphClient, MicrosoftsJavaScriptClientDrivesTheGraphCompatibleApi) {
  ASSERT_TRUE(fs::exists(kClientDir / "node_modules" / "@microsoft" / "microsoft-graph-client" / "package.json"))
      << "the Graph client is not installed in " << kClientDir << ": run scripts/install-deps.sh";

  // Okta is configured so that its actions are accepted; nothing listens
  // where it points, so they wait in the action center, which is all the
  // script needs of them.
  TestServerOptions options;
  options.connectors_toml =
      "[connectors.okta]\norg_url = \"http://127.0.0.1:9\"\nallow_plaintext = true\nauth_mode = \"ssws\"\n"
      "token_file = \"okta.token\"\n";
  auto server = TestServer::Create(options);
  ASSERT_TRUE(server.has_value()) << server.error().message;
  std::ofstream((*server)->dir() + "/okta.token") << "00placeholder-okta-token\n";
  fs::permissions((*server)->dir() + "/okta.token", fs::perms::owner_read | fs::perms::owner_write);

  const Seed seed = MakeSeed();
  {
    auto store = SqliteStore::Open((*server)->db_path());
    ASSERT_TRUE(store.has_value()) << store.error().message;
    ASSERT_TRUE((*store)->Migrate().has_value());
    ASSERT_TRUE(SeedInventory(**store, seed.accounts).has_value());
  }
  const std::string seed_file = (*server)->dir() + "/seed.json";
  std::ofstream(seed_file) << seed.file.dump(2);

  auto admin = (*server)->Token("security_administrator");
  ASSERT_TRUE(admin.has_value()) << admin.error().message;
  auto reader = (*server)->Token("security_reader");
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  ASSERT_TRUE((*server)->Start().has_value()) << (*server)->ServerOutput();

  // The server listens on 127.0.0.1; the client reaches it by the name its
  // certificate gives, as a client of a real deployment would.
  const std::string base = (*server)->base_url();
  const std::string url = "https://localhost" + base.substr(base.rfind(':'));
  auto run = RunProgram({.argv = {"node", (kClientDir / "graph_client_test.mjs").string()},
                         .env = {{"CORDON_URL", url},
                                 {"CORDON_TOKEN", *admin},
                                 {"CORDON_READER_TOKEN", *reader},
                                 {"CORDON_SEED", seed_file},
                                 {"NODE_EXTRA_CA_CERTS", (*server)->ca_file()}},
                         .cwd = kClientDir.string(),
                         .timeout = std::chrono::seconds(120)});
  ASSERT_TRUE(run.has_value()) << run.error().message;
  const std::string output = run->out + run->err;
  std::cout << output;
  EXPECT_TRUE(run->ok()) << run->Describe() << "\n" << output;
  EXPECT_EQ(output.find("not ok"), std::string::npos) << output;
  size_t passed = 0;
  for (size_t at = output.find("ok - "); at != std::string::npos; at = output.find("ok - ", at + 1)) ++passed;
  EXPECT_EQ(passed, 10u) << "every check of the script ran:\n" << output;
  // Neither token reached the script's output.
  EXPECT_EQ(output.find(*admin), std::string::npos);
  EXPECT_EQ(output.find(*reader), std::string::npos);
}

}  // namespace
}  // namespace cordon::testing
