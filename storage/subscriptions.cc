#include "storage/subscriptions.h"

#include <algorithm>

namespace gridbot::storage {
namespace {

constexpr const char* kSubscriptionCols =
    "id, user_id, account_no, channel, target, created_at, active";

Subscription ReadSubscription(const Statement& st) {
  Subscription s;
  s.id = st.Int(0);
  s.user_id = st.Int(1);
  s.account_no = st.Text(2);
  s.channel = st.Text(3);
  s.target = st.Text(4);
  s.created_at = st.Int(5);
  s.active = st.Int(6) != 0;
  return s;
}

constexpr const char* kOutboxCols =
    "id, channel, recipient, body, status, attempts, created_at, sent_at";

OutboxMessage ReadOutbox(const Statement& st) {
  OutboxMessage m;
  m.id = st.Int(0);
  m.channel = st.Text(1);
  m.recipient = st.Text(2);
  m.body = st.Text(3);
  m.status = st.Text(4);
  m.attempts = static_cast<int>(st.Int(5));
  m.created_at = st.Int(6);
  if (!st.IsNull(7)) m.sent_at = st.Int(7);
  return m;
}

}  // namespace

// --- subscriptions -----------------------------------------------------------

std::optional<std::int64_t> Subscribe(Tx& tx, std::int64_t user_id, const std::string& account_no,
                                      const std::string& channel, const std::string& target,
                                      UnixSeconds now) {
  Statement find = tx.Prep(
      "SELECT id, active FROM subscriptions WHERE user_id = ? AND account_no = ? AND channel = ? "
      "AND target = ? ORDER BY active DESC, id LIMIT 1");
  find.Bind(1, user_id).Bind(2, account_no).Bind(3, channel).Bind(4, target);
  if (find.Step()) {
    const std::int64_t id = find.Int(0);
    if (find.Int(1) != 0) return std::nullopt;
    Statement revive = tx.Prep("UPDATE subscriptions SET active = 1, created_at = ? WHERE id = ?");
    revive.Bind(1, now).Bind(2, id);
    tx.Check(revive.Run());
    return id;
  }
  tx.Check(find);
  Statement add = tx.Prep(
      "INSERT INTO subscriptions(user_id, account_no, channel, target, created_at, active) "
      "VALUES (?,?,?,?,?,1)");
  add.Bind(1, user_id).Bind(2, account_no).Bind(3, channel).Bind(4, target).Bind(5, now);
  tx.Check(add.Run());
  return tx.connection().LastInsertId();
}

std::optional<Subscription> FindSubscription(Tx& tx, std::int64_t user_id,
                                             const std::string& account_no,
                                             const std::string& channel,
                                             const std::string& target) {
  Statement st = tx.Prep(std::string("SELECT ") + kSubscriptionCols +
                         " FROM subscriptions WHERE user_id = ? AND account_no = ? AND "
                         "channel = ? AND target = ? AND active = 1 LIMIT 1");
  st.Bind(1, user_id).Bind(2, account_no).Bind(3, channel).Bind(4, target);
  if (!st.Step()) return tx.Check(st), std::nullopt;
  return ReadSubscription(st);
}

std::vector<Subscription> ListSubscriptions(Tx& tx, std::int64_t user_id) {
  Statement st = tx.Prep(std::string("SELECT ") + kSubscriptionCols +
                         " FROM subscriptions WHERE user_id = ? AND active = 1 "
                         "ORDER BY created_at, id");
  st.Bind(1, user_id);
  std::vector<Subscription> out;
  while (st.Step()) out.push_back(ReadSubscription(st));
  tx.Check(st);
  return out;
}

bool Unsubscribe(Tx& tx, std::int64_t user_id, std::int64_t id) {
  Statement st =
      tx.Prep("UPDATE subscriptions SET active = 0 WHERE id = ? AND user_id = ? AND active = 1");
  st.Bind(1, id).Bind(2, user_id);
  tx.Check(st.Run());
  return tx.connection().Changes() > 0;
}

std::vector<Subscription> ActiveSubscriptions(Tx& tx) {
  Statement st = tx.Prep(std::string("SELECT ") + kSubscriptionCols +
                         " FROM subscriptions WHERE active = 1 ORDER BY id");
  std::vector<Subscription> out;
  while (st.Step()) out.push_back(ReadSubscription(st));
  tx.Check(st);
  return out;
}

std::optional<Bill> BillFor(Tx& tx, const std::string& account_no, const std::string& month) {
  return tx.FindBill(account_no, month);
}

std::optional<std::string> RegisteredPhone(Tx& tx, std::int64_t user_id) {
  Statement st = tx.Prep("SELECT phone FROM users WHERE id = ? AND phone IS NOT NULL");
  st.Bind(1, user_id);
  if (!st.Step()) return tx.Check(st), std::nullopt;
  std::string phone = st.Text(0);
  if (phone.empty()) return std::nullopt;
  return phone;
}

// --- the outbox --------------------------------------------------------------

std::vector<OutboxMessage> ListOutbox(Tx& tx, const std::string& status, size_t limit) {
  Statement st = tx.Prep(std::string("SELECT ") + kOutboxCols +
                         " FROM outbox WHERE (?1 = '' OR status = ?1) ORDER BY id LIMIT ?2");
  st.Bind(1, status).Bind(2, static_cast<std::int64_t>(limit));
  std::vector<OutboxMessage> out;
  while (st.Step()) out.push_back(ReadOutbox(st));
  tx.Check(st);
  return out;
}

std::vector<OutboxMessage> ClaimPendingOutbox(Tx& tx, const std::vector<std::string>& channels,
                                              size_t limit, UnixSeconds now, UnixSeconds lease) {
  if (channels.empty()) return {};
  // ?1 now, ?2 until, ?3 limit, then the channels.
  std::string in;
  for (size_t i = 0; i < channels.size(); ++i) in += (i ? ",?" : "?") + std::to_string(i + 4);
  Statement st = tx.Prep(
      std::string("UPDATE outbox SET claimed_until = ?2 WHERE id IN (SELECT id FROM outbox "
                  "WHERE status = 'pending' AND claimed_until <= ?1 AND channel IN (") +
      in + ") ORDER BY id LIMIT ?3" +
      (tx.dialect() == Dialect::kPostgres ? " FOR UPDATE SKIP LOCKED" : "") + ") RETURNING " +
      kOutboxCols);
  st.Bind(1, now).Bind(2, now + lease).Bind(3, static_cast<std::int64_t>(limit));
  int i = 4;
  for (const std::string& c : channels) st.Bind(i++, c);
  std::vector<OutboxMessage> out;
  while (st.Step()) out.push_back(ReadOutbox(st));
  tx.Check(st);
  std::sort(out.begin(), out.end(),
            [](const OutboxMessage& a, const OutboxMessage& b) { return a.id < b.id; });
  return out;
}

void MarkOutboxDelivered(Tx& tx, std::int64_t id, UnixSeconds now) {
  Statement st = tx.Prep(
      "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ? WHERE id = ?");
  st.Bind(1, now).Bind(2, id);
  tx.Check(st.Run());
}

std::string MarkOutboxAttemptFailed(Tx& tx, std::int64_t id, int max_attempts) {
  Statement st = tx.Prep(
      "UPDATE outbox SET attempts = attempts + 1, claimed_until = 0, "
      "status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE status END WHERE id = ?");
  st.Bind(1, max_attempts).Bind(2, id);
  tx.Check(st.Run());
  Statement read = tx.Prep("SELECT status FROM outbox WHERE id = ?");
  read.Bind(1, id);
  if (!read.Step()) return tx.Check(read), "";
  return read.Text(0);
}

}  // namespace gridbot::storage
