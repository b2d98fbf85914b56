#include "engine/retry.h"

#include <set>

#include <gtest/gtest.h>

namespace cordon {
namespace {

TEST(RetryDelay, StaysWithinTheDoublingWindow) {
  BackoffPolicy policy{Millis(100), Millis(10000), Millis(60000)};
  std::mt19937_64 rng(42);
  for (int attempt = 1; attempt <= 6; ++attempt) {
    int64_t ceiling = 100LL << (attempt - 1);
    for (int i = 0; i < 200; ++i) {
      Millis d = RetryDelay(policy, attempt, std::nullopt, rng);
      EXPECT_GE(d.count(), 100) << "attempt " << attempt;
      EXPECT_LE(d.count(), ceiling) << "attempt " << attempt;
    }
  }
}

TEST(RetryDelay, IsCappedAndNeverOverflows) {
  BackoffPolicy policy{Millis(500), Millis(60000), Millis(600000)};
  std::mt19937_64 rng(7);
  for (int attempt : {10, 20, 63, 64, 1000, 1 << 30}) {
    Millis d = RetryDelay(policy, attempt, std::nullopt, rng);
    EXPECT_GE(d.count(), 500);
    EXPECT_LE(d.count(), 60000);
  }
}

TEST(RetryDelay, IsJitteredNotConstant) {
  BackoffPolicy policy{Millis(100), Millis(10000), Millis(60000)};
  std::mt19937_64 rng(1);
  std::set<int64_t> seen;
  for (int i = 0; i < 50; ++i) seen.insert(RetryDelay(policy, 5, std::nullopt, rng).count());
  EXPECT_GT(seen.size(), 20u);
}

TEST(RetryDelay, IsReproducibleWithASeededRng) {
  BackoffPolicy policy;
  std::mt19937_64 a(123), b(123);
  for (int attempt = 1; attempt < 8; ++attempt)
    EXPECT_EQ(RetryDelay(policy, attempt, std::nullopt, a), RetryDelay(policy, attempt, std::nullopt, b));
}

TEST(RetryDelay, HonoursALongerProviderHint) {
  BackoffPolicy policy{Millis(100), Millis(1000), Millis(600000)};
  std::mt19937_64 rng(9);
  for (int i = 0; i < 100; ++i) {
    Millis d = RetryDelay(policy, 1, Millis(30000), rng);
    EXPECT_GE(d.count(), 30000);
    EXPECT_LE(d.count(), 33000);
  }
}

TEST(RetryDelay, AShortHintDoesNotShortenTheBackoff) {
  BackoffPolicy policy{Millis(1000), Millis(60000), Millis(600000)};
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100; ++i) EXPECT_GE(RetryDelay(policy, 3, Millis(1), rng).count(), 1000);
}

TEST(RetryDelay, BoundsAnAbsurdHint) {
  BackoffPolicy policy{Millis(100), Millis(1000), Millis(60000)};
  std::mt19937_64 rng(5);
  Millis d = RetryDelay(policy, 1, Millis(365LL * 24 * 3600 * 1000), rng);
  EXPECT_GE(d.count(), 60000);
  EXPECT_LE(d.count(), 66000);
}

TEST(RetryDelay, SurvivesADegeneratePolicy) {
  BackoffPolicy policy{Millis(0), Millis(-5), Millis(-1)};
  std::mt19937_64 rng(5);
  EXPECT_GE(RetryDelay(policy, 0, Millis(-3), rng).count(), 1);
}

}  // namespace
}  // namespace cordon
