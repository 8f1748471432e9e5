// Repository functions for the read-only queries of the account (issue 3):
// business progress, outages and service outlets. Free functions on a Tx, so
// they run inside the caller's transaction (a dialog turn) and a failed
// statement rolls it back (Tx::Check). Payment records are Tx::Payments().
//
//   storage::Tx tx = store.Begin();
//   auto b = storage::FindBusiness(tx, "YK20240801001", now);  // with its steps
//   auto open = storage::OpenBusinessOf(tx, {"0301000001234"}, now);
//   auto outages = storage::OutagesCovering(tx, *account, now);
//   tx.Commit();
//
// "Now" matters because the back end may hold records dated later than the
// service's clock (a demo set used with `--now`): a business record created
// after `now` does not exist yet, an outage that ended before `now` is over,
// and one starting beyond kOutageHorizonSeconds is not announced yet. None
// is returned.
//
// Thread safety: as Tx (one thread per transaction).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "storage/records.h"
#include "storage/store.h"

namespace gridbot::storage {

// Outages are shown from the moment they are announced: planned work is
// published about a week ahead, so one starting more than 30 days after
// `now` is not shown yet.
inline constexpr std::int64_t kOutageHorizonSeconds = 30 * 24 * 3600;

// Status of a business record that is finished (fixtures.md). Others are open.
inline constexpr const char* kBusinessDone = "已完成";

// --- business -------------------------------------------------------------------

// The business record `business_no` (letters compared case-insensitively)
// with its steps in order, if it exists and was created by `now`; steps
// dated after `now` are left out.
std::optional<Business> FindBusiness(Tx& tx, const std::string& business_no, UnixSeconds now);

// The open business (status not kBusinessDone) of these accounts created by
// `now`, most recent first, each with its steps up to `now`.
std::vector<Business> OpenBusinessOf(Tx& tx, const std::vector<std::string>& accounts,
                                     UnixSeconds now);

// --- outages --------------------------------------------------------------------

// Outages not over at `now` (end >= now) that cover the account: those
// listing it, and those of its city and district whose area text appears in
// its address (fixtures.md). Earliest start first.
std::vector<Outage> OutagesCovering(Tx& tx, const Account& account, UnixSeconds now);

// Outages not over at `now` in `city`, and in `district` unless it is empty.
// Earliest start first.
std::vector<Outage> OutagesIn(Tx& tx, const std::string& city, const std::string& district,
                              UnixSeconds now);

// --- outlets --------------------------------------------------------------------

// Every service outlet, in the back end's order.
std::vector<Outlet> Outlets(Tx& tx);
// The outlets of `city`, and of `district` unless it is empty.
std::vector<Outlet> OutletsIn(Tx& tx, const std::string& city, const std::string& district);

// Great-circle distance in kilometres between two WGS-84 points (haversine).
double DistanceKm(double lat1, double lng1, double lat2, double lng2);

}  // namespace gridbot::storage
