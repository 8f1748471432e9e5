#include "analytics/turns.h"

#include <algorithm>
#include <cstdlib>

#include "analytics/summary.h"
#include "privacy/mask.h"
#include "storage/analytics.h"
#include "storage/desk.h"

namespace gridbot::analytics {
namespace {

using nlohmann::json;

json Masked(const std::string& json_text) {
  json j = json::parse(privacy::MaskText(json_text), nullptr, false);
  return j.is_discarded() ? json() : j;
}

json TurnJson(const storage::LoggedTurn& t, std::int64_t conversation) {
  return {{"id", t.id},
          {"at", t.at},
          {"conversation", std::to_string(conversation)},
          {"channel", t.channel},
          {"customer", privacy::MaskCustomerId(t.channel, t.external_id)},
          {"text", privacy::MaskText(t.text)},
          {"intent", t.intent},
          {"confidence", t.confidence},
          {"slots", Masked(t.slots_json)},
          {"flow", t.flow},
          {"step", t.step},
          {"replies", Masked(t.replies_json)},
          {"latency_ms", t.micros / 1000.0},
          {"fallback", t.fallback},
          {"handoff", t.handoff.empty() ? json(nullptr) : json(t.handoff)}};
}

bool Flag(const std::map<std::string, std::string>& q, const char* name) {
  auto it = q.find(name);
  return it != q.end() && (it->second == "1" || it->second == "true");
}

std::string Get(const std::map<std::string, std::string>& q, const char* name) {
  auto it = q.find(name);
  return it == q.end() ? "" : it->second;
}

}  // namespace

Result<json> SearchTurns(storage::Store& store, const std::map<std::string, std::string>& q,
                         CivilDay today) {
  auto period = Period::Parse(Get(q, "from"), Get(q, "to"), today);
  if (!period.ok()) return period.status();
  storage::TurnFilter f;
  f.from = period->begin;
  f.to = period->end;
  f.channel = Get(q, "channel");
  f.intent = Get(q, "intent");
  f.flow = Get(q, "flow");
  f.q = Get(q, "q");
  if (f.q.size() > 200) return Status::Error("\"q\" is longer than 200 bytes");
  f.fallback_only = Flag(q, "fallback");
  f.handoff_only = Flag(q, "handoff");
  if (const std::string c = Get(q, "max_confidence"); !c.empty()) {
    char* end = nullptr;
    f.max_confidence = std::strtod(c.c_str(), &end);
    if (*end != '\0' || f.max_confidence < 0 || f.max_confidence > 1)
      return Status::Error("\"max_confidence\" must be a number from 0 to 1");
  }
  if (const std::string l = Get(q, "limit"); !l.empty()) {
    char* end = nullptr;
    const long n = std::strtol(l.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 500) return Status::Error("\"limit\" must be 1 to 500");
    f.limit = static_cast<int>(n);
  }
  if (const std::string c = Get(q, "cursor"); !c.empty()) {
    char* end = nullptr;
    f.before_id = std::strtoll(c.c_str(), &end, 10);
    if (*end != '\0' || f.before_id <= 0) return Status::Error("\"cursor\" is not one this API gave");
  }
  storage::Tx tx = store.Begin();
  // One more than asked: whether there is a next page.
  const int limit = f.limit;
  f.limit = limit + 1;
  auto turns = storage::FindTurns(tx, f);
  json list = json::array();
  json next = nullptr;
  for (size_t i = 0; i < turns.size(); ++i) {
    if (static_cast<int>(i) == limit) {
      next = std::to_string(turns[i - 1].id);
      break;
    }
    list.push_back(TurnJson(turns[i], storage::ConversationStart(tx, turns[i], kConversationGap)));
  }
  if (!tx.ok()) return Status::Error("the search could not run: " + tx.error());
  return json{{"turns", list}, {"next", next}};
}

Result<json> ConversationTranscript(storage::Store& store, const std::string& id, bool with_notes) {
  char* end = nullptr;
  const std::int64_t start = std::strtoll(id.c_str(), &end, 10);
  if (id.empty() || *end != '\0' || start <= 0) return Status::Error("not found");
  storage::Tx tx = store.Begin();
  auto turns = storage::ConversationTurns(tx, start, kConversationGap);
  if (turns.empty() || storage::ConversationStart(tx, turns.front(), kConversationGap) != start)
    return Status::Error("not found");
  json items = json::array();
  for (const auto& t : turns) {
    json j = TurnJson(t, start);
    j["kind"] = "turn";
    items.push_back(std::move(j));
  }
  // The desk's part in place: agents' messages, system events, notes.
  const UnixSeconds first = turns.front().at, last = turns.back().at + kConversationGap;
  for (const auto& line : storage::DeskLinesOf(tx, turns.front().channel,
                                               turns.front().external_id, first, last)) {
    if (line.from == "note" && !with_notes) continue;
    items.push_back({{"kind", line.from},
                     {"at", line.at},
                     {"agent", line.agent},
                     {"text", privacy::MaskText(line.text)}});
  }
  std::stable_sort(items.begin(), items.end(), [](const json& a, const json& b) {
    return a["at"].get<UnixSeconds>() < b["at"].get<UnixSeconds>();
  });
  return json{{"id", id},
              {"channel", turns.front().channel},
              {"customer", privacy::MaskCustomerId(turns.front().channel, turns.front().external_id)},
              {"turns", items}};
}

}  // namespace gridbot::analytics
