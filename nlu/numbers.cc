#include "nlu/numbers.h"

#include <cstdio>

namespace gridbot::nlu {
namespace {

constexpr std::int64_t kMaxValue = 1'000'000'000'000'000;  // 1e15: far above any bill

// Decodes the code point at s[*i] and advances *i. Malformed bytes come back
// as U+FFFD one byte at a time, so no input can stall the caller.
char32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  int len = 1;
  char32_t c = 0xFFFD;
  if (b0 < 0x80) {
    c = b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    c = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    c = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    c = b0 & 0x07;
  } else {
    ++*i;
    return 0xFFFD;
  }
  if (*i + len > s.size()) {
    ++*i;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + k]);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    c = (c << 6) | (b & 0x3F);
  }
  *i += len;
  return c;
}

// 0..9 for a Chinese digit (including the financial forms), -1 otherwise.
int CnDigit(char32_t c) {
  switch (c) {
    case U'零':
    case U'〇':
      return 0;
    case U'一':
    case U'壹':
    case U'幺':
      return 1;
    case U'二':
    case U'两':
    case U'贰':
      return 2;
    case U'三':
    case U'叁':
      return 3;
    case U'四':
    case U'肆':
      return 4;
    case U'五':
    case U'伍':
      return 5;
    case U'六':
    case U'陆':
      return 6;
    case U'七':
    case U'柒':
      return 7;
    case U'八':
    case U'捌':
      return 8;
    case U'九':
    case U'玖':
      return 9;
    default:
      return -1;
  }
}

// 10, 100, ... for a Chinese unit, 0 otherwise.
std::int64_t CnUnit(char32_t c) {
  switch (c) {
    case U'十':
    case U'拾':
      return 10;
    case U'百':
    case U'佰':
      return 100;
    case U'千':
    case U'仟':
      return 1000;
    case U'万':
      return 10'000;
    case U'亿':
      return 100'000'000;
    default:
      return 0;
  }
}

struct Token {
  enum Kind { kDigit, kUnit } kind;
  std::int64_t value;  // the digit(s) or the unit
  bool arabic;         // digits written 0-9
  int width;           // number of digits (arabic runs)
};

// Splits `s` into digits and units; false if anything else is in it.
// At most kMax tokens: longer strings are not numbers anyone writes.
constexpr int kMaxTokens = 40;
bool Tokenize(std::string_view s, Token* tokens, int* n) {
  *n = 0;
  size_t i = 0;
  while (i < s.size()) {
    if (*n == kMaxTokens) return false;
    const char ch = s[i];
    if (ch >= '0' && ch <= '9') {
      std::int64_t v = 0;
      int width = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (++width > 18) return false;
        v = v * 10 + (s[i] - '0');
        ++i;
      }
      tokens[(*n)++] = Token{Token::kDigit, v, true, width};
      continue;
    }
    const char32_t c = NextCodePoint(s, &i);
    if (const int d = CnDigit(c); d >= 0) {
      tokens[(*n)++] = Token{Token::kDigit, d, false, 1};
    } else if (const std::int64_t u = CnUnit(c); u != 0) {
      tokens[(*n)++] = Token{Token::kUnit, u, false, 0};
    } else {
      return false;
    }
  }
  return *n > 0;
}

bool MulAdd(std::int64_t a, std::int64_t b, std::int64_t add, std::int64_t* out) {
  std::int64_t m;
  if (__builtin_mul_overflow(a, b, &m) || __builtin_add_overflow(m, add, out)) return false;
  return *out <= kMaxValue;
}

// Positional reading with units: 一百二十三, 十二, 一千零五, and the spoken
// abbreviations 一千二 (1200), 三万五 (35000), 两百五 (250), where a final
// digit takes the unit one below the last one said.
std::optional<std::int64_t> ParseWithUnits(const Token* t, int n) {
  std::int64_t yi_total = 0;    // whole 亿 groups
  std::int64_t wan_total = 0;   // whole 万 groups inside the current 亿 group
  std::int64_t section = 0;     // below 万
  std::int64_t pending = -1;    // a digit waiting for its unit
  std::int64_t last_small = 0;  // last of 十/百/千 in this section
  std::int64_t last_big = 0;    // last of 万/亿
  bool zero = false;            // 零 since the last unit: a final digit is ones
  for (int k = 0; k < n; ++k) {
    const Token& tok = t[k];
    if (tok.kind == Token::kDigit) {
      if (tok.arabic && tok.width > 8) return std::nullopt;
      if (!tok.arabic && tok.value == 0) {
        if (pending >= 0) return std::nullopt;
        zero = true;
        continue;
      }
      if (pending >= 0) return std::nullopt;
      pending = tok.value;
      continue;
    }
    const std::int64_t u = tok.value;
    if (u < 10'000) {
      if (pending < 0) {
        if (u != 10) return std::nullopt;  // 十二 = 12, but 百 alone is not a number
        pending = 1;
      }
      if (last_small != 0 && u >= last_small) return std::nullopt;
      if (!MulAdd(pending, u, section, &section)) return std::nullopt;
      last_small = u;
    } else {
      if (pending >= 0) section += pending;
      const std::int64_t group = wan_total + section;
      if (section == 0 && (u == 10'000 || group == 0)) return std::nullopt;
      if (u == 10'000) {
        if (wan_total != 0) return std::nullopt;
        if (!MulAdd(section, u, 0, &wan_total)) return std::nullopt;
      } else {
        if (yi_total != 0) return std::nullopt;
        if (!MulAdd(group, u, 0, &yi_total)) return std::nullopt;
        wan_total = 0;
      }
      section = 0;
      last_small = 0;
      last_big = u;
    }
    pending = -1;
    zero = false;
  }
  if (pending >= 0) {
    std::int64_t scale = 1;
    if (!zero) {
      if (last_small != 0) {
        scale = last_small / 10;
      } else if (last_big != 0) {
        scale = last_big / 10;
      }
    }
    if (!MulAdd(pending, scale, section, &section)) return std::nullopt;
  }
  std::int64_t total = yi_total + wan_total + section;
  if (total > kMaxValue) return std::nullopt;
  return total;
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

// True for a character that can be part of a numeral: 0-9 . 点 and the
// Chinese digits and units.
bool IsNumeralChar(char32_t c) {
  return (c >= '0' && c <= '9') || c == '.' || c == U'点' || CnDigit(c) >= 0 || CnUnit(c) != 0;
}

// Length in bytes of the numeral at the start of `s`.
size_t NumeralPrefix(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    if (!IsNumeralChar(NextCodePoint(s, &j))) break;
    i = j;
  }
  return i;
}

// One digit, Arabic or Chinese ("5", "五"); -1 otherwise. Consumes it.
int ConsumeOneDigit(std::string_view* s) {
  if (s->empty()) return -1;
  if ((*s)[0] >= '0' && (*s)[0] <= '9') {
    if (s->size() > 1 && (*s)[1] >= '0' && (*s)[1] <= '9') return -1;  // "50" is not one digit
    const int d = (*s)[0] - '0';
    s->remove_prefix(1);
    return d;
  }
  size_t i = 0;
  const int d = CnDigit(NextCodePoint(*s, &i));
  if (d < 0) return -1;
  s->remove_prefix(i);
  return d;
}

// Fen in a decimal numeral: "12.3" (1230), "三点五" (350), "1.5万" (1500000),
// "一百五" (15000). nullopt if not a number or finer than a fen.
std::optional<std::int64_t> ParseDecimalFen(std::string_view s) {
  size_t dot = s.find('.');
  size_t dot_len = 1;
  if (dot == std::string_view::npos) {
    dot = s.find("点");
    dot_len = 3;
  }
  if (dot == std::string_view::npos) {
    auto v = ParseNumber(s);
    if (!v || *v > kMaxValue / 100) return std::nullopt;
    return *v * 100;
  }
  auto whole = ParseNumber(s.substr(0, dot));
  if (!whole) return std::nullopt;
  std::string_view frac = s.substr(dot + dot_len);
  // A trailing multiplier applies to the whole decimal: 1.5万.
  std::int64_t mult = 1;
  if (!frac.empty()) {
    size_t i = 0;
    size_t last = 0;
    char32_t c = 0;
    while (i < frac.size()) {
      last = i;
      c = NextCodePoint(frac, &i);
    }
    if (const std::int64_t u = CnUnit(c); u != 0) {
      mult = u;
      frac = frac.substr(0, last);
    }
  }
  if (frac.empty()) return std::nullopt;
  std::int64_t num = 0, den = 1;
  size_t i = 0;
  while (i < frac.size()) {
    int d;
    if (frac[i] >= '0' && frac[i] <= '9') {
      d = frac[i++] - '0';
    } else {
      d = CnDigit(NextCodePoint(frac, &i));
      if (d < 0) return std::nullopt;
    }
    if (den > 1'000'000'000) return std::nullopt;
    num = num * 10 + d;
    den *= 10;
  }
  std::int64_t whole_fen;
  if (!MulAdd(*whole, 100, 0, &whole_fen) || !MulAdd(whole_fen, mult, 0, &whole_fen))
    return std::nullopt;
  std::int64_t frac_scaled;
  if (!MulAdd(num, 100 * mult, 0, &frac_scaled)) return std::nullopt;
  if (frac_scaled % den != 0) return std::nullopt;  // 12.345元: not a sum anyone owes
  return whole_fen + frac_scaled / den;
}

}  // namespace

std::optional<std::int64_t> ParseNumber(std::string_view s) {
  Token tokens[kMaxTokens];
  int n = 0;
  if (!Tokenize(s, tokens, &n)) return std::nullopt;
  bool has_unit = false, has_arabic = false;
  for (int k = 0; k < n; ++k) {
    has_unit |= tokens[k].kind == Token::kUnit;
    has_arabic |= tokens[k].arabic;
  }
  if (has_unit) return ParseWithUnits(tokens, n);
  if (has_arabic) {
    if (n != 1) return std::nullopt;  // "2零24": not a way to write a number
    if (tokens[0].value > kMaxValue) return std::nullopt;
    return tokens[0].value;
  }
  // Digit by digit: 二〇二四 = 2024.
  if (n > 15) return std::nullopt;
  std::int64_t v = 0;
  for (int k = 0; k < n; ++k) v = v * 10 + tokens[k].value;
  return v;
}

std::optional<std::int64_t> ParseMoneyFen(std::string_view s) {
  s = Trim(s);
  bool marked = false;  // a currency sign or word was written
  if (ConsumePrefix(&s, "¥") || ConsumePrefix(&s, "￥") || ConsumePrefix(&s, "rmb") ||
      ConsumePrefix(&s, "人民币")) {
    marked = true;
    s = Trim(s);
  }
  const size_t num_len = NumeralPrefix(s);
  if (num_len == 0) return std::nullopt;
  const std::string_view number = s.substr(0, num_len);
  s = Trim(s.substr(num_len));

  std::int64_t fen = 0;
  if (ConsumePrefix(&s, "元") || ConsumePrefix(&s, "块") || ConsumePrefix(&s, "圆")) {
    auto yuan = ParseDecimalFen(number);
    if (!yuan) return std::nullopt;
    fen = *yuan;
    if (ConsumePrefix(&s, "钱")) return s.empty() ? std::optional(fen) : std::nullopt;
    const bool decimal = *yuan % 100 != 0 || number.find('.') != std::string_view::npos ||
                         number.find("点") != std::string_view::npos;
    // 3块5 / 3元5角2分 / 两块五毛五: what follows the yuan are jiao, then fen.
    if (!s.empty()) {
      if (decimal) return std::nullopt;
      const int jiao = ConsumeOneDigit(&s);
      if (jiao < 0) return std::nullopt;
      fen += jiao * 10;
      if (ConsumePrefix(&s, "角") || ConsumePrefix(&s, "毛")) {
        const int f = ConsumeOneDigit(&s);
        if (f >= 0) {
          fen += f;
          ConsumePrefix(&s, "分");
        }
      }
      ConsumePrefix(&s, "钱");
    }
    return s.empty() ? std::optional(fen) : std::nullopt;
  }
  if (ConsumePrefix(&s, "角") || ConsumePrefix(&s, "毛")) {
    auto jiao = ParseNumber(number);
    if (!jiao || *jiao > 99) return std::nullopt;
    fen = *jiao * 10;
    const int f = ConsumeOneDigit(&s);
    if (f >= 0) {
      fen += f;
      ConsumePrefix(&s, "分");
    }
    ConsumePrefix(&s, "钱");
    return s.empty() ? std::optional(fen) : std::nullopt;
  }
  if (ConsumePrefix(&s, "分")) {
    auto f = ParseNumber(number);
    if (!f || *f > 99) return std::nullopt;
    ConsumePrefix(&s, "钱");
    return s.empty() ? std::optional(*f) : std::nullopt;
  }
  if (marked && s.empty()) return ParseDecimalFen(number);  // ¥88.5
  return std::nullopt;
}

std::string FormatYuan(std::int64_t fen) {
  const bool negative = fen < 0;
  const std::uint64_t abs_fen =
      negative ? static_cast<std::uint64_t>(-(fen + 1)) + 1 : static_cast<std::uint64_t>(fen);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%llu.%02llu", negative ? "-" : "",
                static_cast<unsigned long long>(abs_fen / 100),
                static_cast<unsigned long long>(abs_fen % 100));
  return buf;
}

}  // namespace gridbot::nlu
