// A thin RAII layer over SQLite: a connection, prepared statements, and
// transactions. Only prepared statements with bound parameters are used;
// no SQL is ever built from user text.
//
// Thread safety: a Connection is not thread-safe by itself; Store (store.h)
// serialises access with its mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace gridbot::storage {

class Connection;

// A compiled statement. One made by Connection::Prepare belongs to that
// connection: it is valid only while its user holds the connection (for
// the Store, while its Tx is open). Connection::RetireStatements() — called
// when a Tx ends, before its lock is released — takes back every statement
// still alive, so a Statement that outlives its transaction is empty
// (Step() false) and its destructor never touches the connection from a
// thread that no longer holds it.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);  // check ok() after
  ~Statement();  // back to its connection's cache, or finalized
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& o) noexcept;

  bool ok() const { return stmt_ != nullptr; }
  const std::string& error() const { return error_; }

  // Binds are 1-based, as in SQLite. Return *this for chaining.
  Statement& Bind(int i, std::string_view v);
  Statement& Bind(int i, std::int64_t v);
  Statement& Bind(int i, int v) { return Bind(i, static_cast<std::int64_t>(v)); }
  Statement& Bind(int i, double v);
  Statement& BindNull(int i);

  // Steps once: true while a row is available. Errors end iteration and are
  // kept in error().
  bool Step();
  // Runs to completion; Status carries SQLite's message on failure.
  Status Run();
  void Reset();

  std::string Text(int col) const;
  std::int64_t Int(int col) const;
  double Double(int col) const;
  bool IsNull(int col) const;

 private:
  friend class Connection;
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::vector<sqlite3_stmt*>* pool)
      : db_(db), stmt_(stmt), pool_(pool) {}
  // Back to the pool (reset) or finalized; empty afterwards.
  void Release();

  sqlite3* db_;
  Connection* conn_ = nullptr;  // tracked by it while alive (Prepare's)
  sqlite3_stmt* stmt_ = nullptr;
  std::vector<sqlite3_stmt*>* pool_ = nullptr;  // where it goes back, if cached
  std::string error_;
};

class Connection {
 public:
  // Opens (creating) `path`; ":memory:" for a private in-memory database.
  // Sets WAL mode, foreign keys and a busy timeout.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path);
  ~Connection();

  // A prepared statement for `sql`, compiled once per connection: an idle
  // one of an earlier Prepare of the same text is reset and handed out
  // again (SQL compilation was a visible part of every turn).
  Statement Prepare(std::string_view sql);
  // One statement, run to completion (cached like Prepare).
  Status Run(std::string_view sql) { return Prepare(sql).Run(); }
  Status Exec(const std::string& sql);  // for schema scripts only
  std::int64_t LastInsertId() const;
  int Changes() const;
  sqlite3* raw() { return db_; }
  // Takes back every statement of Prepare() still alive (see Statement).
  void RetireStatements();

 private:
  friend class Statement;
  explicit Connection(sqlite3* db) : db_(db) {}
  void Track(Statement* s) { live_.push_back(s); }
  void Untrack(Statement* s);
  void Retrack(Statement* from, Statement* to);
  sqlite3* db_;
  std::vector<Statement*> live_;  // Prepare's statements alive now (a few)
  // Idle compiled statements by SQL text (not thread-safe: the Connection's
  // user serialises, as for everything else here). Bounded: past kMaxCached
  // texts, new ones are compiled each time.
  static constexpr size_t kMaxCached = 512, kMaxIdlePerText = 8;
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>> cache_;
};

}  // namespace gridbot::storage
