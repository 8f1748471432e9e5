#include "common/rate_limiter.h"

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

namespace gridbot {

std::string AddressForLimits(const std::string& address) {
  unsigned char v6[16];
  if (address.find(':') == std::string::npos || inet_pton(AF_INET6, address.c_str(), v6) != 1)
    return address;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char text[INET6_ADDRSTRLEN];
  if (std::equal(kMapped, kMapped + 12, v6)) {
    if (!inet_ntop(AF_INET, v6 + 12, text, sizeof text)) return address;
    return text;
  }
  std::fill(v6 + 8, v6 + 16, 0);
  if (!inet_ntop(AF_INET6, v6, text, sizeof text)) return address;
  return std::string(text) + "/64";
}

void RateLimiter::Refill(Bucket& b, std::int64_t now_ms) const {
  const double elapsed = static_cast<double>(std::max<std::int64_t>(0, now_ms - b.at_ms));
  b.tokens = std::min<double>(per_minute_, b.tokens + elapsed * per_minute_ / 60000.0);
  b.at_ms = std::max(b.at_ms, now_ms);
}

void RateLimiter::Sweep(std::int64_t now_ms) {
  // Full buckets say nothing a fresh one would not: forget them.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(it->second, now_ms);
    it = it->second.tokens >= per_minute_ ? buckets_.erase(it) : std::next(it);
  }
  last_sweep_ms_ = now_ms;
}

void RateLimiter::Evict(std::int64_t now_ms) {
  Sweep(now_ms);
  if (buckets_.size() < max_keys_) return;
  // Still full (a flood of keys, all busy): drop the longest idle half.
  std::vector<std::pair<std::int64_t, std::string>> by_age;
  by_age.reserve(buckets_.size());
  for (const auto& [key, b] : buckets_) by_age.emplace_back(b.at_ms, key);
  std::nth_element(by_age.begin(), by_age.begin() + by_age.size() / 2, by_age.end());
  for (size_t i = 0; i < by_age.size() / 2; ++i) buckets_.erase(by_age[i].second);
}

bool RateLimiter::Allow(const std::string& key, std::int64_t now_ms) {
  if (per_minute_ <= 0) return true;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      Evict(now_ms);
    } else if (buckets_.size() >= kSweepAbove && now_ms - last_sweep_ms_ >= kSweepEveryMs) {
      // Every few seconds: so that what is kept is the keys of the last
      // moments (memory follows the customers active now, not all seen).
      Sweep(now_ms);
    }
    it = buckets_.emplace(key, Bucket{static_cast<double>(per_minute_), now_ms}).first;
  }
  Refill(it->second, now_ms);
  if (it->second.tokens < 1) return false;
  it->second.tokens -= 1;
  return true;
}

int RateLimiter::RetryAfterSeconds(const std::string& key, std::int64_t now_ms) {
  if (per_minute_ <= 0) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return 0;
  Refill(it->second, now_ms);
  if (it->second.tokens >= 1) return 0;
  return static_cast<int>(std::ceil((1 - it->second.tokens) * 60.0 / per_minute_));
}

int LocalRequestLimit::Take(const std::string& key) {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  if (limiter_.Allow(key, now)) return 0;
  return std::max(1, limiter_.RetryAfterSeconds(key, now));
}

size_t RateLimiter::keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

}  // namespace gridbot
