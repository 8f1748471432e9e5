// The database a test runs on: SQLite in memory, or — when the suite runs
// against PostgreSQL (GRIDBOT_TEST_PG names the throw-away server that
// tests/pg/pg.sh started) — a schema of its own on that server, new for
// each call, so tests never see each other's rows.
//   auto store = storage::Store::Open(testing::TestDb());
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "storage/connection.h"

namespace gridbot::testing {

inline const char* TestPostgres() {
  const char* pg = std::getenv("GRIDBOT_TEST_PG");
  return pg && *pg ? pg : nullptr;
}

// A new, empty PostgreSQL schema on the test server; its spec.
inline std::string NewPostgresSchema(const std::string& tag) {
  static std::atomic<int> n{0};
  std::string schema = "t_" + std::to_string(getpid()) + "_" + std::to_string(++n);
  for (char c : tag)
    if (std::isalnum(static_cast<unsigned char>(c))) schema += static_cast<char>(std::tolower(c));
  schema = schema.substr(0, 60);
  auto c = storage::Connection::Open(TestPostgres());
  if (!c.ok()) return std::string("cannot reach the test PostgreSQL: ") + c.error();
  Status s = (*c)->Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema);
  if (!s.ok()) return "cannot create schema " + schema + ": " + s.message();
  return std::string(TestPostgres()) + " options=-csearch_path=" + schema;
}

// ":memory:", or a fresh PostgreSQL schema.
inline std::string TestDb(const std::string& tag = "") {
  return TestPostgres() ? NewPostgresSchema(tag) : std::string(":memory:");
}

// Where the server keeps the key of database `db`: beside an SQLite file,
// in the temp directory for a PostgreSQL schema (given as --secrets-key).
inline std::string KeyFileOf(const std::string& db) {
  if (!storage::IsPostgresSpec(db)) return db + ".key";
  const size_t at = db.rfind("search_path=");
  return (std::filesystem::temp_directory_path() /
          ("gridbot_" + db.substr(at == std::string::npos ? 0 : at + 12) + ".key"))
      .string();
}

}  // namespace gridbot::testing

namespace gridbot::testing {

// `--db DB` for a shell command line (quoted), and (`key`) for a
// PostgreSQL schema the key file its server was given.
inline std::string DbFlags(const std::string& db, bool key = true) {
  auto quoted = [](const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  };
  std::string out = "--db " + quoted(db);
  if (key && storage::IsPostgresSpec(db)) out += " --secrets-key " + quoted(KeyFileOf(db));
  return out;
}

}  // namespace gridbot::testing
