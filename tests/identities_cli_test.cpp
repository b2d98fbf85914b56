// `cordon identities search|show` and `cordon inventory sync|status` end to
// end: the real `cordon serve` binary over a store whose inventory is filled
// as a sync would have (no provider is configured), and the real CLI: the
// text and -o json outputs, an account named by login resolved to its
// person, what a reader may not do and why, recent actions, exit codes (not
// found, ambiguous, refused, not configured).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "inventory/correlate.h"
#include "store/sqlite/sqlite_store.h"
#include "support/inventory_seed.h"
#include "support/test_server.h"

namespace cordon::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kAliceGuid = "6f3c2a10-0000-4000-8000-000000000001";

AccountView View(Provider provider, std::string id, std::string login, std::string name, std::string upn,
                 std::string sid = "") {
  AccountView a;
  a.provider = provider;
  a.id = std::move(id);
  a.login = std::move(login);
  a.display_name = std::move(name);
  a.upn = std::move(upn);
  a.sid = std::move(sid);
  a.status = AccountStatus::kEnabled;
  return a;
}

class IdentitiesCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = TestServer::Create({});
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    {
      auto store = SqliteStore::Open(server_->db_path());
      ASSERT_TRUE(store) << store.error().message;
      ASSERT_TRUE((*store)->Migrate());
      AccountView alice_ad = View(Provider::kActiveDirectory, kAliceGuid, "asmith", "Alice Smith",
                                  "alice.smith@corp.example.com", "S-1-5-21-1-2-3-1104");
      alice_ad.status = AccountStatus::kDisabled;
      alice_ad.identifiers["dn"] = "CN=Alice Smith,OU=Staff,DC=corp,DC=example,DC=com";
      AccountView bob = View(Provider::kActiveDirectory, "6f3c2a10-0000-4000-8000-000000000002", "bjones", "Bob Jones",
                             "bob.jones@corp.example.com");
      bob.admin_protected = true;
      ASSERT_TRUE(SeedInventory(**store, {alice_ad,
                                          View(Provider::kOkta, "00u1", "alice.smith@corp.example.com", "Alice Smith",
                                               "alice.smith@corp.example.com"),
                                          bob,
                                          View(Provider::kOkta, "00u2", "alicia@corp.example.com", "Alicia Keys",
                                               "alicia@corp.example.com")}));
    }
    ASSERT_TRUE(server_->Start());
  }

  std::unique_ptr<TestServer> server_;
};

TEST_F(IdentitiesCliTest, SearchListsThePeopleAPrefixFinds) {
  RunResult r = server_->Cli({"identities", "search", "smi"}, "security_reader");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Alice Smith"));
  EXPECT_THAT(r.out, HasSubstr(IdentityIdOf(Provider::kActiveDirectory, kAliceGuid)));
  EXPECT_THAT(r.out, HasSubstr("ad:asmith disabled"));
  EXPECT_THAT(r.out, HasSubstr("okta:alice.smith@corp.example.com enabled"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("Bob")));

  RunResult all = server_->Cli({"identities", "search", "ali", "-o", "json", "--limit", "1"}, "security_reader");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const json page = json::parse(all.out, nullptr, false);
  ASSERT_TRUE(page.is_object()) << all.out;
  ASSERT_EQ(page["value"].size(), 1u);
  EXPECT_EQ(page["value"][0]["displayName"], "Alice Smith");
  ASSERT_TRUE(page["nextCursor"].is_string());
  RunResult next = server_->Cli({"identities", "search", "ali", "--cursor", page["nextCursor"], "--limit", "1"},
                                "security_reader");
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_THAT(next.out, HasSubstr("Alicia Keys"));

  RunResult none = server_->Cli({"identities", "search", "zed"}, "security_reader");
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_THAT(none.err, HasSubstr("nobody matches"));
  EXPECT_EQ(server_->Cli({"identities", "search", "smi", "--limit", "0"}, "security_reader").exit_code, 2);
}

TEST_F(IdentitiesCliTest, ShowGivesEveryAccountWhatTheCallerMayDoAndTheRecentActions) {
  // No provider is configured to run it: the action is recorded beside the server, as one waiting.
  std::string action;
  {
    auto store = SqliteStore::Open(server_->db_path());
    ASSERT_TRUE(store) << store.error().message;
    NewAction enable;
    enable.type = ActionType::kEnable;
    enable.target = "asmith";
    enable.requested_by = "analyst";
    enable.reason = "back from leave";
    auto created = (*store)->CreateActions(std::span(&enable, 1), Now());
    ASSERT_TRUE(created) << created.error().message;
    action = created->front().id;
  }

  RunResult r = server_->Cli({"identities", "show", "ASMITH"}, "security_reader");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Alice Smith  (corp.example.com)"));
  EXPECT_THAT(r.out, HasSubstr("ad  asmith  (Alice Smith)  disabled"));
  EXPECT_THAT(r.out, HasSubstr("sid S-1-5-21-1-2-3-1104"));
  EXPECT_THAT(r.out, HasSubstr("dn: CN=Alice Smith,OU=Staff,DC=corp,DC=example,DC=com"));
  EXPECT_THAT(r.out, HasSubstr("not allowed: your role (security_reader) may not disable at ad"));
  EXPECT_THAT(r.out, HasSubstr("okta  alice.smith@corp.example.com"));
  EXPECT_THAT(r.out, HasSubstr("(cannot be undone)")) << "okta revoke_sessions";
  EXPECT_THAT(r.out, HasSubstr("recent actions:"));
  EXPECT_THAT(r.out, HasSubstr(action));

  RunResult manager = server_->Cli({"identities", "show", "bjones"}, "response_manager");
  ASSERT_EQ(manager.exit_code, 0) << manager.err;
  EXPECT_THAT(manager.out, HasSubstr("adminCount=1"));
  EXPECT_THAT(manager.out, HasSubstr("! adminCount=1: the account is protected by AdminSDHolder"));
  EXPECT_THAT(manager.out, HasSubstr("disable               allowed"));
  EXPECT_THAT(manager.out, HasSubstr("enable                allowed; changes nothing now"));
  EXPECT_THAT(manager.out, HasSubstr("recent actions: none"));

  const std::string id = IdentityIdOf(Provider::kActiveDirectory, kAliceGuid);
  RunResult json_out = server_->Cli({"identities", "show", id, "-o", "json"}, "security_reader");
  ASSERT_EQ(json_out.exit_code, 0) << json_out.err;
  const json identity = json::parse(json_out.out, nullptr, false);
  ASSERT_TRUE(identity.is_object()) << json_out.out;
  EXPECT_EQ(identity["id"], id);
  EXPECT_EQ(identity["accounts"].size(), 2u);
  EXPECT_EQ(identity["recentActions"].size(), 1u);

  RunResult unknown = server_->Cli({"identities", "show", "nobody"}, "security_reader");
  EXPECT_EQ(unknown.exit_code, 4) << unknown.err;
  RunResult unknown_id = server_->Cli({"identities", "show", IdentityIdOf(Provider::kOkta, "00u404")}, "security_reader");
  EXPECT_EQ(unknown_id.exit_code, 4) << unknown_id.err;
  RunResult ambiguous = server_->Cli({"identities", "show", "ali"}, "security_reader");
  EXPECT_EQ(ambiguous.exit_code, 2) << ambiguous.err;
  EXPECT_THAT(ambiguous.err, HasSubstr("several identities match"));
  EXPECT_THAT(ambiguous.err, HasSubstr("Alicia Keys"));
}

TEST_F(IdentitiesCliTest, InventoryStatusAndSync) {
  RunResult status = server_->Cli({"inventory", "status"}, "security_reader");
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("3 identities, 4 accounts"));
  RunResult json_status = server_->Cli({"inventory", "status", "-o", "json"}, "security_reader");
  ASSERT_EQ(json_status.exit_code, 0);
  const json state = json::parse(json_status.out, nullptr, false);
  EXPECT_EQ(state["identities"], 3);
  EXPECT_EQ(state["providers"], json::array()) << "no provider configured";

  EXPECT_EQ(server_->Cli({"inventory", "sync"}, "security_reader").exit_code, 3) << "a reader only reads";
  RunResult not_configured = server_->Cli({"inventory", "sync", "--provider", "ad"}, "security_operator");
  EXPECT_EQ(not_configured.exit_code, 2) << not_configured.err;
  EXPECT_THAT(not_configured.err, HasSubstr("not configured"));
  RunResult unknown = server_->Cli({"inventory", "sync", "--provider", "ldap"}, "security_operator");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  RunResult none = server_->Cli({"inventory", "sync", "--wait"}, "security_operator");
  EXPECT_EQ(none.exit_code, 0) << none.err << "nothing to sync, nothing to wait for";
  EXPECT_EQ(server_->Cli({"inventory", "status"}, "").exit_code, 3) << "no token";
}

}  // namespace
}  // namespace cordon::testing
