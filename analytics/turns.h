// Analysts' search and transcripts (../shared/spec/analytics.md):
// GET /api/analytics/turns and /api/analytics/conversations/ID, as JSON,
// masked on the way out (privacy/mask.h).
//
//   auto page = analytics::SearchTurns(store, {{"from","2024-08-01"},{"q","跳闸"}}, today);
//   // page->["turns"], page->["next"] (a cursor, or null)
//
// `q` is found wherever its characters occur in what the customer wrote
// (two or more characters, through overlapping bigrams; storage/analytics.h).
// A conversation id is the id of its first turn (30-minute gaps), as text.
//
// Thread safety: pure functions over a store.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "common/time.h"
#include "storage/store.h"

namespace gridbot::analytics {

// Error: a filter that is not valid (the message says which).
Result<nlohmann::json> SearchTurns(storage::Store& store,
                                   const std::map<std::string, std::string>& query, CivilDay today);
// nullopt-like error "not found" when there is no such conversation.
// `with_notes`: agents' private notes in place (supervisors and admins).
Result<nlohmann::json> ConversationTranscript(storage::Store& store, const std::string& id,
                                              bool with_notes);

}  // namespace gridbot::analytics
