// A database connection and its prepared statements, for the two engines
// gridbot runs on: SQLite (the embedded default, storage/sqlite.h) and
// PostgreSQL (several instances on one database, storage/postgres.h).
// Only prepared statements with bound parameters are used; no SQL is ever
// built from user text.
//
// SQL is written once, in the common subset of the two dialects, with
// SQLite's placeholders (`?`, `?N`); the PostgreSQL driver rewrites the
// placeholders to `$N` (and `instr(` to `strpos(`). Where the dialects
// really differ (full-text search, JSON paths, the schema scripts) the
// repository code in storage/ asks Connection::dialect(); nothing outside
// storage/ knows which engine it runs on.
//
// Thread safety: a Connection is not thread-safe; its user serialises
// access (Store: the Tx holding it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace gridbot::storage {

enum class Dialect { kSqlite, kPostgres };

// True for a libpq connection string ("postgresql://…", "postgres://…" or
// "key=value …" with a dbname/host); anything else is an SQLite path.
bool IsPostgresSpec(std::string_view spec);
// True for an SQLite file (not ":memory:", not a server).
inline bool IsDatabaseFile(std::string_view spec) {
  return !spec.empty() && spec != ":memory:" && !IsPostgresSpec(spec);
}
// How to name the database in messages and logs: the path, or the server's
// host, port and database without the password.
std::string DescribeDatabase(const std::string& spec);

// One engine's compiled statement, owned by its connection (cached there
// by SQL text between uses). Binds are 1-based.
class StatementImpl {
 public:
  virtual ~StatementImpl() = default;
  virtual void Bind(int i, std::string_view v) = 0;
  virtual void Bind(int i, std::int64_t v) = 0;
  virtual void Bind(int i, double v) = 0;
  virtual void BindNull(int i) = 0;
  // True while a row is available; false at the end or on an error (then
  // *error is set).
  virtual bool Step(std::string* error) = 0;
  // Ready to run again, bindings cleared.
  virtual void Reset() = 0;
  virtual std::string Text(int col) const = 0;
  virtual std::int64_t Int(int col) const = 0;
  virtual double Double(int col) const = 0;
  virtual bool IsNull(int col) const = 0;
};

class Connection;

// A statement handed out by Connection::Prepare. It belongs to that
// connection and is valid only while its user holds the connection (for
// the Store, while its Tx is open). Connection::RetireStatements() — called
// when a Tx ends, before the connection is released — takes back every
// statement still alive, so a Statement that outlives its transaction is
// empty (Step() false) and never touches the connection again.
class Statement {
 public:
  ~Statement();  // back to its connection's cache
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& o) noexcept;

  bool ok() const { return impl_ != nullptr; }
  const std::string& error() const { return error_; }

  // Binds are 1-based, as in SQLite. Return *this for chaining.
  Statement& Bind(int i, std::string_view v) {
    if (impl_) impl_->Bind(i, v);
    return *this;
  }
  Statement& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Statement& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Statement& Bind(int i, std::int64_t v) {
    if (impl_) impl_->Bind(i, v);
    return *this;
  }
  Statement& Bind(int i, int v) { return Bind(i, static_cast<std::int64_t>(v)); }
  Statement& Bind(int i, double v) {
    if (impl_) impl_->Bind(i, v);
    return *this;
  }
  Statement& BindNull(int i) {
    if (impl_) impl_->BindNull(i);
    return *this;
  }

  // Steps once: true while a row is available. Errors end iteration and are
  // kept in error().
  bool Step() { return impl_ && impl_->Step(&error_); }
  // Runs to completion; Status carries the database's message on failure.
  Status Run();
  void Reset() {
    if (impl_) impl_->Reset();
    error_.clear();
  }

  std::string Text(int col) const { return impl_->Text(col); }
  std::int64_t Int(int col) const { return impl_->Int(col); }
  double Double(int col) const { return impl_->Double(col); }
  bool IsNull(int col) const { return impl_->IsNull(col); }

 private:
  friend class Connection;
  Statement(Connection* conn, StatementImpl* impl, std::vector<StatementImpl*>* idle,
            std::string error)
      : conn_(conn), impl_(impl), idle_(idle), error_(std::move(error)) {}
  // Back to the idle list (reset) or deleted; empty afterwards.
  void Release();

  Connection* conn_ = nullptr;  // tracks it while alive
  StatementImpl* impl_ = nullptr;
  std::vector<StatementImpl*>* idle_ = nullptr;  // where it goes back, if cached
  std::string error_;
};

class Connection {
 public:
  // An SQLite file (":memory:" for a private in-memory database) or a
  // PostgreSQL connection string (IsPostgresSpec).
  static Result<std::unique_ptr<Connection>> Open(const std::string& spec);
  virtual ~Connection();

  virtual Dialect dialect() const = 0;

  // A prepared statement for `sql`, compiled once per connection: an idle
  // one of an earlier Prepare of the same text is reset and handed out
  // again (SQL compilation was a visible part of every turn).
  Statement Prepare(std::string_view sql);
  // One statement, run to completion (cached like Prepare).
  Status Run(std::string_view sql) { return Prepare(sql).Run(); }
  // A script of several statements (schema, transaction control); not cached.
  virtual Status Exec(const std::string& sql) = 0;
  // The id given to the last row inserted on this connection.
  virtual std::int64_t LastInsertId() = 0;
  // Rows changed by the last INSERT, UPDATE or DELETE.
  virtual int Changes() const = 0;
  // Whether the connection still reaches its database (PostgreSQL: the
  // server may have gone away; SQLite: always).
  virtual bool Alive() const { return true; }
  // Takes back every statement of Prepare() still alive (see Statement).
  void RetireStatements();
  // Forgets every cached statement (after a reconnect).
  void DropCache();

 protected:
  Connection() = default;
  // A new compiled statement for `sql`, or null with *error set.
  virtual std::unique_ptr<StatementImpl> Compile(std::string_view sql, std::string* error) = 0;

 private:
  friend class Statement;
  void Untrack(Statement* s);
  void Retrack(Statement* from, Statement* to);
  std::vector<Statement*> live_;  // Prepare's statements alive now (a few)
  // Idle compiled statements by SQL text. Bounded: past kMaxCached texts,
  // new ones are compiled each time.
  static constexpr size_t kMaxCached = 512, kMaxIdlePerText = 8;
  std::unordered_map<std::string, std::vector<StatementImpl*>> cache_;
};

}  // namespace gridbot::storage
