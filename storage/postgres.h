// The PostgreSQL driver (libpq): several gridbot instances on one
// database. Statements are prepared once per connection (PQprepare, on
// first use) and run with text parameters whose types the server infers
// from the SQL, as SQLite's dynamic typing lets the SQLite driver do.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/connection.h"

struct pg_conn;

namespace gridbot::storage {

// SQL in the project's dialect (SQLite placeholders) as PostgreSQL takes it:
// `?N` -> `$N`, `?` -> the next number (SQLite's rule: one more than the
// largest so far), `instr(` -> `strpos(`; string literals, quoted names
// and comments are left alone. *used: one entry per parameter up to the
// largest, true where the SQL refers to it.
std::string TranslateToPostgres(std::string_view sql, std::vector<bool>* used = nullptr);

class PostgresConnection : public Connection {
 public:
  ~PostgresConnection() override;
  Dialect dialect() const override { return Dialect::kPostgres; }
  Status Exec(const std::string& sql) override;
  std::int64_t LastInsertId() override;
  int Changes() const override { return changes_; }
  bool Alive() const override;
  // Connects again after the server went away (statements prepared on the
  // old connection are forgotten). False if it is still unreachable.
  bool Reconnect();
  // COMMIT, and an error if the server rolled back instead (a statement
  // had failed: PostgreSQL aborts the whole transaction) or is gone.
  Status CommitTransaction();
  // A connection to `spec`, connected or not (then Alive() is false and its
  // statements fail until Reconnect() succeeds); null only without memory.
  static std::unique_ptr<PostgresConnection> Connect(const std::string& spec);

  // (For its statements.)
  pg_conn* raw() { return conn_; }
  // The name `sql` (translated) is prepared under on this connection, and
  // whether it is prepared already.
  const std::string& PreparedName(const std::string& sql, bool* prepared);
  void MarkPrepared(const std::string& sql) { prepared_[sql].second = true; }
  void SetChanges(int n) { changes_ = n; }

 private:
  friend Result<std::unique_ptr<Connection>> OpenPostgres(const std::string& spec);
  PostgresConnection(pg_conn* conn, std::string spec) : conn_(conn), spec_(std::move(spec)) {}
  std::unique_ptr<StatementImpl> Compile(std::string_view sql, std::string* error) override;
  pg_conn* conn_;
  std::string spec_;
  int changes_ = 0;
  std::unordered_map<std::string, std::pair<std::string, bool>> prepared_;
};

// True if libpq reads `spec` as a connection string.
bool IsConninfo(const std::string& spec);

// "PostgreSQL dbname=… host=… port=…" for `spec`, without its password.
std::string DescribePostgres(const std::string& spec);

// Connects to the server `spec` names (a libpq connection string).
Result<std::unique_ptr<Connection>> OpenPostgres(const std::string& spec);

}  // namespace gridbot::storage
