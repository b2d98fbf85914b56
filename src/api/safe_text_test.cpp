#include "api/safe_text.h"

#include <gtest/gtest.h>

namespace cordon::api {
namespace {

TEST(SafeTextTest, PrintableTextAndUtf8PassUnchanged) {
  EXPECT_EQ(SafeText("/api/v1/actions/act_01hzx3k9m2qv7w8e5r4t6y1n0b", 256),
            "/api/v1/actions/act_01hzx3k9m2qv7w8e5r4t6y1n0b");
  EXPECT_EQ(SafeText("/api/v1/actions/Ærøskøbing-北京", 256), "/api/v1/actions/Ærøskøbing-北京");
}

TEST(SafeTextTest, ControlCharactersAndBadBytesAreEscaped) {
  EXPECT_EQ(SafeText("a\nb\rc\td\x1b[2J\x7f", 256), "a\\x0ab\\x0dc\\x09d\\x1b[2J\\x7f");
  EXPECT_EQ(SafeText("\xff\xfe", 256), "\\xff\\xfe");
  EXPECT_EQ(SafeText("\xc2\x9b"
                     "31m",
                     256),
            "\\xc2\\x9b31m")
      << "C1 controls are controls too";
  EXPECT_EQ(SafeText("\xc0\xaf", 256), "\\xc0\\xaf") << "overlong";
  EXPECT_EQ(SafeText("\xed\xa0\x80", 256), "\\xed\\xa0\\x80") << "surrogate";
  EXPECT_EQ(SafeText("\xe2\x82", 256), "\\xe2\\x82") << "truncated sequence";
  EXPECT_EQ(SafeText("a\\x0ab", 256), "a\\x5cx0ab") << "a backslash cannot forge an escape";
}

TEST(SafeTextTest, TokenShapedTextIsMasked) {
  const std::string token = "cdn_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0X2lzX2dvb2Q";
  EXPECT_EQ(SafeText("/api/v1/actions/" + token + "/cancel", 256), "/api/v1/actions/cdn_***/cancel");
  EXPECT_EQ(SafeText(token + token, 256), "cdn_***");
  EXPECT_EQ(SafeText("xcdn_", 256), "xcdn_***");
}

TEST(SafeTextTest, CutsAtTheBoundOnWholeCharacters) {
  EXPECT_EQ(SafeText(std::string(300, 'a'), 8), "aaaaaaaa...");
  EXPECT_EQ(SafeText("abcdefg\n", 8), "abcdefg...") << "an escape is never cut in half";
  EXPECT_EQ(SafeText("abcdef北", 8), "abcdef...") << "nor a UTF-8 character";
  EXPECT_EQ(SafeText("abcdefgh", 8), "abcdefgh");
}

TEST(SafeTextTest, PathsLoseTheirQueryAndMethodsAreBounded) {
  EXPECT_EQ(SafePath("/api/v1/actions?target=alice&token=cdn_x"), "/api/v1/actions");
  EXPECT_EQ(SafePath(""), "-");
  EXPECT_EQ(SafePath("?a=1"), "-");
  EXPECT_EQ(SafePath("/" + std::string(1000, 'p')).size(), kMaxLoggedPathBytes + 3);
  EXPECT_EQ(SafeMethod("GET"), "GET");
  EXPECT_EQ(SafeMethod(std::string(100, 'M')), std::string(kMaxLoggedMethodBytes, 'M') + "...");
  EXPECT_EQ(SafeMethod(""), "-");
}

}  // namespace
}  // namespace cordon::api
