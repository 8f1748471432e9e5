#include "storage/queries.h"

#include <algorithm>
#include <cmath>

namespace gridbot::storage {
namespace {

constexpr const char* kBusinessCols = "business_no, COALESCE(account_no, ''), type, status";
constexpr const char* kOutageCols = "id, city, district, area, start_at, end_at, kind, reason";
constexpr const char* kOutletCols = "name, city, district, address, lat, lng, hours, phone";

Business ReadBusiness(const Statement& st) {
  Business b;
  b.business_no = st.Text(0);
  b.account_no = st.Text(1);
  b.type = st.Text(2);
  b.status = st.Text(3);
  return b;
}

void LoadSteps(Tx& tx, Business& b, UnixSeconds now) {
  Statement st =
      tx.Prep("SELECT name, at FROM business_steps WHERE business_no = ? AND at <= ? ORDER BY seq");
  st.Bind(1, b.business_no).Bind(2, now);
  while (st.Step()) b.steps.push_back(BusinessStep{st.Text(0), st.Int(1)});
  tx.Check(st);
}

Outage ReadOutage(const Statement& st) {
  Outage o;
  o.id = st.Text(0);
  o.city = st.Text(1);
  o.district = st.Text(2);
  o.area = st.Text(3);
  o.start = st.Int(4);
  o.end = st.Int(5);
  o.kind = st.Text(6);
  o.reason = st.Text(7);
  return o;
}

void LoadAccounts(Tx& tx, std::vector<Outage>& outages) {
  Statement st =
      tx.Prep("SELECT account_no FROM outage_accounts WHERE outage_id = ? ORDER BY account_no");
  for (Outage& o : outages) {
    st.Reset();
    st.Bind(1, o.id);
    while (st.Step()) o.accounts.push_back(st.Text(0));
    tx.Check(st);
  }
}

std::vector<Outage> ReadOutages(Tx& tx, Statement& st) {
  std::vector<Outage> out;
  while (st.Step()) out.push_back(ReadOutage(st));
  tx.Check(st);
  LoadAccounts(tx, out);
  return out;
}

std::vector<Outlet> ReadOutlets(Tx& tx, Statement& st) {
  std::vector<Outlet> out;
  while (st.Step()) {
    Outlet o;
    o.name = st.Text(0);
    o.city = st.Text(1);
    o.district = st.Text(2);
    o.address = st.Text(3);
    o.lat = st.Double(4);
    o.lng = st.Double(5);
    o.hours = st.Text(6);
    o.phone = st.Text(7);
    out.push_back(std::move(o));
  }
  tx.Check(st);
  return out;
}

}  // namespace

// --- business -------------------------------------------------------------------

std::optional<Business> FindBusiness(Tx& tx, const std::string& business_no, UnixSeconds now) {
  Statement st = tx.Prep(std::string("SELECT ") + kBusinessCols +
                         " FROM business WHERE upper(business_no) = upper(?) AND created_at <= ?");
  st.Bind(1, business_no).Bind(2, now);
  if (!st.Step()) return tx.Check(st), std::nullopt;
  Business b = ReadBusiness(st);
  LoadSteps(tx, b, now);
  return b;
}

std::vector<Business> OpenBusinessOf(Tx& tx, const std::vector<std::string>& accounts,
                                     UnixSeconds now) {
  std::vector<std::pair<UnixSeconds, Business>> found;
  Statement st = tx.Prep(std::string("SELECT ") + kBusinessCols +
                         ", created_at FROM business WHERE account_no = ? AND status <> ? "
                         "AND created_at <= ?");
  for (const std::string& account : accounts) {
    st.Reset();
    st.Bind(1, account).Bind(2, kBusinessDone).Bind(3, now);
    while (st.Step()) found.emplace_back(st.Int(4), ReadBusiness(st));
    tx.Check(st);
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second.business_no > b.second.business_no;
  });
  std::vector<Business> out;
  for (auto& [created, b] : found) {
    LoadSteps(tx, b, now);
    out.push_back(std::move(b));
  }
  return out;
}

// --- outages --------------------------------------------------------------------

std::vector<Outage> OutagesCovering(Tx& tx, const Account& account, UnixSeconds now) {
  // instr() compares the texts as they are: the area must appear in the
  // address verbatim.
  Statement st = tx.Prep(
      std::string("SELECT ") + kOutageCols +
      " FROM outages o WHERE end_at >= ?1 AND start_at <= ?1 + " +
      std::to_string(kOutageHorizonSeconds) +
      " AND ("
      "EXISTS (SELECT 1 FROM outage_accounts a WHERE a.outage_id = o.id AND a.account_no = ?2)"
      " OR (city = ?3 AND district = ?4 AND area <> '' AND instr(?5, area) > 0))"
      " ORDER BY start_at, id");
  st.Bind(1, now)
      .Bind(2, account.account_no)
      .Bind(3, account.city)
      .Bind(4, account.district)
      .Bind(5, account.address);
  return ReadOutages(tx, st);
}

std::vector<Outage> OutagesIn(Tx& tx, const std::string& city, const std::string& district,
                              UnixSeconds now) {
  Statement st = tx.Prep(std::string("SELECT ") + kOutageCols +
                         " FROM outages WHERE end_at >= ?1 AND start_at <= ?1 + " +
                         std::to_string(kOutageHorizonSeconds) +
                         " AND city = ?2 AND (?3 = '' OR "
                         "district = ?3) ORDER BY start_at, id");
  st.Bind(1, now).Bind(2, city).Bind(3, district);
  return ReadOutages(tx, st);
}

// --- outlets --------------------------------------------------------------------

std::vector<Outlet> Outlets(Tx& tx) {
  Statement st = tx.Prep(std::string("SELECT ") + kOutletCols + " FROM outlets ORDER BY id");
  return ReadOutlets(tx, st);
}

std::vector<Outlet> OutletsIn(Tx& tx, const std::string& city, const std::string& district) {
  Statement st =
      tx.Prep(std::string("SELECT ") + kOutletCols +
              " FROM outlets WHERE city = ?1 AND (?2 = '' OR district = ?2) ORDER BY id");
  st.Bind(1, city).Bind(2, district);
  return ReadOutlets(tx, st);
}

double DistanceKm(double lat1, double lng1, double lat2, double lng2) {
  constexpr double kEarthRadiusKm = 6371.0088;
  constexpr double kRad = 3.14159265358979323846 / 180.0;
  const double dlat = (lat2 - lat1) * kRad, dlng = (lng2 - lng1) * kRad;
  const double a =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlng / 2) * std::sin(dlng / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(a)));
}

}  // namespace gridbot::storage
