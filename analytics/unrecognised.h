// Unrecognised messages for analysts (../shared/spec/analytics.md): the
// bot's fallback turns grouped by similarity, largest first, labelled with
// the intent they should have had, and exported as corpus lines.
//
//   auto groups = analytics::UnrecognisedGroups(store, model, period, now);
//   analytics::LabelGroup(store, model, titles, "a1b2c3d4e5f6", "query_bill", "analyst1", now);
//   std::string lines = analytics::LabelledLines(store);  // NDJSON {"text","intent","slots"}
//
// Grouping: each message is read again by the current rules; one they now
// understand drops out (the corpus covers it). The rest are keyed by their
// normalised text (masked), counted, and clustered greedily, most frequent
// first: a text joins the group whose first (most frequent) text shares the
// most character bigrams with it, when their Dice coefficient is at least
// kSimilarity; otherwise it starts a group. A group's id is a hash of that
// first text and the period, so it stays the same while that text leads it.
// The grouping is stored by id, so a label posted for an id labels exactly
// what the analyst saw for that period (also on another instance).
//
// Texts are masked (privacy/mask.h) before they are grouped, stored or shown:
// a label outlives the log it came from.
//
// Thread safety: functions over a store; the model is immutable.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "analytics/summary.h"
#include "common/status.h"
#include "nlu/nlu.h"
#include "storage/store.h"

namespace gridbot::analytics {

constexpr double kSimilarity = 0.5;

// The nlu.md intents with the Chinese titles analysts read
// (corpus/nlu/intent_titles.tsv: intent<TAB>title). Error: a line that is
// not two fields, an intent nlu.md does not have, or one without a title.
struct IntentTitle {
  std::string intent, title;
};
Result<std::vector<IntentTitle>> LoadIntentTitles(const std::string& path);

// {"groups":[{"id","size","texts","examples":[…],"label"}]}; at most
// `max_groups` (the largest), "total" the number of groups.
nlohmann::json UnrecognisedGroups(storage::Store& store, const nlu::Model& model,
                                  const Period& period, UnixSeconds now, size_t max_groups = 200);
// Labels every text of group `id` (as last shown). Errors: "no such group",
// an intent not in `titles`.
Result<nlohmann::json> LabelGroup(storage::Store& store, const nlu::Model& model,
                                  const std::vector<IntentTitle>& titles, const std::string& id,
                                  const std::string& intent, const std::string& by, UnixSeconds now);
// Every labelled message as a corpus line (corpus/nlu/train.jsonl's shape),
// one JSON object per line.
std::string LabelledLines(storage::Store& store);

}  // namespace gridbot::analytics
