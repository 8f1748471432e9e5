// The fixture file format of ../shared/spec/fixtures.md: parsing and
// validation. Loading into the database is Store::ReplaceBackend().
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/records.h"

namespace gridbot::storage {

// Parses and validates a fixture document. On error the message names the
// first bad record: its array and index, and the field
// ("bills[3].amount: expected a money string such as \"129.80\"").
Result<BackendData> ParseFixtures(std::string_view json_text);
Result<BackendData> ReadFixtureFile(const std::string& path);

// "129.80" -> 12980; nullopt unless digits with exactly two decimals.
std::optional<std::int64_t> ParseMoney(std::string_view s);
// 12980 -> "129.80"
std::string FormatMoney(std::int64_t fen);

}  // namespace gridbot::storage
