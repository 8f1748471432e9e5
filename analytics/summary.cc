#include "analytics/summary.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "privacy/mask.h"

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

// Latencies, weighted: a turn's own (weight 1), or a pruned day's histogram.
using Weighted = std::vector<std::pair<double, std::int64_t>>;

double WeightedNearestRank(Weighted values, double p) {
  std::int64_t n = 0;
  for (const auto& v : values) n += v.second;
  if (n == 0) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(p / 100.0 * n)), 1, n);
  std::int64_t seen = 0;
  for (const auto& [value, weight] : values) {
    seen += weight;
    if (seen >= rank) return value;
  }
  return values.back().first;
}

// Figures of one day, or of the whole period.
struct Tally {
  std::int64_t conversations = 0, handoff_conversations = 0, turns = 0, fallbacks = 0,
               desk_messages = 0;
  std::set<std::string> customers;
  std::int64_t pruned_customers = 0;  // customers of pruned days, counted per day
  Weighted latency_ms;
  std::map<std::string, std::int64_t> intents;  // bot turns per intent

  std::int64_t Customers() const { return static_cast<std::int64_t>(customers.size()) + pruned_customers; }

  json ToJson() const {
    json j = {{"conversations", conversations},
              {"turns", turns},
              {"customers", Customers()},
              {"desk_messages", desk_messages},
              {"fallback_rate", turns ? static_cast<double>(fallbacks) / turns : 0.0},
              {"handoff_rate",
               conversations ? static_cast<double>(handoff_conversations) / conversations : 0.0},
              {"latency_ms",
               {{"p50", WeightedNearestRank(latency_ms, 50)},
                {"p95", WeightedNearestRank(latency_ms, 95)},
                {"p99", WeightedNearestRank(latency_ms, 99)}}}};
    return j;
  }

  // What a pruned day keeps: counts, and latencies as a histogram of 10 µs.
  json Kept() const {
    std::map<std::int64_t, std::int64_t> hist;
    for (const auto& [ms, w] : latency_ms) hist[std::llround(ms * 100)] += w;
    json h = json::object();
    for (const auto& [bucket, n] : hist) h[std::to_string(bucket)] = n;
    return {{"conversations", conversations}, {"handoff_conversations", handoff_conversations},
            {"turns", turns},                 {"fallbacks", fallbacks},
            {"desk_messages", desk_messages}, {"customers", Customers()},
            {"latency_10us", h}};
  }

  void AddKept(const json& k) {
    conversations += k.value("conversations", std::int64_t{0});
    handoff_conversations += k.value("handoff_conversations", std::int64_t{0});
    turns += k.value("turns", std::int64_t{0});
    fallbacks += k.value("fallbacks", std::int64_t{0});
    desk_messages += k.value("desk_messages", std::int64_t{0});
    pruned_customers += k.value("customers", std::int64_t{0});
    if (k.contains("latency_10us") && k["latency_10us"].is_object())
      for (const auto& [bucket, n] : k["latency_10us"].items())
        if (n.is_number_integer())
          latency_ms.emplace_back(std::strtoll(bucket.c_str(), nullptr, 10) / 100.0, n.get<std::int64_t>());
  }
};

struct Run {
  std::string flow, how;  // how: "" while it waits
  std::set<std::string> steps;
  std::string last_step;
  bool started_in_period = false;
  bool abandoned = false;
  UnixSeconds started_at = 0, last = 0;  // its start, its last activity
  std::int64_t conversation = 0;         // the id of the conversation's first turn (as loaded)
  std::int64_t start_turn = 0;           // the turn that started it
  std::string channel, customer;
  std::string Ended() const { return abandoned ? "abandoned" : how.empty() ? "open" : how; }
};

struct Funnel {
  std::int64_t started = 0;
  std::map<std::string, std::int64_t> reached;
  std::map<std::string, std::int64_t> how;
};

// Everything Summarize() reports, before it becomes JSON.
struct Figures {
  std::map<std::string, Tally> days;
  Tally total;
  std::map<std::string, std::int64_t> intents;
  std::map<std::string, Run> runs;  // by customer + run number
  std::map<std::string, std::vector<std::string>> step_order;  // flow -> steps, first asked first
  std::map<std::string, Funnel> kept_funnels;                  // of pruned days

  void AddStep(const std::string& flow, const std::string& step) {
    auto& order = step_order[flow];
    if (std::find(order.begin(), order.end(), step) == order.end()) order.push_back(step);
  }

  // Every run started in the period (or only those started on `day`), and
  // the funnels of pruned days.
  std::map<std::string, Funnel> Funnels(const std::string& day = "") const {
    std::map<std::string, Funnel> funnels = kept_funnels;
    for (const auto& [key, r] : runs) {
      if (!r.started_in_period || r.flow.empty()) continue;
      if (!day.empty() && DayOf(r.started_at) != day) continue;
      Funnel& f = funnels[r.flow];
      ++f.started;
      for (const std::string& s : r.steps) ++f.reached[s];
      ++f.how[r.Ended()];
    }
    return funnels;
  }
};

Figures Accumulate(const std::vector<storage::LoggedTurn>& turns, const Period& period,
                   UnixSeconds now) {
  const UnixSeconds horizon = std::min(period.end, std::max(now, period.begin));
  Figures fig;
  auto& days = fig.days;
  Tally& total = fig.total;
  auto& runs = fig.runs;

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
    std::int64_t conversation_id = 0;
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
        conversation_id = t.id;
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
        d.latency_ms.emplace_back(ms, 1);
        total.latency_ms.emplace_back(ms, 1);
        ++fig.intents[t.intent];
        ++d.intents[t.intent];
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
          r.started_at = t.at;
          r.start_turn = t.id;
          r.conversation = conversation_id;
          r.channel = t.channel;
          r.customer = t.external_id;
          waiting.push_back(key);
        } else if (kind == "ask") {
          if (r.flow.empty()) r.flow = e.value("flow", "");
          const std::string step = e.value("step", "");
          r.steps.insert(step);
          r.last_step = step;
          fig.AddStep(r.flow, step);
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
  return fig;
}

constexpr const char* kEndings[] = {"completed", "cancelled", "gave_up", "handed_off", "abandoned", "open"};

json ToJson(const Figures& fig) {
  json out;
  json day_list = json::array();
  for (const auto& [date, tally] : fig.days) {
    json d = tally.ToJson();
    d["date"] = date;
    day_list.push_back(std::move(d));
  }
  out["days"] = day_list;
  out["totals"] = fig.total.ToJson();
  std::vector<std::pair<std::string, std::int64_t>> by_count(fig.intents.begin(), fig.intents.end());
  std::stable_sort(by_count.begin(), by_count.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  json intent_list = json::array();
  for (const auto& [intent, n] : by_count) intent_list.push_back({{"intent", intent}, {"turns", n}});
  out["intents"] = intent_list;

  json funnel_list = json::array();
  for (const auto& [flow, f] : fig.Funnels()) {
    json step_list = json::array();  // in the order the flow asks them
    auto order = fig.step_order.find(flow);
    if (order != fig.step_order.end())
      for (const std::string& step : order->second) {
        auto it = f.reached.find(step);
        if (it != f.reached.end()) step_list.push_back({{"step", step}, {"reached", it->second}});
      }
    json j = {{"flow", flow}, {"started", f.started}, {"steps", step_list}};
    for (const char* how : kEndings) {
      auto it = f.how.find(how);
      j[how] = it == f.how.end() ? 0 : it->second;
    }
    funnel_list.push_back(std::move(j));
  }
  out["funnels"] = funnel_list;
  return out;
}

// A pruned day's figures, as daily_aggregates keeps them: the day's tally,
// intents, and the funnels of the runs started that day.
json KeptDay(const Figures& fig, const std::string& day) {
  json funnels = json::object();
  for (const auto& [flow, f] : fig.Funnels(day)) {
    json steps = json::array();
    auto order = fig.step_order.find(flow);
    if (order != fig.step_order.end())
      for (const std::string& step : order->second) {
        auto it = f.reached.find(step);
        if (it != f.reached.end()) steps.push_back(json::array({step, it->second}));
      }
    funnels[flow] = {{"started", f.started}, {"steps", steps}, {"how", f.how}};
  }
  auto d = fig.days.find(day);
  const Tally none;
  const Tally& tally = d == fig.days.end() ? none : d->second;
  return {{"version", 1}, {"day", tally.Kept()}, {"intents", tally.intents}, {"funnels", funnels}};
}

void AddKeptDay(Figures& fig, const std::string& day, const json& kept) {
  if (!kept.is_object()) return;
  if (kept.contains("day") && kept["day"].is_object()) {
    fig.days[day].AddKept(kept["day"]);
    fig.total.AddKept(kept["day"]);
  }
  if (kept.contains("intents") && kept["intents"].is_object())
    for (const auto& [intent, n] : kept["intents"].items())
      if (n.is_number_integer()) {
        fig.intents[intent] += n.get<std::int64_t>();
        fig.days[day].intents[intent] += n.get<std::int64_t>();
      }
  if (kept.contains("funnels") && kept["funnels"].is_object())
    for (const auto& [flow, f] : kept["funnels"].items()) {
      if (!f.is_object()) continue;
      Funnel& into = fig.kept_funnels[flow];
      into.started += f.value("started", std::int64_t{0});
      for (const json& s : f.value("steps", json::array()))
        if (s.is_array() && s.size() == 2 && s[0].is_string() && s[1].is_number_integer()) {
          into.reached[s[0].get<std::string>()] += s[1].get<std::int64_t>();
          fig.AddStep(flow, s[0].get<std::string>());
        }
      if (f.contains("how") && f["how"].is_object())
        for (const auto& [how, n] : f["how"].items())
          if (n.is_number_integer()) into.how[how] += n.get<std::int64_t>();
    }
}

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

std::string DayName(UnixSeconds t) { return DayOf(t); }

double NearestRank(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * values.size()));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

json Summarize(const std::vector<storage::LoggedTurn>& turns, const Period& period,
               UnixSeconds now) {
  return ToJson(Accumulate(turns, period, now));
}

json Runs(const std::vector<storage::LoggedTurn>& turns, const Period& period, UnixSeconds now,
          const std::string& flow, const std::string& ended, const std::string& step) {
  const Figures fig = Accumulate(turns, period, now);
  std::vector<const Run*> picked;
  for (const auto& [key, r] : fig.runs) {
    if (!r.started_in_period || r.flow.empty() || (!flow.empty() && r.flow != flow)) continue;
    if (!ended.empty() && r.Ended() != ended) continue;
    if (!step.empty() && !r.steps.count(step)) continue;
    picked.push_back(&r);
  }
  std::stable_sort(picked.begin(), picked.end(),
                   [](const Run* a, const Run* b) { return a->started_at > b->started_at; });
  json list = json::array();
  for (const Run* r : picked)
    list.push_back({{"conversation", std::to_string(r->conversation)},
                    {"start_turn", r->start_turn},
                    {"channel", r->channel},
                    {"customer", privacy::MaskCustomerId(r->channel, r->customer)},
                    {"flow", r->flow},
                    {"ended", r->Ended()},
                    {"last_step", r->last_step},
                    {"steps", std::vector<std::string>(r->steps.begin(), r->steps.end())},
                    {"started_at", r->started_at}});
  return {{"runs", list}};
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
  std::vector<std::pair<std::string, std::string>> kept;
  {
    storage::Tx tx = store.Begin();
    turns = storage::TurnsByCustomer(tx, period.begin, period.end);
    desk = storage::DeskRecords(tx, period.begin, period.end);
    kept = storage::DayAggregates(tx, DayOf(period.begin), DayOf(period.end - 1));
  }
  Figures fig = Accumulate(turns, period, now);
  for (const auto& [day, figures] : kept) AddKeptDay(fig, day, json::parse(figures, nullptr, false));
  json out = ToJson(fig);
  out["desk"] = DeskFigures(desk);
  return out;
}

Result<json> RunsOf(storage::Store& store, const Period& period, UnixSeconds now,
                    const std::string& flow, const std::string& ended, const std::string& step) {
  if (!ended.empty() && std::find_if(std::begin(kEndings), std::end(kEndings), [&ended](const char* e) {
                          return ended == e;
                        }) == std::end(kEndings))
    return Status::Error("\"ended\" must be one of completed, cancelled, gave_up, handed_off, abandoned, open");
  std::vector<storage::LoggedTurn> turns;
  storage::Tx tx = store.Begin();
  turns = storage::TurnsByCustomer(tx, period.begin, period.end);
  json runs = Runs(turns, period, now, flow, ended, step);
  // A conversation that began before the period keeps its own id (the one
  // its transcript answers to).
  for (json& r : runs["runs"]) {
    storage::LoggedTurn start;
    start.id = r["start_turn"].get<std::int64_t>();
    start.at = r["started_at"].get<UnixSeconds>();
    start.channel = r["channel"].get<std::string>();
    for (const auto& t : turns)
      if (t.id == start.id) start.external_id = t.external_id;
    r["conversation"] = std::to_string(storage::ConversationStart(tx, start, kConversationGap));
    r.erase("start_turn");
  }
  return runs;
}

Result<json> Prune(storage::Store& store, int older_than_days, UnixSeconds now) {
  if (older_than_days < 1 || older_than_days > 36600)
    return Status::Error("--older-than must be a number of days from 1 to 36600");
  // Whole days only: everything before the start of (today - days).
  const CivilDay today = ToCivilDay(now);
  const UnixSeconds cutoff = FromCivil(CivilTime{today, 0, 0, 0}) - older_than_days * 24LL * 3600;
  std::vector<storage::LoggedTurn> turns;
  UnixSeconds first = 0;
  {
    storage::Tx tx = store.Begin();
    const UnixSeconds oldest = storage::OldestTurnAt(tx);
    if (oldest == 0 || oldest >= cutoff)
      return json{{"deleted_turns", 0}, {"days_kept", json::array()}, {"before", DayOf(cutoff)}};
    first = FromCivil(CivilTime{ToCivilDay(oldest), 0, 0, 0});
    turns = storage::TurnsByCustomer(tx, first, cutoff);
  }
  // Counted over the whole span at once, as Summarize() counts a period: a
  // conversation or run across midnight belongs to the day it began, and a
  // run still waiting ends by the real `now`. (One that goes on past the
  // cutoff is counted from its turns before it.)
  Period span;
  span.from = ToCivilDay(first);
  span.to = ToCivilDay(cutoff - 1);
  span.begin = first;
  span.end = cutoff;
  const Figures fig = Accumulate(turns, span, now);
  std::set<std::string> logged_days;
  for (const auto& t : turns) logged_days.insert(DayOf(t.at));
  json days = json::array();
  std::int64_t deleted = 0;
  // One transaction per day (a prune beside the live server holds the
  // database briefly; an interrupted one is run again).
  for (UnixSeconds d = first; d < cutoff; d += 24 * 3600) {
    const std::string name = DayOf(d);
    if (!logged_days.count(name)) continue;
    json kept = KeptDay(fig, name);
    storage::Tx tx = store.Begin();
    for (const auto& [k, figures] : storage::DayAggregates(tx, name, name)) {
      // Pruned before, then more was logged for that day: both kept.
      Figures both;
      AddKeptDay(both, name, json::parse(figures, nullptr, false));
      AddKeptDay(both, name, kept);
      kept = KeptDay(both, name);
    }
    storage::SaveDayAggregate(tx, name, kept.dump(), now);
    deleted += storage::DeleteTurnsBefore(tx, d + 24 * 3600);
    Status s = tx.Commit();
    if (!s.ok()) return s;
    days.push_back(name);
  }
  return json{{"deleted_turns", deleted}, {"days_kept", days}, {"before", DayOf(cutoff)}};
}

}  // namespace gridbot::analytics
