#include "api/query.h"

#include <gtest/gtest.h>

namespace cordon::api {
namespace {

TEST(QueryTest, SplitsPathAndDecodesParameters) {
  auto t = ParseTarget("/api/v1/actions?status=pending&target=alice%2Eadams&reason=a+b");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->path, "/api/v1/actions");
  EXPECT_EQ(t->params.at("status"), "pending");
  EXPECT_EQ(t->params.at("target"), "alice.adams");
  EXPECT_EQ(t->params.at("reason"), "a b");
}

TEST(QueryTest, PathWithoutQuery) {
  auto t = ParseTarget("/healthz");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->path, "/healthz");
  EXPECT_TRUE(t->params.empty());
}

TEST(QueryTest, PlusInPathIsNotASpace) {
  auto t = ParseTarget("/a+b?x=1");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->path, "/a+b");
}

TEST(QueryTest, EmptyPairsAreSkippedAndBareKeysAreEmpty) {
  auto t = ParseTarget("/p?&&a&b=");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->params.size(), 2u);
  EXPECT_EQ(t->params.at("a"), "");
  EXPECT_EQ(t->params.at("b"), "");
}

TEST(QueryTest, RejectsMalformedInput) {
  EXPECT_FALSE(ParseTarget("/p?a=%").has_value());
  EXPECT_FALSE(ParseTarget("/p?a=%4").has_value());
  EXPECT_FALSE(ParseTarget("/p?a=%zz").has_value());
  EXPECT_FALSE(ParseTarget("/p?a=%00").has_value());
  EXPECT_FALSE(ParseTarget("/p%").has_value());
  EXPECT_FALSE(ParseTarget("/p?a=1&a=2").has_value());
  EXPECT_FALSE(ParseTarget("/p?=1").has_value());
  EXPECT_FALSE(ParseTarget("/p?a=" + std::string(kMaxParamValueBytes + 1, 'x')).has_value());
  std::string many = "/p?";
  for (size_t i = 0; i <= kMaxQueryParams; ++i) many += "k" + std::to_string(i) + "=1&";
  EXPECT_FALSE(ParseTarget(many).has_value());
}

TEST(QueryTest, PercentDecodeKeepsHighBytes) {
  auto d = PercentDecode("%C3%A9t%C3%A9", false);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, "\xC3\xA9t\xC3\xA9");
}

}  // namespace
}  // namespace cordon::api
