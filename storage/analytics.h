// Repository functions for analysts (issue 9, ../shared/spec/analytics.md):
// the dialog log read back, by period. The figures themselves are computed
// in analytics/ (no SQL there).
//
// Thread safety: as Tx.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "storage/store.h"

namespace gridbot::storage {

struct LoggedTurn {
  std::int64_t id = 0;
  UnixSeconds at = 0;
  std::string channel, external_id, text, intent;
  double confidence = 0;
  std::string slots_json, flow, step, replies_json;
  std::int64_t micros = 0;
  bool fallback = false;
  std::string handoff;
  std::string events_json = "[]";
  std::string normalized, nlu_json;  // nlu_json: "" before migration 7 or when masked
  std::string tokens;                // the words, space-separated
};

// Every turn logged in [from, to), by customer (channel, user) then time.
std::vector<LoggedTurn> TurnsByCustomer(Tx& tx, UnixSeconds from, UnixSeconds to);

// Overlapping character bigrams of a text, space-separated; runs of ASCII
// letters and digits stay whole words ("上个月电费abc12" → "上个 个月 月电 电费 费 abc12"
// without the lone trailing one when the run continues). What dialog_fts
// indexes and how an analyst's q is turned into a phrase query.
std::string Bigrams(const std::string& text);
// What dialog_fts holds for a turn: its normalised text masked
// (privacy/mask.h), then as bigrams; its words masked. So a search for a
// phone number or a 户号 finds nothing — masked data can't be looked up.
std::string IndexGrams(const std::string& normalized);
std::string IndexWords(const std::string& tokens);

struct TurnFilter {
  UnixSeconds from = 0, to = 0;  // [from, to)
  std::string channel, intent, flow, q;
  double max_confidence = 2;  // no bound unless < 1
  bool fallback_only = false, handoff_only = false;
  std::int64_t before_id = 0;  // the cursor: turns with a smaller id (0 = from the newest)
  int limit = 50;
};
// Turns matching the filter, newest first.
std::vector<LoggedTurn> FindTurns(Tx& tx, const TurnFilter& f);
// The id of the first turn of the conversation `turn` belongs to (30-minute
// gaps), for a stable conversation id.
std::int64_t ConversationStart(Tx& tx, const LoggedTurn& turn, UnixSeconds gap);
// The turns of one customer's conversation that starts at turn `start_id`.
std::vector<LoggedTurn> ConversationTurns(Tx& tx, std::int64_t start_id, UnixSeconds gap);

// What agents and the desk said to a customer between two moments (agent
// replies, notes, system events), in order; `agent` is the name.
struct DeskLine {
  UnixSeconds at = 0;
  std::string from, text, agent;
};
std::vector<DeskLine> DeskLinesOf(Tx& tx, const std::string& channel,
                                  const std::string& external_id, UnixSeconds from, UnixSeconds to);

// A desk conversation queued in [from, to): when, why, and its times.
struct DeskRecord {
  std::string reason, end_kind;
  UnixSeconds queued_at = 0, claimed_at = 0, first_response_at = 0;
  int rating = 0;
};
std::vector<DeskRecord> DeskRecords(Tx& tx, UnixSeconds from, UnixSeconds to);

// Turns of [from, to) for an export, oldest first, filtered as given ("" =
// any), at most `limit` after id `after_id` (call again for the next batch).
std::vector<LoggedTurn> ExportBatch(Tx& tx, UnixSeconds from, UnixSeconds to,
                                    const std::string& channel, const std::string& user,
                                    const std::string& intent, std::int64_t after_id, int limit);

// The ids of the turns whose search index matches an FTS5 query (e.g.
// `words : "电费"`), for measuring the index (bench/search_eval.cc).
std::vector<std::int64_t> MatchIds(Tx& tx, const std::string& fts_query);
// Copies turn `id` `times` times (at the same moment), for measuring search
// on a large log; the copies are indexed like the original.
void DuplicateTurn(Tx& tx, std::int64_t id, int times);

// The bot's fallback turns of [from, to) (not messages to the desk).
std::vector<LoggedTurn> FallbackTurns(Tx& tx, UnixSeconds from, UnixSeconds to);
// Bot turns of [from, to) that kept what the rules made of them (nlu_json),
// oldest first, at most `limit` after id `after_id`: `logs replay`'s input.
std::vector<LoggedTurn> ReplayableTurns(Tx& tx, UnixSeconds from, UnixSeconds to,
                                        std::int64_t after_id, int limit);
// Bot turns of [from, to) logged without what the rules made of them (before
// schema 7), masked ones aside.
std::int64_t CountUnreplayable(Tx& tx, UnixSeconds from, UnixSeconds to);

// Unrecognised groups as last shown (`texts_json`: their masked texts).
void SaveUnrecognisedGroup(Tx& tx, const std::string& id, const std::string& texts_json,
                           UnixSeconds at);
std::optional<std::string> UnrecognisedGroupTexts(Tx& tx, const std::string& id);

// Labelled messages: corpus lines.
struct Label {
  std::string normalized, text, intent, slots_json, group_id, labelled_by;
  UnixSeconds labelled_at = 0;
};
void SaveLabel(Tx& tx, const Label& label);  // replaces the label of the same text
std::vector<Label> Labels(Tx& tx);           // oldest first

// Retention: a day's figures kept when its turns go (`day` YYYY-MM-DD).
void SaveDayAggregate(Tx& tx, const std::string& day, const std::string& figures_json,
                      UnixSeconds at);
// The kept figures of days in [from_day, to_day], by day.
std::vector<std::pair<std::string, std::string>> DayAggregates(Tx& tx, const std::string& from_day,
                                                               const std::string& to_day);
// The time of the oldest turn logged, 0 if none.
UnixSeconds OldestTurnAt(Tx& tx);
// Deletes the turns logged before `before` (their search index rows, and
// desk messages of conversations closed before it); the number of turns.
std::int64_t DeleteTurnsBefore(Tx& tx, UnixSeconds before);

}  // namespace gridbot::storage
