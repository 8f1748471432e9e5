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

// A million customers writing once each must not leave a million buckets:
// refilled ones are forgotten every few seconds, limited ones kept.
TEST(RateLimiter, IdleKeysAreForgottenAndBusyOnesKept) {
  RateLimiter r(30);
  for (int i = 0; i < 4000; ++i) EXPECT_TRUE(r.Allow("k" + std::to_string(i), i));
  EXPECT_EQ(r.keys(), 4000u);  // within the first seconds: nothing swept yet
  for (int i = 0; i < 30; ++i) EXPECT_TRUE(r.Allow("busy", 69000));  // a new key sweeps
  EXPECT_EQ(r.keys(), 1u);
  EXPECT_TRUE(r.Allow("new", 70000));
  EXPECT_EQ(r.keys(), 2u);
  EXPECT_FALSE(r.Allow("busy", 70000));  // still limited
}

TEST(AddressForLimits, AnIPv6ClientIsItsSlash64AndAMappedOneItsIPv4) {
  EXPECT_EQ(AddressForLimits("198.51.100.20"), "198.51.100.20");
  EXPECT_EQ(AddressForLimits("2001:db8:1:2:aaaa::5"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressForLimits("2001:0db8:0001:0002:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  EXPECT_NE(AddressForLimits("2001:db8:1:3::5"), AddressForLimits("2001:db8:1:2::5"));
  EXPECT_EQ(AddressForLimits("::ffff:198.51.100.20"), "198.51.100.20");
  EXPECT_EQ(AddressForLimits("not an address"), "not an address");
  EXPECT_EQ(AddressForLimits("1:2:3"), "1:2:3");
  EXPECT_EQ(AddressForLimits(""), "");
}

}  // namespace
}  // namespace gridbot
