#include "storage/analytics.h"

namespace gridbot::storage {

std::vector<LoggedTurn> TurnsByCustomer(Tx& tx, UnixSeconds from, UnixSeconds to) {
  Statement st = tx.Prep(
      "SELECT id, at, channel, external_id, text, intent, confidence, slots, flow, step, replies, "
      "micros, fallback, handoff, events FROM dialog_log WHERE at >= ? AND at < ? "
      "ORDER BY channel, external_id, at, id");
  st.Bind(1, from).Bind(2, to);
  std::vector<LoggedTurn> out;
  while (st.Step()) {
    LoggedTurn t;
    t.id = st.Int(0);
    t.at = st.Int(1);
    t.channel = st.Text(2);
    t.external_id = st.Text(3);
    t.text = st.Text(4);
    t.intent = st.Text(5);
    t.confidence = st.Double(6);
    t.slots_json = st.Text(7);
    t.flow = st.Text(8);
    t.step = st.Text(9);
    t.replies_json = st.Text(10);
    t.micros = st.Int(11);
    t.fallback = st.Int(12) != 0;
    t.handoff = st.Text(13);
    t.events_json = st.Text(14);
    out.push_back(std::move(t));
  }
  tx.Check(st);
  return out;
}

std::vector<DeskRecord> DeskRecords(Tx& tx, UnixSeconds from, UnixSeconds to) {
  Statement st = tx.Prep(
      "SELECT reason, COALESCE(end_kind, ''), queued_at, COALESCE(claimed_at, 0), "
      "COALESCE(first_response_at, 0), COALESCE(rating, 0) FROM desk_conversations "
      "WHERE queued_at >= ? AND queued_at < ? ORDER BY queued_at, id");
  st.Bind(1, from).Bind(2, to);
  std::vector<DeskRecord> out;
  while (st.Step())
    out.push_back(DeskRecord{st.Text(0), st.Text(1), st.Int(2), st.Int(3), st.Int(4),
                             static_cast<int>(st.Int(5))});
  tx.Check(st);
  return out;
}

}  // namespace gridbot::storage
