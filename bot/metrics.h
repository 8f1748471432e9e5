// Metrics for GET /metrics, in the Prometheus text format: requests by
// endpoint and status, turns by intent, fallbacks, handoffs, and a request
// latency histogram.
//
// Thread safety: all members are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace gridbot::bot {

class Metrics {
 public:
  void Request(const std::string& endpoint, int status, double seconds);
  // One dialog turn, handled as `intent`; `fallback` if the bot said it did
  // not understand.
  // The label a turn's intent is counted under: an nlu.md or engine intent
  // as is, "click" for any menu key, "ask" for questions about a step,
  // "other" for anything else (bounded: a client cannot add series).
  static std::string IntentLabel(const std::string& intent);
  // A Prometheus label value escaped (\\, \", \n).
  static std::string EscapeLabel(const std::string& value);
  void Turn(const std::string& intent, bool fallback);
  // A conversation handed to the desk (asked, not understood, gave up).
  void Handoff();
  // Desk times, in seconds: "wait" (queued until first claimed) and
  // "first_response" (queued until the first agent reply).
  void DeskTime(const std::string& which, double seconds);
  // Read at each Render: conversations queued, held, waiting past their time.
  struct DeskGauges {
    int queued = 0, held = 0, overdue = 0;
  };
  void SetDeskGauges(std::function<DeskGauges()> read) {
    std::lock_guard<std::mutex> lock(mu_);
    desk_gauges_ = std::move(read);
  }
  // Read at each Render: the database's commits (group commit: turns per
  // batch is transactions / batches).
  struct StoreCounters {
    std::uint64_t batches = 0, transactions = 0, failed = 0;
  };
  void SetStoreCounters(std::function<StoreCounters()> read) {
    std::lock_guard<std::mutex> lock(mu_);
    store_counters_ = std::move(read);
  }
  std::string Render() const;

 private:
  static constexpr std::array<double, 10> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,  0.1,    0.25,  0.5,  1.0};
  mutable std::mutex mu_;
  std::function<StoreCounters()> store_counters_;                  // GUARDED_BY(mu_)
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;  // GUARDED_BY(mu_)
  std::map<std::string, std::uint64_t> turns_;                     // GUARDED_BY(mu_)
  std::uint64_t fallbacks_ = 0;                                    // GUARDED_BY(mu_)
  std::array<std::uint64_t, kBuckets.size()> bucket_counts_{};     // GUARDED_BY(mu_)
  std::uint64_t latency_count_ = 0;                                // GUARDED_BY(mu_)
  double latency_sum_ = 0;                                         // GUARDED_BY(mu_)
  std::uint64_t handoffs_ = 0;                                     // GUARDED_BY(mu_)
  static constexpr std::array<double, 9> kDeskBuckets = {10, 30, 60, 120, 300, 600, 1200, 1800, 3600};
  struct Histogram {
    std::array<std::uint64_t, kDeskBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  Histogram desk_wait_, desk_first_response_;  // GUARDED_BY(mu_)
  std::function<DeskGauges()> desk_gauges_;     // GUARDED_BY(mu_)
};

}  // namespace gridbot::bot
