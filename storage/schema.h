// Schema migrations for the gridbot database.
#pragma once

#include "common/status.h"
#include "storage/connection.h"

namespace gridbot::storage {

// Brings `db` to the latest schema version, one transaction per migration,
// in its dialect. SQLite: no other connection may migrate the same file at
// the same time; PostgreSQL: instances starting together wait for each
// other (an advisory lock). `from_version`, if given, receives the version
// the database was at.
Status Migrate(Connection& db, int* from_version = nullptr);
int LatestSchemaVersion();
// The version the database is at (0: new).
Result<int> SchemaVersion(Connection& db);

}  // namespace gridbot::storage
