// Synthetic back-end data for benchmarks and growth runs: N accounts with
// two years of bills, some payments, outages and outlets, and M customers
// (WeChat and web users) each bound to one of the accounts.
//
//   storage::SyntheticSpec spec{.accounts = 100000, .customers = 20000};
//   Status s = storage::WriteSynthetic(store, spec, now, [](auto done) {...});
//
// Written through Tx in batches (a million accounts are 24 million bills: a
// fixture file of that size would be gigabytes of JSON parsed whole). The
// same spec and seed give the same data.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "common/time.h"
#include "storage/store.h"

namespace gridbot::storage {

struct SyntheticSpec {
  std::int64_t accounts = 1000;
  std::int64_t customers = 0;  // bound users per channel ("wechat", "web")
  int months = 24;             // bills per account, ending the month before now
  std::uint64_t seed = 1;
  std::int64_t batch = 2000;   // accounts per transaction
};

// The account number of the i-th synthetic account (0-based): 13 digits,
// a Guangxi city prefix and a serial; its service password is
// SyntheticPassword(i).
std::string SyntheticAccountNo(std::int64_t i);
std::string SyntheticPassword(std::int64_t i);
// The external id of the i-th synthetic customer ("bench000042"); customer i
// is bound to account i % accounts on both channels.
std::string SyntheticCustomer(std::int64_t i);

// Adds the data to `store`; refuses a store whose back end is not empty.
// `progress` (may be empty) is told the accounts written so far.
Status WriteSynthetic(Store& store, const SyntheticSpec& spec, UnixSeconds now,
                      const std::function<void(std::int64_t)>& progress = {});

}  // namespace gridbot::storage
