#include "storage/limits.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>

#include "common/log.h"

namespace gridbot::storage {

namespace {

// The bucket refilled to now: its tokens plus the time since it was last
// touched at `per_minute` a minute, at most full. (Every parameter is
// typed, so that PostgreSQL infers nothing; a clock behind the stored one
// adds nothing.)
constexpr const char* kRefilled =
    "(CASE WHEN rate_buckets.tokens + (CASE WHEN CAST(?3 AS BIGINT) > rate_buckets.at_ms "
    "THEN CAST(?3 AS BIGINT) - rate_buckets.at_ms ELSE 0 END) * CAST(?2 AS DOUBLE PRECISION) "
    "/ 60000.0 > CAST(?2 AS DOUBLE PRECISION) THEN CAST(?2 AS DOUBLE PRECISION) ELSE "
    "rate_buckets.tokens + (CASE WHEN CAST(?3 AS BIGINT) > rate_buckets.at_ms THEN CAST(?3 AS "
    "BIGINT) - rate_buckets.at_ms ELSE 0 END) * CAST(?2 AS DOUBLE PRECISION) / 60000.0 END)";

std::int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class SharedRequestLimit : public RequestLimit {
 public:
  SharedRequestLimit(Store& store, int per_minute)
      : store_(store), per_minute_(per_minute), local_(per_minute) {}

  int Take(const std::string& key) override {
    Tx tx = store_.Begin();
    const int wait = TakeRequest(tx, key, per_minute_, WallMs());
    const Status committed = tx.ok() ? tx.Commit() : Status::Error(tx.error());
    if (committed.ok()) {
      failing_.store(false);
      return wait;
    }
    if (!failing_.exchange(true))
      logging::Error("request limits: the database does not answer; counting in this process",
                     {{"error", committed.message()}});
    return local_.Take(key);
  }

 private:
  Store& store_;
  const int per_minute_;
  LocalRequestLimit local_;
  std::atomic<bool> failing_{false};
};

class NoLimit : public RequestLimit {
 public:
  int Take(const std::string&) override { return 0; }
};

}  // namespace

std::unique_ptr<RequestLimit> NewRequestLimit(Store& store, int per_minute) {
  if (per_minute <= 0) return std::make_unique<NoLimit>();
  if (store.dialect() == Dialect::kPostgres)
    return std::make_unique<SharedRequestLimit>(store, per_minute);
  return std::make_unique<LocalRequestLimit>(per_minute);
}

int TakeRequest(Tx& tx, const std::string& key, int per_minute, std::int64_t now_ms) {
  if (per_minute <= 0) return 0;
  const std::string refilled = kRefilled;
  Statement st = tx.Prep(
      "INSERT INTO rate_buckets(key, tokens, at_ms, allowed) "
      "VALUES (?1, CAST(?2 AS DOUBLE PRECISION) - 1, CAST(?3 AS BIGINT), 1) "
      "ON CONFLICT(key) DO UPDATE SET "
      "tokens = CASE WHEN " + refilled + " >= 1 THEN " + refilled + " - 1 ELSE " + refilled +
      " END, allowed = CASE WHEN " + refilled + " >= 1 THEN 1 ELSE 0 END, "
      "at_ms = CASE WHEN excluded.at_ms > rate_buckets.at_ms THEN excluded.at_ms "
      "ELSE rate_buckets.at_ms END "
      "RETURNING tokens, allowed");
  st.Bind(1, key).Bind(2, per_minute).Bind(3, now_ms);
  if (!st.Step()) return tx.Check(st), 0;
  const double tokens = st.Double(0);
  const bool allowed = st.Int(1) != 0;
  if (allowed) return 0;
  return std::max(1, static_cast<int>(std::ceil((1 - tokens) * 60.0 / per_minute)));
}

void PurgeRequestBuckets(Tx& tx, std::int64_t before_ms) {
  Statement st = tx.Prep("DELETE FROM rate_buckets WHERE at_ms < ?");
  st.Bind(1, before_ms);
  tx.Check(st.Run());
}

}  // namespace gridbot::storage
