#include "analytics/export.h"

#include <nlohmann/json.hpp>

#include "privacy/mask.h"
#include "storage/analytics.h"

namespace gridbot::analytics {
namespace {

using nlohmann::json;

constexpr int kBatch = 2000;

std::string CsvField(const std::string& s) {
  // Quoted always; a leading = + - @ would be a formula in Excel: a quote
  // mark before it keeps it text.
  std::string o = "\"";
  if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) o += '\'';
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

json Row(const storage::LoggedTurn& t, bool unmasked) {
  auto masked = [unmasked](const std::string& s) { return unmasked ? s : privacy::MaskText(s); };
  auto parsed = [&](const std::string& s, json fallback) {
    json j = json::parse(masked(s), nullptr, false);
    return j.is_discarded() ? fallback : j;
  };
  return {{"id", t.id},
          {"time", FormatIso8601(t.at)},
          {"channel", t.channel},
          {"customer", unmasked ? t.external_id : privacy::MaskCustomerId(t.channel, t.external_id)},
          {"text", masked(t.text)},
          {"normalized", masked(t.normalized)},
          {"intent", t.intent},
          {"confidence", t.confidence},
          {"slots", parsed(t.slots_json, json::object())},
          {"flow", t.flow},
          {"step", t.step},
          {"replies", parsed(t.replies_json, json::array())},
          {"latency_ms", t.micros / 1000.0},
          {"fallback", t.fallback},
          {"handoff", t.handoff}};
}

std::string CsvRow(const json& row) {
  std::string out;
  for (const std::string& k : ExportColumns()) {
    if (!out.empty()) out += ',';
    const json& v = row[k];
    if (v.is_string())
      out += CsvField(v.get<std::string>());
    else if (v.is_boolean())
      out += v.get<bool>() ? "1" : "0";
    else if (v.is_number())
      out += v.dump();
    else
      out += CsvField(v.dump());
  }
  return out + "\r\n";
}

}  // namespace

const std::vector<std::string>& ExportColumns() {
  static const std::vector<std::string> kColumns = {
      "id",   "time", "channel", "customer", "text",       "normalized", "intent",  "confidence",
      "slots", "flow", "step",   "replies",  "latency_ms", "fallback",   "handoff"};
  return kColumns;
}

Status ExportTurns(storage::Store& store, const ExportRequest& r,
                   const std::function<void(std::string_view)>& write) {
  if (r.format != "jsonl" && r.format != "csv") return Status::Error("\"format\" must be jsonl or csv");
  if (r.max_rows != INT64_MAX) {
    // Counted first, so a refusal writes nothing.
    std::int64_t n = 0, after = 0;
    while (n <= r.max_rows) {
      std::vector<storage::LoggedTurn> batch;
      {
        storage::Tx tx = store.Begin();
        batch = storage::ExportBatch(tx, r.period.begin, r.period.end, r.channel, r.user, r.intent,
                                     after, kBatch);
      }
      if (batch.empty()) break;
      n += static_cast<std::int64_t>(batch.size());
      after = batch.back().id;
    }
    if (n > r.max_rows)
      return Status::Error("more than " + std::to_string(r.max_rows) + " turns: choose a shorter period");
  }
  if (r.format == "csv") {
    std::string header = "\xEF\xBB\xBF";  // UTF-8 BOM (analytics.md)
    for (const std::string& k : ExportColumns()) header += (header.size() > 3 ? "," : "") + k;
    write(header + "\r\n");
  }
  std::int64_t after = 0;
  for (;;) {
    std::vector<storage::LoggedTurn> batch;
    {
      storage::Tx tx = store.Begin();
      batch = storage::ExportBatch(tx, r.period.begin, r.period.end, r.channel, r.user, r.intent,
                                   after, kBatch);
      if (!tx.ok()) return Status::Error("the database could not be read");
    }
    if (batch.empty()) break;
    std::string chunk;
    for (const auto& t : batch) {
      const json row = Row(t, r.unmasked);
      chunk += r.format == "csv" ? CsvRow(row) : row.dump() + "\n";
    }
    write(chunk);
    after = batch.back().id;
  }
  return Status::Ok();
}

}  // namespace gridbot::analytics
