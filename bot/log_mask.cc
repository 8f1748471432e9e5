#include "bot/log_mask.h"

#include <re2/re2.h>

namespace gridbot::bot {

std::string MaskForAnalysts(const std::string& text) {
  // Digits not inside a longer run of digits (a 户号 or card is not a phone).
  static const RE2 kMobile(R"((^|[^0-9])(1[3-9][0-9])([0-9]{4})([0-9]{4})([^0-9]|$))");
  static const RE2 kCard(R"((^|[^0-9])(88[0-9]{2})([0-9]{8})([0-9]{4})([^0-9]|$))");
  static const RE2 kEmail(R"(([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,}))");
  std::string out = text;
  // GlobalReplace does not re-scan a replaced match: twice catches neighbours.
  for (int pass = 0; pass < 2; ++pass) {
    RE2::GlobalReplace(&out, kMobile, "\\1\\2****\\4\\5");
    RE2::GlobalReplace(&out, kCard, "\\1\\2********\\4\\5");
  }
  RE2::GlobalReplace(&out, kEmail, "\\1***\\2");
  return out;
}

}  // namespace gridbot::bot
