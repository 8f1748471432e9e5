// Chinese and Arabic numerals, months and money, as nlu.md reads them.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.h"

namespace gridbot::nlu {

// Reads a whole string as a number: "123", "一百二十三" (123), "两百" (200),
// "十二" (12), "一千二" (1200), "三万五" (35000), "二〇二四" (2024),
// "零" (0). nullopt if `s` is not entirely a number.
std::optional<std::int64_t> ParseNumber(std::string_view s);

// Money in fen (1/100 yuan) from a phrase such as "100元", "一百五十块",
// "¥88.5", "3块5", "两块五毛", "12.3元". nullopt if not money.
std::optional<std::int64_t> ParseMoneyFen(std::string_view s);

// "150.00" from 15000 fen.
std::string FormatYuan(std::int64_t fen);

}  // namespace gridbot::nlu
