#include "analytics/replay.h"

#include <map>

#include "privacy/mask.h"
#include "storage/analytics.h"

namespace gridbot::analytics {

using nlohmann::json;

json Replay(storage::Store& store, const nlu::Model& model, const Period& period, size_t max_changes) {
  constexpr int kBatch = 2000;
  std::int64_t after = 0, checked = 0, changed_total = 0, skipped = 0;
  std::map<std::string, std::int64_t> moves;  // "before → after" intents
  json changed = json::array();
  {
    storage::Tx tx = store.Begin();
    skipped = storage::CountUnreplayable(tx, period.begin, period.end);
  }
  for (;;) {
    std::vector<storage::LoggedTurn> batch;
    {
      storage::Tx tx = store.Begin();
      batch = storage::ReplayableTurns(tx, period.begin, period.end, after, kBatch);
    }
    if (batch.empty()) break;
    for (const auto& t : batch) {
      after = t.id;
      const json before = json::parse(t.nlu_json, nullptr, false);
      if (!before.is_object()) continue;
      ++checked;
      const nlu::Understanding u = model.Parse(t.text, ToCivilDay(t.at));
      json slots = json::object();
      for (const auto& [k, v] : u.slots) slots[k] = v;
      const std::string was = before.value("intent", "");
      const json was_slots = before.value("slots", json::object());
      if (was == u.intent && was_slots == slots) continue;
      ++changed_total;
      ++moves[was + " → " + u.intent];
      if (changed.size() >= max_changes) continue;
      changed.push_back(
          {{"id", t.id},
           {"at", FormatIso8601(t.at)},
           {"text", privacy::MaskText(t.text)},
           {"before",
            {{"intent", was}, {"confidence", before.value("confidence", 0.0)},
             {"slots", json::parse(privacy::MaskText(was_slots.dump()), nullptr, false)}}},
           {"after",
            {{"intent", u.intent}, {"confidence", u.confidence},
             {"slots", json::parse(privacy::MaskText(slots.dump()), nullptr, false)}}}});
    }
  }
  json by_move = json::array();
  for (const auto& [move, n] : moves) by_move.push_back({{"change", move}, {"turns", n}});
  return {{"checked", checked}, {"changed_total", changed_total}, {"skipped", skipped},
          {"changes_by_intent", by_move}, {"changed", changed}};
}

}  // namespace gridbot::analytics
