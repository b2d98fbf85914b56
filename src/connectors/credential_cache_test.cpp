#include "connectors/credential_cache.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace cordon {
namespace {

using namespace std::chrono_literals;

TEST(CredentialCache, LoadsOnceAndSharesTheValue) {
  int loads = 0;
  CredentialCache cache([&]() -> Result<CredentialCache::Credential> {
    ++loads;
    return CredentialCache::Credential{Secret("pw-" + std::to_string(loads)), {}};
  });
  const TimePoint now = Now();
  auto a = cache.Get(now);
  auto b = cache.Get(now + 24h);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->value.Reveal(), "pw-1");
  EXPECT_EQ(b->value.Reveal(), "pw-1");
  EXPECT_EQ(loads, 1);
}

TEST(CredentialCache, RenewsBeforeExpiry) {
  int loads = 0;
  const TimePoint t0 = FromUnixMillis(1'800'000'000'000);
  CredentialCache cache(
      [&]() -> Result<CredentialCache::Credential> {
        ++loads;
        return CredentialCache::Credential{Secret("tok-" + std::to_string(loads)), t0 + 3600s};
      },
      60s);
  EXPECT_EQ(cache.Get(t0)->value.Reveal(), "tok-1");
  EXPECT_EQ(cache.Get(t0 + 3539s)->value.Reveal(), "tok-1");
  EXPECT_EQ(cache.Get(t0 + 3541s)->value.Reveal(), "tok-2") << "renewed a minute ahead of expiry";
  EXPECT_EQ(loads, 2);
}

TEST(CredentialCache, ARefusalReloadsOnceAndAStaleRefusalIsIgnored) {
  int loads = 0;
  CredentialCache cache([&]() -> Result<CredentialCache::Credential> {
    ++loads;
    return CredentialCache::Credential{Secret("v" + std::to_string(loads)), {}};
  });
  auto first = cache.Get(Now());
  ASSERT_TRUE(first);
  cache.Invalidate(first->generation);
  cache.Invalidate(first->generation);  // a second worker saw the same refusal
  auto second = cache.Get(Now());
  ASSERT_TRUE(second);
  EXPECT_EQ(second->value.Reveal(), "v2");
  cache.Invalidate(first->generation);  // late report about the old one
  EXPECT_EQ(cache.Get(Now())->value.Reveal(), "v2");
  EXPECT_EQ(loads, 2);
}

TEST(CredentialCache, AFailedLoadIsNotCached) {
  int loads = 0;
  CredentialCache cache([&]() -> Result<CredentialCache::Credential> {
    if (++loads == 1) return Fail(Error::Unauthenticated("cannot read the password file"));
    return CredentialCache::Credential{Secret("ok"), {}};
  });
  EXPECT_FALSE(cache.Get(Now()));
  auto again = cache.Get(Now());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->value.Reveal(), "ok");
}

TEST(CredentialCache, ConcurrentCallersShareOneLoad) {
  std::atomic<int> loads{0};
  CredentialCache cache([&]() -> Result<CredentialCache::Credential> {
    ++loads;
    std::this_thread::sleep_for(50ms);
    return CredentialCache::Credential{Secret("x"), {}};
  });
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([&] { EXPECT_TRUE(cache.Get(Now())); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(cache.loads(), 1u);
}

}  // namespace
}  // namespace cordon
