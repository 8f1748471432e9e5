// The two implementations of Store (store.h), chosen by Store::Open from
// the database spec. Private to storage/.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/postgres.h"
#include "storage/sqlite.h"
#include "storage/store.h"

namespace gridbot::storage {

// SQLite: one connection and group commit. The Txs of many threads run one
// after the other on it, each as a savepoint inside a shared SQLite
// transaction (a batch); a Tx that ends while others wait to begin leaves
// the batch open for them; the last one (or the 64th, or the one that finds
// the batch 5 ms old) commits it. Commit() returns only once the batch that
// holds the Tx is committed.
class SqliteStore : public Store {
 public:
  SqliteStore(std::unique_ptr<Connection> db, const std::string& path);
  ~SqliteStore() override;
  Tx Begin() override;
  Dialect dialect() const override { return Dialect::kSqlite; }
  BatchStats batch_stats() override;

 private:
  Status EndTx(Tx& tx, bool commit, bool wait) override;
  // Joins the Tx's work to the batch or rolls it back, and commits the
  // batch when nobody else will (mu_ held). The batch the Tx joined, or 0.
  std::uint64_t Close(Tx& tx, bool commit);
  void CommitBatch();  // mu_ held
  // Waits until batch `id` is over; its outcome.
  Status AwaitBatch(std::uint64_t id);
  // Copies the WAL into the database file from a connection of its own,
  // off the turns' path (a commit that had to checkpoint stalled every
  // turn behind it); the writer's own checkpoint only past 40 MB of WAL.
  void StartCheckpointer(const std::string& path);

  static constexpr int kMaxBatch = 64;
  static constexpr std::chrono::milliseconds kMaxBatchAge{5};

  std::mutex mu_;
  std::unique_ptr<Connection> db_;  // GUARDED_BY(mu_)
  SqliteConnection* sqlite_;        // the same
  std::thread checkpointer_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;        // GUARDED_BY(stop_mu_)
  std::atomic<int> waiting_{0};  // threads waiting in Begin()
  // The open batch (GUARDED_BY(mu_)).
  bool batch_open_ = false;
  std::uint64_t batch_id_ = 0;
  int batch_txs_ = 0;
  std::chrono::steady_clock::time_point batch_started_;
  // Outcomes of ended batches, for the Txs waiting on them.
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::uint64_t done_through_ = 0;                 // GUARDED_BY(done_mu_)
  std::map<std::uint64_t, std::string> failures_;  // GUARDED_BY(done_mu_), recent ones
  BatchStats stats_;                               // GUARDED_BY(done_mu_)
};

// PostgreSQL: a pool of connections, each Tx a transaction of its own on
// one of them (the server does the concurrency; its commit is durable when
// it returns). A connection found broken is connected again before use; a
// Tx begun while the server is unreachable fails (and says so) at once.
class PostgresStore : public Store {
 public:
  PostgresStore(std::string spec, std::vector<std::unique_ptr<PostgresConnection>> pool);
  Tx Begin() override;
  Dialect dialect() const override { return Dialect::kPostgres; }
  BatchStats batch_stats() override;

 private:
  struct Slot {
    std::mutex mu;  // held by the Tx using it
    std::unique_ptr<PostgresConnection> conn;
  };
  Status EndTx(Tx& tx, bool commit, bool wait) override;
  void Give(Slot* slot);

  std::string spec_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<Slot*> idle_;  // GUARDED_BY(pool_mu_)
  std::mutex stats_mu_;
  BatchStats stats_;  // GUARDED_BY(stats_mu_)
};

}  // namespace gridbot::storage
