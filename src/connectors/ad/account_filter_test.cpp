#include "connectors/ad/account_filter.h"

#include <cstring>
#include <string>

#include <gtest/gtest.h>
#include <ldap.h>

namespace cordon::ad {
namespace {

using namespace std::string_literals;

struct EscapeCase {
  std::string input;
  std::string expected;
};

TEST(EscapeFilterValue, EscapesEverySpecialAndNonPrintableByte) {
  const EscapeCase cases[] = {
      {"alice.adams", "alice.adams"},
      {"", ""},
      {"*", "\\2a"},
      {"(", "\\28"},
      {")", "\\29"},
      {"\\", "\\5c"},
      {"\0"s, "\\00"},
      {"a\0b"s, "a\\00b"},
      {"*)(sAMAccountName=*", "\\2a\\29\\28sAMAccountName=\\2a"},
      {"x)(|(objectClass=*", "x\\29\\28|\\28objectClass=\\2a"},
      {"\\2a", "\\5c2a"},
      {"J\xc3\xbcrgen", "J\\c3\\bcrgen"},            // UTF-8 ü
      {"\xff\xfe", "\\ff\\fe"},                      // invalid UTF-8 stays harmless
      {"tab\there\n", "tab\\09here\\0a"},
      {"del\x7f", "del\\7f"},
      {"a=b,c+d<e>f;g\"h#", "a=b,c+d<e>f;g\"h#"},   // DN specials are not filter specials
      {"first.last@corp.example.test", "first.last@corp.example.test"},
  };
  for (const EscapeCase& c : cases) EXPECT_EQ(EscapeFilterValue(c.input), c.expected) << "input: " << c.input;
}

// For printable ASCII our escaping must agree with libldap's own
// (ldap_bv2escaped_filter_value); we differ only by also escaping bytes
// outside printable ASCII, which RFC 4515 allows.
TEST(EscapeFilterValue, AgreesWithLibldapOnPrintableAscii) {
  std::string all;
  for (int c = 0x20; c < 0x7f; ++c) all.push_back(static_cast<char>(c));
  for (const std::string& input : {all, "*)(sAMAccountName=*"s, "\\\\(("s, "plain"s}) {
    berval in{static_cast<ber_len_t>(input.size()), const_cast<char*>(input.data())};
    berval out{};
    ASSERT_EQ(ldap_bv2escaped_filter_value(&in, &out), 0);
    std::string theirs(out.bv_val, out.bv_len);
    ber_memfree(out.bv_val);
    // libldap writes upper-case hex digits; both are valid.
    std::string ours = EscapeFilterValue(input);
    ASSERT_EQ(ours.size(), theirs.size());
    for (std::size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(std::tolower(ours[i]), std::tolower(theirs[i])) << i;
  }
}

TEST(EscapeFilterValue, ResultNeverContainsAFilterMetacharacter) {
  std::string every_byte;
  for (int c = 0; c < 256; ++c) every_byte.push_back(static_cast<char>(c));
  std::string escaped = EscapeFilterValue(every_byte);
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    EXPECT_NE(escaped[i], '*');
    EXPECT_NE(escaped[i], '(');
    EXPECT_NE(escaped[i], ')');
    EXPECT_NE(escaped[i], '\0');
    if (escaped[i] == '\\') {
      ASSERT_LT(i + 2, escaped.size());
      EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(escaped[i + 1])));
      EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(escaped[i + 2])));
    }
  }
}

TEST(EscapeBinaryFilterValue, EscapesEveryByte) {
  EXPECT_EQ(EscapeBinaryFilterValue("\x01\x00\xff"s), "\\01\\00\\ff");
  EXPECT_EQ(EscapeBinaryFilterValue(""), "");
}

TEST(Sid, ParsesToAdBinaryLayout) {
  auto bin = ParseSid("S-1-5-21-3623811015-3361044348-30300820-1013");
  ASSERT_TRUE(bin) << bin.error().message;
  const unsigned char expected[] = {0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x15, 0x00, 0x00, 0x00,
                                    0xc7, 0xf7, 0xfe, 0xd7, 0x7c, 0x77, 0x55, 0xc8, 0x94, 0x5a, 0xce, 0x01,
                                    0xf5, 0x03, 0x00, 0x00};
  ASSERT_EQ(bin->size(), sizeof expected);
  EXPECT_EQ(std::memcmp(bin->data(), expected, sizeof expected), 0);
  auto text = FormatSid(*bin);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "S-1-5-21-3623811015-3361044348-30300820-1013");
}

TEST(Sid, RoundTripsWellKnownSids) {
  for (const char* sid : {"S-1-5-32-544", "S-1-1-0", "S-1-5-21-1-2-3-500", "S-1-5-18"}) {
    auto bin = ParseSid(sid);
    ASSERT_TRUE(bin) << sid;
    EXPECT_EQ(*FormatSid(*bin), sid);
  }
  EXPECT_EQ(*FormatSid(*ParseSid("s-1-5-32-544")), "S-1-5-32-544");
}

TEST(Sid, RefusesMalformedText) {
  for (const char* bad : {"", "S-", "S-1", "S-1-5", "S-2-5-21", "X-1-5-21", "S-1-5-21-", "S-1-5--21",
                          "S-1-5-21-4294967296", "S-1-281474976710656-1", "S-1-5-21-1a", "S-1-5-21- 1",
                          "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", "S-1-5-*)(cn=*"}) {
    EXPECT_FALSE(ParseSid(bad)) << bad;
  }
  EXPECT_TRUE(ParseSid("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15"));
}

TEST(Sid, RefusesMalformedBinary) {
  EXPECT_FALSE(FormatSid(""));
  EXPECT_FALSE(FormatSid("\x01\x00\x00\x01\x00\x00\x07\x75"s));  // no sub-authority (found by the fuzzer)
  EXPECT_FALSE(FormatSid("\x01\x02\x00\x00\x00\x00\x00\x05\x15\x00\x00\x00"s));  // says 2, has 1
}

TEST(Guid, UsesAdMixedEndianOrder) {
  auto bin = ParseGuid("00112233-4455-6677-8899-aabbccddeeff");
  ASSERT_TRUE(bin);
  const unsigned char expected[] = {0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
                                    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  ASSERT_EQ(bin->size(), 16u);
  EXPECT_EQ(std::memcmp(bin->data(), expected, 16), 0);
  EXPECT_EQ(*FormatGuid(*bin), "00112233-4455-6677-8899-aabbccddeeff");
  EXPECT_EQ(*ParseGuid("{00112233-4455-6677-8899-AABBCCDDEEFF}"), *bin);
}

TEST(Guid, RefusesMalformedText) {
  for (const char* bad : {"", "00112233-4455-6677-8899-aabbccddeef", "00112233-4455-6677-8899-aabbccddeeffa",
                          "0011223304455-6677-8899-aabbccddeeff", "00112233-4455-6677-8899-aabbccddeegg",
                          "{00112233-4455-6677-8899-aabbccddeeff", "*)(objectGUID=*)(cn=*aaaaaaaaaaaaaaaa"}) {
    EXPECT_FALSE(ParseGuid(bad)) << bad;
  }
  EXPECT_FALSE(FormatGuid("short"));
}

struct IdCase {
  std::string input;
  AccountIdKind kind;
  std::string canonical;
};

TEST(ParseAccountId, RecognisesEachKind) {
  const IdCase cases[] = {
      {"alice.adams", AccountIdKind::kSamAccountName, "alice.adams"},
      {"alice.adams@corp.example.test", AccountIdKind::kUserPrincipalName, "alice.adams@corp.example.test"},
      {"S-1-5-21-1-2-3-1105", AccountIdKind::kObjectSid, "S-1-5-21-1-2-3-1105"},
      {"00112233-4455-6677-8899-AABBCCDDEEFF", AccountIdKind::kObjectGuid, "00112233-4455-6677-8899-aabbccddeeff"},
      {"{00112233-4455-6677-8899-aabbccddeeff}", AccountIdKind::kObjectGuid, "00112233-4455-6677-8899-aabbccddeeff"},
      {"sam:weird@name", AccountIdKind::kSamAccountName, "weird@name"},
      {"upn:x", AccountIdKind::kUserPrincipalName, "x"},
      {"SID:S-1-5-21-9-8-7-500", AccountIdKind::kObjectSid, "S-1-5-21-9-8-7-500"},
      {"guid:00112233-4455-6677-8899-aabbccddeeff", AccountIdKind::kObjectGuid,
       "00112233-4455-6677-8899-aabbccddeeff"},
      {"*)(sAMAccountName=*", AccountIdKind::kSamAccountName, "*)(sAMAccountName=*"},
      {"S-1-not-a-sid", AccountIdKind::kSamAccountName, "S-1-not-a-sid"},
  };
  for (const IdCase& c : cases) {
    auto id = ParseAccountId(c.input);
    ASSERT_TRUE(id) << c.input << ": " << id.error().message;
    EXPECT_EQ(id->kind, c.kind) << c.input;
    EXPECT_EQ(id->canonical, c.canonical) << c.input;
  }
}

TEST(ParseAccountId, RefusesEmptyOversizedAndMalformedExplicitIds) {
  EXPECT_FALSE(ParseAccountId(""));
  EXPECT_FALSE(ParseAccountId("sam:"));
  EXPECT_FALSE(ParseAccountId(std::string(kMaxAccountNameBytes + 1, 'a')));
  EXPECT_TRUE(ParseAccountId(std::string(kMaxAccountNameBytes, 'a')));
  EXPECT_FALSE(ParseAccountId("sid:alice"));
  EXPECT_FALSE(ParseAccountId("guid:alice"));
}

TEST(AccountFilter, IsRestrictedToUsersAndEscaped) {
  EXPECT_EQ(AccountFilter(*ParseAccountId("alice.adams")),
            "(&(objectCategory=person)(objectClass=user)(sAMAccountName=alice.adams))");
  EXPECT_EQ(AccountFilter(*ParseAccountId("*)(sAMAccountName=*")),
            "(&(objectCategory=person)(objectClass=user)(sAMAccountName=\\2a\\29\\28sAMAccountName=\\2a))");
  EXPECT_EQ(AssertionFor(*ParseAccountId("S-1-5-32-544")),
            "(objectSid=\\01\\02\\00\\00\\00\\00\\00\\05\\20\\00\\00\\00\\20\\02\\00\\00)");
  EXPECT_EQ(AssertionFor(*ParseAccountId("00112233-4455-6677-8899-aabbccddeeff")),
            "(objectGUID=\\33\\22\\11\\00\\55\\44\\77\\66\\88\\99\\aa\\bb\\cc\\dd\\ee\\ff)");
}

}  // namespace
}  // namespace cordon::ad
