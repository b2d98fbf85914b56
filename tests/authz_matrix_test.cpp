// Who may act: every role x (provider, action) pair of the catalogue, through
// the real API (server, SQLite store, ActionService). The expected answers
// are written out here from the role table (docs/architecture.md, "Roles"),
// not recomputed from authz::MayRun, so a change to the table must change
// this test too.
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/api_fixture.h"

namespace cordon::api {
namespace {

using nlohmann::json;

// One row per (provider, action); one column per role in this order:
//   security_reader, response_manager, security_operator, security_administrator, global_administrator
// '+' = may run (202), '-' = may not (403), 'x' = the provider does not offer the action (422).
const std::map<std::string, std::string> kExpected = {
    // Active Directory: Response (manage) and up; Cordon's own risk level as Entra's.
    {"ad/disable", "-++++"},
    {"ad/enable", "-++++"},
    {"ad/force_password_reset", "-++++"},
    {"ad/clear_password_reset", "-++++"},
    {"ad/suspend", "xxxxx"},
    {"ad/unsuspend", "xxxxx"},
    {"ad/deactivate", "xxxxx"},
    {"ad/activate", "xxxxx"},
    {"ad/revoke_sessions", "xxxxx"},
    {"ad/mark_compromised", "---++"},
    {"ad/dismiss_risk", "---++"},
    // Entra ID: mark compromised for Security Administrator and up; the rest Global Administrator only.
    {"entra/disable", "xxxxx"},
    {"entra/enable", "xxxxx"},
    {"entra/force_password_reset", "xxxxx"},
    {"entra/clear_password_reset", "xxxxx"},
    {"entra/suspend", "----+"},
    {"entra/unsuspend", "----+"},
    {"entra/deactivate", "xxxxx"},
    {"entra/activate", "xxxxx"},
    {"entra/revoke_sessions", "----+"},
    {"entra/mark_compromised", "---++"},
    {"entra/dismiss_risk", "---++"},
    // Okta: Response (manage) and up; Cordon's own risk level as Entra's.
    {"okta/disable", "xxxxx"},
    {"okta/enable", "xxxxx"},
    {"okta/force_password_reset", "xxxxx"},
    {"okta/clear_password_reset", "xxxxx"},
    {"okta/suspend", "-++++"},
    {"okta/unsuspend", "-++++"},
    {"okta/deactivate", "-++++"},
    {"okta/activate", "-++++"},
    {"okta/revoke_sessions", "-++++"},
    {"okta/mark_compromised", "---++"},
    {"okta/dismiss_risk", "---++"},
};

const Role kColumns[] = {Role::kSecurityReader, Role::kResponseManager, Role::kSecurityOperator,
                         Role::kSecurityAdministrator, Role::kGlobalAdministrator};

unsigned StatusFor(char cell) {
  switch (cell) {
    case '+': return 202;
    case '-': return 403;
    default: return 422;
  }
}

TEST(AuthzMatrixTest, EveryRoleAndActionThroughTheApi) {
  auto fixture = testing::ApiFixture::Start();
  ASSERT_TRUE(fixture.has_value()) << fixture.error().message;
  auto& f = **fixture;
  auto client = f.Client();
  ASSERT_EQ(std::size(kColumns), std::size(kAllRoles));

  int accepted = 0;
  int forbidden = 0;
  int cases = 0;
  for (size_t column = 0; column < std::size(kColumns); ++column) {
    const Role role = kColumns[column];
    const std::string token = f.Token(role);
    ASSERT_FALSE(token.empty());
    for (const Provider provider : kAllProviders) {
      for (const ActionType type : kAllActionTypes) {
        const std::string key = std::string(ToString(provider)) + "/" + std::string(ToString(type));
        const auto row = kExpected.find(key);
        ASSERT_NE(row, kExpected.end()) << "the expected table lacks " << key;
        const unsigned want = StatusFor(row->second.at(column));
        const std::string account = "matrix." + std::to_string(cases);
        const json body{{"action", ToString(type)}, {"provider", ToString(provider)}, {"account", account},
                        {"reason", "authz matrix"}};
        const auto r = client.Post("/api/v1/actions", body, token);
        EXPECT_EQ(r.status, want) << ToString(role) << " x " << key << ": " << r.body;
        if (want == 202 && r.status == 202) {
          EXPECT_EQ(r.Json().value("requestedBy", ""), std::string(ToString(role)) + "-token");
        }
        if (want != 202) {
          EXPECT_EQ(r.Header("content-type"), "application/problem+json") << key;
        }
        accepted += want == 202;
        forbidden += want == 403;
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 5 * 3 * 11);
  // 33 pairs in the expected table, 19 of them offered.
  EXPECT_EQ(kExpected.size(), 33u);

  // Exactly the accepted submissions were stored.
  ActionFilter filter;
  filter.limit = 1000;
  auto page = f.store().ListActions(filter);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(static_cast<int>(page->actions.size()), accepted);

  // Every 403 is in the audit trail, aggregated per token (one address, one
  // route), with the token's name as the actor and its id.
  ASSERT_TRUE(f.Flush().has_value());
  auto refused = f.store().ListAudit("auth.forbidden", 1000);
  ASSERT_TRUE(refused.has_value());
  int64_t counted = 0;
  std::set<std::string> tokens;
  for (const AuditEvent& e : *refused) {
    counted += e.count;
    EXPECT_NE(e.actor, "anonymous");
    EXPECT_EQ(e.actor.size() > 6 && e.actor.substr(e.actor.size() - 6) == "-token", true) << e.actor;
    EXPECT_EQ(e.actor_token.rfind("tok_", 0), 0u) << e.actor_token;
    EXPECT_TRUE(tokens.insert(e.actor_token).second) << "one row per token";
  }
  EXPECT_EQ(counted, forbidden);
  EXPECT_EQ(tokens.size(), 4u) << "every role but global_administrator is refused something";

  // And a 401 too.
  ASSERT_EQ(client.Post("/api/v1/actions", json{{"action", "disable"}}, "").status, 401u);
  ASSERT_TRUE(f.Flush().has_value());
  auto unauthenticated = f.store().ListAudit("auth.unauthenticated", 10);
  ASSERT_TRUE(unauthenticated.has_value());
  ASSERT_EQ(unauthenticated->size(), 1u);
  EXPECT_EQ(unauthenticated->front().actor, "anonymous");
  EXPECT_EQ(unauthenticated->front().count, 1);
}

}  // namespace
}  // namespace cordon::api
