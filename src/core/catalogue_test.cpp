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
  EXPECT_TRUE(CatalogueHas(Provider::kOkta, ActionType::kMarkCompromised));
  EXPECT_FALSE(CatalogueHas(Provider::kOkta, ActionType::kDisable));
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

// Okta's reactivation is a new activation: the undo of a deactivation says
// what it does not bring back; every other undo restores what it reverses.
TEST(Catalogue, OktaDeactivateUndoSaysWhatActivationDoesNotBringBack) {
  const std::string_view limits = UndoLimitsOf(Provider::kOkta, ActionType::kDeactivate);
  EXPECT_NE(limits.find("new activation"), std::string_view::npos) << limits;
  EXPECT_NE(limits.find("activation link"), std::string_view::npos) << limits;
  EXPECT_NE(limits.find("apps assigned directly"), std::string_view::npos) << limits;
  EXPECT_NE(limits.find("admin roles"), std::string_view::npos) << limits;
  EXPECT_NE(limits.find("not recovered"), std::string_view::npos) << limits;
  for (const CatalogueEntry& e : Catalogue()) {
    if (e.provider == Provider::kOkta && e.type == ActionType::kDeactivate) continue;
    EXPECT_TRUE(UndoLimitsOf(e.provider, e.type).empty()) << ToString(e.type);
  }
  EXPECT_TRUE(UndoLimitsOf(Provider::kOkta, ActionType::kRevokeSessions).empty()) << "no undo, no limits";
  EXPECT_TRUE(UndoLimitsOf(Provider::kActiveDirectory, ActionType::kDeactivate).empty()) << "not offered";
}

// AD and Okta have no risk level: marking one of their accounts compromised
// is Cordon's own mark, carried out without the provider; Entra's is Entra's.
TEST(Catalogue, MarkCompromisedIsCordonsOwnWhereTheProviderHasNoRiskLevel) {
  for (const Provider p : {Provider::kActiveDirectory, Provider::kOkta}) {
    EXPECT_TRUE(IsCordonOnly(p, ActionType::kMarkCompromised)) << ToString(p);
    EXPECT_TRUE(IsCordonOnly(p, ActionType::kDismissRisk)) << ToString(p);
    EXPECT_EQ(UndoOf(p, ActionType::kMarkCompromised), ActionType::kDismissRisk) << ToString(p);
    EXPECT_EQ(UndoOf(p, ActionType::kDismissRisk), ActionType::kMarkCompromised) << ToString(p);
  }
  EXPECT_FALSE(IsCordonOnly(Provider::kEntra, ActionType::kMarkCompromised));
  EXPECT_FALSE(IsCordonOnly(Provider::kActiveDirectory, ActionType::kDisable));
  EXPECT_FALSE(IsCordonOnly(Provider::kOkta, ActionType::kDisable)) << "not offered";
  int cordon_only = 0;
  for (const CatalogueEntry& e : Catalogue()) cordon_only += e.cordon_only ? 1 : 0;
  EXPECT_EQ(cordon_only, 4);
}

// Every offered action says what it does and where, naming the account.
TEST(Catalogue, EveryEntrySaysWhatItDoesToTheAccount) {
  for (const CatalogueEntry& e : Catalogue()) {
    const std::string what = WhatItDoes(e.provider, e.type, "alice@corp.example.com");
    EXPECT_NE(what.find("alice@corp.example.com"), std::string::npos) << ToString(e.type) << ": " << what;
    EXPECT_EQ(what.find("{account}"), std::string::npos) << what;
    const std::string_view where = e.provider == Provider::kActiveDirectory ? "Active Directory"
                                   : e.provider == Provider::kEntra         ? "Entra ID"
                                                                            : "Okta";
    EXPECT_NE(what.find(where), std::string::npos) << ToString(e.type) << ": " << what;
    if (!UndoOf(e.provider, e.type)) {
      EXPECT_NE(what.find("Cannot be undone"), std::string::npos) << what;
    }
  }
  EXPECT_NE(WhatItDoes(Provider::kActiveDirectory, ActionType::kDisable, "alice").find("userAccountControl"),
            std::string::npos);
  EXPECT_TRUE(WhatItDoes(Provider::kOkta, ActionType::kDisable, "alice").empty()) << "not offered";
}

}  // namespace
}  // namespace cordon
