#include "storage/store.h"

#include <cstdlib>

#include "storage/analytics.h"
#include "storage/engines.h"
#include "storage/schema.h"

namespace gridbot::storage {

Result<std::unique_ptr<Store>> Store::Open(const std::string& spec) {
  auto db = Connection::Open(spec);
  if (!db.ok()) return db.status();
  int was = 0;
  Status s = Migrate(**db, &was);
  const std::string where = DescribeDatabase(spec);
  if (!s.ok()) return Status::Error(where + ": " + s.message());
  // The search index of turns logged before it existed (migration 6), or
  // before it held masked text (emptied by migration 8), once. (A database
  // on PostgreSQL began past 8.)
  if (was > 0 && was < 8) {
    (*db)->Exec("BEGIN IMMEDIATE");
    {
      Statement rows =
          (*db)->Prepare("SELECT id, normalized, tokens FROM dialog_log WHERE masked = 0");
      Statement put = (*db)->Prepare("INSERT INTO dialog_fts(rowid, grams, words) VALUES (?,?,?)");
      while (rows.Step()) {
        put.Reset();
        put.Bind(1, rows.Int(0))
            .Bind(2, IndexGrams(rows.Text(1)))
            .Bind(3, IndexWords(rows.Text(2)));
        put.Run();
      }
    }
    (*db)->Exec("COMMIT");
  }
  std::unique_ptr<Store> store;
  if ((*db)->dialect() == Dialect::kPostgres) {
    std::vector<std::unique_ptr<PostgresConnection>> pool;
    pool.emplace_back(static_cast<PostgresConnection*>(db->release()));
    store = std::make_unique<PostgresStore>(spec, std::move(pool));
  } else {
    store = std::make_unique<SqliteStore>(std::move(*db), spec);
  }
  store->migrated_from_ = was;
  return store;
}

bool Store::Healthy() {
  Tx tx = Begin();
  Statement st = tx.Prep("SELECT 1");
  const bool up = st.Step() && st.Int(0) == 1;
  return up && tx.Commit().ok();
}

Readiness Store::CheckReady() {
  Readiness r;
  r.latest = LatestSchemaVersion();
  try {
    Tx tx = Begin();
    auto version = SchemaVersion(tx.connection());
    if (version.ok()) {
      r.version = *version;
      r.reachable = true;
    }
    r.reachable = tx.Commit().ok() && r.reachable;
  } catch (const std::exception&) {
    r.reachable = false;
  }
  return r;
}

// --- Tx -----------------------------------------------------------------------

Tx::Tx(Tx&& o) noexcept
    : store_(o.store_),
      lock_(std::move(o.lock_)),
      db_(o.db_),
      done_(o.done_),
      in_batch_(o.in_batch_),
      slot_(o.slot_),
      error_(std::move(o.error_)) {
  o.done_ = true;
}

Tx::~Tx() {
  if (!done_ && lock_.owns_lock()) Finish(/*commit=*/false, /*wait=*/false);
}

Status Tx::Commit() { return Finish(true, true); }
Status Tx::CommitWithNext() { return Finish(true, false); }

Status Tx::Finish(bool commit, bool wait) {
  if (done_) return Status::Error("transaction already finished");
  done_ = true;
  // Statements still alive go back now, with the connection still held:
  // their destructors may run after it is released (a Statement declared
  // next to its Tx).
  db_->RetireStatements();
  return store_->EndTx(*this, commit && ok(), wait);
}

void Tx::LockKey(const std::string& key) {
  if (db_->dialect() != Dialect::kPostgres) return;
  Statement st = Prep("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))");
  st.Bind(1, key);
  Check(st.Run());
}

// --- SQLite: one connection, group commit -------------------------------------

SqliteStore::SqliteStore(std::unique_ptr<Connection> db, const std::string& path)
    : db_(std::move(db)), sqlite_(static_cast<SqliteConnection*>(db_.get())) {
  if (path != ":memory:" && !path.empty()) StartCheckpointer(path);
}

SqliteStore::~SqliteStore() {
  if (checkpointer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      stopping_ = true;
    }
    stop_cv_.notify_all();
    checkpointer_.join();
  }
}

void SqliteStore::StartCheckpointer(const std::string& path) {
  auto reader = OpenSqlite(path);
  if (!reader.ok()) return;  // the writer's own checkpoints remain
  db_->Run("PRAGMA wal_autocheckpoint=10000");
  checkpointer_ = std::thread([this, c = std::shared_ptr<Connection>(std::move(*reader))] {
    auto* conn = static_cast<SqliteConnection*>(c.get());
    std::unique_lock<std::mutex> lock(stop_mu_);
    while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_; })) {
      lock.unlock();
      // PASSIVE: copies what no reader still needs, never waits for or
      // blocks the writer.
      conn->CheckpointPassive();
      lock.lock();
    }
  });
}

Tx SqliteStore::Begin() {
  ++waiting_;
  std::unique_lock<std::mutex> lock(mu_);
  --waiting_;
  Tx tx = MakeTx(this, std::move(lock), db_.get());
  if (!batch_open_) {
    Status s = db_->Run("BEGIN IMMEDIATE");
    if (!s.ok()) {
      tx.Check(s);
      return tx;
    }
    batch_open_ = true;
    batch_id_ += 1;
    batch_txs_ = 0;
    batch_started_ = std::chrono::steady_clock::now();
  }
  Status s = db_->Run("SAVEPOINT tx");
  if (!s.ok()) {
    tx.Check(s);
    return tx;
  }
  tx.in_batch_ = true;
  return tx;
}

SqliteStore::BatchStats SqliteStore::batch_stats() {
  std::lock_guard<std::mutex> lock(done_mu_);
  return stats_;
}

Status SqliteStore::EndTx(Tx& tx, bool wanted, bool wait) {
  const std::uint64_t batch = Close(tx, wanted);
  std::string error = tx.error_;
  tx.lock_.unlock();
  if (!wanted) return Status::Error(error.empty() ? "transaction rolled back" : error);
  if (batch == 0) return Status::Error(error.empty() ? "the transaction failed" : error);
  // (CommitWithNext: the batch stays open only for a Tx about to run in it.)
  if (!wait) return Status::Ok();
  return AwaitBatch(batch);
}

std::uint64_t SqliteStore::Close(Tx& tx, bool commit) {
  std::uint64_t joined = 0;
  if (tx.in_batch_) {
    if (commit) {
      Status s = db_->Run("RELEASE tx");
      if (s.ok()) {
        joined = batch_id_;
        ++batch_txs_;
      } else {
        tx.Check(s);
      }
    }
    if (!joined) {
      db_->Run("ROLLBACK TO tx");
      db_->Run("RELEASE tx");
    }
  }
  if (batch_open_ && sqlite_->Autocommit()) {
    // SQLite rolled the whole transaction back (an I/O error, a full disk):
    // every Tx of the batch is lost.
    batch_open_ = false;
    std::lock_guard<std::mutex> lock(done_mu_);
    failures_[batch_id_] = "the database rolled the transaction back";
    done_through_ = batch_id_;
    ++stats_.failed;
    done_cv_.notify_all();
    return 0;
  }
  // Leave the batch open only for a Tx about to begin, and not for long.
  if (batch_open_ && (waiting_.load() == 0 || batch_txs_ >= kMaxBatch ||
                      std::chrono::steady_clock::now() - batch_started_ >= kMaxBatchAge))
    CommitBatch();
  return joined;
}

void SqliteStore::CommitBatch() {
  if (before_commit_) before_commit_(batch_txs_);
  Status s = db_->Run("COMMIT");
  if (!s.ok()) db_->Run("ROLLBACK");
  batch_open_ = false;
  std::lock_guard<std::mutex> lock(done_mu_);
  if (!s.ok()) {
    failures_[batch_id_] = s.message();
    ++stats_.failed;
  }
  // Forget old failures (a waiter reads its own within moments).
  while (failures_.size() > 1000) failures_.erase(failures_.begin());
  if (batch_txs_ > 0) ++stats_.batches;  // (one of read-only Txs wrote nothing)
  stats_.txs += static_cast<std::uint64_t>(batch_txs_);
  done_through_ = batch_id_;
  done_cv_.notify_all();
}

Status SqliteStore::AwaitBatch(std::uint64_t id) {
  std::unique_lock<std::mutex> lock(done_mu_);
  done_cv_.wait(lock, [&] { return done_through_ >= id; });
  auto it = failures_.find(id);
  if (it != failures_.end()) return Status::Error(it->second);
  return Status::Ok();
}

// --- PostgreSQL: a pool, a transaction per Tx ---------------------------------

namespace {
// Connections per instance: enough for the worker pool's turns and the
// background loops (outbox, desk timers) at once.
int PoolSize() {
  if (const char* v = std::getenv("GRIDBOT_DB_POOL")) {
    const int n = std::atoi(v);
    if (n >= 1 && n <= 256) return n;
  }
  return 10;
}
}  // namespace

PostgresStore::PostgresStore(std::string spec,
                             std::vector<std::unique_ptr<PostgresConnection>> pool)
    : spec_(std::move(spec)) {
  const size_t size = std::max<size_t>(static_cast<size_t>(PoolSize()), pool.size());
  for (size_t i = 0; i < size; ++i) {
    auto slot = std::make_unique<Slot>();
    if (i < pool.size()) slot->conn = std::move(pool[i]);
    idle_.push_back(slot.get());
    slots_.push_back(std::move(slot));
  }
}

Tx PostgresStore::Begin() {
  Slot* slot = nullptr;
  {
    std::unique_lock<std::mutex> lock(pool_mu_);
    pool_cv_.wait(lock, [&] { return !idle_.empty(); });
    // The most recently used first: its connection is the warmest.
    slot = idle_.back();
    idle_.pop_back();
  }
  std::unique_lock<std::mutex> held(slot->mu);
  std::string error;
  if (!slot->conn) slot->conn = PostgresConnection::Connect(spec_);  // on first use
  if (!slot->conn) {
    held.unlock();
    Give(slot);
    throw std::bad_alloc();
  }
  if (!slot->conn->Alive() && !slot->conn->Reconnect()) error = "cannot reach PostgreSQL";
  Tx tx = MakeTx(this, std::move(held), slot->conn.get());
  tx.slot_ = slot;
  if (!error.empty()) {
    // Every statement of this Tx fails; Commit() says so.
    tx.Check(Status::Error(error));
    return tx;
  }
  Status s = slot->conn->Exec("BEGIN");
  if (!s.ok() && !slot->conn->Alive() && slot->conn->Reconnect())
    s = slot->conn->Exec("BEGIN");  // the server came back since the last use
  tx.Check(s);
  return tx;
}

void PostgresStore::Give(Slot* slot) {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    idle_.push_back(slot);
  }
  pool_cv_.notify_one();
}

Status PostgresStore::EndTx(Tx& tx, bool wanted, bool /*wait: a commit is durable*/) {
  Slot* slot = static_cast<Slot*>(tx.slot_);
  auto* conn = static_cast<PostgresConnection*>(tx.db_);
  Status out = Status::Ok();
  if (wanted) {
    out = conn->CommitTransaction();
  } else {
    conn->Exec("ROLLBACK");
    out = Status::Error(tx.error_.empty() ? "transaction rolled back" : tx.error_);
  }
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    if (wanted && out.ok()) {
      ++stats_.batches;
      ++stats_.txs;
    } else if (wanted) {
      ++stats_.failed;
    }
  }
  tx.lock_.unlock();
  if (slot) Give(slot);
  return out;
}

PostgresStore::BatchStats PostgresStore::batch_stats() {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

Statement Tx::Prep(std::string_view sql) {
  Statement st = db_->Prepare(sql);
  if (!st.ok() && error_.empty()) error_ = st.error();
  return st;
}

void Tx::Check(const Statement& st) {
  if (!st.error().empty() && error_.empty()) error_ = st.error();
}
void Tx::Check(const Status& s) {
  if (!s.ok() && error_.empty()) error_ = s.message();
}

// --- back end ---------------------------------------------------------------

bool Tx::BackendEmpty() {
  Statement st = Prep("SELECT (SELECT COUNT(*) FROM accounts) + (SELECT COUNT(*) FROM outlets)");
  return st.Step() && st.Int(0) == 0;
}

Status Tx::ReplaceBackend(const BackendData& d) {
  for (const char* table : {"accounts", "bills", "payments", "outages", "outage_accounts",
                            "business", "business_steps", "outlets", "prepaid_cards"})
    Check(db_->Exec(std::string("DELETE FROM ") + table));
  return AppendBackend(d);
}

Status Tx::AppendBackend(const BackendData& d) {
  {
    Statement st = Prep("INSERT INTO accounts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const Account& a : d.accounts) {
      st.Reset();
      st.Bind(1, a.account_no)
          .Bind(2, a.service_password)
          .Bind(3, a.holder)
          .Bind(4, a.city)
          .Bind(5, a.district)
          .Bind(6, a.address)
          .Bind(7, a.reading_day)
          .Bind(8, a.supply_unit)
          .Bind(9, a.voltage_level)
          .Bind(10, a.reading_type)
          .Bind(11, a.usage_category)
          .Bind(12, a.metering)
          .Bind(13, a.settlement_unit)
          .Bind(14, a.phone)
          .Bind(15, a.balance_fen);
      Check(st.Run());
    }
  }
  {
    Statement st = Prep("INSERT INTO bills VALUES (?,?,?,?,?,?)");
    for (const Bill& b : d.bills) {
      st.Reset();
      st.Bind(1, b.account_no)
          .Bind(2, b.month)
          .Bind(3, b.kwh)
          .Bind(4, b.amount_fen)
          .Bind(5, b.due_date)
          .Bind(6, b.paid ? 1 : 0);
      Check(st.Run());
    }
  }
  {
    Statement st =
        Prep("INSERT INTO payments(account_no, paid_at, amount_fen, method) VALUES (?,?,?,?)");
    for (const Payment& p : d.payments) {
      st.Reset();
      st.Bind(1, p.account_no).Bind(2, p.paid_at).Bind(3, p.amount_fen).Bind(4, p.method);
      Check(st.Run());
    }
  }
  {
    Statement st = Prep("INSERT INTO outages VALUES (?,?,?,?,?,?,?,?)");
    Statement acc = Prep("INSERT INTO outage_accounts VALUES (?,?) ON CONFLICT DO NOTHING");
    for (const Outage& o : d.outages) {
      st.Reset();
      st.Bind(1, o.id)
          .Bind(2, o.city)
          .Bind(3, o.district)
          .Bind(4, o.area)
          .Bind(5, o.start)
          .Bind(6, o.end)
          .Bind(7, o.kind)
          .Bind(8, o.reason);
      Check(st.Run());
      for (const std::string& a : o.accounts) {
        acc.Reset();
        acc.Bind(1, o.id).Bind(2, a);
        Check(acc.Run());
      }
    }
  }
  {
    Statement st = Prep(
        "INSERT INTO business(business_no, account_no, type, status, created_at) "
        "VALUES (?,?,?,?,?)");
    Statement step = Prep("INSERT INTO business_steps VALUES (?,?,?,?)");
    for (const Business& b : d.business) {
      st.Reset();
      st.Bind(1, b.business_no);
      if (b.account_no.empty())
        st.BindNull(2);
      else
        st.Bind(2, b.account_no);
      st.Bind(3, b.type).Bind(4, b.status).Bind(5, b.steps.empty() ? 0 : b.steps.front().at);
      Check(st.Run());
      for (size_t i = 0; i < b.steps.size(); ++i) {
        step.Reset();
        step.Bind(1, b.business_no)
            .Bind(2, static_cast<std::int64_t>(i))
            .Bind(3, b.steps[i].name)
            .Bind(4, b.steps[i].at);
        Check(step.Run());
      }
    }
  }
  {
    Statement st = Prep(
        "INSERT INTO outlets(name, city, district, address, lat, lng, hours, phone) "
        "VALUES (?,?,?,?,?,?,?,?)");
    for (const Outlet& o : d.outlets) {
      st.Reset();
      st.Bind(1, o.name)
          .Bind(2, o.city)
          .Bind(3, o.district)
          .Bind(4, o.address)
          .Bind(5, o.lat)
          .Bind(6, o.lng)
          .Bind(7, o.hours)
          .Bind(8, o.phone);
      Check(st.Run());
    }
  }
  {
    Statement st =
        Prep("INSERT INTO prepaid_cards(card_no, password, amount_fen, used) VALUES (?,?,?,?)");
    for (const PrepaidCard& c : d.prepaid_cards) {
      st.Reset();
      st.Bind(1, c.card_no).Bind(2, c.password).Bind(3, c.amount_fen).Bind(4, c.used ? 1 : 0);
      Check(st.Run());
    }
  }
  return ok() ? Status::Ok() : Status::Error(error_);
}

namespace {

Account ReadAccount(const Statement& st) {
  Account a;
  a.account_no = st.Text(0);
  a.service_password = st.Text(1);
  a.holder = st.Text(2);
  a.city = st.Text(3);
  a.district = st.Text(4);
  a.address = st.Text(5);
  a.reading_day = static_cast<int>(st.Int(6));
  a.supply_unit = st.Text(7);
  a.voltage_level = st.Text(8);
  a.reading_type = st.Text(9);
  a.usage_category = st.Text(10);
  a.metering = st.Text(11);
  a.settlement_unit = st.Text(12);
  a.phone = st.Text(13);
  a.balance_fen = st.Int(14);
  return a;
}

Bill ReadBill(const Statement& st) {
  Bill b;
  b.account_no = st.Text(0);
  b.month = st.Text(1);
  b.kwh = st.Int(2);
  b.amount_fen = st.Int(3);
  b.due_date = st.Text(4);
  b.paid = st.Int(5) != 0;
  return b;
}

constexpr const char* kBillCols = "account_no, month, kwh, amount_fen, due_date, paid";

}  // namespace

std::optional<Account> Tx::FindAccount(const std::string& account_no) {
  Statement st = Prep(
      "SELECT account_no, service_password, holder, city, district, address, reading_day, "
      "supply_unit, voltage_level, reading_type, usage_category, metering, settlement_unit, "
      "phone, balance_fen FROM accounts WHERE account_no = ?");
  st.Bind(1, account_no);
  if (!st.Step()) return Check(st), std::nullopt;
  return ReadAccount(st);
}

std::optional<Bill> Tx::FindBill(const std::string& account_no, const std::string& month) {
  Statement st =
      Prep(std::string("SELECT ") + kBillCols + " FROM bills WHERE account_no = ? AND month = ?");
  st.Bind(1, account_no).Bind(2, month);
  if (!st.Step()) return Check(st), std::nullopt;
  return ReadBill(st);
}

std::optional<Bill> Tx::LatestBill(const std::string& account_no, const std::string& month_limit) {
  Statement st = Prep(std::string("SELECT ") + kBillCols +
                      " FROM bills WHERE account_no = ? AND month <= ? ORDER BY month DESC "
                      "LIMIT 1");
  st.Bind(1, account_no).Bind(2, month_limit);
  if (!st.Step()) return Check(st), std::nullopt;
  return ReadBill(st);
}

std::vector<Bill> Tx::UnpaidBills(const std::string& account_no, const std::string& month_limit) {
  Statement st = Prep(std::string("SELECT ") + kBillCols +
                      " FROM bills WHERE account_no = ? AND paid = 0 AND month <= ? "
                      "ORDER BY month");
  st.Bind(1, account_no).Bind(2, month_limit);
  std::vector<Bill> out;
  while (st.Step()) out.push_back(ReadBill(st));
  Check(st);
  return out;
}

std::int64_t Tx::ArrearsFen(const std::string& account_no, const std::string& month_limit) {
  Statement st = Prep(
      "SELECT COALESCE((SELECT SUM(amount_fen) FROM bills WHERE account_no = ?1 AND paid = 0 "
      "AND month <= ?2), 0) - COALESCE((SELECT balance_fen FROM accounts WHERE account_no = ?1), "
      "0)");
  st.Bind(1, account_no).Bind(2, month_limit);
  if (!st.Step()) return Check(st), 0;
  return std::max<std::int64_t>(0, st.Int(0));
}

std::vector<Payment> Tx::Payments(const std::string& account_no, UnixSeconds from, UnixSeconds to) {
  Statement st = Prep(
      "SELECT account_no, paid_at, amount_fen, method FROM payments "
      "WHERE account_no = ? AND paid_at >= ? AND paid_at < ? ORDER BY paid_at");
  st.Bind(1, account_no).Bind(2, from).Bind(3, to);
  std::vector<Payment> out;
  while (st.Step()) out.push_back(Payment{st.Text(0), st.Int(1), st.Int(2), st.Text(3)});
  Check(st);
  return out;
}

// --- users and bindings -------------------------------------------------------

std::int64_t Tx::UserIdFor(const std::string& channel, const std::string& external_id,
                           UnixSeconds now) {
  {
    Statement st = Prep("SELECT user_id FROM identities WHERE channel = ? AND external_id = ?");
    st.Bind(1, channel).Bind(2, external_id);
    if (st.Step()) return st.Int(0);
    Check(st);
  }
  Statement user = Prep("INSERT INTO users(created_at) VALUES (?)");
  user.Bind(1, now);
  Check(user.Run());
  const std::int64_t id = db_->LastInsertId();
  Statement ident = Prep("INSERT INTO identities VALUES (?,?,?,?)");
  ident.Bind(1, channel).Bind(2, external_id).Bind(3, id).Bind(4, now);
  Check(ident.Run());
  return id;
}

std::vector<Binding> Tx::Bindings(std::int64_t user_id) {
  Statement st = Prep(
      "SELECT account_no, is_default, created_at FROM bindings WHERE user_id = ? "
      "ORDER BY created_at, rowid");
  st.Bind(1, user_id);
  std::vector<Binding> out;
  while (st.Step()) out.push_back(Binding{st.Text(0), st.Int(1) != 0, st.Int(2)});
  Check(st);
  return out;
}

void Tx::AddBinding(std::int64_t user_id, const std::string& account_no, bool is_default,
                    UnixSeconds now) {
  if (is_default) {
    Statement clear = Prep("UPDATE bindings SET is_default = 0 WHERE user_id = ?");
    clear.Bind(1, user_id);
    Check(clear.Run());
  }
  Statement st = Prep("INSERT INTO bindings VALUES (?,?,?,?) ON CONFLICT DO NOTHING");
  st.Bind(1, user_id).Bind(2, account_no).Bind(3, is_default ? 1 : 0).Bind(4, now);
  Check(st.Run());
}

void Tx::RemoveBinding(std::int64_t user_id, const std::string& account_no) {
  Statement st = Prep("DELETE FROM bindings WHERE user_id = ? AND account_no = ?");
  st.Bind(1, user_id).Bind(2, account_no);
  Check(st.Run());
  Statement fix = Prep(
      "UPDATE bindings SET is_default = 1 WHERE user_id = ?1 AND NOT EXISTS "
      "(SELECT 1 FROM bindings WHERE user_id = ?1 AND is_default = 1) AND rowid = "
      "(SELECT rowid FROM bindings WHERE user_id = ?1 ORDER BY created_at, rowid LIMIT 1)");
  fix.Bind(1, user_id);
  Check(fix.Run());
}

void Tx::SetDefault(std::int64_t user_id, const std::string& account_no) {
  Statement st = Prep(
      "UPDATE bindings SET is_default = CASE WHEN account_no = ?2 THEN 1 ELSE 0 END "
      "WHERE user_id = ?1");
  st.Bind(1, user_id).Bind(2, account_no);
  Check(st.Run());
}

AttemptState Tx::Attempts(std::int64_t user_id, const std::string& account_no,
                          const std::string& kind) {
  Statement st = Prep(
      "SELECT failures, locked_until, last_at FROM bind_attempts WHERE user_id = ? AND "
      "account_no = ? AND kind = ?");
  st.Bind(1, user_id).Bind(2, account_no).Bind(3, kind);
  if (!st.Step()) return Check(st), AttemptState{};
  return AttemptState{static_cast<int>(st.Int(0)), st.Int(1), st.Int(2)};
}

void Tx::SaveAttempts(std::int64_t user_id, const std::string& account_no, const std::string& kind,
                      const AttemptState& state) {
  if (state.failures == 0 && state.locked_until == 0) {
    Statement st =
        Prep("DELETE FROM bind_attempts WHERE user_id = ? AND account_no = ? AND kind = ?");
    st.Bind(1, user_id).Bind(2, account_no).Bind(3, kind);
    Check(st.Run());
    return;
  }
  Statement st = Prep(
      "INSERT INTO bind_attempts(user_id, account_no, kind, failures, locked_until, last_at) "
      "VALUES (?,?,?,?,?,?) ON CONFLICT(user_id, account_no, kind) DO UPDATE SET "
      "failures = excluded.failures, locked_until = excluded.locked_until, last_at = excluded.last_at");
  st.Bind(1, user_id)
      .Bind(2, account_no)
      .Bind(3, kind)
      .Bind(4, state.failures)
      .Bind(5, state.locked_until)
      .Bind(6, state.last_at);
  Check(st.Run());
}

void Tx::PurgeAttempts(UnixSeconds before, UnixSeconds now) {
  Statement st = Prep("DELETE FROM bind_attempts WHERE last_at < ? AND locked_until <= ?");
  st.Bind(1, before).Bind(2, now);
  Check(st.Run());
}

// --- conversations -----------------------------------------------------------

std::optional<std::string> Tx::LoadSession(const std::string& channel,
                                           const std::string& external_id) {
  Statement st = Prep("SELECT state FROM sessions WHERE channel = ? AND external_id = ?");
  st.Bind(1, channel).Bind(2, external_id);
  if (!st.Step()) return Check(st), std::nullopt;
  return st.Text(0);
}

void Tx::SaveSession(const std::string& channel, const std::string& external_id,
                     const std::string& state_json, UnixSeconds now) {
  Statement st = Prep(
      "INSERT INTO sessions VALUES (?,?,?,?) ON CONFLICT(channel, external_id) DO UPDATE SET "
      "state = excluded.state, updated_at = excluded.updated_at");
  st.Bind(1, channel).Bind(2, external_id).Bind(3, state_json).Bind(4, now);
  Check(st.Run());
}

void Tx::AppendTurn(const TurnLog& t) {
  Statement st = Prep(
      "INSERT INTO dialog_log(at, channel, external_id, text, normalized, intent, confidence, "
      "slots, flow, step, replies, micros, masked, tokens, events, commands, fallback, handoff, "
      "nlu) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  st.Bind(1, t.at)
      .Bind(2, t.channel)
      .Bind(3, t.external_id)
      .Bind(4, t.text)
      .Bind(5, t.normalized)
      .Bind(6, t.intent)
      .Bind(7, t.confidence)
      .Bind(8, t.slots_json)
      .Bind(9, t.flow)
      .Bind(10, t.step)
      .Bind(11, t.replies_json)
      .Bind(12, t.micros)
      .Bind(13, t.masked ? 1 : 0)
      .Bind(14, t.tokens)
      .Bind(15, t.events_json)
      .Bind(16, t.commands)
      .Bind(17, t.fallback ? 1 : 0)
      .Bind(18, t.handoff)
      .Bind(19, t.nlu_json);
  Check(st.Run());
  if (!t.masked) {
    // Analysts' full-text search (storage/analytics.h).
    Statement fts = Prep("INSERT INTO dialog_fts(rowid, grams, words) VALUES (?,?,?)");
    fts.Bind(1, db_->LastInsertId())
        .Bind(2, IndexGrams(t.normalized))
        .Bind(3, IndexWords(t.tokens));
    Check(fts.Run());
  }
}

std::optional<std::string> Tx::DedupReply(const std::string& channel, const std::string& key,
                                          UnixSeconds not_before) {
  Statement st = Prep("SELECT reply FROM inbound_dedup WHERE channel = ? AND key = ? AND at >= ?");
  st.Bind(1, channel).Bind(2, key).Bind(3, not_before);
  if (!st.Step()) return Check(st), std::nullopt;
  return st.Text(0);
}

void Tx::SaveDedup(const std::string& channel, const std::string& key, const std::string& reply,
                   UnixSeconds now) {
  Statement st = Prep(
      "INSERT INTO inbound_dedup VALUES (?,?,?,?) ON CONFLICT(channel, key) DO UPDATE SET "
      "reply = excluded.reply, at = excluded.at");
  st.Bind(1, channel).Bind(2, key).Bind(3, reply).Bind(4, now);
  Check(st.Run());
}

void Tx::PurgeDedup(UnixSeconds before) {
  Statement st = Prep("DELETE FROM inbound_dedup WHERE at < ?");
  st.Bind(1, before);
  Check(st.Run());
}

Tx::NonceUse Tx::RememberNonce(const std::string& nonce, const std::string& timestamp,
                               const std::string& message_key, UnixSeconds at) {
  Statement put =
      Prep("INSERT INTO wechat_nonces(nonce, timestamp, message, at) VALUES (?,?,?,?) "
           "ON CONFLICT DO NOTHING");
  put.Bind(1, nonce).Bind(2, timestamp).Bind(3, message_key).Bind(4, at);
  Check(put.Run());
  if (db_->Changes() == 1) return NonceUse::kFresh;
  Statement get = Prep("SELECT message FROM wechat_nonces WHERE nonce = ? AND timestamp = ?");
  get.Bind(1, nonce).Bind(2, timestamp);
  if (!get.Step()) return Check(get), NonceUse::kReused;
  return get.Text(0) == message_key ? NonceUse::kRetry : NonceUse::kReused;
}

void Tx::PurgeNonces(UnixSeconds before) {
  Statement st = Prep("DELETE FROM wechat_nonces WHERE at < ?");
  st.Bind(1, before);
  Check(st.Run());
}

void Tx::MarkOutboxSent(std::int64_t id, UnixSeconds now) {
  Statement st =
      Prep("UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ? WHERE id = ?");
  st.Bind(1, now).Bind(2, id);
  Check(st.Run());
}

void Tx::PurgeDeliveredOutbox(UnixSeconds before) {
  Statement st = Prep(
      "DELETE FROM outbox WHERE channel IN ('sms', 'email') AND status = 'sent' AND sent_at < ? "
      "AND (dedup_key IS NULL OR dedup_key = '')");
  st.Bind(1, before);
  Check(st.Run());
}

bool Tx::QueueOutbox(const std::string& channel, const std::string& recipient,
                     const std::string& body, const std::string& dedup_key, UnixSeconds now) {
  Statement st = Prep(
      "INSERT INTO outbox(channel, recipient, body, dedup_key, created_at) "
      "VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING");
  st.Bind(1, channel).Bind(2, recipient).Bind(3, body);
  if (dedup_key.empty())
    st.BindNull(4);
  else
    st.Bind(4, dedup_key);
  st.Bind(5, now);
  Check(st.Run());
  return db_->Changes() > 0;
}

}  // namespace gridbot::storage
