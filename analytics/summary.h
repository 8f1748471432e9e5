// The analysts' summary (../shared/spec/analytics.md, "Definitions"): per
// day and in total, conversations, turns, customers, fallback and handoff
// rates, latency percentiles; turns per intent; the funnel of every flow.
// A library below bot/, without HTTP: `gridbot logs stats` and
// GET /api/analytics/summary both print what Summarize() returns.
//
//   auto period = analytics::Period::Parse("2024-08-01", "2024-08-07");
//   nlohmann::json s = analytics::Summarize(store, *period, clock.Now());
//
// Counting, exactly as analytics.md defines it:
//  - a turn is one dialog_log row; rows with intent "handoff" (messages to
//    the desk) are not bot turns and are counted apart (desk_messages);
//  - a conversation is one customer's turns (all rows) with no gap over 30
//    minutes; it belongs to the day (Asia/Shanghai) of its first turn;
//  - fallback_rate = fallback turns / bot turns; handoff_rate =
//    conversations with a handoff (asked, not understood, gave up) /
//    conversations;
//  - latency is the turn's processing time; p50/p95/p99 are nearest-rank
//    over the bot turns;
//  - a funnel counts the runs started in the period: started, each step's
//    reached (runs that asked it at least once), and how each ended —
//    completed, cancelled, gave_up, handed_off, abandoned (replaced, or no
//    answer within 30 minutes while it waited), or open (still waiting at
//    the period's end, within 30 minutes).
//
//  - desk: conversations handed to a person in the period (by reason),
//    those a person took, waiting time (queued → first claim) and first
//    response (queued → first agent reply) as nearest-rank p50/p95 in
//    seconds, and the 1-5 ratings given.
//
// Thread safety: pure functions over a store (one transaction each).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "storage/analytics.h"
#include "storage/store.h"

namespace gridbot::analytics {

constexpr UnixSeconds kConversationGap = 30 * 60;

struct Period {
  CivilDay from, to;  // both included
  UnixSeconds begin = 0, end = 0;  // [begin, end): from 00:00 to the day after `to`
  // "YYYY-MM-DD" each; an empty `from` or `to` means `today`. Error if
  // malformed, from after to, or longer than 3660 days.
  static Result<Period> Parse(const std::string& from, const std::string& to, CivilDay today);
};

// Nearest-rank percentile (p in (0, 100]) of `values`; 0 if empty.
double NearestRank(std::vector<double> values, double p);

// The summary of analytics.md for the period; `now` bounds what is still
// open (a period reaching into the future ends now).
nlohmann::json Summarize(const std::vector<storage::LoggedTurn>& turns, const Period& period,
                         UnixSeconds now);
nlohmann::json Summarize(storage::Store& store, const Period& period, UnixSeconds now);
nlohmann::json DeskFigures(const std::vector<storage::DeskRecord>& records);

// "YYYY-MM-DD" (Asia/Shanghai) of a moment.
std::string DayName(UnixSeconds t);

// The drill-down of a funnel: the runs of `flow` started in the period that
// ended as `ended` (or any) and reached `step` (or any), newest first:
// {"runs":[{"conversation","channel","customer","flow","ended","last_step","steps","started_at"}]}.
nlohmann::json Runs(const std::vector<storage::LoggedTurn>& turns, const Period& period,
                    UnixSeconds now, const std::string& flow, const std::string& ended,
                    const std::string& step);
// Error: `ended` is not one of the endings.
Result<nlohmann::json> RunsOf(storage::Store& store, const Period& period, UnixSeconds now,
                              const std::string& flow, const std::string& ended,
                              const std::string& step);

// Retention (`gridbot logs prune`): the turns of whole days before today -
// `older_than_days` are deleted, each day's figures kept first in
// daily_aggregates, so Summarize() still reports those days (customers of
// pruned days are counted per day: one returning on two days counts twice;
// latency percentiles from a 10 µs histogram). Funnels' drill-down and
// search have no turns there any more.
// {"deleted_turns","days_kept":[DAY…],"before":DAY}.
Result<nlohmann::json> Prune(storage::Store& store, int older_than_days, UnixSeconds now);

}  // namespace gridbot::analytics
