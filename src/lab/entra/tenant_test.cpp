#include "lab/entra/tenant.h"

#include <gtest/gtest.h>

#include "lab/entra/emulator.h"

namespace cordon::lab::entra {
namespace {

std::unique_ptr<EntraTenant> Tenant() {
  auto t = std::make_unique<EntraTenant>([] { return std::chrono::system_clock::now(); }, "tenant-a");
  t->Seed({{"ann.a@corp.example.test", "Ann", "A"}, {"bob.b@corp.example.test", "Bob", "B"},
          {"bea.c@corp.example.test", "Bea", "C"}});
  return t;
}

TEST(EntraTenantTest, IdsAreGuidsDerivedFromTheTenantAndTheUpn) {
  auto owner = Tenant();
  EntraTenant& t = *owner;
  const auto ann = t.Find("ANN.A@corp.example.test");
  ASSERT_TRUE(ann.has_value());
  EXPECT_EQ(ann->id.size(), 36u);
  EXPECT_EQ(ann->id[14], '5');
  EXPECT_EQ(ann->id, NameGuid("tenant-a", "ann.a@corp.example.test"));
  EXPECT_EQ(Tenant()->Find("ann.a@corp.example.test")->id, ann->id);
  EXPECT_NE(NameGuid("tenant-b", "ann.a@corp.example.test"), ann->id);
  EXPECT_EQ(t.Find(ann->id)->user_principal_name, "ann.a@corp.example.test");
  EXPECT_FALSE(t.Find("nobody@corp.example.test").has_value());
}

TEST(EntraTenantTest, FiltersGraphUnderstands) {
  const auto eq = ParseUserFilter("userPrincipalName eq 'bob.b@corp.example.test'");
  ASSERT_TRUE(eq.has_value());
  auto owner = Tenant();
  EntraTenant& t = *owner;
  ASSERT_EQ(t.List(eq, 0, 10).users.size(), 1u);
  const auto sw = ParseUserFilter("startswith(userPrincipalName, 'b')");
  ASSERT_TRUE(sw.has_value());
  EXPECT_EQ(t.List(sw, 0, 10).users.size(), 2u);
  EXPECT_EQ(ParseUserFilter("displayName eq 'O''Brien'")->value, "O'Brien");
  EXPECT_EQ(ParseUserFilter("accountEnabled eq false")->value, "false");
  EXPECT_FALSE(ParseUserFilter("userPrincipalName ne 'x'").has_value());
  EXPECT_FALSE(ParseUserFilter("jobTitle eq 'x'").has_value());
  EXPECT_FALSE(ParseUserFilter("userPrincipalName eq 'x").has_value());
}

TEST(EntraTenantTest, PagesGoOnWhereTheLastEnded) {
  auto owner = Tenant();
  EntraTenant& t = *owner;
  const UserPage first = t.List(std::nullopt, 0, 2);
  ASSERT_EQ(first.users.size(), 2u);
  ASSERT_TRUE(first.next.has_value());
  const UserPage second = t.List(std::nullopt, *first.next, 2);
  ASSERT_EQ(second.users.size(), 1u);
  EXPECT_EQ(second.users[0].given_name, "Bea");
  EXPECT_FALSE(second.next.has_value());
}

TEST(EntraTenantTest, SessionsAndRisk) {
  auto owner = Tenant();
  EntraTenant& t = *owner;
  ASSERT_TRUE(t.AddSession("ann.a@corp.example.test").has_value());
  ASSERT_TRUE(t.AddSession("ann.a@corp.example.test").has_value());
  EXPECT_EQ(t.Find("ann.a@corp.example.test")->sessions.size(), 2u);
  EXPECT_TRUE(t.RevokeSessions("ann.a@corp.example.test"));
  EXPECT_TRUE(t.Find("ann.a@corp.example.test")->sessions.empty());
  EXPECT_FALSE(t.RevokeSessions("nobody"));

  const std::string id = t.Find("bob.b@corp.example.test")->id;
  EXPECT_TRUE(t.ListRisky(0, 10).users.empty());
  EXPECT_EQ(t.ConfirmCompromised({id, "unknown"}), 1);
  auto bob = t.Find(id);
  EXPECT_EQ(bob->risk.level, "high");
  EXPECT_EQ(bob->risk.state, "confirmedCompromised");
  EXPECT_EQ(t.ListRisky(0, 10).users.size(), 1u);
  EXPECT_EQ(t.Dismiss({id}), 1);
  bob = t.Find(id);
  EXPECT_EQ(bob->risk.level, "none");
  EXPECT_EQ(bob->risk.state, "dismissed");
}

TEST(EntraTenantTest, TheLabsPeople) {
  const auto users = LabSeedUsers({{"alice.adams", "S-1-5-21-1-2-3-1104"}});
  auto find = [&](const std::string& upn) -> const SeedUser* {
    for (const auto& u : users)
      if (u.user_principal_name == upn) return &u;
    return nullptr;
  };
  const SeedUser* alice = find("alice.adams@corp.example.test");
  ASSERT_NE(alice, nullptr);
  EXPECT_TRUE(alice->synced);
  EXPECT_EQ(alice->security_identifier, "S-1-5-21-1-2-3-1104");
  ASSERT_NE(find("bob.baker@corp.example.test"), nullptr);
  EXPECT_TRUE(find("bob.baker@corp.example.test")->security_identifier.empty()) << "unknown SID, still there";
  ASSERT_NE(find("dana.admin@corp.example.test"), nullptr);
  EXPECT_EQ(find("dana.admin@corp.example.test")->directory_roles, std::vector<std::string>{"Global Administrator"});
  ASSERT_NE(find("bulk1000@corp.example.test"), nullptr);
  ASSERT_NE(find("chloe.cloudonly@corp.example.test"), nullptr);
  EXPECT_FALSE(find("chloe.cloudonly@corp.example.test")->synced);
  ASSERT_NE(find("cloud1000@corp.example.test"), nullptr);
  ASSERT_NE(find("gary.guest_partner.example#EXT#@corp.example.test"), nullptr);
  EXPECT_EQ(find("gary.guest_partner.example#EXT#@corp.example.test")->user_type, "Guest");
  EXPECT_EQ(find("Administrator@corp.example.test"), nullptr);
}

}  // namespace
}  // namespace cordon::lab::entra
