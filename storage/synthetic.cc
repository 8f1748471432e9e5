#include "storage/synthetic.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace gridbot::storage {

namespace {

struct City {
  const char* code;
  const char* name;
  const char* bureau;
  std::array<const char*, 3> districts;
};

constexpr std::array<City, 6> kCities{{
    {"01", "南宁市", "南宁供电局", {"青秀区", "兴宁区", "西乡塘区"}},
    {"02", "柳州市", "柳州供电局", {"城中区", "鱼峰区", "柳南区"}},
    {"03", "桂林市", "桂林供电局", {"秀峰区", "叠彩区", "七星区"}},
    {"04", "梧州市", "梧州供电局", {"万秀区", "长洲区", "龙圩区"}},
    {"05", "北海市", "北海供电局", {"海城区", "银海区", "铁山港区"}},
    {"06", "玉林市", "玉林供电局", {"玉州区", "福绵区", "北流市"}},
}};

constexpr std::array<const char*, 8> kRoads{"民族大道", "友爱路", "朝阳路", "解放路",
                                            "人民路",   "建政路", "新民路", "中山路"};
constexpr std::array<const char*, 8> kSurnames{"黄", "李", "陈", "韦", "覃", "梁", "蒙", "莫"};

// SplitMix64: the same numbers on every platform (std distributions are not).
std::uint64_t Mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

const City& CityOf(std::int64_t i) { return kCities[static_cast<size_t>(i % kCities.size())]; }

std::string Digits(std::uint64_t v, int width) {
  std::string s(static_cast<size_t>(width), '0');
  for (int k = width - 1; k >= 0 && v > 0; --k, v /= 10) s[static_cast<size_t>(k)] = char('0' + v % 10);
  return s;
}

}  // namespace

std::string SyntheticAccountNo(std::int64_t i) {
  return std::string("03") + CityOf(i).code + "1" + Digits(static_cast<std::uint64_t>(i), 8);
}

std::string SyntheticPassword(std::int64_t i) {
  return Digits(Mix(static_cast<std::uint64_t>(i) ^ 0x5eed) % 1000000, 6);
}

std::string SyntheticCustomer(std::int64_t i) {
  return "bench" + Digits(static_cast<std::uint64_t>(i), 7);
}

Status WriteSynthetic(Store& store, const SyntheticSpec& spec, UnixSeconds now,
                      const std::function<void(std::int64_t)>& progress) {
  if (spec.accounts < 1 || spec.months < 1 || spec.batch < 1)
    return Status::Error("accounts, months and batch must be at least 1");
  {
    Tx tx = store.Begin();
    if (!tx.BackendEmpty()) return Status::Error("the database already holds back-end data");
  }
  const CivilDay today = ToCivilDay(now);
  // The months billed: `months` of them, the last one before this month.
  std::vector<std::string> months;
  std::string m = PreviousYearMonth(FormatYearMonth(today.year, today.month));
  for (int k = 0; k < spec.months; ++k, m = PreviousYearMonth(m)) months.insert(months.begin(), m);

  for (std::int64_t first = 0; first < spec.accounts; first += spec.batch) {
    const std::int64_t last = std::min(spec.accounts, first + spec.batch);
    BackendData d;
    d.accounts.reserve(static_cast<size_t>(last - first));
    d.bills.reserve(static_cast<size_t>((last - first) * spec.months));
    for (std::int64_t i = first; i < last; ++i) {
      const std::uint64_t r = Mix(spec.seed * 1000003ULL + static_cast<std::uint64_t>(i));
      const City& city = CityOf(i);
      const char* district = city.districts[(r >> 8) % city.districts.size()];
      Account a;
      a.account_no = SyntheticAccountNo(i);
      a.service_password = SyntheticPassword(i);
      a.holder = std::string(kSurnames[(r >> 12) % kSurnames.size()]) + "*明";
      a.city = city.name;
      a.district = district;
      a.address = std::string(city.name) + district + kRoads[(r >> 16) % kRoads.size()] +
                  std::to_string(1 + (r >> 20) % 300) + "号" + std::to_string(1 + (r >> 28) % 30) +
                  "栋" + std::to_string(101 + (r >> 33) % 1800);
      a.reading_day = static_cast<int>(1 + (r >> 40) % 28);
      a.supply_unit = std::string(city.bureau) + district + "供电分局";
      a.voltage_level = "交流220V";
      a.reading_type = "远程自动抄表";
      a.usage_category = "城乡居民生活用电";
      a.metering = "低供低计";
      a.settlement_unit = city.bureau;
      a.phone = "139" + Digits(Mix(r) % 100000000, 8);
      a.balance_fen = static_cast<std::int64_t>((r >> 44) % 4 == 0 ? (r >> 46) % 5000 : 0);
      // Bills: 80-480 kWh a month at 0.5283 yuan; the last one unpaid for
      // a third of the accounts.
      const bool owes = (r >> 50) % 3 == 0;
      for (size_t k = 0; k < months.size(); ++k) {
        const std::uint64_t b = Mix(r + k);
        Bill bill;
        bill.account_no = a.account_no;
        bill.month = months[k];
        bill.kwh = static_cast<std::int64_t>(80 + b % 400);
        bill.amount_fen = bill.kwh * 5283 / 100;
        bill.due_date = NextYearMonth(months[k]) + "-20";
        bill.paid = !(owes && k + 1 == months.size());
        d.bills.push_back(bill);
        if (bill.paid && k + 3 >= months.size()) {
          // The last payments (a record per paid month of the last three).
          auto day = ParseCivilDay(NextYearMonth(months[k]) + "-10");
          const UnixSeconds at =
              std::min(now - 3600, FromCivil(CivilTime{*day, 9 + int(b % 10), int(b % 60), 0}));
          d.payments.push_back(
              Payment{a.account_no, at, bill.amount_fen, (b >> 8) % 2 ? "微信支付" : "支付宝"});
        }
      }
      d.accounts.push_back(std::move(a));
      // An outage for every 5,000 accounts, some of them now, in the
      // account's district; an outlet for every 2,000.
      if (i % 5000 == 0) {
        Outage o;
        o.id = "TD" + Digits(static_cast<std::uint64_t>(i / 5000), 10);
        o.city = city.name;
        o.district = district;
        o.area = std::string(kRoads[(r >> 20) % kRoads.size()]) + "周边";
        o.start = now - 3600 + static_cast<UnixSeconds>((r >> 24) % 3) * 86400;
        o.end = o.start + 4 * 3600;
        o.kind = (r >> 30) % 2 ? "planned" : "fault";
        o.reason = o.kind == "planned" ? "线路检修" : "故障抢修";
        d.outages.push_back(std::move(o));
      }
      if (i % 2000 == 0) {
        Outlet o;
        o.name = std::string(city.bureau) + district + "营业厅" + std::to_string(i / 2000 + 1);
        o.city = city.name;
        o.district = district;
        o.address = std::string(city.name) + district + kRoads[(r >> 36) % kRoads.size()] +
                    std::to_string(1 + (r >> 38) % 200) + "号";
        o.lat = 22.0 + static_cast<double>((r >> 8) % 3000) / 1000.0;
        o.lng = 107.0 + static_cast<double>((r >> 20) % 4000) / 1000.0;
        o.hours = "周一至周日 8:30-17:30";
        o.phone = "0771-95598";
        d.outlets.push_back(std::move(o));
      }
    }
    Tx tx = store.Begin();
    Status s = tx.AppendBackend(d);
    if (!s.ok()) return s;
    // The customers bound to this batch's accounts.
    for (std::int64_t c = first; c < spec.customers; c += spec.accounts) {
      for (std::int64_t k = c; k < std::min(spec.customers, c + (last - first)); ++k) {
        const std::string account = SyntheticAccountNo(k % spec.accounts);
        for (const char* channel : {"wechat", "web"}) {
          const std::int64_t user = tx.UserIdFor(channel, SyntheticCustomer(k), now);
          tx.AddBinding(user, account, true, now);
        }
      }
    }
    s = tx.Commit();
    if (!s.ok()) return s;
    if (progress) progress(last);
  }
  return Status::Ok();
}

}  // namespace gridbot::storage
