#include "connectors/okta/okta_http.h"

#include <gtest/gtest.h>

#include "connectors/okta/client_assertion.h"

namespace cordon::okta {
namespace {

using namespace std::chrono_literals;

TEST(OktaHttp, ReadsTheDateFormsHttpAllows) {
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

HttpAnswer WithHeaders(std::map<std::string, std::vector<std::string>> headers) {
  HttpAnswer a;
  a.status = 200;
  a.headers = std::move(headers);
  return a;
}

TEST(OktaHttp, ARepeatedResetCountsByItsLastValue) {
  auto r = RateLimitOf(WithHeaders({{"x-rate-limit-limit", {"600"}},
                                    {"x-rate-limit-remaining", {"599"}},
                                    {"x-rate-limit-reset", {"1800000000", "1800000060"}},
                                    {"date", {"Fri, 15 Jan 2027 08:00:00 GMT"}}}),
                       0.5);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->limit, 600);
  EXPECT_EQ(r->remaining, 599);
  EXPECT_EQ(r->reset_epoch_seconds, 1800000060);
  ASSERT_TRUE(r->provider_date);
  EXPECT_DOUBLE_EQ(r->share, 0.5);
  EXPECT_FALSE(RateLimitOf(WithHeaders({{"x-rate-limit-limit", {"600"}}}), 1.0));
  auto no_date = RateLimitOf(WithHeaders({{"x-rate-limit-limit", {"600"}},
                                          {"x-rate-limit-remaining", {"1"}},
                                          {"x-rate-limit-reset", {"1800000000"}},
                                          {"date", {"yesterday"}}}),
                             1.0);
  ASSERT_TRUE(no_date);
  EXPECT_FALSE(no_date->provider_date);
}

TEST(OktaHttp, RetryAfterRunsOnOktasClockNeverNegativeAndCapped) {
  // Okta's clock says 08:00:00; its window resets 42 s later. The local clock is an hour off.
  const TimePoint okta_now = *ParseHttpDate("Fri, 15 Jan 2027 08:00:00 GMT");
  const int64_t reset = ToUnixMillis(okta_now) / 1000 + 42;
  HttpAnswer a = WithHeaders({{"x-rate-limit-reset", {std::to_string(reset)}}, {"date", {"Fri, 15 Jan 2027 08:00:00 GMT"}}});
  EXPECT_EQ(RetryAfterOf(a, okta_now + 1h, 600s), 42s);
  EXPECT_EQ(RetryAfterOf(a, okta_now - 1h, 600s), 42s);
  a.headers["date"] = {"Fri, 15 Jan 2027 09:00:00 GMT"};  // Reset already past on Okta's clock
  EXPECT_EQ(RetryAfterOf(a, okta_now, 600s), 0s);
  a.headers["date"] = {"not a date"};  // the local clock stands in
  EXPECT_EQ(RetryAfterOf(a, okta_now + 2s, 600s), 40s);
  a.headers["x-rate-limit-reset"] = {std::to_string(reset + 86400)};
  a.headers["date"] = {"Fri, 15 Jan 2027 08:00:00 GMT"};
  EXPECT_EQ(RetryAfterOf(a, okta_now, 600s), 600s);
  a.headers.erase("x-rate-limit-reset");
  EXPECT_FALSE(RetryAfterOf(a, okta_now, 600s));
}

TEST(OktaHttp, Base64UrlHasNoPadding) {
  EXPECT_EQ(Base64Url(""), "");
  EXPECT_EQ(Base64Url("f"), "Zg");
  EXPECT_EQ(Base64Url("fo"), "Zm8");
  EXPECT_EQ(Base64Url("foo"), "Zm9v");
  EXPECT_EQ(Base64Url("\xfb\xff"), "-_8");
}

TEST(OktaHttp, AnAssertionNeedsAnRsaPrivateKeyAndNamesNoneOfIt) {
  auto bad = MakeClientAssertion("0oa1", "https://example.okta.com/oauth2/v1/token", Secret("not a key at all"), Now());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("not a key at all"), std::string::npos);
}

}  // namespace
}  // namespace cordon::okta
