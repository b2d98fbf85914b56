#include "core/catalogue.h"

#include <set>
#include <utility>

#include <gtest/gtest.h>

namespace cordon {
namespace {

TEST(Catalogue, OffersEachProvidersActions) {
  EXPECT_TRUE(CatalogueHas(Provider::kActiveDirectory, ActionType::kDisable));
  EXPECT_TRUE(CatalogueHas(Provider::kActiveDirectory, ActionType::kClearPasswordReset));
  EXPECT_FALSE(CatalogueHas(Provider::kActiveDirectory, ActionType::kSuspend));
  EXPECT_FALSE(CatalogueHas(Provider::kActiveDirectory, ActionType::kRevokeSessions));
  EXPECT_TRUE(CatalogueHas(Provider::kEntra, ActionType::kMarkCompromised));
  EXPECT_FALSE(CatalogueHas(Provider::kEntra, ActionType::kDeactivate));
  EXPECT_TRUE(CatalogueHas(Provider::kOkta, ActionType::kDeactivate));
  EXPECT_FALSE(CatalogueHas(Provider::kOkta, ActionType::kMarkCompromised));
}

TEST(Catalogue, UndoReversesWithinTheSameProvider) {
  EXPECT_EQ(UndoOf(Provider::kActiveDirectory, ActionType::kDisable), ActionType::kEnable);
  EXPECT_EQ(UndoOf(Provider::kActiveDirectory, ActionType::kForcePasswordReset), ActionType::kClearPasswordReset);
  EXPECT_EQ(UndoOf(Provider::kOkta, ActionType::kSuspend), ActionType::kUnsuspend);
  EXPECT_EQ(UndoOf(Provider::kOkta, ActionType::kDeactivate), ActionType::kActivate);
  EXPECT_EQ(UndoOf(Provider::kEntra, ActionType::kMarkCompromised), ActionType::kDismissRisk);
  EXPECT_FALSE(UndoOf(Provider::kEntra, ActionType::kRevokeSessions).has_value());
  EXPECT_FALSE(UndoOf(Provider::kOkta, ActionType::kRevokeSessions).has_value());
  // Not offered at all, so nothing to reverse.
  EXPECT_FALSE(UndoOf(Provider::kOkta, ActionType::kDisable).has_value());
}

TEST(Catalogue, EveryUndoIsItselfOfferedAndUndoesBack) {
  std::set<std::pair<Provider, ActionType>> seen;
  for (const CatalogueEntry& e : Catalogue()) {
    EXPECT_TRUE(seen.insert({e.provider, e.type}).second) << ToString(e.type) << " listed twice";
    if (!e.undo) continue;
    EXPECT_TRUE(CatalogueHas(e.provider, *e.undo)) << ToString(e.type);
    EXPECT_EQ(UndoOf(e.provider, *e.undo), e.type) << ToString(e.type);
  }
}

}  // namespace
}  // namespace cordon
