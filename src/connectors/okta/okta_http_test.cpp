#include "connectors/okta/okta_http.h"

#include <gtest/gtest.h>

#include "connectors/okta/client_assertion.h"

namespace cordon::okta {
namespace {

using namespace std::chrono_literals;

http::HttpAnswer WithHeaders(std::map<std::string, std::vector<std::string>> headers) {
  http::HttpAnswer a;
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
  const TimePoint okta_now = *http::ParseHttpDate("Fri, 15 Jan 2027 08:00:00 GMT");
  const int64_t reset = ToUnixMillis(okta_now) / 1000 + 42;
  http::HttpAnswer a = WithHeaders({{"x-rate-limit-reset", {std::to_string(reset)}}, {"date", {"Fri, 15 Jan 2027 08:00:00 GMT"}}});
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

TEST(OktaHttp, TheNextPageIsTheLinkWhoseRelationIsNext) {
  const std::string next = "https://example.okta.com/api/v1/users?after=00u2&limit=200";
  // Okta's own form: one header per link.
  EXPECT_EQ(NextLinkOf(WithHeaders({{"link", {"<https://example.okta.com/api/v1/users?limit=200>; rel=\"self\"",
                                              "<" + next + ">; rel=\"next\""}}})),
            next);
  // Both in one header, unquoted, other parameters and case.
  EXPECT_EQ(NextLinkOf(WithHeaders({{"link", {"<https://x/self>; rel=self, <" + next + ">;title=\"a, b\"; REL=Next"}}})),
            next);
  // Several relation types, a comma inside the URL (Okta's fields=profile:(a,b)).
  const std::string comma = "https://example.okta.com/api/v1/users?fields=profile:(firstName,lastName)&after=00u9";
  EXPECT_EQ(NextLinkOf(WithHeaders({{"link", {"<" + comma + ">; rel=\"prefetch next\""}}})), comma);
  // No next page.
  EXPECT_FALSE(NextLinkOf(WithHeaders({{"link", {"<https://example.okta.com/api/v1/users?limit=200>; rel=\"self\""}}})));
  EXPECT_FALSE(NextLinkOf(WithHeaders({})));
  EXPECT_FALSE(NextLinkOf(WithHeaders({{"link", {"<https://x/nextish>; rel=\"nextish\"", "garbage", "<unclosed"}}})));
}

TEST(OktaHttp, AnAssertionNeedsAnRsaPrivateKeyAndNamesNoneOfIt) {
  auto bad = MakeClientAssertion("0oa1", "https://example.okta.com/oauth2/v1/token", Secret("not a key at all"), Now());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("not a key at all"), std::string::npos);
}

}  // namespace
}  // namespace cordon::okta
