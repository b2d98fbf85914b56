#include "connectors/http/http_client.h"

#include <memory>

#include <gtest/gtest.h>

#include "connectors/http/jwt.h"
#include "support/scripted_http_server.h"

namespace cordon::http {
namespace {

TEST(HttpClient, ReadsTheDateFormsHttpAllows) {
  for (const char* form : {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                           "Sun Nov  6 08:49:37 1994", "  Sun, 06 Nov 1994 08:49:37 GMT "}) {
    auto t = ParseHttpDate(form);
    ASSERT_TRUE(t) << form;
    EXPECT_EQ(ToUnixMillis(*t), 784111777000) << form;
  }
  auto cet = ParseHttpDate("Sun, 06 Nov 1994 09:49:37 CET");
  ASSERT_TRUE(cet);
  EXPECT_EQ(ToUnixMillis(*cet), 784111777000);
  for (const char* bad : {"garbage", "", "Xyz, 99 Foo 2026 99:99:99 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
                          "Sun, 06 Nov 1994 08:49:37 GMT and then some more text to be too long"})
    EXPECT_FALSE(ParseHttpDate(bad)) << bad;
}

TEST(HttpClient, Base64UrlHasNoPaddingAndReadsBack) {
  EXPECT_EQ(Base64Url(""), "");
  EXPECT_EQ(Base64Url("f"), "Zg");
  EXPECT_EQ(Base64Url("fo"), "Zm8");
  EXPECT_EQ(Base64Url("foo"), "Zm9v");
  EXPECT_EQ(Base64Url("\xfb\xff"), "-_8");
  for (const char* bytes : {"", "f", "fo", "foo", "foob", "\xfb\xff", "{\"roles\":[\"User.Read.All\"]}"})
    EXPECT_EQ(Base64UrlDecode(Base64Url(bytes)), std::string(bytes)) << bytes;
  EXPECT_EQ(Base64UrlDecode("Zg=="), "f");
  EXPECT_FALSE(Base64UrlDecode("Z"));
  EXPECT_FALSE(Base64UrlDecode("Zm+v"));
  EXPECT_FALSE(Base64UrlDecode("Zm9*"));
}

TEST(HttpClient, AJwtPayloadIsReadWithoutItsSignature) {
  const std::string jwt = Base64Url(R"({"alg":"RS256"})") + "." + Base64Url(R"({"roles":["A","B"]})") + ".sig";
  auto payload = UnverifiedJwtPayload(jwt);
  ASSERT_TRUE(payload);
  EXPECT_EQ((*payload)["roles"].size(), 2u);
  EXPECT_FALSE(UnverifiedJwtPayload("not a jwt"));
  EXPECT_FALSE(UnverifiedJwtPayload("a." + Base64Url("[1]") + ".c"));
}

TEST(HttpClient, AnRs256SignatureNeedsAnRsaPrivateKeyAndNamesNoneOfIt) {
  auto bad = SignRs256Jwt({}, {{"iss", "x"}}, Secret("not a key at all"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("not a key at all"), std::string::npos);
}

TEST(HttpClient, HeadersAreLowercasedAndABodyGoesWithPatch) {
  testing::ScriptedHttpServer server([](const testing::ScriptedHttpServer::Request&) {
    return testing::ScriptedHttpServer::Response{204, {{"Retry-After", "1"}, {"X-Twice", "a"}, {"X-Twice", "b"}}, ""};
  });
  ASSERT_TRUE(CurlReady());
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  auto answer = Perform(curl.get(), HttpOptions{"", true, Millis(5000)},
                        HttpRequest{"PATCH", server.base_url() + "/x", {"Content-Type: application/json"}, "{}"});
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->status, 204);
  EXPECT_EQ(answer->Last("retry-after"), "1");
  EXPECT_EQ(answer->Last("x-twice"), "b");
  ASSERT_EQ(server.Requests().size(), 1u);
  EXPECT_EQ(server.Requests()[0].body, "{}");
  // Plain http:// is refused unless asked for.
  auto refused = Perform(curl.get(), HttpOptions{"", false, Millis(5000)},
                         HttpRequest{"GET", server.base_url() + "/x", {}, ""});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().blame, Blame::kProvider);
  EXPECT_EQ(server.Requests().size(), 1u);
}

TEST(HttpClient, APagingLinkIsFollowedOnlyOnTheSameOrigin) {
  const std::string base = "https://graph.example.test";
  EXPECT_EQ(PathOnOrigin(base, "https://graph.example.test/v1.0/users?$top=999&$skiptoken=abc"),
            "/v1.0/users?$top=999&$skiptoken=abc");
  EXPECT_EQ(PathOnOrigin(base, "HTTPS://Graph.Example.Test:443/v1.0/users"), "/v1.0/users")
      << "case and the default port do not make another origin";
  EXPECT_EQ(PathOnOrigin("https://127.0.0.1:8443", "https://127.0.0.1:8443/api/v1/users?after=00u1&limit=200"),
            "/api/v1/users?after=00u1&limit=200");
  for (const char* foreign :
       {"https://evil.example.test/v1.0/users", "http://graph.example.test/v1.0/users",
        "https://graph.example.test:8443/v1.0/users", "https://graph.example.test.evil.test/v1.0/users",
        "https://user:pw@graph.example.test/v1.0/users", "https://graph.example.test@evil.test/v1.0/users",
        "//evil.test/v1.0/users", "/v1.0/users", "ftp://graph.example.test/x", "not a url", ""})
    EXPECT_FALSE(PathOnOrigin(base, foreign)) << foreign;
  EXPECT_FALSE(PathOnOrigin("https://127.0.0.1:8443", "https://127.0.0.1:8444/api/v1/users"));
}

}  // namespace
}  // namespace cordon::http
