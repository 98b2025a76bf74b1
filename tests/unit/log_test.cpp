// The log rate limiter: one line per interval, the next one counting the rest.
#include "util/log.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace roomcast::log {
namespace {

TEST(RateLimiter, LetsOneLinePerIntervalAndCountsTheRest) {
  rate_limiter limiter(std::chrono::milliseconds(50));
  std::uint64_t suppressed = 99;
  EXPECT_TRUE(limiter.allow(suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(limiter.allow(suppressed));
  EXPECT_FALSE(limiter.allow(suppressed));
  std::this_thread::sleep_for(std::chrono::milliseconds(60));  // the interval itself is the subject
  EXPECT_TRUE(limiter.allow(suppressed));
  EXPECT_EQ(suppressed, 2u);
}

TEST(LogLevel, ParsesTheFourNamesOnly) {
  level l = level::info;
  EXPECT_TRUE(parse_level("debug", l));
  EXPECT_EQ(l, level::debug);
  EXPECT_TRUE(parse_level("error", l));
  EXPECT_EQ(l, level::error);
  EXPECT_FALSE(parse_level("verbose", l));
  EXPECT_EQ(l, level::error);
}

}  // namespace
}  // namespace roomcast::log
