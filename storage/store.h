// Store: gridbot's database — the embedded back end (fixtures.md) and the
// bot's own tables — behind typed repository calls.
//
//   auto store = storage::Store::Open("var/gridbot.db");   // migrates
//   {
//     storage::Tx tx = (*store)->Begin();                 // BEGIN IMMEDIATE
//     auto account = tx.FindAccount("0301000001234");
//     tx.AddBinding(user_id, "0301000001234", true, now);
//     tx.Commit();                                         // else rolled back
//   }
//
// Every read and write happens inside a Tx. A dialog turn runs in one Tx, so
// what a turn changes (bindings, lock-outs, the new conversation state and
// the turn's log row) is committed together or not at all.
//
// Group commit: there is one connection, and the Txs of many threads run
// one after the other on it, each as a savepoint inside a shared SQLite
// transaction (a batch). A Tx that ends while others wait to begin leaves
// the batch open for them; the last one (or the 64th, or the one that finds
// the batch 5 ms old) commits it. Commit() returns only once the batch that
// holds the Tx is committed (or has failed: then every Tx of it fails), so
// whoever answers after Commit() answers only what is durable. Under load
// one SQLite commit (its WAL write, its search-index segment) serves many
// turns; alone, a Tx commits at once as before.
//
// On PostgreSQL (a `postgresql://` spec) each Tx is a transaction of its
// own on a connection of the instance's pool; the server orders them, and
// Commit() returns once PostgreSQL has committed. Several instances may
// share the database (Tx::LockKey orders one conversation's turns
// across them).
//
// Thread safety: Store is thread-safe. A Tx holds a connection (SQLite: the
// store's lock) for its lifetime; keep it short, never begin a second one
// on the same thread while holding one, and use it from the thread that
// began it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/records.h"
#include "storage/connection.h"

namespace gridbot::storage {

class Store;

class Tx {
 public:
  ~Tx();  // rolls back unless committed
  Tx(Tx&&) noexcept;
  Tx(const Tx&) = delete;

  // Waits until the Tx's batch is committed; an error if it did not commit.
  Status Commit();
  // Commits the Tx into its batch without waiting for the batch to be
  // durable when another Tx is about to run in it (whose Commit will wait
  // for it). For a step whose effect need not be durable before the caller
  // goes on (a WeChat nonce, remembered before its turn runs).
  Status CommitWithNext();
  // False once a statement has failed: the transaction will roll back.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  Dialect dialect() const { return db_->dialect(); }

  // Waits until no other transaction (of any instance) holds `key`, and
  // holds it until this one ends: one conversation's turns run one at a
  // time everywhere. (SQLite: one writer already; nothing to do.)
  void LockKey(const std::string& key);

  // --- the back end -----------------------------------------------------
  bool BackendEmpty();
  // Replaces accounts, bills, payments, outages, business, outlets and cards.
  Status ReplaceBackend(const BackendData& data);
  // Adds to the back end (the generator writes it in batches).
  Status AppendBackend(const BackendData& data);
  std::optional<Account> FindAccount(const std::string& account_no);
  std::optional<Bill> FindBill(const std::string& account_no, const std::string& month);
  // The most recent bill issued up to `month_limit` ("YYYY-MM"), if any.
  std::optional<Bill> LatestBill(const std::string& account_no, const std::string& month_limit);
  // Unpaid bills of months up to `month_limit` ("YYYY-MM"), oldest first:
  // a bill dated after "now" has not been issued yet.
  std::vector<Bill> UnpaidBills(const std::string& account_no, const std::string& month_limit);
  // Unpaid bills up to `month_limit` less the balance, never below zero
  // (fixtures.md).
  std::int64_t ArrearsFen(const std::string& account_no, const std::string& month_limit);
  std::vector<Payment> Payments(const std::string& account_no, UnixSeconds from, UnixSeconds to);

  // --- users and bindings -------------------------------------------------
  // The user behind (channel, external id); created on first contact.
  std::int64_t UserIdFor(const std::string& channel, const std::string& external_id,
                         UnixSeconds now);
  std::vector<Binding> Bindings(std::int64_t user_id);  // oldest first
  void AddBinding(std::int64_t user_id, const std::string& account_no, bool is_default,
                  UnixSeconds now);
  // Removes a binding; if it was the default, the oldest remaining becomes it.
  void RemoveBinding(std::int64_t user_id, const std::string& account_no);
  void SetDefault(std::int64_t user_id, const std::string& account_no);
  AttemptState Attempts(std::int64_t user_id, const std::string& account_no,
                        const std::string& kind);
  // A state with no failures and no lock forgets the row.
  void SaveAttempts(std::int64_t user_id, const std::string& account_no, const std::string& kind,
                    const AttemptState& state);
  // Forgets the counts whose last failure is older than `before` and whose
  // lock, if any, is over by `now`.
  void PurgeAttempts(UnixSeconds before, UnixSeconds now);

  // --- conversations --------------------------------------------------------
  std::optional<std::string> LoadSession(const std::string& channel,
                                         const std::string& external_id);
  void SaveSession(const std::string& channel, const std::string& external_id,
                   const std::string& state_json, UnixSeconds now);
  void AppendTurn(const TurnLog& turn);
  // The answer given to the message `key` at or after `not_before` (a retry
  // gets it again; older answers have expired).
  std::optional<std::string> DedupReply(const std::string& channel, const std::string& key,
                                        UnixSeconds not_before = 0);
  void SaveDedup(const std::string& channel, const std::string& key, const std::string& reply,
                 UnixSeconds now);
  void PurgeDedup(UnixSeconds before);
  // A signed push's nonce (with its timestamp), bound to the message it
  // came with: kFresh the first time, kRetry for the same message again
  // (WeChat's retries), kReused for another message under the same nonce
  // (a replayed signature). `at` is the real time; PurgeNonces forgets
  // those older than `before`.
  enum class NonceUse { kFresh, kRetry, kReused };
  NonceUse RememberNonce(const std::string& nonce, const std::string& timestamp,
                         const std::string& message_key, UnixSeconds at);
  void PurgeNonces(UnixSeconds before);

  // --- outbox ---------------------------------------------------------------
  // (The messages a pull-channel customer reads: storage/desk.h.)
  void MarkOutboxSent(std::int64_t id, UnixSeconds now);
  // Forgets SMS and e-mail delivered before `before` (their text: codes,
  // bills), except rows whose dedup key still stops a repeat (bill notices).
  void PurgeDeliveredOutbox(UnixSeconds before);
  // False if `dedup_key` was already queued (nothing added). Channels:
  // "sms", "email" (recipient: phone / address), "wechat" (OpenID; sent with
  // the customer-service API), "web" and "cli" (shown in the chat).
  bool QueueOutbox(const std::string& channel, const std::string& recipient,
                   const std::string& body, const std::string& dedup_key, UnixSeconds now);

  Connection& connection() { return *db_; }

  // For repository functions in other files (storage/<domain>.cc): prepare
  // a statement, and record a failed one so the transaction rolls back.
  Statement Prep(std::string_view sql);
  void Check(const Statement& st);
  void Check(const Status& s);

 private:
  friend class Store;
  friend class SqliteStore;
  friend class PostgresStore;
  Tx(Store* store, std::unique_lock<std::mutex> lock, Connection* db)
      : store_(store), lock_(std::move(lock)), db_(db) {}
  Status Finish(bool commit, bool wait);

  Store* store_;
  std::unique_lock<std::mutex> lock_;
  Connection* db_;
  bool done_ = false;
  bool in_batch_ = false;  // a savepoint of the open batch is ours
  void* slot_ = nullptr;   // PostgreSQL: the pool slot it holds
  std::string error_;
};

// What /readyz reports: the database answers, and its schema is the one
// this binary migrates to.
struct Readiness {
  bool reachable = false;
  int version = 0;  // the database's schema version (when reachable)
  int latest = 0;   // this binary's
  bool ready() const { return reachable && version == latest; }
};

class Store {
 public:
  // Opens the database `spec` names and migrates it: an SQLite file
  // (":memory:" for tests) or a PostgreSQL connection string.
  static Result<std::unique_ptr<Store>> Open(const std::string& spec);
  virtual ~Store() = default;

  virtual Tx Begin() = 0;
  virtual Dialect dialect() const = 0;
  // True while a trivial query succeeds (GET /healthz).
  bool Healthy();
  // Whether turns can be taken (GET /readyz); never throws.
  Readiness CheckReady();
  // The schema version the database had when Open() found it (0: new).
  int migrated_from() const { return migrated_from_; }

  // Database commits so far that held a committed Tx, and the Txs they
  // held (for /metrics, benchmarks and tests: transactions per commit).
  struct BatchStats {
    std::uint64_t batches = 0, txs = 0, failed = 0;
  };
  virtual BatchStats batch_stats() = 0;

  // Tests only: called with the batch's Tx count just before each COMMIT
  // (a kill there shows that no reply goes out before its commit).
  void SetBeforeCommitHook(std::function<void(int)> hook) { before_commit_ = std::move(hook); }

 protected:
  friend class Tx;
  Store() = default;
  // Ends a Tx (its connection held): commits or rolls back its work,
  // releases the connection, and (`wait`) returns once it is durable.
  virtual Status EndTx(Tx& tx, bool commit, bool wait) = 0;
  static Tx MakeTx(Store* store, std::unique_lock<std::mutex> lock, Connection* db) {
    return Tx(store, std::move(lock), db);
  }

  int migrated_from_ = 0;
  std::function<void(int)> before_commit_;
};

}  // namespace gridbot::storage
