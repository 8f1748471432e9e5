// The SQLite driver (the embedded default): one file, WAL mode.
#pragma once

#include <memory>
#include <string>

#include "storage/connection.h"

struct sqlite3;

namespace gridbot::storage {

class SqliteConnection : public Connection {
 public:
  ~SqliteConnection() override;
  Dialect dialect() const override { return Dialect::kSqlite; }
  Status Exec(const std::string& sql) override;
  std::int64_t LastInsertId() override;
  int Changes() const override;
  // True when no transaction is open (SQLite rolled one back by itself
  // after an I/O error or a full disk).
  bool Autocommit() const;
  // Copies what it can of the WAL into the database file, never waiting.
  void CheckpointPassive();

 private:
  friend Result<std::unique_ptr<Connection>> OpenSqlite(const std::string& path);
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  std::unique_ptr<StatementImpl> Compile(std::string_view sql, std::string* error) override;
  sqlite3* db_;
};

// Opens (creating) `path`; ":memory:" for a private in-memory database.
// Sets WAL mode, foreign keys and a busy timeout.
Result<std::unique_ptr<Connection>> OpenSqlite(const std::string& path);

}  // namespace gridbot::storage
