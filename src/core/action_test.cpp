#include "core/action.h"

#include <gtest/gtest.h>

namespace cordon {
namespace {

TEST(ActionNames, EveryEnumRoundTripsThroughItsName) {
  for (ActionType t : kAllActionTypes) {
    auto parsed = ParseActionType(ToString(t));
    ASSERT_TRUE(parsed.has_value()) << ToString(t);
    EXPECT_EQ(*parsed, t);
  }
  for (Provider p : kAllProviders) EXPECT_EQ(ParseProvider(ToString(p)), p);
  for (auto s : {ActionStatus::kAwaitingApproval, ActionStatus::kPending, ActionStatus::kInProgress,
                 ActionStatus::kSucceeded, ActionStatus::kFailed, ActionStatus::kCancelled, ActionStatus::kRejected})
    EXPECT_EQ(ParseActionStatus(ToString(s)), s);
}

TEST(ActionNames, UnknownNamesAreRejected) {
  EXPECT_FALSE(ParseActionType("Disable").has_value());
  EXPECT_FALSE(ParseActionType("").has_value());
  EXPECT_FALSE(ParseProvider("ldap").has_value());
  EXPECT_FALSE(ParseActionStatus("done").has_value());
}

TEST(ActionTime, FormatsAndParsesRfc3339Utc) {
  const TimePoint t = FromUnixMillis(1795983065123);
  EXPECT_EQ(FormatTime(t), "2026-11-29T20:11:05.123Z");
  EXPECT_EQ(ParseTime("2026-11-29T20:11:05.123Z"), t);
  EXPECT_EQ(ParseTime("2026-11-29T20:11:05Z"), FromUnixMillis(1795983065000));
  EXPECT_FALSE(ParseTime("2026-11-30 14:11:05").has_value());
  EXPECT_FALSE(ParseTime("2026-11-29T20:11:05+01:00").has_value());
  EXPECT_FALSE(ParseTime("yesterday").has_value());
  EXPECT_FALSE(ParseTime("2026-13-30T14:11:05Z").has_value());
}

TEST(ActionStatusTest, TerminalStates) {
  EXPECT_TRUE(IsTerminal(ActionStatus::kSucceeded));
  EXPECT_TRUE(IsTerminal(ActionStatus::kFailed));
  EXPECT_TRUE(IsTerminal(ActionStatus::kCancelled));
  EXPECT_FALSE(IsTerminal(ActionStatus::kPending));
  EXPECT_FALSE(IsTerminal(ActionStatus::kInProgress));
  EXPECT_FALSE(IsTerminal(ActionStatus::kAwaitingApproval));
}

}  // namespace
}  // namespace cordon
