#include "common/rate_limiter.h"

#include <gtest/gtest.h>

namespace gridbot {
namespace {

TEST(RateLimiter, BurstThenRefillPerKey) {
  RateLimiter r(3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(r.Allow("a", 0));
  EXPECT_FALSE(r.Allow("a", 0));
  EXPECT_TRUE(r.Allow("b", 0));  // another key has its own
  EXPECT_EQ(r.RetryAfterSeconds("a", 0), 20);
  EXPECT_FALSE(r.Allow("a", 19000));
  EXPECT_TRUE(r.Allow("a", 20000));  // one token every 20 s
  EXPECT_FALSE(r.Allow("a", 20000));
}

TEST(RateLimiter, ZeroIsNoLimitAndKeysAreBounded) {
  RateLimiter none(0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(none.Allow("x", 0));
  RateLimiter r(2, 100);
  for (int i = 0; i < 1000; ++i) r.Allow("k" + std::to_string(i), i);
  EXPECT_LE(r.keys(), 100u);
}

}  // namespace
}  // namespace gridbot
