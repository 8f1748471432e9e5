#include "common/time.h"

#include <cstdio>

namespace gridbot {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days.
std::int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

CivilDay CivilFromDays(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDay{static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

class RealClock : public Clock {
 public:
  UnixSeconds Now() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

class StartedClock : public Clock {
 public:
  explicit StartedClock(UnixSeconds start)
      : start_(start), origin_(std::chrono::steady_clock::now()) {}
  UnixSeconds Now() const override {
    return start_ + std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::steady_clock::now() - origin_)
                        .count();
  }

 private:
  UnixSeconds start_;
  std::chrono::steady_clock::time_point origin_;
};

}  // namespace

int DaysInMonth(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
  return kDays[month - 1];
}

CivilTime ToCivil(UnixSeconds t) {
  const std::int64_t local = t + kShanghaiOffsetSeconds;
  std::int64_t days = local / 86400;
  std::int64_t rem = local % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  CivilTime c;
  c.day = CivilFromDays(days);
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>(rem / 60 % 60);
  c.second = static_cast<int>(rem % 60);
  return c;
}

UnixSeconds FromCivil(const CivilTime& c) {
  return DaysFromCivil(c.day.year, c.day.month, c.day.day) * 86400 + c.hour * 3600 + c.minute * 60 +
         c.second - kShanghaiOffsetSeconds;
}

std::string FormatIso8601(UnixSeconds t) {
  const CivilTime c = ToCivil(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", c.day.year, c.day.month,
                c.day.day, c.hour, c.minute, c.second);
  return buf;
}

std::string NextYearMonth(const std::string& ym) {
  int y = std::stoi(ym.substr(0, 4)), m = std::stoi(ym.substr(5, 2)) + 1;
  if (m > 12) m = 1, ++y;
  return FormatYearMonth(y, m);
}

std::string PreviousYearMonth(const std::string& ym) {
  int y = std::stoi(ym.substr(0, 4)), m = std::stoi(ym.substr(5, 2)) - 1;
  if (m == 0) m = 12, --y;
  return FormatYearMonth(y, m);
}

std::string FormatYearMonth(int year, int month) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", year, month);
  return buf;
}

std::optional<CivilDay> ParseCivilDay(std::string_view s) {
  CivilDay d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, &d.year) ||
      !Digits(s, 5, 2, &d.month) || !Digits(s, 8, 2, &d.day))
    return std::nullopt;
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > DaysInMonth(d.year, d.month))
    return std::nullopt;
  return d;
}

std::optional<UnixSeconds> ParseIso8601(std::string_view s) {
  if (s.size() < 16) return std::nullopt;
  auto day = ParseCivilDay(s.substr(0, 10));
  if (!day || (s[10] != 'T' && s[10] != ' ')) return std::nullopt;
  CivilTime c;
  c.day = *day;
  if (!Digits(s, 11, 2, &c.hour) || s[13] != ':' || !Digits(s, 14, 2, &c.minute))
    return std::nullopt;
  size_t pos = 16;
  if (pos < s.size() && s[pos] == ':') {
    if (!Digits(s, pos + 1, 2, &c.second)) return std::nullopt;
    pos += 3;
  }
  if (c.hour > 23 || c.minute > 59 || c.second > 60) return std::nullopt;
  int offset = kShanghaiOffsetSeconds;  // no zone given: local time
  if (pos < s.size()) {
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
      offset = 0;
    } else if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size() && s[pos + 3] == ':') {
      int hh, mm;
      if (!Digits(s, pos + 1, 2, &hh) || !Digits(s, pos + 4, 2, &mm)) return std::nullopt;
      offset = (hh * 3600 + mm * 60) * (s[pos] == '-' ? -1 : 1);
    } else {
      return std::nullopt;
    }
  }
  return FromCivil(c) + kShanghaiOffsetSeconds - offset;
}

std::optional<UnixSeconds> ParseNowFlag(std::string_view s) {
  if (s.size() == 10) {
    auto day = ParseCivilDay(s);
    if (!day) return std::nullopt;
    return FromCivil(CivilTime{*day, 10, 0, 0});
  }
  return ParseIso8601(s);
}

std::shared_ptr<Clock> SystemClock() { return std::make_shared<RealClock>(); }
std::shared_ptr<Clock> ClockStartingAt(UnixSeconds start) {
  return std::make_shared<StartedClock>(start);
}

}  // namespace gridbot
