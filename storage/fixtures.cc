#include "storage/fixtures.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace gridbot::storage {
namespace {

using nlohmann::json;

// Reads fields of one record and remembers the first error, named by path.
class RecordReader {
 public:
  RecordReader(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  std::string Str(const char* field, bool required = true) {
    const json* v = Field(field, required);
    if (!v) return "";
    if (!v->is_string()) return Fail(field, "expected a string"), "";
    const std::string s = v->get<std::string>();
    if (required && s.empty()) return Fail(field, "must not be empty"), "";
    return s;
  }
  std::int64_t Int(const char* field) {
    const json* v = Field(field, true);
    if (!v) return 0;
    if (!v->is_number_integer()) return Fail(field, "expected an integer"), 0;
    return v->get<std::int64_t>();
  }
  double Num(const char* field) {
    const json* v = Field(field, true);
    if (!v) return 0;
    if (!v->is_number()) return Fail(field, "expected a number"), 0;
    return v->get<double>();
  }
  bool Bool(const char* field) {
    const json* v = Field(field, true);
    if (!v) return false;
    if (!v->is_boolean()) return Fail(field, "expected true or false"), false;
    return v->get<bool>();
  }
  std::int64_t Money(const char* field) {
    const std::string s = Str(field);
    if (!ok()) return 0;
    auto fen = ParseMoney(s);
    if (!fen) return Fail(field, "expected a money string such as \"129.80\""), 0;
    return *fen;
  }
  UnixSeconds Time(const char* field) {
    const std::string s = Str(field);
    if (!ok()) return 0;
    auto t = ParseIso8601(s);
    if (!t)
      return Fail(field, "expected an ISO 8601 time such as \"2024-08-05T08:00:00+08:00\""), 0;
    return *t;
  }
  std::string Month(const char* field) {
    const std::string s = Str(field);
    if (!ok()) return "";
    if (s.size() != 7 || s[4] != '-' || !ParseCivilDay(s + "-01"))
      return Fail(field, "expected a month such as \"2024-07\""), "";
    return s;
  }
  std::string Day(const char* field) {
    const std::string s = Str(field);
    if (!ok()) return "";
    if (!ParseCivilDay(s)) return Fail(field, "expected a date such as \"2024-08-20\""), "";
    return s;
  }
  void Fail(const std::string& field, const std::string& why) {
    if (error_.empty()) error_ = where_ + (field.empty() ? "" : "." + field) + ": " + why;
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const json& obj() const { return obj_; }

 private:
  const json* Field(const char* field, bool required) {
    if (!ok()) return nullptr;
    auto it = obj_.find(field);
    if (it == obj_.end() || it->is_null()) {
      if (required) Fail(field, "missing");
      return nullptr;
    }
    return &*it;
  }
  const json& obj_;
  std::string where_;
  std::string error_;
};

template <typename F>
Status ForEach(const json& doc, const char* array, F&& read) {
  auto it = doc.find(array);
  if (it == doc.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) return Status::Error(std::string(array) + ": expected an array");
  for (size_t i = 0; i < it->size(); ++i) {
    const std::string where = std::string(array) + "[" + std::to_string(i) + "]";
    const json& item = (*it)[i];
    if (!item.is_object()) return Status::Error(where + ": expected an object");
    RecordReader r(item, where);
    read(r);
    if (!r.ok()) return Status::Error(r.error());
  }
  return Status::Ok();
}

}  // namespace

std::optional<std::int64_t> ParseMoney(std::string_view s) {
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0 || s.size() - dot != 3 || dot > 12)
    return std::nullopt;
  std::int64_t v = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == dot) continue;
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

std::string FormatMoney(std::int64_t fen) {
  const bool neg = fen < 0;
  if (neg) fen = -fen;
  std::string cents = std::to_string(fen % 100);
  if (cents.size() < 2) cents = "0" + cents;
  return (neg ? "-" : "") + std::to_string(fen / 100) + "." + cents;
}

Result<BackendData> ParseFixtures(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::Error("fixture file is not valid JSON");
  if (!doc.is_object()) return Status::Error("fixture file must be a JSON object");
  BackendData d;
  std::set<std::string> account_nos;
  Status s = ForEach(doc, "accounts", [&](RecordReader& r) {
    Account a;
    a.account_no = r.Str("account_no");
    if (r.ok() && (a.account_no.size() < 10 || a.account_no.size() > 13 ||
                   a.account_no.find_first_not_of("0123456789") != std::string::npos))
      r.Fail("account_no", "expected 10 to 13 digits");
    if (r.ok() && !account_nos.insert(a.account_no).second)
      r.Fail("account_no", "duplicate account " + a.account_no);
    a.service_password = r.Str("service_password");
    a.holder = r.Str("holder");
    a.city = r.Str("city");
    a.district = r.Str("district");
    a.address = r.Str("address");
    a.reading_day = static_cast<int>(r.Int("reading_day"));
    if (r.ok() && (a.reading_day < 1 || a.reading_day > 31))
      r.Fail("reading_day", "expected 1 to 31");
    a.supply_unit = r.Str("supply_unit");
    a.voltage_level = r.Str("voltage_level");
    a.reading_type = r.Str("reading_type");
    a.usage_category = r.Str("usage_category");
    a.metering = r.Str("metering");
    a.settlement_unit = r.Str("settlement_unit");
    a.phone = r.Str("phone");
    a.balance_fen = r.Money("balance");
    if (r.ok()) d.accounts.push_back(std::move(a));
  });
  if (!s.ok()) return s;
  auto known_account = [&](RecordReader& r, const std::string& no, const char* field) {
    if (r.ok() && !account_nos.count(no)) r.Fail(field, "unknown account " + no);
  };
  std::set<std::string> bill_keys;
  s = ForEach(doc, "bills", [&](RecordReader& r) {
    Bill b;
    b.account_no = r.Str("account_no");
    known_account(r, b.account_no, "account_no");
    b.month = r.Month("month");
    if (r.ok() && !bill_keys.insert(b.account_no + "/" + b.month).second)
      r.Fail("month", "second bill for the same account and month");
    b.kwh = r.Int("kwh");
    b.amount_fen = r.Money("amount");
    b.due_date = r.Day("due_date");
    b.paid = r.Bool("paid");
    if (r.ok()) d.bills.push_back(std::move(b));
  });
  if (!s.ok()) return s;
  s = ForEach(doc, "payments", [&](RecordReader& r) {
    Payment p;
    p.account_no = r.Str("account_no");
    known_account(r, p.account_no, "account_no");
    p.paid_at = r.Time("paid_at");
    p.amount_fen = r.Money("amount");
    p.method = r.Str("method");
    if (r.ok()) d.payments.push_back(std::move(p));
  });
  if (!s.ok()) return s;
  std::set<std::string> ids;
  s = ForEach(doc, "outages", [&](RecordReader& r) {
    Outage o;
    o.id = r.Str("id");
    if (r.ok() && !ids.insert(o.id).second) r.Fail("id", "duplicate outage " + o.id);
    o.city = r.Str("city");
    o.district = r.Str("district");
    o.area = r.Str("area");
    o.start = r.Time("start");
    o.end = r.Time("end");
    if (r.ok() && o.end < o.start) r.Fail("end", "is before start");
    o.kind = r.Str("kind");
    if (r.ok() && o.kind != "planned" && o.kind != "fault")
      r.Fail("kind", "expected \"planned\" or \"fault\"");
    o.reason = r.Str("reason");
    auto acc = r.obj().find("accounts");
    if (r.ok() && acc != r.obj().end() && !acc->is_null()) {
      if (!acc->is_array()) {
        r.Fail("accounts", "expected an array of account numbers");
      } else {
        for (const json& a : *acc) {
          if (!a.is_string()) {
            r.Fail("accounts", "expected an array of account numbers");
            break;
          }
          o.accounts.push_back(a.get<std::string>());
        }
      }
    }
    if (r.ok()) d.outages.push_back(std::move(o));
  });
  if (!s.ok()) return s;
  std::set<std::string> business_nos;
  s = ForEach(doc, "business", [&](RecordReader& r) {
    Business b;
    b.business_no = r.Str("business_no");
    if (r.ok() && !business_nos.insert(b.business_no).second)
      r.Fail("business_no", "duplicate business " + b.business_no);
    b.account_no = r.Str("account_no", /*required=*/false);
    b.type = r.Str("type");
    if (r.ok() && b.type != "new_install" && b.type != "capacity_increase" && b.type != "change" &&
        b.type != "repair")
      r.Fail("type", "expected new_install, capacity_increase, change or repair");
    b.status = r.Str("status");
    auto steps = r.obj().find("steps");
    if (r.ok() && steps != r.obj().end() && !steps->is_null()) {
      if (!steps->is_array()) r.Fail("steps", "expected an array");
      for (size_t i = 0; r.ok() && steps->is_array() && i < steps->size(); ++i) {
        const json& st = (*steps)[i];
        if (!st.is_object()) {
          r.Fail("steps[" + std::to_string(i) + "]", "expected an object");
          break;
        }
        RecordReader sr(st, "");
        BusinessStep step{sr.Str("name"), sr.Time("at")};
        if (!sr.ok()) {
          r.Fail("steps[" + std::to_string(i) + "]" + sr.error(), "invalid step");
          break;
        }
        b.steps.push_back(std::move(step));
      }
    }
    if (r.ok()) d.business.push_back(std::move(b));
  });
  if (!s.ok()) return s;
  s = ForEach(doc, "outlets", [&](RecordReader& r) {
    Outlet o;
    o.name = r.Str("name");
    o.city = r.Str("city");
    o.district = r.Str("district");
    o.address = r.Str("address");
    o.lat = r.Num("lat");
    o.lng = r.Num("lng");
    if (r.ok() && (o.lat < -90 || o.lat > 90)) r.Fail("lat", "out of range");
    if (r.ok() && (o.lng < -180 || o.lng > 180)) r.Fail("lng", "out of range");
    o.hours = r.Str("hours");
    o.phone = r.Str("phone");
    if (r.ok()) d.outlets.push_back(std::move(o));
  });
  if (!s.ok()) return s;
  std::set<std::string> cards;
  s = ForEach(doc, "prepaid_cards", [&](RecordReader& r) {
    PrepaidCard c;
    c.card_no = r.Str("card_no");
    if (r.ok() && !cards.insert(c.card_no).second) r.Fail("card_no", "duplicate card " + c.card_no);
    c.password = r.Str("password");
    c.amount_fen = r.Money("amount");
    c.used = r.Bool("used");
    if (r.ok()) d.prepaid_cards.push_back(std::move(c));
  });
  if (!s.ok()) return s;
  return d;
}

Result<BackendData> ReadFixtureFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("cannot read fixture file " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  auto d = ParseFixtures(buf.str());
  if (!d.ok()) return Status::Error(path + ": " + d.error());
  return d;
}

}  // namespace gridbot::storage
