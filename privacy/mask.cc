#include "privacy/mask.h"

#include <re2/re2.h>

#include <vector>

namespace gridbot::privacy {
namespace {

// UTF-8 code points of s.
std::vector<std::string> CodePoints(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = 1;
    const unsigned char c = s[i];
    if (c >= 0xF0) n = 4;
    else if (c >= 0xE0) n = 3;
    else if (c >= 0xC0) n = 2;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

// Full-width digits (０-９, U+FF10..FF19) as ASCII, so that they are masked
// like any digits.
std::string AsciiDigits(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char a = s[i];
    if (a == 0xEF && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBC) {
      const unsigned char b = s[i + 2];
      if (b >= 0x90 && b <= 0x99) {
        out += static_cast<char>('0' + (b - 0x90));
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string DigitsOnly(const std::string& s) {
  std::string d;
  for (char c : s)
    if (c >= '0' && c <= '9') d += c;
  return d;
}

}  // namespace

std::string MaskPhone(const std::string& phone) {
  const std::string d = DigitsOnly(AsciiDigits(phone));
  if (d.size() < 7) return std::string(d.size(), '*');
  return d.substr(0, 3) + std::string(d.size() - 7, '*') + d.substr(d.size() - 4);
}

std::string MaskAccountNo(const std::string& a) {
  if (a.size() <= 8) return std::string(a.size(), '*');
  return a.substr(0, 4) + std::string(a.size() - 8, '*') + a.substr(a.size() - 4);
}

std::string MaskCardNo(const std::string& c) {
  if (c.size() <= 4) return std::string(c.size(), '*');
  return std::string(c.size() - 4, '*') + c.substr(c.size() - 4);
}

std::string MaskEmail(const std::string& e) {
  const size_t at = e.find('@');
  if (at == std::string::npos || at == 0) return "***";
  return e.substr(0, 1) + "***" + e.substr(at);
}

std::string MaskName(const std::string& name) {
  const auto cps = CodePoints(name);
  if (cps.empty()) return "";
  if (cps.size() == 1) return "*";
  if (cps.size() == 2) return cps[0] + "*";
  std::string out = cps.front();
  for (size_t i = 1; i + 1 < cps.size(); ++i) out += "*";
  return out + cps.back();
}

std::string MaskCustomerId(const std::string& channel, const std::string& id) {
  if (id.size() <= 6) return channel + ":" + std::string(id.size(), '*');
  return channel + ":" + id.substr(0, 3) + "***" + id.substr(id.size() - 3);
}

std::string MaskText(const std::string& text) {
  // A mobile number: 1[3-9]x xxxx xxxx with optional +86 / 86 and spaces or
  // dashes between groups, not inside a longer run of digits.
  static const RE2 kMobile(
      R"((^|[^0-9])((?:\+?86[ -]?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4})([^0-9]|$))");
  // 户号: 10 to 13 digits (nlu.md), also typed in groups ("0301 0000 01234").
  static const RE2 kAccount(R"((^|[^0-9])([0-9]{10,13})([^0-9]|$))");
  static const RE2 kAccountSpaced(R"((^|[^0-9])([0-9]{4}[ -][0-9]{4}[ -][0-9]{2,5})([^0-9]|$))");
  static const RE2 kCard(R"((^|[^0-9])([0-9]{16})([^0-9]|$))");
  static const RE2 kEmail(R"(([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,}))");
  std::string in = AsciiDigits(text), out;
  // Replace match by match, so each kind gets its own masking function.
  auto replace_all = [](std::string s, const RE2& re, std::string (*mask)(const std::string&)) {
    std::string result;
    re2::StringPiece input(s), pre, number, post;
    for (int guard = 0; guard < 1000; ++guard) {
      const char* start = input.data();
      if (!RE2::PartialMatch(input, re, &pre, &number, &post)) break;
      result.append(start, number.data() - start);
      result += mask(std::string(number));
      input.remove_prefix(number.data() + number.size() - start);
    }
    result.append(input.data(), input.size());
    return result;
  };
  out = replace_all(in, kMobile, [](const std::string& p) {
    std::string d = DigitsOnly(p);
    if (d.size() > 11) d = d.substr(d.size() - 11);
    return MaskPhone(d);
  });
  out = replace_all(out, kCard, MaskCardNo);
  out = replace_all(out, kAccountSpaced, [](const std::string& a) { return MaskAccountNo(DigitsOnly(a)); });
  out = replace_all(out, kAccount, MaskAccountNo);
  RE2::GlobalReplace(&out, kEmail, "\\1***\\2");
  // A person's name after the words that introduce one ("户主：黄建明",
  // "联系人：李女士", "我叫王小红"): two to four Chinese characters. (A name
  // typed alone at the step that asks for one is masked by the dialog before
  // it is logged.)
  static const RE2 kNamed(
      R"(((?:户主|户名|姓名|联系人)[:：]\s*|我叫|名字是|名字叫|姓名是|联系人是)(\p{Han}{2,4}))");
  std::string named;
  re2::StringPiece rest(out), cue, name;
  for (int guard = 0; guard < 1000; ++guard) {
    const char* start = rest.data();
    if (!RE2::PartialMatch(rest, kNamed, &cue, &name)) break;
    named.append(start, name.data() - start);
    named += MaskName(std::string(name));
    rest.remove_prefix(name.data() + name.size() - start);
  }
  named.append(rest.data(), rest.size());
  return named;
}

}  // namespace gridbot::privacy
