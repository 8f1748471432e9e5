// Request limits (per client address, per customer) that hold for the
// whole service, however many instances serve it.
//
//   auto per_customer = storage::NewRequestLimit(store, 30);
//   if (int wait = per_customer->Take("wechat|oAbc")) return TooMany(wait);
//
// On a database several instances share (PostgreSQL) each key has a token
// bucket in table rate_buckets, taken from by one conditional upsert, so N
// instances allow the rate once, not N times. On the embedded database one
// process serves, and its memory counts (no write per request). When the
// shared database does not answer, this process's own count stands in: a
// limit is never the reason a customer is refused.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/rate_limiter.h"
#include "storage/store.h"

namespace gridbot::storage {

// A limit of `per_minute` requests per key (bursts of as many); 0: none.
std::unique_ptr<RequestLimit> NewRequestLimit(Store& store, int per_minute);

// The statement behind the shared limit: takes one request of `key` at
// `now_ms` (the wall clock, which the instances share) from its bucket of
// `per_minute`. 0 if taken; else the seconds until one is there.
int TakeRequest(Tx& tx, const std::string& key, int per_minute, std::int64_t now_ms);
// Forgets the buckets untouched since `before_ms` (full again by then).
void PurgeRequestBuckets(Tx& tx, std::int64_t before_ms);

}  // namespace gridbot::storage
