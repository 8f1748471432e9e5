// Schema migrations for the gridbot database.
#pragma once

#include "common/status.h"
#include "storage/sqlite.h"

namespace gridbot::storage {

// Brings `db` to the latest schema version, one transaction per migration.
// REQUIRES: no other connection is migrating the same file at the same time.
// `from_version`, if given, receives the version the database was at.
Status Migrate(Connection& db, int* from_version = nullptr);
int LatestSchemaVersion();

}  // namespace gridbot::storage
