#include "bot/metrics.h"

#include <sstream>

namespace gridbot::bot {

void Metrics::Request(const std::string& endpoint, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{endpoint, status}];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++bucket_counts_[i];
  ++latency_count_;
  latency_sum_ += seconds;
}

void Metrics::Turn(const std::string& intent, bool fallback) {
  std::lock_guard<std::mutex> lock(mu_);
  ++turns_[intent];
  if (fallback) ++fallbacks_;
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream o;
  o << "# HELP gridbot_requests_total HTTP requests by endpoint and status.\n"
    << "# TYPE gridbot_requests_total counter\n";
  for (const auto& [k, n] : requests_)
    o << "gridbot_requests_total{endpoint=\"" << k.first << "\",status=\"" << k.second << "\"} "
      << n << "\n";
  o << "# HELP gridbot_turns_total Dialog turns by intent.\n"
    << "# TYPE gridbot_turns_total counter\n";
  std::uint64_t fallbacks = fallbacks_, handoffs = 0;
  for (const auto& [intent, n] : turns_) {
    o << "gridbot_turns_total{intent=\"" << intent << "\"} " << n << "\n";
    if (intent == "human_agent") handoffs += n;
  }
  o << "# HELP gridbot_fallbacks_total Turns the bot did not understand.\n"
    << "# TYPE gridbot_fallbacks_total counter\ngridbot_fallbacks_total " << fallbacks << "\n"
    << "# HELP gridbot_handoffs_total Requests for a human agent.\n"
    << "# TYPE gridbot_handoffs_total counter\ngridbot_handoffs_total " << handoffs << "\n"
    << "# HELP gridbot_request_seconds Request latency.\n"
    << "# TYPE gridbot_request_seconds histogram\n";
  for (size_t i = 0; i < kBuckets.size(); ++i)
    o << "gridbot_request_seconds_bucket{le=\"" << kBuckets[i] << "\"} " << bucket_counts_[i]
      << "\n";
  o << "gridbot_request_seconds_bucket{le=\"+Inf\"} " << latency_count_ << "\n"
    << "gridbot_request_seconds_sum " << latency_sum_ << "\n"
    << "gridbot_request_seconds_count " << latency_count_ << "\n";
  return o.str();
}

}  // namespace gridbot::bot
