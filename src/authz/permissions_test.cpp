#include "authz/permissions.h"

#include <gtest/gtest.h>

namespace cordon {
namespace {

TEST(Roles, NamesRoundTrip) {
  for (Role r : kAllRoles) EXPECT_EQ(ParseRole(ToString(r)), r);
  EXPECT_FALSE(ParseRole("admin").has_value());
}

TEST(Catalogue, OffersOnlyTheDocumentedActions) {
  EXPECT_TRUE(CatalogueHas(Provider::kActiveDirectory, ActionType::kDisable));
  EXPECT_TRUE(CatalogueHas(Provider::kActiveDirectory, ActionType::kClearPasswordReset));
  EXPECT_FALSE(CatalogueHas(Provider::kActiveDirectory, ActionType::kSuspend));
  EXPECT_FALSE(CatalogueHas(Provider::kActiveDirectory, ActionType::kRevokeSessions));
  EXPECT_TRUE(CatalogueHas(Provider::kEntra, ActionType::kMarkCompromised));
  EXPECT_FALSE(CatalogueHas(Provider::kEntra, ActionType::kDeactivate));
  EXPECT_TRUE(CatalogueHas(Provider::kOkta, ActionType::kDeactivate));
  EXPECT_FALSE(CatalogueHas(Provider::kOkta, ActionType::kMarkCompromised));
}

TEST(Permissions, ReaderMayNeverAct) {
  for (Provider p : kAllProviders)
    for (ActionType t : kAllActionTypes) EXPECT_FALSE(MayRun(Role::kSecurityReader, p, t));
}

}  // namespace
}  // namespace cordon
