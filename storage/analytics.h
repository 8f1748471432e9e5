// Repository functions for analysts (issue 9, ../shared/spec/analytics.md):
// the dialog log read back, by period. The figures themselves are computed
// in analytics/ (no SQL there).
//
// Thread safety: as Tx.
#pragma once

#include <cstdint>
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
};

// Every turn logged in [from, to), by customer (channel, user) then time.
std::vector<LoggedTurn> TurnsByCustomer(Tx& tx, UnixSeconds from, UnixSeconds to);

// A desk conversation queued in [from, to): when, why, and its times.
struct DeskRecord {
  std::string reason, end_kind;
  UnixSeconds queued_at = 0, claimed_at = 0, first_response_at = 0;
  int rating = 0;
};
std::vector<DeskRecord> DeskRecords(Tx& tx, UnixSeconds from, UnixSeconds to);

}  // namespace gridbot::storage
