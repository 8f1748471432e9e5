#include "analytics/summary.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace gridbot::analytics {
namespace {

using nlohmann::json;

std::string DayOf(UnixSeconds t) {
  const CivilDay d = ToCivilDay(t);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

bool IsHandoff(const std::string& h) {
  return h == "asked" || h == "not_understood" || h == "gave_up";
}

// Figures of one day, or of the whole period.
struct Tally {
  int conversations = 0, handoff_conversations = 0, turns = 0, fallbacks = 0, desk_messages = 0;
  std::set<std::string> customers;
  std::vector<double> latency_ms;

  json ToJson() const {
    json j = {{"conversations", conversations},
              {"turns", turns},
              {"customers", static_cast<int>(customers.size())},
              {"desk_messages", desk_messages},
              {"fallback_rate", turns ? static_cast<double>(fallbacks) / turns : 0.0},
              {"handoff_rate",
               conversations ? static_cast<double>(handoff_conversations) / conversations : 0.0},
              {"latency_ms",
               {{"p50", NearestRank(latency_ms, 50)},
                {"p95", NearestRank(latency_ms, 95)},
                {"p99", NearestRank(latency_ms, 99)}}}};
    return j;
  }
};

struct Run {
  std::string flow, how;  // how: "" while it waits
  std::set<std::string> steps;
  bool started_in_period = false;
  bool abandoned = false;
  UnixSeconds last = 0;  // its last activity
};

}  // namespace

Result<Period> Period::Parse(const std::string& from, const std::string& to, CivilDay today) {
  Period p;
  auto day = [&today](const std::string& s) -> std::optional<CivilDay> {
    if (s.empty()) return today;
    return ParseCivilDay(s);
  };
  auto f = day(from), t = day(to);
  if (!f) return Status::Error("\"from\" must be a date YYYY-MM-DD, got '" + from + "'");
  if (!t) return Status::Error("\"to\" must be a date YYYY-MM-DD, got '" + to + "'");
  p.from = *f;
  p.to = *t;
  p.begin = FromCivil(CivilTime{p.from, 0, 0, 0});
  p.end = FromCivil(CivilTime{p.to, 0, 0, 0}) + 24 * 3600;
  if (p.begin >= p.end) return Status::Error("\"from\" is after \"to\"");
  if (p.end - p.begin > 3660LL * 24 * 3600) return Status::Error("the period is longer than ten years");
  return p;
}

double NearestRank(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * values.size()));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

json Summarize(const std::vector<storage::LoggedTurn>& turns, const Period& period,
               UnixSeconds now) {
  const UnixSeconds horizon = std::min(period.end, std::max(now, period.begin));
  std::map<std::string, Tally> days;
  Tally total;
  std::map<std::string, int> intents;
  std::map<std::string, Run> runs;  // by customer + run number
  std::map<std::string, std::vector<std::string>> step_order;  // flow -> steps, first asked first

  // Days of the period, so that quiet days show as zeros.
  for (UnixSeconds t = period.begin; t < period.end; t += 24 * 3600) days[DayOf(t)];

  size_t i = 0;
  while (i < turns.size()) {
    // One customer's turns, in order.
    size_t j = i;
    while (j < turns.size() && turns[j].channel == turns[i].channel &&
           turns[j].external_id == turns[i].external_id)
      ++j;
    const std::string customer = turns[i].channel + "|" + turns[i].external_id;
    std::vector<std::string> waiting;  // run keys waiting after each turn
    UnixSeconds conversation_start = 0, previous = 0;
    bool conversation_handoff = false;
    auto close_conversation = [&] {
      if (conversation_start == 0) return;
      Tally& d = days[DayOf(conversation_start)];
      ++d.conversations;
      ++total.conversations;
      if (conversation_handoff) {
        ++d.handoff_conversations;
        ++total.handoff_conversations;
      }
    };
    for (size_t k = i; k < j; ++k) {
      const storage::LoggedTurn& t = turns[k];
      if (conversation_start == 0 || t.at - previous > kConversationGap) {
        close_conversation();
        conversation_start = t.at;
        conversation_handoff = false;
      }
      // A run that waited longer than the gap without an answer.
      if (previous != 0 && t.at - previous > kConversationGap)
        for (const std::string& key : waiting) runs[key].abandoned = true;
      previous = t.at;
      conversation_handoff = conversation_handoff || IsHandoff(t.handoff);

      Tally& d = days[DayOf(t.at)];
      d.customers.insert(customer);
      total.customers.insert(customer);
      if (t.intent == "handoff") {
        ++d.desk_messages;
        ++total.desk_messages;
      } else {
        ++d.turns;
        ++total.turns;
        if (t.fallback) {
          ++d.fallbacks;
          ++total.fallbacks;
        }
        const double ms = t.micros / 1000.0;
        d.latency_ms.push_back(ms);
        total.latency_ms.push_back(ms);
        ++intents[t.intent];
      }
      const json events = json::parse(t.events_json, nullptr, false);
      if (!events.is_array()) continue;
      for (const json& e : events) {
        if (!e.is_object()) continue;
        const std::string key = customer + "#" + std::to_string(e.value("run", std::int64_t{0}));
        const std::string kind = e.value("e", "");
        Run& r = runs[key];
        r.last = t.at;
        if (kind == "start") {
          r.flow = e.value("flow", "");
          r.started_in_period = true;
          waiting.push_back(key);
        } else if (kind == "ask") {
          if (r.flow.empty()) r.flow = e.value("flow", "");
          const std::string step = e.value("step", "");
          r.steps.insert(step);
          auto& order = step_order[r.flow];
          if (std::find(order.begin(), order.end(), step) == order.end()) order.push_back(step);
          if (std::find(waiting.begin(), waiting.end(), key) == waiting.end()) waiting.push_back(key);
        } else if (kind == "end") {
          if (r.flow.empty()) r.flow = e.value("flow", "");
          r.how = e.value("how", "completed");
          waiting.erase(std::remove(waiting.begin(), waiting.end(), key), waiting.end());
        }
      }
    }
    close_conversation();
    // Still waiting when the period ends: abandoned once 30 minutes passed.
    if (previous != 0 && horizon - previous > kConversationGap)
      for (const std::string& key : waiting) runs[key].abandoned = true;
    i = j;
  }

  json out;
  json day_list = json::array();
  for (const auto& [date, tally] : days) {
    json d = tally.ToJson();
    d["date"] = date;
    day_list.push_back(std::move(d));
  }
  out["days"] = day_list;
  out["totals"] = total.ToJson();
  std::vector<std::pair<std::string, int>> by_count(intents.begin(), intents.end());
  std::stable_sort(by_count.begin(), by_count.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  json intent_list = json::array();
  for (const auto& [intent, n] : by_count) intent_list.push_back({{"intent", intent}, {"turns", n}});
  out["intents"] = intent_list;

  struct Funnel {
    int started = 0;
    std::map<std::string, int> reached;
    std::map<std::string, int> how;
  };
  std::map<std::string, Funnel> funnels;
  for (const auto& [key, r] : runs) {
    if (!r.started_in_period || r.flow.empty()) continue;
    Funnel& f = funnels[r.flow];
    ++f.started;
    for (const std::string& s : r.steps) ++f.reached[s];
    const std::string how = r.abandoned ? "abandoned" : r.how.empty() ? "open" : r.how;
    ++f.how[how];
  }
  json funnel_list = json::array();
  for (const auto& [flow, f] : funnels) {
    json step_list = json::array();  // in the order the flow asks them
    for (const std::string& step : step_order[flow]) {
      auto it = f.reached.find(step);
      if (it != f.reached.end()) step_list.push_back({{"step", step}, {"reached", it->second}});
    }
    json j = {{"flow", flow}, {"started", f.started}, {"steps", step_list}};
    for (const char* how : {"completed", "cancelled", "gave_up", "handed_off", "abandoned", "open"}) {
      auto it = f.how.find(how);
      j[how] = it == f.how.end() ? 0 : it->second;
    }
    funnel_list.push_back(std::move(j));
  }
  out["funnels"] = funnel_list;
  return out;
}

json DeskFigures(const std::vector<storage::DeskRecord>& records) {
  std::map<std::string, int> reasons;
  std::vector<double> wait, first;
  std::map<int, int> ratings;
  int claimed = 0, rated = 0, rating_sum = 0;
  for (const auto& r : records) {
    ++reasons[r.reason];
    if (r.claimed_at) {
      ++claimed;
      wait.push_back(static_cast<double>(r.claimed_at - r.queued_at));
    }
    if (r.first_response_at) first.push_back(static_cast<double>(r.first_response_at - r.queued_at));
    if (r.rating >= 1 && r.rating <= 5) {
      ++ratings[r.rating];
      ++rated;
      rating_sum += r.rating;
    }
  }
  json distribution = json::object();
  for (int n = 1; n <= 5; ++n) distribution[std::to_string(n)] = ratings[n];
  return {{"handoffs", static_cast<int>(records.size())},
          {"by_reason", reasons},
          {"claimed", claimed},
          {"wait_seconds", {{"p50", NearestRank(wait, 50)}, {"p95", NearestRank(wait, 95)}}},
          {"first_response_seconds",
           {{"p50", NearestRank(first, 50)}, {"p95", NearestRank(first, 95)}}},
          {"ratings",
           {{"count", rated},
            {"average", rated ? static_cast<double>(rating_sum) / rated : 0.0},
            {"distribution", distribution}}}};
}

json Summarize(storage::Store& store, const Period& period, UnixSeconds now) {
  std::vector<storage::LoggedTurn> turns;
  std::vector<storage::DeskRecord> desk;
  {
    storage::Tx tx = store.Begin();
    turns = storage::TurnsByCustomer(tx, period.begin, period.end);
    desk = storage::DeskRecords(tx, period.begin, period.end);
  }
  json out = Summarize(turns, period, now);
  out["desk"] = DeskFigures(desk);
  return out;
}

}  // namespace gridbot::analytics
