#include "api/graph_query.h"

#include <gtest/gtest.h>

namespace cordon::api {
namespace {

GraphFilter Parsed(std::string_view text) {
  auto filter = ParseGraphFilter(text);
  EXPECT_TRUE(filter) << text << ": " << (filter ? "" : filter.error().message);
  return filter ? *filter : GraphFilter{};
}

TEST(GraphFilter, ReadsEachConditionAndTheirConjunction) {
  EXPECT_EQ(Parsed("displayName eq 'Alice Adams'").display_name, "Alice Adams");
  EXPECT_EQ(Parsed("startswith(displayName,'Al')").display_name_prefix, "Al");
  EXPECT_EQ(Parsed("domain eq 'corp.example.test'").domain, "corp.example.test");

  const GraphFilter all =
      Parsed("startswith(displayName, 'Al') and domain eq 'corp.example.test' and displayName eq 'Alice'");
  EXPECT_EQ(all.display_name_prefix, "Al");
  EXPECT_EQ(all.domain, "corp.example.test");
  EXPECT_EQ(all.display_name, "Alice");
}

TEST(GraphFilter, IgnoresCaseOfWordsAndSpacingAndAcceptsParentheses) {
  const GraphFilter f = Parsed("  (DisplayName EQ 'x')  AND  ( StartsWith ( displayname , 'y' ) )  ");
  EXPECT_EQ(f.display_name, "x");
  EXPECT_EQ(f.display_name_prefix, "y");
  EXPECT_EQ(Parsed("((domain eq 'd'))").domain, "d");
}

TEST(GraphFilter, ReadsDoubledQuotesAsOneAndKeepsOtherText) {
  EXPECT_EQ(Parsed("displayName eq 'O''Brien'").display_name, "O'Brien");
  EXPECT_EQ(Parsed("displayName eq ''''").display_name, "'");
  EXPECT_EQ(Parsed("displayName eq ''").display_name, "");
  EXPECT_EQ(Parsed("displayName eq 'a and b eq ''c'''").display_name, "a and b eq 'c'");
  EXPECT_EQ(Parsed("displayName eq 'Zoë (ops)'").display_name, "Zoë (ops)");
}

TEST(GraphFilter, RefusesWhatTheInventoryCannotAnswerWithoutRepeatingIt) {
  const char* refused[] = {
      "",
      "displayName",
      "displayName eq",
      "displayName eq Alice",
      "displayName eq 'Alice",
      "displayName ne 'x'",
      "displayName eq 'x' or domain eq 'y'",
      "not displayName eq 'x'",
      "domain eq 'x' and",
      "startswith(domain,'x')",
      "startswith(displayName 'x')",
      "startswith(displayName,'x'",
      "endswith(displayName,'x')",
      "contains(displayName,'x')",
      "mail eq 'secretvalue@example.test'",
      "onPremisesSecurityIdentifier eq 'S-1-5-21-1-2-3-500'",
      "displayName eq 'x' and displayName eq 'y'",
      "startswith(displayName,'a') and startswith(displayName,'b')",
      "displayName eq 'x')",
      "(displayName eq 'x'",
      "displayName eq 'x' domain eq 'y'",
      "displayName eq 42",
      "displayName eq 'tab\there'",
      "displayName eq \"x\"",
      "displayName eq 'x' ; drop",
      "((((((((((displayName eq 'x'))))))))))",
  };
  for (const char* text : refused) {
    auto filter = ParseGraphFilter(text);
    ASSERT_FALSE(filter) << text;
    EXPECT_EQ(filter.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(filter.error().message.find("secretvalue"), std::string::npos);
    EXPECT_EQ(filter.error().message.rfind("Invalid filter clause", 0), 0u) << filter.error().message;
  }
}

TEST(GraphFilter, FormatsBackToWhatItReads) {
  GraphFilter f;
  f.display_name = "O'Brien";
  f.display_name_prefix = "O'";
  f.domain = "corp.example.test";
  const std::string text = FormatGraphFilter(f);
  EXPECT_EQ(text, "displayName eq 'O''Brien' and startswith(displayName,'O''') and domain eq 'corp.example.test'");
  EXPECT_EQ(Parsed(text), f);
  EXPECT_EQ(FormatGraphFilter(GraphFilter{}), "");
  EXPECT_EQ(ODataString("it's"), "'it''s'");
}

TEST(GraphSelect, NamesPropertiesAsGraphSpellsThem) {
  auto select = ParseGraphSelect("displayname, ACCOUNTS,id,displayName");
  ASSERT_TRUE(select);
  EXPECT_EQ(*select, (std::vector<std::string>{"displayName", "accounts", "id"}));
  EXPECT_FALSE(ParseGraphSelect(""));
  EXPECT_FALSE(ParseGraphSelect("displayName,"));
  auto unknown = ParseGraphSelect("displayName,passwordProfile");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message.find("passwordProfile"), std::string::npos);
}

TEST(GraphListQuery, DefaultsToGraphsPageSize) {
  auto q = ParseGraphListQuery({}, 512);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->top, kGraphDefaultTop);
  EXPECT_EQ(q->top, 100);
  EXPECT_EQ(q->filter, GraphFilter{});
  EXPECT_TRUE(q->skiptoken.empty());
  EXPECT_TRUE(q->select.empty());
}

TEST(GraphListQuery, ReadsEveryOption) {
  auto q = ParseGraphListQuery({{"$top", "999"},
                                {"$filter", "domain eq 'd'"},
                                {"$skiptoken", "opaque-position"},
                                {"$select", "id,displayName"}},
                               512);
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->top, 999);
  EXPECT_EQ(q->filter.domain, "d");
  EXPECT_EQ(q->skiptoken, "opaque-position");
  EXPECT_EQ(q->select, (std::vector<std::string>{"id", "displayName"}));
  EXPECT_EQ(ParseGraphListQuery({{"$top", "1"}}, 512)->top, 1);
}

TEST(GraphListQuery, RefusesBadPageSizesUnknownOptionsAndLongTokens) {
  for (const char* top : {"0", "1000", "-1", "", "ten", "1e2", "99999", " 5"}) {
    auto q = ParseGraphListQuery({{"$top", top}}, 512);
    ASSERT_FALSE(q) << top;
    EXPECT_EQ(q.error().message, "Invalid page size specified. Must be between 1 and 999 inclusive.");
  }
  for (const char* option : {"$orderby", "$count", "$search", "$expand", "$skip", "top", "filter", "api-version"}) {
    auto q = ParseGraphListQuery({{option, "x"}}, 512);
    ASSERT_FALSE(q) << option;
    EXPECT_EQ(q.error().message, "Unsupported query option; this request supports $filter, $top, $select and $skiptoken");
  }
  EXPECT_FALSE(ParseGraphListQuery({{"$skiptoken", std::string(513, 'a')}}, 512));
  EXPECT_FALSE(ParseGraphListQuery({{"$skiptoken", ""}}, 512));
  EXPECT_TRUE(ParseGraphListQuery({{"$skiptoken", std::string(512, 'a')}}, 512));
}

TEST(GraphGetQuery, TakesSelectOnly) {
  auto select = ParseGraphGetQuery({{"$select", "accounts"}});
  ASSERT_TRUE(select);
  EXPECT_EQ(*select, std::vector<std::string>{"accounts"});
  EXPECT_TRUE(ParseGraphGetQuery({})->empty());
  auto top = ParseGraphGetQuery({{"$top", "5"}});
  ASSERT_FALSE(top);
  EXPECT_EQ(top.error().message, "Unsupported query option; this request supports $select");
}

}  // namespace
}  // namespace cordon::api
