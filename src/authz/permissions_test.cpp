#include "authz/permissions.h"

#include "core/catalogue.h"

#include <gtest/gtest.h>

namespace cordon {
namespace {

TEST(Roles, NamesRoundTrip) {
  for (Role r : kAllRoles) EXPECT_EQ(ParseRole(ToString(r)), r);
  EXPECT_FALSE(ParseRole("admin").has_value());
}

TEST(Permissions, NothingOutsideTheCatalogueMayRun) {
  for (Provider p : kAllProviders)
    for (ActionType t : kAllActionTypes)
      if (!CatalogueHas(p, t)) {
        EXPECT_FALSE(MayRun(Role::kGlobalAdministrator, p, t)) << ToString(t);
      }
}

TEST(Permissions, EveryCatalogueEntryHasATier) {
  for (const CatalogueEntry& e : Catalogue())
    EXPECT_TRUE(MayRun(Role::kGlobalAdministrator, e.provider, e.type)) << ToString(e.type);
}

TEST(Permissions, ReaderMayNeverAct) {
  for (Provider p : kAllProviders)
    for (ActionType t : kAllActionTypes) EXPECT_FALSE(MayRun(Role::kSecurityReader, p, t));
}

}  // namespace
}  // namespace cordon
