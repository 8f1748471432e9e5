#include "storage/desk.h"

namespace gridbot::storage {
namespace {

constexpr const char* kAgentCols =
    "id, name, role, password_hash, disabled, auto_assign, capacity, last_seen_at, created_at";

AgentRecord ReadAgent(const Statement& st) {
  AgentRecord a;
  a.id = st.Int(0);
  a.name = st.Text(1);
  a.role = st.Text(2);
  a.password_hash = st.Text(3);
  a.disabled = st.Int(4) != 0;
  a.auto_assign = st.Int(5) != 0;
  a.capacity = static_cast<int>(st.Int(6));
  a.last_seen_at = st.Int(7);
  a.created_at = st.Int(8);
  return a;
}

constexpr const char* kConvCols =
    "id, public_id, channel, external_id, state, reason, queued_at, agent_id, claimed_at, "
    "first_response_at, last_agent_at, last_customer_at, replies_since_customer, wait_notified, "
    "ended_at, end_kind, rating, rating_open, typing_agent, typing_until";

std::int64_t IntOr0(const Statement& st, int col) { return st.IsNull(col) ? 0 : st.Int(col); }

DeskConversation ReadConv(const Statement& st) {
  DeskConversation c;
  c.id = st.Int(0);
  c.public_id = st.Text(1);
  c.channel = st.Text(2);
  c.external_id = st.Text(3);
  c.state = st.Text(4);
  c.reason = st.Text(5);
  c.queued_at = st.Int(6);
  c.agent_id = IntOr0(st, 7);
  c.claimed_at = IntOr0(st, 8);
  c.first_response_at = IntOr0(st, 9);
  c.last_agent_at = IntOr0(st, 10);
  c.last_customer_at = st.Int(11);
  c.replies_since_customer = static_cast<int>(st.Int(12));
  c.wait_notified = st.Int(13) != 0;
  c.ended_at = IntOr0(st, 14);
  c.end_kind = st.IsNull(15) ? "" : st.Text(15);
  c.rating = static_cast<int>(IntOr0(st, 16));
  c.rating_open = st.Int(17) != 0;
  c.typing_agent = IntOr0(st, 18);
  c.typing_until = st.Int(19);
  return c;
}

std::optional<DeskConversation> OneConv(Tx& tx, Statement& st) {
  if (!st.Step()) return tx.Check(st), std::nullopt;
  return ReadConv(st);
}

// 0 is stored as NULL for the optional moments and agents.
void BindOpt(Statement& st, int i, std::int64_t v) {
  if (v == 0)
    st.BindNull(i);
  else
    st.Bind(i, v);
}

}  // namespace

// --- agents ------------------------------------------------------------------

std::optional<AgentRecord> FindAgent(Tx& tx, const std::string& name) {
  Statement st = tx.Prep(std::string("SELECT ") + kAgentCols + " FROM agents WHERE name = ?");
  st.Bind(1, name);
  if (!st.Step()) return tx.Check(st), std::nullopt;
  return ReadAgent(st);
}

std::optional<AgentRecord> AgentById(Tx& tx, std::int64_t id) {
  Statement st = tx.Prep(std::string("SELECT ") + kAgentCols + " FROM agents WHERE id = ?");
  st.Bind(1, id);
  if (!st.Step()) return tx.Check(st), std::nullopt;
  return ReadAgent(st);
}

std::vector<AgentRecord> ListAgents(Tx& tx) {
  Statement st = tx.Prep(std::string("SELECT ") + kAgentCols + " FROM agents ORDER BY name");
  std::vector<AgentRecord> out;
  while (st.Step()) out.push_back(ReadAgent(st));
  tx.Check(st);
  return out;
}

bool AddAgent(Tx& tx, const AgentRecord& a) {
  Statement st = tx.Prep(
      "INSERT INTO agents(name, role, password_hash, disabled, auto_assign, capacity, "
      "created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING");
  st.Bind(1, a.name)
      .Bind(2, a.role)
      .Bind(3, a.password_hash)
      .Bind(4, a.disabled ? 1 : 0)
      .Bind(5, a.auto_assign ? 1 : 0)
      .Bind(6, a.capacity)
      .Bind(7, a.created_at);
  tx.Check(st.Run());
  return tx.connection().Changes() > 0;
}

void UpdateAgent(Tx& tx, const AgentRecord& a) {
  Statement st = tx.Prep(
      "UPDATE agents SET role = ?, password_hash = ?, disabled = ?, auto_assign = ?, capacity = ? "
      "WHERE id = ?");
  st.Bind(1, a.role)
      .Bind(2, a.password_hash)
      .Bind(3, a.disabled ? 1 : 0)
      .Bind(4, a.auto_assign ? 1 : 0)
      .Bind(5, a.capacity)
      .Bind(6, a.id);
  tx.Check(st.Run());
}

void TouchAgent(Tx& tx, std::int64_t agent_id, UnixSeconds now) {
  Statement st = tx.Prep("UPDATE agents SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?");
  st.Bind(1, now).Bind(2, agent_id).Bind(3, now);
  tx.Check(st.Run());
}

void SaveAgentToken(Tx& tx, const std::string& token_hash, std::int64_t agent_id, UnixSeconds now,
                    UnixSeconds expires_at) {
  Statement st = tx.Prep(
      "INSERT INTO agent_tokens(token_hash, agent_id, created_at, expires_at) VALUES (?,?,?,?)");
  st.Bind(1, token_hash).Bind(2, agent_id).Bind(3, now).Bind(4, expires_at);
  tx.Check(st.Run());
}

std::optional<std::int64_t> AgentForToken(Tx& tx, const std::string& token_hash, UnixSeconds now) {
  Statement st =
      tx.Prep("SELECT agent_id FROM agent_tokens WHERE token_hash = ? AND expires_at > ?");
  st.Bind(1, token_hash).Bind(2, now);
  if (!st.Step()) return tx.Check(st), std::nullopt;
  return st.Int(0);
}

void DeleteAgentToken(Tx& tx, const std::string& token_hash) {
  Statement st = tx.Prep("DELETE FROM agent_tokens WHERE token_hash = ?");
  st.Bind(1, token_hash);
  tx.Check(st.Run());
}

void DeleteAgentTokens(Tx& tx, std::int64_t agent_id) {
  Statement st = tx.Prep("DELETE FROM agent_tokens WHERE agent_id = ?");
  st.Bind(1, agent_id);
  tx.Check(st.Run());
}

void PurgeAgentTokens(Tx& tx, UnixSeconds now) {
  Statement st = tx.Prep("DELETE FROM agent_tokens WHERE expires_at <= ?");
  st.Bind(1, now);
  tx.Check(st.Run());
}

LoginFailures GetLoginFailures(Tx& tx, const std::string& name) {
  Statement st =
      tx.Prep("SELECT failures, locked_until FROM agent_login_failures WHERE name = ?");
  st.Bind(1, name);
  LoginFailures f;
  if (st.Step()) {
    f.failures = static_cast<int>(st.Int(0));
    f.locked_until = st.Int(1);
  }
  tx.Check(st);
  return f;
}

void SaveLoginFailures(Tx& tx, const std::string& name, const LoginFailures& f) {
  if (f.failures == 0 && f.locked_until == 0) {
    Statement st = tx.Prep("DELETE FROM agent_login_failures WHERE name = ?");
    st.Bind(1, name);
    tx.Check(st.Run());
    return;
  }
  Statement st = tx.Prep(
      "INSERT INTO agent_login_failures(name, failures, locked_until) VALUES (?,?,?) "
      "ON CONFLICT(name) DO UPDATE SET failures = excluded.failures, "
      "locked_until = excluded.locked_until");
  st.Bind(1, name).Bind(2, f.failures).Bind(3, f.locked_until);
  tx.Check(st.Run());
}

// --- conversations -------------------------------------------------------------

namespace {
// A conversation read to be changed and written back: on PostgreSQL the row
// stays locked until the Tx ends, so two instances (or two agents) never
// both act on the same old state. (SQLite: one writer already.)
std::string Locked(Tx& tx) { return tx.dialect() == Dialect::kPostgres ? " FOR UPDATE" : ""; }

// The console's events and the customers' feed are read by cursor (seq /
// id greater than the last seen): their rows must become visible in the
// order of their numbers, so on PostgreSQL their writers commit one at a
// time (numbers are taken at INSERT but seen at COMMIT).
void LockFeeds(Tx& tx) { tx.LockKey("desk feeds"); }
}  // namespace

std::optional<DeskConversation> OpenDeskConversation(Tx& tx, const std::string& channel,
                                                     const std::string& external_id) {
  Statement st = tx.Prep(std::string("SELECT ") + kConvCols +
                         " FROM desk_conversations WHERE channel = ? AND external_id = ? AND "
                         "state IN ('queued', 'held')" + Locked(tx));
  st.Bind(1, channel).Bind(2, external_id);
  return OneConv(tx, st);
}

std::optional<DeskConversation> FindDeskConversation(Tx& tx, const std::string& public_id) {
  Statement st = tx.Prep(std::string("SELECT ") + kConvCols +
                         " FROM desk_conversations WHERE public_id = ?" + Locked(tx));
  st.Bind(1, public_id);
  return OneConv(tx, st);
}

std::optional<DeskConversation> DeskConversationById(Tx& tx, std::int64_t id) {
  Statement st =
      tx.Prep(std::string("SELECT ") + kConvCols + " FROM desk_conversations WHERE id = ?" +
              Locked(tx));
  st.Bind(1, id);
  return OneConv(tx, st);
}

void CreateDeskConversation(Tx& tx, DeskConversation& c) {
  Statement st = tx.Prep(
      "INSERT INTO desk_conversations(public_id, channel, external_id, state, reason, queued_at, "
      "last_customer_at) VALUES (?,?,?,?,?,?,?)");
  st.Bind(1, c.public_id)
      .Bind(2, c.channel)
      .Bind(3, c.external_id)
      .Bind(4, c.state)
      .Bind(5, c.reason)
      .Bind(6, c.queued_at)
      .Bind(7, c.last_customer_at);
  tx.Check(st.Run());
  c.id = tx.connection().LastInsertId();
}

void UpdateDeskConversation(Tx& tx, const DeskConversation& c) {
  Statement st = tx.Prep(
      "UPDATE desk_conversations SET state = ?, reason = ?, queued_at = ?, agent_id = ?, "
      "claimed_at = ?, first_response_at = ?, last_agent_at = ?, last_customer_at = ?, "
      "replies_since_customer = ?, wait_notified = ?, ended_at = ?, end_kind = ?, rating = ?, "
      "rating_open = ?, typing_agent = ?, typing_until = ? WHERE id = ?");
  st.Bind(1, c.state).Bind(2, c.reason).Bind(3, c.queued_at);
  BindOpt(st, 4, c.agent_id);
  BindOpt(st, 5, c.claimed_at);
  BindOpt(st, 6, c.first_response_at);
  BindOpt(st, 7, c.last_agent_at);
  st.Bind(8, c.last_customer_at).Bind(9, c.replies_since_customer).Bind(10, c.wait_notified ? 1 : 0);
  BindOpt(st, 11, c.ended_at);
  if (c.end_kind.empty())
    st.BindNull(12);
  else
    st.Bind(12, c.end_kind);
  BindOpt(st, 13, c.rating);
  st.Bind(14, c.rating_open ? 1 : 0);
  BindOpt(st, 15, c.typing_agent);
  st.Bind(16, c.typing_until).Bind(17, c.id);
  tx.Check(st.Run());
}

std::vector<DeskConversation> DeskConversationsIn(Tx& tx, const std::string& state) {
  Statement st = tx.Prep(std::string("SELECT ") + kConvCols +
                         " FROM desk_conversations WHERE state = ? ORDER BY queued_at, id");
  st.Bind(1, state);
  std::vector<DeskConversation> out;
  while (st.Step()) out.push_back(ReadConv(st));
  tx.Check(st);
  return out;
}

int HeldCount(Tx& tx, std::int64_t agent_id) {
  Statement st = tx.Prep(
      "SELECT COUNT(*) FROM desk_conversations WHERE state = 'held' AND agent_id = ?");
  st.Bind(1, agent_id);
  const int n = st.Step() ? static_cast<int>(st.Int(0)) : 0;
  tx.Check(st);
  return n;
}

int QueuePosition(Tx& tx, const DeskConversation& c) {
  Statement st = tx.Prep(
      "SELECT COUNT(*) FROM desk_conversations WHERE state = 'queued' AND "
      "(queued_at < ? OR (queued_at = ? AND id < ?))");
  st.Bind(1, c.queued_at).Bind(2, c.queued_at).Bind(3, c.id);
  const int n = st.Step() ? static_cast<int>(st.Int(0)) : 0;
  tx.Check(st);
  return n + 1;
}

std::optional<DeskConversation> RatingPending(Tx& tx, const std::string& channel,
                                              const std::string& external_id) {
  Statement st = tx.Prep(std::string("SELECT ") + kConvCols +
                         " FROM desk_conversations WHERE channel = ? AND external_id = ? AND "
                         "rating_open = 1 ORDER BY id DESC LIMIT 1");
  st.Bind(1, channel).Bind(2, external_id);
  return OneConv(tx, st);
}

// --- messages and events ----------------------------------------------------------

std::int64_t AppendDeskMessage(Tx& tx, std::int64_t conversation_id, UnixSeconds at,
                               const std::string& from, std::int64_t agent_id,
                               const std::string& text, const std::string& meta_json) {
  Statement st = tx.Prep(
      "INSERT INTO desk_messages(conversation_id, at, sender, agent_id, text, meta) "
      "VALUES (?,?,?,?,?,?)");
  st.Bind(1, conversation_id).Bind(2, at).Bind(3, from);
  BindOpt(st, 4, agent_id);
  st.Bind(5, text).Bind(6, meta_json);
  tx.Check(st.Run());
  return tx.connection().LastInsertId();
}

std::vector<DeskMessage> DeskMessages(Tx& tx, std::int64_t conversation_id, int limit) {
  Statement st = tx.Prep(
      "SELECT seq, conversation_id, at, sender, agent_id, text, meta FROM ("
      " SELECT * FROM desk_messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?"
      ") recent ORDER BY seq");
  st.Bind(1, conversation_id).Bind(2, limit);
  std::vector<DeskMessage> out;
  while (st.Step()) {
    DeskMessage m;
    m.seq = st.Int(0);
    m.conversation_id = st.Int(1);
    m.at = st.Int(2);
    m.from = st.Text(3);
    m.agent_id = IntOr0(st, 4);
    m.text = st.Text(5);
    m.meta = st.Text(6);
    out.push_back(std::move(m));
  }
  tx.Check(st);
  return out;
}

std::optional<std::int64_t> ConversationOfMedia(Tx& tx, const std::string& media_id) {
  Statement st = tx.Prep(
      tx.dialect() == Dialect::kPostgres
          ? "SELECT conversation_id FROM desk_messages WHERE sender = 'customer' AND "
            "meta::jsonb #>> '{media,media_id}' = ? ORDER BY seq DESC LIMIT 1"
          : "SELECT conversation_id FROM desk_messages WHERE sender = 'customer' AND "
            "json_extract(meta, '$.media.media_id') = ? ORDER BY seq DESC LIMIT 1");
  st.Bind(1, media_id);
  if (!st.Step()) return tx.Check(st), std::nullopt;
  return st.Int(0);
}

std::optional<DeskMessage> LastCustomerMessage(Tx& tx, std::int64_t conversation_id) {
  Statement st = tx.Prep(
      "SELECT seq, at, text, meta FROM desk_messages WHERE conversation_id = ? AND "
      "sender = 'customer' ORDER BY seq DESC LIMIT 1");
  st.Bind(1, conversation_id);
  if (!st.Step()) return tx.Check(st), std::nullopt;
  DeskMessage m;
  m.seq = st.Int(0);
  m.conversation_id = conversation_id;
  m.at = st.Int(1);
  m.from = "customer";
  m.text = st.Text(2);
  m.meta = st.Text(3);
  return m;
}

void AppendDeskEvent(Tx& tx, std::int64_t conversation_id, const std::string& kind,
                     UnixSeconds now) {
  LockFeeds(tx);
  Statement st = tx.Prep("INSERT INTO desk_events(at, conversation_id, kind) VALUES (?,?,?)");
  st.Bind(1, now);
  BindOpt(st, 2, conversation_id);
  st.Bind(3, kind);
  tx.Check(st.Run());
}

std::int64_t LatestDeskEvent(Tx& tx) {
  Statement st = tx.Prep("SELECT COALESCE(MAX(seq), 0) FROM desk_events");
  const std::int64_t n = st.Step() ? st.Int(0) : 0;
  tx.Check(st);
  return n;
}

std::vector<DeskEvent> DeskEventsAfter(Tx& tx, std::int64_t seq, int limit) {
  Statement st = tx.Prep(
      "SELECT seq, at, conversation_id, kind FROM desk_events WHERE seq > ? ORDER BY seq LIMIT ?");
  st.Bind(1, seq).Bind(2, limit);
  std::vector<DeskEvent> out;
  while (st.Step()) out.push_back(DeskEvent{st.Int(0), st.Int(1), IntOr0(st, 2), st.Text(3)});
  tx.Check(st);
  return out;
}

namespace {

std::vector<TurnLog> LastTurns(Tx& tx, const std::string& channel, const std::string& external_id,
                               int limit, bool with_desk) {
  Statement st = tx.Prep(
      with_desk ? "SELECT at, text, intent, confidence, flow, step, replies FROM ("
                  " SELECT * FROM dialog_log WHERE channel = ? AND external_id = ?"
                  " ORDER BY at DESC, id DESC LIMIT ?) recent ORDER BY at, id"
                : "SELECT at, text, intent, confidence, flow, step, replies FROM ("
                  " SELECT * FROM dialog_log WHERE channel = ? AND external_id = ? AND "
                  " intent <> 'handoff' ORDER BY at DESC, id DESC LIMIT ?) recent ORDER BY at, id");
  st.Bind(1, channel).Bind(2, external_id).Bind(3, limit);
  std::vector<TurnLog> out;
  while (st.Step()) {
    TurnLog t;
    t.at = st.Int(0);
    t.channel = channel;
    t.external_id = external_id;
    t.text = st.Text(1);
    t.intent = st.Text(2);
    t.confidence = st.Double(3);
    t.flow = st.Text(4);
    t.step = st.Text(5);
    t.replies_json = st.Text(6);
    out.push_back(std::move(t));
  }
  tx.Check(st);
  return out;
}

}  // namespace

std::vector<TurnLog> RecentBotTurns(Tx& tx, const std::string& channel,
                                    const std::string& external_id, int limit) {
  return LastTurns(tx, channel, external_id, limit, false);
}

std::vector<TurnLog> RecentTurns(Tx& tx, const std::string& channel,
                                 const std::string& external_id, int limit) {
  return LastTurns(tx, channel, external_id, limit, true);
}

// --- what the customer reads outside a reply ---------------------------------------

std::int64_t QueueCustomerMessage(Tx& tx, const std::string& channel, const std::string& recipient,
                                  const std::string& body, const std::string& sender,
                                  UnixSeconds now) {
  LockFeeds(tx);
  Statement st = tx.Prep(
      "INSERT INTO outbox(channel, recipient, body, sender, created_at) VALUES (?,?,?,?,?)");
  st.Bind(1, channel).Bind(2, recipient).Bind(3, body).Bind(4, sender).Bind(5, now);
  tx.Check(st.Run());
  return tx.connection().LastInsertId();
}

std::vector<CustomerUpdate> CustomerUpdatesAfter(Tx& tx, const std::string& channel,
                                                 const std::string& recipient, std::int64_t after,
                                                 UnixSeconds now, int limit) {
  Statement st = tx.Prep(
      "SELECT id, created_at, sender, body FROM outbox WHERE channel = ? AND recipient = ? AND "
      "id > ? ORDER BY id LIMIT ?");
  st.Bind(1, channel).Bind(2, recipient).Bind(3, after).Bind(4, limit);
  std::vector<CustomerUpdate> out;
  while (st.Step()) out.push_back(CustomerUpdate{st.Int(0), st.Int(1), st.Text(2), st.Text(3)});
  tx.Check(st);
  if (!out.empty()) {
    Statement mark = tx.Prep(
        "UPDATE outbox SET status = 'sent', sent_at = ? WHERE channel = ? AND recipient = ? AND "
        "id > ? AND id <= ? AND status = 'pending'");
    mark.Bind(1, now).Bind(2, channel).Bind(3, recipient).Bind(4, after).Bind(5, out.back().seq);
    tx.Check(mark.Run());
  }
  return out;
}

std::vector<CustomerUpdate> PendingCustomerUpdates(Tx& tx, const std::string& channel,
                                                   const std::string& recipient) {
  Statement st = tx.Prep(
      "SELECT id, created_at, sender, body FROM outbox WHERE channel = ? AND recipient = ? AND "
      "status = 'pending' ORDER BY id");
  st.Bind(1, channel).Bind(2, recipient);
  std::vector<CustomerUpdate> out;
  while (st.Step()) out.push_back(CustomerUpdate{st.Int(0), st.Int(1), st.Text(2), st.Text(3)});
  tx.Check(st);
  return out;
}

std::vector<CustomerUpdate> RecentCustomerUpdates(Tx& tx, const std::string& channel,
                                                  const std::string& recipient, int limit) {
  Statement st = tx.Prep(
      "SELECT id, created_at, sender, body FROM (SELECT * FROM outbox WHERE channel = ? AND "
      "recipient = ? ORDER BY id DESC LIMIT ?) recent ORDER BY id");
  st.Bind(1, channel).Bind(2, recipient).Bind(3, limit);
  std::vector<CustomerUpdate> out;
  while (st.Step()) out.push_back(CustomerUpdate{st.Int(0), st.Int(1), st.Text(2), st.Text(3)});
  tx.Check(st);
  return out;
}

std::int64_t LatestCustomerUpdate(Tx& tx, const std::string& channel,
                                  const std::string& recipient) {
  Statement st = tx.Prep(
      "SELECT COALESCE(MAX(id), 0) FROM outbox WHERE channel = ? AND recipient = ?");
  st.Bind(1, channel).Bind(2, recipient);
  const std::int64_t n = st.Step() ? st.Int(0) : 0;
  tx.Check(st);
  return n;
}

}  // namespace gridbot::storage
