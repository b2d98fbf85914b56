#include "api/graph_mapping.h"

#include <gtest/gtest.h>

#include "core/catalogue.h"

namespace cordon::api {
namespace {

using enum GraphAction;

TEST(GraphMapping, NamesAreTheMembersOfGraphsEnums) {
  EXPECT_EQ(KnownGraphActions(),
            "disable, enable, forcePasswordReset, revokeAllSessions, requireUserToSignInAgain, markUserAsCompromised");
  EXPECT_EQ(KnownGraphProviders(), "activeDirectory, entraID, okta");
  for (const GraphAction a : kAllGraphActions) EXPECT_EQ(ParseGraphAction(ToString(a)), a);
  for (const Provider p : kAllProviders) EXPECT_EQ(ParseGraphProvider(GraphProviderName(p)), p);
  // Enum members are matched exactly, as Graph's metadata spells them.
  EXPECT_FALSE(ParseGraphAction("Disable"));
  EXPECT_FALSE(ParseGraphAction("unknownFutureValue"));
  EXPECT_FALSE(ParseGraphAction("suspend"));
  EXPECT_FALSE(ParseGraphProvider("ActiveDirectory"));
  EXPECT_FALSE(ParseGraphProvider("ad"));
  EXPECT_FALSE(ParseGraphProvider("unknownFutureValue"));
}

TEST(GraphMapping, EachGraphActionIsTheCordonActionOfTheTable) {
  struct Row {
    GraphAction action;
    Provider provider;
    std::optional<ActionType> cordon;
  };
  const Row table[] = {
      {kDisable, Provider::kActiveDirectory, ActionType::kDisable},
      {kDisable, Provider::kEntra, ActionType::kSuspend},
      {kDisable, Provider::kOkta, ActionType::kSuspend},
      {kEnable, Provider::kActiveDirectory, ActionType::kEnable},
      {kEnable, Provider::kEntra, ActionType::kUnsuspend},
      {kEnable, Provider::kOkta, ActionType::kUnsuspend},
      {kForcePasswordReset, Provider::kActiveDirectory, ActionType::kForcePasswordReset},
      {kForcePasswordReset, Provider::kEntra, std::nullopt},
      {kForcePasswordReset, Provider::kOkta, std::nullopt},
      {kRevokeAllSessions, Provider::kActiveDirectory, std::nullopt},
      {kRevokeAllSessions, Provider::kEntra, ActionType::kRevokeSessions},
      {kRevokeAllSessions, Provider::kOkta, ActionType::kRevokeSessions},
      {kRequireUserToSignInAgain, Provider::kActiveDirectory, std::nullopt},
      {kRequireUserToSignInAgain, Provider::kEntra, ActionType::kRevokeSessions},
      {kRequireUserToSignInAgain, Provider::kOkta, std::nullopt},
      {kMarkUserAsCompromised, Provider::kActiveDirectory, std::nullopt},
      {kMarkUserAsCompromised, Provider::kEntra, ActionType::kMarkCompromised},
      {kMarkUserAsCompromised, Provider::kOkta, std::nullopt},
  };
  for (const Row& row : table) {
    EXPECT_EQ(CordonActionFor(row.action, row.provider), row.cordon)
        << ToString(row.action) << " at " << GraphProviderName(row.provider);
    // Every mapped action is one the catalogue offers there.
    if (row.cordon) {
      EXPECT_TRUE(CatalogueHas(row.provider, *row.cordon));
    }
  }
  EXPECT_EQ(GraphActionsAt(Provider::kActiveDirectory),
            (std::vector<GraphAction>{kDisable, kEnable, kForcePasswordReset}));
  EXPECT_EQ(GraphActionsAt(Provider::kEntra), (std::vector<GraphAction>{kDisable, kEnable, kRevokeAllSessions,
                                                                         kRequireUserToSignInAgain,
                                                                         kMarkUserAsCompromised}));
  EXPECT_EQ(GraphActionsAt(Provider::kOkta), (std::vector<GraphAction>{kDisable, kEnable, kRevokeAllSessions}));
}

TEST(CloudSecurityIdentifier, ReadsTheObjectIdAsFourLittleEndianNumbers) {
  // Worked out independently (Python: struct.unpack('<4I', uuid.UUID(id).bytes_le)).
  EXPECT_EQ(CloudSecurityIdentifier("73d664e4-0886-4a73-b745-c694da45ddb4"),
            "S-1-12-1-1943430372-1249052806-2496021943-3034400218");
  EXPECT_EQ(CloudSecurityIdentifier("69DFA3EA-1295-4E2C-B469-59564581143D"),
            "S-1-12-1-1776264170-1311511189-1448700340-1024753989");
  EXPECT_EQ(CloudSecurityIdentifier("00000000-0000-0000-0000-000000000001"), "S-1-12-1-0-0-0-16777216");
  EXPECT_FALSE(CloudSecurityIdentifier(""));
  EXPECT_FALSE(CloudSecurityIdentifier("alice@corp.example.test"));
  EXPECT_FALSE(CloudSecurityIdentifier("73d664e40886-4a73-b745-c694da45ddb4-"));
  EXPECT_FALSE(CloudSecurityIdentifier("{3d664e4-0886-4a73-b745-c694da45ddb}"));
  EXPECT_FALSE(CloudSecurityIdentifier("73d664e4-0886-4a73-b745-c694da45ddbz"));
}

}  // namespace
}  // namespace cordon::api
