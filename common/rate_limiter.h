// RateLimiter: at most `per_minute` events per key and minute, with bursts
// of up to that many (a token bucket refilled continuously), for the
// service's request limits (per source address, per customer).
//
//   RateLimiter per_customer(30);
//   if (!per_customer.Allow("wechat|oAbc", now_ms)) return TooMany();
//
// Memory is bounded and follows the keys active now: every few seconds the
// keys whose buckets have refilled (idle ones) are forgotten; at most
// `max_keys` keys are remembered, and when full the idle ones go first, then
// the longest idle. A limit of 0 allows everything.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace gridbot {

// The key a client address is limited and counted by: an IPv4 address as it
// is (an IPv4-mapped IPv6 address as its IPv4 one), an IPv6 address by its
// /64 — one subscriber's whole prefix, so that a guesser with a /64 can't
// take a fresh address per try. Text that is no address is returned as is.
//   AddressForLimits("2001:db8:1:2:aaaa::5")  // "2001:db8:1:2::/64"
std::string AddressForLimits(const std::string& address);

class RateLimiter {
 public:
  explicit RateLimiter(int per_minute, size_t max_keys = 100000)
      : per_minute_(per_minute), max_keys_(max_keys) {}

  // Takes one token of `key` at `now_ms` (a monotonic clock in ms); false
  // when there is none left.
  bool Allow(const std::string& key, std::int64_t now_ms);
  // Seconds until `key` has a token again (0 if it has one).
  int RetryAfterSeconds(const std::string& key, std::int64_t now_ms);
  size_t keys() const;

 private:
  struct Bucket {
    double tokens;
    std::int64_t at_ms;
  };
  void Refill(Bucket& b, std::int64_t now_ms) const;
  void Sweep(std::int64_t now_ms);  // forgets the full buckets
  void Evict(std::int64_t now_ms);
  static constexpr size_t kSweepAbove = 1024;
  static constexpr std::int64_t kSweepEveryMs = 5000;

  const int per_minute_;
  const size_t max_keys_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
  std::int64_t last_sweep_ms_ = 0;                    // GUARDED_BY(mu_)
};

// A request limit as the service asks it, wherever it is counted (this
// process's memory, or a database several instances share: see
// storage/limits.h). Thread safety: Take may be called from any thread.
class RequestLimit {
 public:
  virtual ~RequestLimit() = default;
  // Counts one request of `key` if it may make one now: 0. Otherwise the
  // seconds until it may (at least 1), and nothing is counted.
  virtual int Take(const std::string& key) = 0;
};

// RequestLimit in this process's memory, on the monotonic clock: right
// when one process serves (the embedded database).
class LocalRequestLimit : public RequestLimit {
 public:
  explicit LocalRequestLimit(int per_minute) : limiter_(per_minute) {}
  int Take(const std::string& key) override;

 private:
  RateLimiter limiter_;
};

}  // namespace gridbot
