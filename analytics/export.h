// The dialog log as a file (../shared/spec/analytics.md): JSONL, or CSV in
// UTF-8 with a BOM (Excel opens it as is), one turn per row, masked unless
// the caller is the CLI's --unmasked. `gridbot logs export` and
// GET /api/analytics/export both write what ExportTurns() writes.
//
//   analytics::ExportRequest r{*period, "csv"};
//   analytics::ExportTurns(store, r, [](std::string_view chunk) { fwrite(...); });
//
// Thread safety: a function over a store; reads in batches, each in its own
// transaction, so a long export never holds the database.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "analytics/summary.h"
#include "common/status.h"
#include "storage/store.h"

namespace gridbot::analytics {

struct ExportRequest {
  Period period;
  std::string format = "jsonl";  // "jsonl" or "csv"
  std::string channel, user, intent;  // "" = any
  bool unmasked = false;              // only `gridbot logs export --unmasked`
  std::int64_t max_rows = INT64_MAX;  // more than this: an error before anything is written
};

// The columns, in CSV order (JSONL objects have the same keys). The words
// the segmenter found are not exported: a name or an address split into
// characters would pass any masking.
const std::vector<std::string>& ExportColumns();

// Writes the file to `write` in chunks. Errors: an unknown format, more than
// max_rows rows (nothing written), a database error (part written).
Status ExportTurns(storage::Store& store, const ExportRequest& request,
                   const std::function<void(std::string_view)>& write);

}  // namespace gridbot::analytics
