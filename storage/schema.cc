// Versioned migrations. Each entry moves the schema from version i to i+1 and
// runs in its own transaction; PRAGMA user_version (SQLite) or the table
// gridbot_schema (PostgreSQL) records where a database is. Never edit a
// released migration: append a new one, in both dialects.
//
// The PostgreSQL version of a migration is its SQLite text with the types
// PostgreSQL spells differently (PostgreSQLTypes), unless PostgresOnly()
// has one of its own (where SQLite's features have no common form).
#include "storage/schema.h"

#include <functional>
#include <map>
#include <regex>
#include <vector>

namespace gridbot::storage {
namespace {

const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> kMigrations = {
      // 1: the back end (fixtures.md) and the bot's own tables.
      R"sql(
CREATE TABLE accounts (
  account_no TEXT PRIMARY KEY, service_password TEXT NOT NULL, holder TEXT NOT NULL,
  city TEXT NOT NULL, district TEXT NOT NULL, address TEXT NOT NULL,
  reading_day INTEGER NOT NULL, supply_unit TEXT NOT NULL, voltage_level TEXT NOT NULL,
  reading_type TEXT NOT NULL, usage_category TEXT NOT NULL, metering TEXT NOT NULL,
  settlement_unit TEXT NOT NULL, phone TEXT NOT NULL, balance_fen INTEGER NOT NULL);
CREATE TABLE bills (
  account_no TEXT NOT NULL, month TEXT NOT NULL, kwh INTEGER NOT NULL,
  amount_fen INTEGER NOT NULL, due_date TEXT NOT NULL, paid INTEGER NOT NULL,
  PRIMARY KEY (account_no, month));
CREATE TABLE payments (
  id INTEGER PRIMARY KEY, account_no TEXT NOT NULL, paid_at INTEGER NOT NULL,
  amount_fen INTEGER NOT NULL, method TEXT NOT NULL, reference TEXT);
CREATE INDEX payments_account ON payments(account_no, paid_at);
CREATE TABLE outages (
  id TEXT PRIMARY KEY, city TEXT NOT NULL, district TEXT NOT NULL, area TEXT NOT NULL,
  start_at INTEGER NOT NULL, end_at INTEGER NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE outage_accounts (outage_id TEXT NOT NULL, account_no TEXT NOT NULL,
  PRIMARY KEY (outage_id, account_no));
CREATE TABLE business (
  business_no TEXT PRIMARY KEY, account_no TEXT, type TEXT NOT NULL, status TEXT NOT NULL,
  created_at INTEGER NOT NULL DEFAULT 0);
CREATE TABLE business_steps (business_no TEXT NOT NULL, seq INTEGER NOT NULL,
  name TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (business_no, seq));
CREATE TABLE outlets (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT NOT NULL, district TEXT NOT NULL,
  address TEXT NOT NULL, lat REAL NOT NULL, lng REAL NOT NULL, hours TEXT NOT NULL,
  phone TEXT NOT NULL);
CREATE TABLE prepaid_cards (
  card_no TEXT PRIMARY KEY, password TEXT NOT NULL, amount_fen INTEGER NOT NULL,
  used INTEGER NOT NULL, used_by TEXT, used_at INTEGER);

-- A platform user; anonymous until registered (issue: registration).
CREATE TABLE users (
  id INTEGER PRIMARY KEY, phone TEXT UNIQUE, password_hash TEXT, city TEXT,
  created_at INTEGER NOT NULL);
-- Who is talking: (channel, external id) -> user. Several identities may share
-- a user once they log in.
CREATE TABLE identities (
  channel TEXT NOT NULL, external_id TEXT NOT NULL, user_id INTEGER NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL, PRIMARY KEY (channel, external_id));
CREATE TABLE bindings (
  user_id INTEGER NOT NULL REFERENCES users(id), account_no TEXT NOT NULL,
  is_default INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, account_no));
CREATE TABLE bind_attempts (
  user_id INTEGER NOT NULL, account_no TEXT NOT NULL, kind TEXT NOT NULL,
  failures INTEGER NOT NULL, locked_until INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, account_no, kind));
-- One dialog state per conversation (channel + external id).
CREATE TABLE sessions (
  channel TEXT NOT NULL, external_id TEXT NOT NULL, state TEXT NOT NULL,
  updated_at INTEGER NOT NULL, PRIMARY KEY (channel, external_id));
CREATE TABLE dialog_log (
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, channel TEXT NOT NULL, external_id TEXT NOT NULL,
  text TEXT NOT NULL, normalized TEXT NOT NULL, intent TEXT NOT NULL, confidence REAL NOT NULL,
  slots TEXT NOT NULL, flow TEXT NOT NULL, step TEXT NOT NULL, replies TEXT NOT NULL,
  micros INTEGER NOT NULL, masked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX dialog_log_at ON dialog_log(at);
CREATE INDEX dialog_log_user ON dialog_log(channel, external_id, at);
-- Replies already given to a WeChat push, so a retry gets the same answer.
CREATE TABLE inbound_dedup (
  channel TEXT NOT NULL, key TEXT NOT NULL, reply TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (channel, key));
-- Messages sent outside a reply (SMS codes, notices, agent messages).
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY, channel TEXT NOT NULL, recipient TEXT NOT NULL, body TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
  dedup_key TEXT UNIQUE, created_at INTEGER NOT NULL, sent_at INTEGER);
)sql",
      // 2: the services of the account (issue 3).
      R"sql(
-- Extra fields of business records created through the bot (repair,
-- new install / change): contact, address, description… as JSON.
ALTER TABLE business ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
CREATE INDEX business_account ON business(account_no);
-- SMS verification codes (registration), stored as a hash.
CREATE TABLE sms_codes (
  phone TEXT NOT NULL, purpose TEXT NOT NULL, code_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (phone, purpose));
-- Monthly bill subscriptions of a user for one account.
CREATE TABLE subscriptions (
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
  account_no TEXT NOT NULL, channel TEXT NOT NULL, target TEXT NOT NULL,
  created_at INTEGER NOT NULL, active INTEGER NOT NULL DEFAULT 1);
CREATE INDEX subscriptions_user ON subscriptions(user_id, active);
-- Payment orders (Alipay / UnionPay through the gateway).
CREATE TABLE payment_orders (
  order_no TEXT PRIMARY KEY, user_id INTEGER NOT NULL, channel TEXT NOT NULL,
  external_id TEXT NOT NULL, account_no TEXT NOT NULL, amount_fen INTEGER NOT NULL,
  method TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
  created_at INTEGER NOT NULL, paid_at INTEGER, gateway_ref TEXT);
)sql",
      // 3: the words of each logged message (ICU segmentation with the
      // domain lexicon), space-separated, for analysts' search.
      R"sql(
ALTER TABLE dialog_log ADD COLUMN tokens TEXT NOT NULL DEFAULT '';
)sql",
      // 4: the desk (issue 8): staff, their sessions, conversations handed
      // to a person and what was said in them.
      R"sql(
CREATE TABLE agents (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
  password_hash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
  auto_assign INTEGER NOT NULL DEFAULT 0, capacity INTEGER NOT NULL DEFAULT 0,
  last_seen_at INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
-- Login tokens, by the SHA-256 of the token (the token itself is never kept).
CREATE TABLE agent_tokens (
  token_hash TEXT PRIMARY KEY, agent_id INTEGER NOT NULL REFERENCES agents(id),
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
-- Failed logins per name (also unknown names), so a lock survives a restart.
CREATE TABLE agent_login_failures (
  name TEXT PRIMARY KEY, failures INTEGER NOT NULL, locked_until INTEGER NOT NULL);
-- One row per handoff: from the customer's request to release or close.
CREATE TABLE desk_conversations (
  id INTEGER PRIMARY KEY, public_id TEXT NOT NULL UNIQUE, channel TEXT NOT NULL,
  external_id TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,
  queued_at INTEGER NOT NULL, agent_id INTEGER, claimed_at INTEGER,
  first_response_at INTEGER, last_agent_at INTEGER, last_customer_at INTEGER NOT NULL,
  replies_since_customer INTEGER NOT NULL DEFAULT 0, wait_notified INTEGER NOT NULL DEFAULT 0,
  ended_at INTEGER, end_kind TEXT, rating INTEGER, rating_open INTEGER NOT NULL DEFAULT 0,
  typing_agent INTEGER, typing_until INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX desk_open ON desk_conversations(channel, external_id)
  WHERE state IN ('queued', 'held');
CREATE INDEX desk_by_state ON desk_conversations(state, queued_at);
CREATE INDEX desk_by_customer ON desk_conversations(channel, external_id, queued_at);
-- Everything said in a desk conversation, in order: the bot's earlier turns
-- (copied at handoff), the customer's messages, agents' replies and notes,
-- system events. meta: intent, confidence, flow, step, media, as JSON.
CREATE TABLE desk_messages (
  seq INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL REFERENCES desk_conversations(id),
  at INTEGER NOT NULL, sender TEXT NOT NULL, agent_id INTEGER, text TEXT NOT NULL,
  meta TEXT NOT NULL DEFAULT '{}');
CREATE INDEX desk_messages_by_conversation ON desk_messages(conversation_id, seq);
-- A change agents may need to see (the console's event stream polls it).
CREATE TABLE desk_events (
  seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, conversation_id INTEGER, kind TEXT NOT NULL);
-- Who a message outside a reply is from: bot, agent or system.
ALTER TABLE outbox ADD COLUMN sender TEXT NOT NULL DEFAULT 'bot';
CREATE INDEX outbox_by_recipient ON outbox(channel, recipient, id);
)sql",
      // 5: for analysts (issue 9): what happened to flow runs in each turn
      // (started, the step asked, how a run ended) and the command layer's
      // decision.
      R"sql(
ALTER TABLE dialog_log ADD COLUMN events TEXT NOT NULL DEFAULT '[]';
ALTER TABLE dialog_log ADD COLUMN commands TEXT NOT NULL DEFAULT '';
-- The bot said it did not understand; the turn handed the conversation to
-- the desk ("asked", "not_understood", "gave_up") or was a message to it
-- ("message", "cancelled").
ALTER TABLE dialog_log ADD COLUMN fallback INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dialog_log ADD COLUMN handoff TEXT NOT NULL DEFAULT '';
)sql",
      // 6: full-text search of what customers wrote (analytics' q): the
      // normalised text as overlapping character bigrams ("电费 费多 多少"),
      // so any two or more characters typed by an analyst are found
      // wherever they occur, and the ICU + lexicon words the log keeps.
      R"sql(
-- (Rows logged before this migration are indexed by Store::Open.)
CREATE VIRTUAL TABLE dialog_fts USING fts5(grams, words, tokenize = 'unicode61');
)sql",
      // 7: the log feeding the corpus, and retention (issue 9).
      R"sql(
-- What the rules alone made of the message, {"intent","confidence","slots"}
-- (the turn's own intent is the dialog's): what `logs replay` compares.
ALTER TABLE dialog_log ADD COLUMN nlu TEXT NOT NULL DEFAULT '';
-- Unrecognised messages as last grouped: the group's texts (masked), so a
-- label posted for an id labels what the analyst saw.
CREATE TABLE unrecognised_groups (
  id TEXT PRIMARY KEY, texts TEXT NOT NULL, updated_at INTEGER NOT NULL);
-- A message labelled with the intent it should have had: a corpus line.
-- `text` is masked (it outlives the log); `normalized` is its key.
CREATE TABLE nlu_labels (
  normalized TEXT PRIMARY KEY, text TEXT NOT NULL, intent TEXT NOT NULL,
  slots TEXT NOT NULL, group_id TEXT NOT NULL, labelled_by TEXT NOT NULL,
  labelled_at INTEGER NOT NULL);
-- A day's figures, kept when its turns are pruned (analytics/summary.h).
CREATE TABLE daily_aggregates (day TEXT PRIMARY KEY, figures TEXT NOT NULL, at INTEGER NOT NULL);
)sql",
      // 8: the search index holds masked text only (a phone number typed as
      // a query found its customer); Store::Open indexes the log again.
      R"sql(
DELETE FROM dialog_fts;
)sql",
      // 9: trust (issue 10). The nonces of signed WeChat pushes within the
      // timestamp window, each bound to its message; retry answers expire.
      R"sql(
CREATE TABLE wechat_nonces (
  nonce TEXT NOT NULL, timestamp TEXT NOT NULL, message TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (nonce, timestamp));
CREATE INDEX wechat_nonces_at ON wechat_nonces(at);
CREATE INDEX inbound_dedup_at ON inbound_dedup(at);
)sql",
      // 10: wrong-secret counts know their last failure: they fade, and
      // housekeeping forgets the quiet ones.
      R"sql(
ALTER TABLE bind_attempts ADD COLUMN last_at INTEGER NOT NULL DEFAULT 0;
)sql",
      // 11: counts from before 10 are dated now (not 0, which housekeeping
      // would forget at once — a guesser's fresh start at the upgrade), and
      // the purge by date is indexed.
      R"sql(
UPDATE bind_attempts SET last_at = MAX(locked_until, CAST(strftime('%s', 'now') AS INTEGER))
  WHERE last_at = 0;
CREATE INDEX IF NOT EXISTS bind_attempts_last_at ON bind_attempts(last_at);
)sql",
      // 12: several instances deliver the outbox: a message is claimed for
      // a while before it is sent, so no other instance sends it too.
      R"sql(
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_pending ON outbox(status, id);
)sql",
      // 13: the WeChat access token, shared by the instances (storage/tokens.h).
      R"sql(
CREATE TABLE shared_tokens (
  name TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER NOT NULL,
  lease_until INTEGER NOT NULL DEFAULT 0, holder TEXT NOT NULL DEFAULT '');
)sql",
      // 14: request limits the instances count together (storage/limits.h).
      R"sql(
CREATE TABLE rate_buckets (
  key TEXT PRIMARY KEY, tokens REAL NOT NULL, at_ms INTEGER NOT NULL, allowed INTEGER NOT NULL);
CREATE INDEX rate_buckets_at ON rate_buckets(at_ms);
)sql",
  };
  return kMigrations;
}


// Where the dialects differ, by version: PostgreSQL's text of the migration.
const std::map<int, std::string>& PostgresOnly() {
  static const std::map<int, std::string> kOwn = {
      // 6: the search index. No FTS5: the same two columns in a table,
      // matched as a phrase of whole grams (storage/analytics.cc).
      {6, R"sql(
CREATE TABLE dialog_fts (rowid BIGINT PRIMARY KEY, grams TEXT NOT NULL, words TEXT NOT NULL);
)sql"},
      // 11: with PostgreSQL's names for the clock and the larger of two.
      {11, R"sql(
UPDATE bind_attempts SET last_at = GREATEST(locked_until, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT))
  WHERE last_at = 0;
CREATE INDEX IF NOT EXISTS bind_attempts_last_at ON bind_attempts(last_at);
)sql"},
      // 14: unlogged: a write per request needs no WAL, and after a crash
      // the buckets start full (what a minute of quiet does anyway).
      {14, R"sql(
CREATE UNLOGGED TABLE rate_buckets (
  key TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL, at_ms BIGINT NOT NULL,
  allowed BIGINT NOT NULL);
CREATE INDEX rate_buckets_at ON rate_buckets(at_ms);
)sql"},
  };
  return kOwn;
}

// SQLite's column types as PostgreSQL has them: 64-bit integers, an
// integer key numbered by a sequence, doubles. Bindings keep SQLite's
// implicit rowid (their order among equal times) as a column.
std::string PostgreSQLTypes(int version, const std::string& sqlite) {
  std::string s = std::regex_replace(sqlite, std::regex(R"(\bINTEGER PRIMARY KEY\b)"),
                                     "BIGSERIAL PRIMARY KEY");
  s = std::regex_replace(s, std::regex(R"(\bINTEGER\b)"), "BIGINT");
  s = std::regex_replace(s, std::regex(R"(\bREAL\b)"), "DOUBLE PRECISION");
  if (version == 1) s += "\nALTER TABLE bindings ADD COLUMN rowid BIGSERIAL;\n";
  return s;
}

// Any number: PostgreSQL's advisory lock of gridbot's migrations.
constexpr const char* kMigrationLock = "7305190601";

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

Result<int> SchemaVersion(Connection& db) {
  if (db.dialect() == Dialect::kPostgres) {
    auto st = db.Prepare(
        "SELECT COALESCE((SELECT version FROM gridbot_schema), 0) "
        "WHERE to_regclass('gridbot_schema') IS NOT NULL");
    if (st.Step()) return static_cast<int>(st.Int(0));
    if (!st.error().empty()) return Status::Error("cannot read schema version: " + st.error());
    return 0;  // (no table yet)
  }
  auto st = db.Prepare("PRAGMA user_version");
  if (!st.Step()) return Status::Error("cannot read schema version: " + st.error());
  return static_cast<int>(st.Int(0));
}

namespace {

// Runs the migrations from the database's version on, each in its own
// transaction: `script(v)` is the text that takes it from v to v + 1.
Status RunMigrations(Connection& db, int* from_version,
                     const std::function<std::string(int)>& script) {
  auto version = SchemaVersion(db);
  if (!version.ok()) return version.status();
  if (from_version) *from_version = *version;
  const int latest = LatestSchemaVersion();
  if (*version > latest)
    return Status::Error("database schema version " + std::to_string(*version) +
                         " is newer than this gridbot (" + std::to_string(latest) + ")");
  for (int v = *version; v < latest; ++v) {
    Status s = db.Exec(script(v));
    if (!s.ok()) {
      db.Exec("ROLLBACK");
      return Status::Error("migration " + std::to_string(v + 1) + " failed: " + s.message());
    }
  }
  return Status::Ok();
}

Status MigrateSqlite(Connection& db, int* from_version) {
  return RunMigrations(db, from_version, [](int v) {
    return std::string("BEGIN IMMEDIATE;\n") + Migrations()[v] +
           "\nPRAGMA user_version = " + std::to_string(v + 1) + ";\nCOMMIT;";
  });
}

Status MigratePostgres(Connection& db, int* from_version) {
  // One instance migrates; the others wait here, then find nothing to do.
  Status s = db.Exec(std::string("SELECT pg_advisory_lock(") + kMigrationLock + ")");
  if (!s.ok()) return s;
  struct Unlock {
    Connection& db;
    ~Unlock() { db.Exec(std::string("SELECT pg_advisory_unlock(") + kMigrationLock + ")"); }
  } unlock{db};
  s = db.Exec("CREATE TABLE IF NOT EXISTS gridbot_schema (version BIGINT NOT NULL);"
              "INSERT INTO gridbot_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM gridbot_schema)");
  if (!s.ok()) return s;
  return RunMigrations(db, from_version, [](int v) {
    auto own = PostgresOnly().find(v + 1);
    const std::string body =
        own != PostgresOnly().end() ? own->second : PostgreSQLTypes(v + 1, Migrations()[v]);
    return "BEGIN;\n" + body + "\nUPDATE gridbot_schema SET version = " + std::to_string(v + 1) +
           ";\nCOMMIT;";
  });
}

}  // namespace

Status Migrate(Connection& db, int* from_version) {
  return db.dialect() == Dialect::kPostgres ? MigratePostgres(db, from_version)
                                            : MigrateSqlite(db, from_version);
}

}  // namespace gridbot::storage
