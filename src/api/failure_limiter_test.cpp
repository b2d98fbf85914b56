#include "api/failure_limiter.h"

#include <gtest/gtest.h>

namespace cordon::api {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const FailureLimiter::SteadyTime kT0{seconds(1000)};

TEST(FailureLimiterTest, ABurstThenOnePerSecond) {
  FailureLimiter limiter;  // the shipped numbers: 20 in a row, then 1 per second
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(limiter.Failure("192.0.2.7", kT0).allowed) << i;
  const auto refused = limiter.Failure("192.0.2.7", kT0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_TRUE(refused.newly_throttled);
  EXPECT_EQ(refused.retry_after, seconds(1));
  EXPECT_FALSE(limiter.Failure("192.0.2.7", kT0 + milliseconds(500)).newly_throttled) << "said once";
  EXPECT_TRUE(limiter.Failure("192.0.2.7", kT0 + milliseconds(1000)).allowed) << "one more a second later";
  EXPECT_FALSE(limiter.Failure("192.0.2.7", kT0 + milliseconds(1000)).allowed);
  // Another address has its own bucket.
  EXPECT_TRUE(limiter.Failure("192.0.2.8", kT0).allowed);
  // After a quiet spell the whole burst is back.
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(limiter.Failure("192.0.2.7", kT0 + seconds(60)).allowed) << i;
  const auto again = limiter.Failure("192.0.2.7", kT0 + seconds(60));
  EXPECT_FALSE(again.allowed);
  EXPECT_TRUE(again.newly_throttled) << "a new episode is reported again";
}

TEST(FailureLimiterTest, Ipv6CountsPerSlash64AndMappedIpv4AsIpv4) {
  EXPECT_EQ(FailureLimiter::KeyOf("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(FailureLimiter::KeyOf("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(FailureLimiter::KeyOf("192.0.2.7"), "192.0.2.7");
  FailureLimiter limiter({.burst = 2, .per_second = 1, .max_addresses = 100});
  EXPECT_TRUE(limiter.Failure("2001:db8::1", kT0).allowed);
  EXPECT_TRUE(limiter.Failure("2001:db8::2", kT0).allowed);
  EXPECT_FALSE(limiter.Failure("2001:db8::3", kT0).allowed) << "one /64, one bucket";
  EXPECT_TRUE(limiter.Failure("2001:db8:0:1::1", kT0).allowed) << "the next /64 is another bucket";
}

TEST(FailureLimiterTest, TheTableStaysBoundedWhateverTheNumberOfAddresses) {
  FailureLimiter limiter({.burst = 5, .per_second = 1, .max_addresses = 100});
  for (int i = 0; i < 10000; ++i) {
    const std::string address =
        "10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256);
    (void)limiter.Failure(address, kT0 + milliseconds(i));
    ASSERT_LE(limiter.size(), 100u);
  }
  // Once their buckets have refilled, idle addresses are forgotten.
  (void)limiter.Failure("192.0.2.1", kT0 + seconds(3600));
  EXPECT_EQ(limiter.size(), 1u);
}

}  // namespace
}  // namespace cordon::api
