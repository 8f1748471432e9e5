#include "bot/metrics.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "nlu/nlu.h"

namespace gridbot::bot {

void Metrics::Request(const std::string& endpoint, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{endpoint, status}];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++bucket_counts_[i];
  ++latency_count_;
  latency_sum_ += seconds;
}

std::string Metrics::IntentLabel(const std::string& intent) {
  // Only known values become labels: a menu key or anything a client can
  // choose would add a series per value (and forge lines if unescaped).
  static const std::set<std::string> kEngine = {"secret",        "handoff", "clarify", "welcome",
                                                "bill_complaint", "location_report", "rating",
                                                "media"};
  const auto& known = nlu::KnownIntents();
  if (std::find(known.begin(), known.end(), intent) != known.end() || kEngine.count(intent))
    return intent;
  if (intent.rfind("click:", 0) == 0) return "click";
  if (intent.rfind("ask:", 0) == 0) return "ask";
  return "other";
}

std::string Metrics::EscapeLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void Metrics::Turn(const std::string& intent, bool fallback) {
  std::lock_guard<std::mutex> lock(mu_);
  ++turns_[IntentLabel(intent)];
  if (fallback) ++fallbacks_;
}

void Metrics::Handoff() {
  std::lock_guard<std::mutex> lock(mu_);
  ++handoffs_;
}

void Metrics::DeskTime(const std::string& which, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  Histogram& h = which == "wait" ? desk_wait_ : desk_first_response_;
  for (size_t i = 0; i < kDeskBuckets.size(); ++i)
    if (seconds <= kDeskBuckets[i]) ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::Render() const {
  std::function<DeskGauges()> read;
  std::function<StoreCounters()> read_store;
  {
    std::lock_guard<std::mutex> lock(mu_);
    read = desk_gauges_;
    read_store = store_counters_;
  }
  const DeskGauges desk = read ? read() : DeskGauges{};  // a query: not under mu_
  const StoreCounters db = read_store ? read_store() : StoreCounters{};
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream o;
  o << "# HELP gridbot_requests_total HTTP requests by endpoint and status.\n"
    << "# TYPE gridbot_requests_total counter\n";
  for (const auto& [k, n] : requests_)
    o << "gridbot_requests_total{endpoint=\"" << EscapeLabel(k.first) << "\",status=\"" << k.second << "\"} "
      << n << "\n";
  o << "# HELP gridbot_turns_total Dialog turns by intent.\n"
    << "# TYPE gridbot_turns_total counter\n";
  const std::uint64_t fallbacks = fallbacks_, handoffs = handoffs_;
  for (const auto& [intent, n] : turns_)
    o << "gridbot_turns_total{intent=\"" << EscapeLabel(intent) << "\"} " << n << "\n";
  o << "# HELP gridbot_fallbacks_total Turns the bot did not understand.\n"
    << "# TYPE gridbot_fallbacks_total counter\ngridbot_fallbacks_total " << fallbacks << "\n"
    << "# HELP gridbot_handoffs_total Conversations handed to the desk.\n"
    << "# TYPE gridbot_handoffs_total counter\ngridbot_handoffs_total " << handoffs << "\n"
    << "# HELP gridbot_request_seconds Request latency.\n"
    << "# TYPE gridbot_request_seconds histogram\n";
  for (size_t i = 0; i < kBuckets.size(); ++i)
    o << "gridbot_request_seconds_bucket{le=\"" << kBuckets[i] << "\"} " << bucket_counts_[i]
      << "\n";
  o << "gridbot_request_seconds_bucket{le=\"+Inf\"} " << latency_count_ << "\n"
    << "gridbot_request_seconds_sum " << latency_sum_ << "\n"
    << "gridbot_request_seconds_count " << latency_count_ << "\n";
  o << "# HELP gridbot_desk_queue_length Conversations waiting for a person.\n"
    << "# TYPE gridbot_desk_queue_length gauge\ngridbot_desk_queue_length " << desk.queued << "\n"
    << "# HELP gridbot_desk_held Conversations held by agents.\n"
    << "# TYPE gridbot_desk_held gauge\ngridbot_desk_held " << desk.held << "\n"
    << "# HELP gridbot_desk_overdue Conversations waiting past the configured time.\n"
    << "# TYPE gridbot_desk_overdue gauge\ngridbot_desk_overdue " << desk.overdue << "\n";
  auto histogram = [&o](const char* name, const char* help, const Histogram& h) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
    for (size_t i = 0; i < kDeskBuckets.size(); ++i)
      o << name << "_bucket{le=\"" << kDeskBuckets[i] << "\"} " << h.buckets[i] << "\n";
    o << name << "_bucket{le=\"+Inf\"} " << h.count << "\n"
      << name << "_sum " << h.sum << "\n" << name << "_count " << h.count << "\n";
  };
  o << "# HELP gridbot_db_commits_total Database commits (each a batch of transactions).\n"
    << "# TYPE gridbot_db_commits_total counter\ngridbot_db_commits_total " << db.batches << "\n"
    << "# HELP gridbot_db_transactions_total Transactions committed in those batches.\n"
    << "# TYPE gridbot_db_transactions_total counter\ngridbot_db_transactions_total "
    << db.transactions << "\n"
    << "# HELP gridbot_db_failed_commits_total Batches that failed (all their transactions failed).\n"
    << "# TYPE gridbot_db_failed_commits_total counter\ngridbot_db_failed_commits_total "
    << db.failed << "\n";
  histogram("gridbot_desk_wait_seconds", "Time from handoff to the first claim.", desk_wait_);
  histogram("gridbot_desk_first_response_seconds", "Time from handoff to the first agent reply.",
            desk_first_response_);
  return o.str();
}

}  // namespace gridbot::bot
