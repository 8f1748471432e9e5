// Metrics for GET /metrics, in the Prometheus text format: requests by
// endpoint and status, turns by intent, fallbacks, handoffs, and a request
// latency histogram.
//
// Thread safety: all members are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace gridbot::bot {

class Metrics {
 public:
  void Request(const std::string& endpoint, int status, double seconds);
  // One dialog turn, handled as `intent`; `fallback` if the bot said it did
  // not understand.
  void Turn(const std::string& intent, bool fallback);
  std::string Render() const;

 private:
  static constexpr std::array<double, 10> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,  0.1,    0.25,  0.5,  1.0};
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;  // GUARDED_BY(mu_)
  std::map<std::string, std::uint64_t> turns_;                     // GUARDED_BY(mu_)
  std::uint64_t fallbacks_ = 0;                                    // GUARDED_BY(mu_)
  std::array<std::uint64_t, kBuckets.size()> bucket_counts_{};     // GUARDED_BY(mu_)
  std::uint64_t latency_count_ = 0;                                // GUARDED_BY(mu_)
  double latency_sum_ = 0;                                         // GUARDED_BY(mu_)
};

}  // namespace gridbot::bot
