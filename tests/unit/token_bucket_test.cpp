#include "util/token_bucket.hpp"

#include <gtest/gtest.h>

namespace roomcast::util {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucket, BurstThenRate) {
  auto t0 = token_bucket::clock::time_point{};
  token_bucket bucket(10, 5, t0);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.take(1, t0)) << i;
  EXPECT_FALSE(bucket.take(1, t0)) << "the burst is spent";
  EXPECT_FALSE(bucket.take(1, t0 + 50ms)) << "half a token after 50 ms";
  EXPECT_TRUE(bucket.take(1, t0 + 100ms)) << "one token per 100 ms at 10/s";
  EXPECT_FALSE(bucket.take(1, t0 + 100ms));
}

TEST(TokenBucket, NeverBanksMoreThanTheBurst) {
  auto t0 = token_bucket::clock::time_point{};
  token_bucket bucket(10, 3, t0);
  int taken = 0;
  while (bucket.take(1, t0 + 1h)) ++taken;
  EXPECT_EQ(taken, 3);
}

TEST(TokenBucket, WeightedTakesAreAllOrNothing) {
  auto t0 = token_bucket::clock::time_point{};
  token_bucket bytes(1000, 1000, t0);
  EXPECT_TRUE(bytes.take(600, t0));
  EXPECT_FALSE(bytes.take(600, t0)) << "only 400 left";
  EXPECT_TRUE(bytes.take(400, t0)) << "nothing was taken by the refused take";
}

TEST(TokenBucket, CanTakeTakesNothing) {
  auto t0 = token_bucket::clock::time_point{};
  token_bucket bucket(10, 2, t0);
  EXPECT_TRUE(bucket.can_take(2, t0));
  EXPECT_TRUE(bucket.can_take(2, t0));
  EXPECT_FALSE(bucket.can_take(3, t0));
  EXPECT_TRUE(bucket.take(2, t0));
  EXPECT_FALSE(bucket.can_take(1, t0));
}

TEST(TokenBucket, ZeroRateIsUnlimited) {
  token_bucket bucket(0, 0);
  EXPECT_TRUE(bucket.unlimited());
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(bucket.take(1e9));
}

}  // namespace
}  // namespace roomcast::util
