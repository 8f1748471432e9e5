#include "common/service_hours.h"

#include <cstdio>

namespace gridbot {
namespace {

// "HH:MM" → minutes of the day (24:00 allowed as an end); -1 if malformed.
int ParseClock(const std::string& s) {
  if (s.size() != 5 || s[2] != ':') return -1;
  for (int i : {0, 1, 3, 4})
    if (s[i] < '0' || s[i] > '9') return -1;
  const int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return -1;
  return h * 60 + m;
}

std::string ClockText(int minutes) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
  return buf;
}

}  // namespace

Result<ServiceHours> ServiceHours::Parse(const std::string& spec) {
  ServiceHours h;
  h.ranges_.clear();
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string::npos) comma = spec.size();
    std::string part = spec.substr(start, comma - start);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    const size_t dash = part.find('-');
    const int from = dash == std::string::npos ? -1 : ParseClock(part.substr(0, dash));
    const int to = dash == std::string::npos ? -1 : ParseClock(part.substr(dash + 1));
    if (from < 0 || to < 0 || from >= to || from == 24 * 60)
      return Status::Error("desk_hours expects ranges like 08:00-12:00,14:00-20:00, got '" +
                           spec + "'");
    if (!h.ranges_.empty() && from < h.ranges_.back().second)
      return Status::Error("desk_hours ranges must be in order and not overlap: '" + spec + "'");
    h.ranges_.emplace_back(from, to);
    start = comma + 1;
  }
  return h;
}

bool ServiceHours::OpenAt(UnixSeconds t) const {
  const CivilTime c = ToCivil(t);
  const int m = c.hour * 60 + c.minute;
  for (const auto& [from, to] : ranges_)
    if (m >= from && m < to) return true;
  return false;
}

UnixSeconds ServiceHours::NextOpening(UnixSeconds t) const {
  if (OpenAt(t)) return t;
  const CivilTime c = ToCivil(t);
  const int m = c.hour * 60 + c.minute;
  CivilTime midnight = c;
  midnight.hour = midnight.minute = midnight.second = 0;
  const UnixSeconds day = FromCivil(midnight);
  for (const auto& [from, to] : ranges_)
    if (from > m) return day + from * 60;
  return day + 24 * 3600 + ranges_.front().first * 60;  // tomorrow's first
}

std::string ServiceHours::Describe() const {
  std::string out;
  for (const auto& [from, to] : ranges_)
    out += (out.empty() ? "" : "、") + ClockText(from) + "-" + ClockText(to);
  return out;
}

}  // namespace gridbot
