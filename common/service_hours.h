// ServiceHours: when people answer at the desk, as configured
// (`desk_hours = 08:00-12:00,14:00-20:00`, Asia/Shanghai, every day).
//
//   auto hours = ServiceHours::Parse("08:00-12:00,13:30-20:00");
//   hours->OpenAt(now);          // false at 12:30
//   hours->NextOpening(now);     // today 13:30 (as Unix seconds)
//
// Thread safety: immutable value; copy freely.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace gridbot {

class ServiceHours {
 public:
  // "HH:MM-HH:MM[,HH:MM-HH:MM…]", ranges in order and not overlapping;
  // "00:00-24:00" is always open. Error says what is wrong.
  static Result<ServiceHours> Parse(const std::string& spec);
  ServiceHours() : ranges_{{0, 24 * 60}} {}  // always open

  bool OpenAt(UnixSeconds t) const;
  // The next moment at or after `t` when the desk opens (t itself if open).
  UnixSeconds NextOpening(UnixSeconds t) const;
  // "08:00-12:00、14:00-20:00", for telling customers.
  std::string Describe() const;

 private:
  std::vector<std::pair<int, int>> ranges_;  // minutes of the day, [from, to)
};

}  // namespace gridbot
