#include "core/action.h"

#include <gtest/gtest.h>

#include <cstdint>

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

TEST(ActionTime, RefusesDaysTheMonthDoesNotHave) {
  EXPECT_FALSE(ParseTime("2026-02-31T00:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("2026-04-31T00:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("2026-01-32T00:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("2026-01-00T00:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("2026-00-10T00:00:00Z").has_value());
  EXPECT_EQ(ParseTime("2026-01-31T00:00:00Z"), FromUnixMillis(1769817600000));
  EXPECT_EQ(ParseTime("2026-12-31T23:59:59Z"), FromUnixMillis(1798761599000));
}

TEST(ActionTime, KnowsLeapYears) {
  EXPECT_EQ(ParseTime("2024-02-29T12:00:00Z"), FromUnixMillis(1709208000000));
  EXPECT_FALSE(ParseTime("2025-02-29T12:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("1900-02-29T12:00:00Z").has_value());
  EXPECT_EQ(ParseTime("2000-02-29T12:00:00Z"), FromUnixMillis(951825600000));
  EXPECT_FALSE(ParseTime("2024-02-30T12:00:00Z").has_value());
}

TEST(ActionTime, RefusesTimesOutOfRange) {
  EXPECT_FALSE(ParseTime("2026-11-24T24:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("2026-11-24T23:60:00Z").has_value());
  EXPECT_FALSE(ParseTime("2026-12-31T23:59:60Z").has_value());  // leap second
  EXPECT_EQ(ParseTime("2026-11-24T00:00:00Z"), FromUnixMillis(1795478400000));
}

TEST(ActionTime, EveryFieldIsDigitsOnly) {
  EXPECT_FALSE(ParseTime("2026-11-24T-1:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("2026-11-24T+1:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("2026-+1-24T01:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("+026-11-24T01:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("2026-11-24T 1:00:00Z").has_value());
  EXPECT_FALSE(ParseTime(" 2026-11-24T01:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("2026-11-24T01:00:00Z ").has_value());
  EXPECT_FALSE(ParseTime("2026-1-24T01:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("2026-11-24T1:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("20261-11-24T01:00:00Z").has_value());
  EXPECT_FALSE(ParseTime("").has_value());
}

TEST(ActionTime, NeedsZuluAndNoOffset) {
  EXPECT_FALSE(ParseTime("2026-11-24T01:00:00").has_value());
  EXPECT_FALSE(ParseTime("2026-11-24T01:00:00.5").has_value());
  EXPECT_FALSE(ParseTime("2026-11-24T01:00:00+01:00").has_value());
  EXPECT_FALSE(ParseTime("2026-11-24T01:00:00-00:00").has_value());
  EXPECT_FALSE(ParseTime("2026-11-24T01:00:00+00:00").has_value());
  EXPECT_FALSE(ParseTime("2026-11-24T01:00:00ZZ").has_value());
  EXPECT_EQ(ParseTime("2026-11-24t01:00:00z"), ParseTime("2026-11-24T01:00:00Z"));
  EXPECT_FALSE(ParseTime("2026-11-24X01:00:00Z").has_value());
}

TEST(ActionTime, KeepsFractionsToMilliseconds) {
  const int64_t base = 1795478400000;  // 2026-11-24T00:00:00Z
  EXPECT_EQ(ParseTime("2026-11-24T00:00:00.5Z"), FromUnixMillis(base + 500));
  EXPECT_EQ(ParseTime("2026-11-24T00:00:00.05Z"), FromUnixMillis(base + 50));
  EXPECT_EQ(ParseTime("2026-11-24T00:00:00.007Z"), FromUnixMillis(base + 7));
  EXPECT_EQ(ParseTime("2026-11-24T00:00:00.123456789Z"), FromUnixMillis(base + 123));
  EXPECT_EQ(ParseTime("2026-11-24T00:00:00.9999Z"), FromUnixMillis(base + 999));
  EXPECT_FALSE(ParseTime("2026-11-24T00:00:00.Z").has_value());
  EXPECT_FALSE(ParseTime("2026-11-24T00:00:00.-5Z").has_value());
  EXPECT_FALSE(ParseTime("2026-11-24T00:00:00.5 Z").has_value());
  EXPECT_FALSE(ParseTime("2026-11-24T00:00:00,5Z").has_value());
}

TEST(ActionStatusTest, TerminalStates) {
  EXPECT_TRUE(IsTerminal(ActionStatus::kSucceeded));
  EXPECT_TRUE(IsTerminal(ActionStatus::kFailed));
  EXPECT_TRUE(IsTerminal(ActionStatus::kCancelled));
  EXPECT_FALSE(IsTerminal(ActionStatus::kPending));
  EXPECT_FALSE(IsTerminal(ActionStatus::kInProgress));
  EXPECT_FALSE(IsTerminal(ActionStatus::kAwaitingApproval));
}

TEST(ActionIdTest, OnlyTheExactFormIsAnActionId) {
  EXPECT_TRUE(IsActionId("act_01hzx3k9m2qv7w8e5r4t6y1n0b"));
  EXPECT_TRUE(IsActionId("act_7zzzzzzzzzzzzzzzzzzzzzzzzz"));
  for (const char* bad : {"", "act_", "act_01hzx3k9m2qv7w8e5r4t6y1n0", "act_01hzx3k9m2qv7w8e5r4t6y1n0bb",
                          "act_01HZX3K9M2QV7W8E5R4T6Y1N0B", "act_01hzx3k9m2qv7w8e5r4t6y1n0i",
                          "act_01hzx3k9m2qv7w8e5r4t6y1n0u", "act_81hzx3k9m2qv7w8e5r4t6y1n0b",
                          "tok_01hzx3k9m2qv7w8e5r4t6y1n0b", "act_01hzx3k9m2qv7w8e5r4t6y1n0\n",
                          "act_does_not_exist", "ACT_01hzx3k9m2qv7w8e5r4t6y1n0b"}) {
    EXPECT_FALSE(IsActionId(bad)) << bad;
  }
}

}  // namespace
}  // namespace cordon
