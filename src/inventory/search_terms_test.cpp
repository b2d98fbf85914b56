#include "inventory/search_terms.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace cordon {
namespace {

bool Has(const std::vector<std::string>& terms, std::string_view term) {
  return std::find(terms.begin(), terms.end(), term) != terms.end();
}

TEST(SearchTerms, NameWordsWholeNamesAndEveryAccountsKeysInLowerCase) {
  const std::vector<AccountKeys> members = {
      {Provider::kActiveDirectory, "6F3C2A10-AAAA", "ASmith", "Anne-Marie  Smith", "Anne.Smith@Corp.Example.com",
       "S-1-5-21-1-2-3-1104", "anne@corp.example.com", "CN=x", ""},
      {Provider::kOkta, "00uAbC", "anne.smith@corp.example.com", "Anne Smith", "anne.smith@corp.example.com", "", "", "",
       ""},
  };
  const auto terms = SearchTermsOf("Anne-Marie  Smith", members);
  for (std::string_view t : {"anne-marie smith", "anne", "marie", "smith", "anne smith", "asmith",
                             "anne.smith@corp.example.com", "s-1-5-21-1-2-3-1104", "anne@corp.example.com",
                             "6f3c2a10-aaaa", "00uabc"})
    EXPECT_TRUE(Has(terms, t)) << t;
  EXPECT_FALSE(Has(terms, "cn=x")) << "the DN is not searched";
  EXPECT_TRUE(std::is_sorted(terms.begin(), terms.end()));
  EXPECT_EQ(std::adjacent_find(terms.begin(), terms.end()), terms.end()) << "each once";
  EXPECT_FALSE(Has(terms, ""));
}

// Non-ASCII letters belong to their words; case is folded for ASCII only,
// as SQLite's NOCASE does.
TEST(SearchTerms, NonAsciiLettersStayInTheirWords) {
  const auto terms = SearchTermsOf("Zoë Ōtsuka", {});
  EXPECT_TRUE(Has(terms, "zoë"));
  EXPECT_TRUE(Has(terms, "Ōtsuka"));
  EXPECT_TRUE(Has(terms, "zoë Ōtsuka"));
}

TEST(SearchTerms, QueriesAreNormalisedAsTermsAre) {
  EXPECT_EQ(NormalizeSearchText("  Alice   SMITH \t"), "alice smith");
  EXPECT_EQ(NormalizeSearchText(""), "");
  EXPECT_EQ(NormalizeSearchText("   "), "");
  const std::string long_name(300, 'a');
  EXPECT_EQ(NormalizeSearchText(long_name).size(), kMaxTermBytes);
  // Cut at a character boundary: 255 'a' then a two-byte letter does not split it.
  const std::string cut = NormalizeSearchText(std::string(255, 'a') + "é");
  EXPECT_EQ(cut, std::string(255, 'a'));
  // Every term that starts with the prefix sorts below its end, and nothing after them.
  EXPECT_LT(std::string("smith"), PrefixEnd("smi"));
  EXPECT_LT(std::string("smi\xc3\xa9"), PrefixEnd("smi"));
  EXPECT_GT(std::string("smj"), PrefixEnd("smi"));
}

}  // namespace
}  // namespace cordon
