// Civil time in Asia/Shanghai (+08:00, no DST) and the service clock.
//
// Everything in gridbot that depends on "now" takes a Clock (or a TimePoint
// read from one), never the system clock directly, so tests and `--now`
// control it. Guangxi has used +08:00 without DST since 1991, so local time is
// a fixed offset.
//
// Thread safety: Clock implementations are safe to share between threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gridbot {

// Seconds since the Unix epoch.
using UnixSeconds = std::int64_t;

// A calendar day in Asia/Shanghai.
struct CivilDay {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  bool operator==(const CivilDay&) const = default;
};

// A local date-time in Asia/Shanghai.
struct CivilTime {
  CivilDay day;
  int hour = 0, minute = 0, second = 0;
};

constexpr int kShanghaiOffsetSeconds = 8 * 3600;

CivilTime ToCivil(UnixSeconds t);
UnixSeconds FromCivil(const CivilTime& c);
inline CivilDay ToCivilDay(UnixSeconds t) { return ToCivil(t).day; }

// "2024-08-05T08:00:00+08:00"
std::string FormatIso8601(UnixSeconds t);
// Parses ISO 8601 "YYYY-MM-DDTHH:MM[:SS](Z|±HH:MM)". nullopt if malformed.
std::optional<UnixSeconds> ParseIso8601(std::string_view s);
// Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM" as Shanghai local time; a bare
// date means 10:00 (service.md `--now`). nullopt if malformed.
std::optional<UnixSeconds> ParseNowFlag(std::string_view s);
// Parses "YYYY-MM-DD". nullopt if malformed or not a real date.
std::optional<CivilDay> ParseCivilDay(std::string_view s);
int DaysInMonth(int year, int month);
// "YYYY-MM"
std::string FormatYearMonth(int year, int month);
// The month after / before "YYYY-MM". REQUIRES: a well-formed "YYYY-MM".
std::string NextYearMonth(const std::string& year_month);
std::string PreviousYearMonth(const std::string& year_month);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixSeconds Now() const = 0;
};

// The real time.
std::shared_ptr<Clock> SystemClock();
// Starts at `start` and runs forward with real time (service.md `--now`).
std::shared_ptr<Clock> ClockStartingAt(UnixSeconds start);

// A clock that moves only when told to. For tests.
class FakeClock : public Clock {
 public:
  explicit FakeClock(UnixSeconds t) : t_(t) {}
  UnixSeconds Now() const override { return t_.load(); }
  void Set(UnixSeconds t) { t_ = t; }
  void Advance(std::int64_t seconds) { t_ += seconds; }

 private:
  std::atomic<UnixSeconds> t_;
};

}  // namespace gridbot
