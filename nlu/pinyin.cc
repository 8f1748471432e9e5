#include "nlu/pinyin.h"

#include <unicode/translit.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <memory>

namespace gridbot::nlu {
namespace {

// One toneless syllable with the confusions folded: zh/z, ch/c, sh/s, n/l
// at the start; -ng/-n at the end.
std::string Fold(std::string s) {
  if (s.rfind("zh", 0) == 0 || s.rfind("ch", 0) == 0 || s.rfind("sh", 0) == 0) s.erase(1, 1);
  if (!s.empty() && s[0] == 'n' && s.size() > 1 && s[1] != 'g') s[0] = 'l';
  if (s.size() > 3 && s.compare(s.size() - 2, 2, "ng") == 0) s.pop_back();
  return s;
}

struct Decoded {
  char32_t c;
  size_t begin, end;  // bytes
};

std::vector<Decoded> Decode(std::string_view s) {
  std::vector<Decoded> out;
  int32_t i = 0;
  const int32_t n = static_cast<int32_t>(s.size());
  while (i < n) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(s.data(), i, n, c);
    out.push_back(Decoded{c < 0 ? 0xFFFD : static_cast<char32_t>(c), static_cast<size_t>(start),
                          static_cast<size_t>(i)});
  }
  return out;
}

}  // namespace

PinyinMatcher::PinyinMatcher(const std::vector<std::string>& words)
    : sound_of_(kLast - kFirst + 1, 0), sounds_{""} {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::Transliterator> t(
      icu::Transliterator::createInstance("Han-Latin; Latin-ASCII", UTRANS_FORWARD, status));
  if (U_FAILURE(status) || !t) return;  // no table: nothing is corrected
  // One call over the whole block, a character a line: a call costs far
  // more than a character.
  icu::UnicodeString all;
  for (char32_t c = kFirst; c <= kLast; ++c) {
    all.append(static_cast<UChar32>(c));
    all.append(static_cast<UChar>('\n'));
  }
  t->transliterate(all);
  std::string text;
  all.toUTF8String(text);
  std::unordered_map<std::string, std::uint16_t> index;
  char32_t c = kFirst;
  size_t start = 0;
  for (size_t i = 0; i <= text.size() && c <= kLast; ++i) {
    if (i < text.size() && text[i] != '\n') continue;
    std::string syllable = text.substr(start, i - start);
    start = i + 1;
    bool letters = !syllable.empty();
    for (char ch : syllable) letters = letters && ch >= 'a' && ch <= 'z';
    if (letters) {
      syllable = Fold(syllable);
      auto [it, added] = index.emplace(syllable, static_cast<std::uint16_t>(sounds_.size()));
      if (added) sounds_.push_back(syllable);
      sound_of_[c - kFirst] = it->second;
    }
    ++c;
  }
  for (const std::string& w : words) {
    const auto chars = Decode(w);
    if (chars.size() < 2 || chars.size() > 6) continue;
    std::string key;
    bool ok = true;
    for (const Decoded& d : chars) {
      const std::string_view s = Sound(d.c);
      ok = ok && !s.empty();
      key += (key.empty() ? "" : " ") + std::string(s);
    }
    if (!ok) continue;
    words_.emplace(key, w);  // the first word of a sound wins
    max_chars_ = std::max(max_chars_, chars.size());
  }
}

std::string_view PinyinMatcher::Sound(char32_t c) const {
  if (c < kFirst || c > kLast) return {};
  return sounds_[sound_of_[c - kFirst]];
}

std::string PinyinMatcher::Correct(std::string_view normalized) const {
  std::string out(normalized);
  if (words_.empty()) return out;
  const auto chars = Decode(normalized);
  std::string result;
  size_t copied = 0;  // bytes of `normalized` already in `result`
  for (size_t i = 0; i < chars.size();) {
    size_t matched = 0;
    for (size_t len = std::min(max_chars_, chars.size() - i); len >= 2 && !matched; --len) {
      std::string key;
      bool ok = true;
      for (size_t k = i; k < i + len && ok; ++k) {
        const std::string_view s = Sound(chars[k].c);
        ok = !s.empty();
        key += (key.empty() ? "" : " ") + std::string(s);
      }
      if (!ok) continue;
      auto it = words_.find(key);
      if (it == words_.end()) continue;
      const size_t b = chars[i].begin, e = chars[i + len - 1].end;
      if (normalized.substr(b, e - b) != it->second) {
        result.append(normalized.substr(copied, b - copied));
        result += it->second;
        copied = e;
      }
      matched = len;
    }
    i += matched ? matched : 1;
  }
  if (copied == 0) return out;
  result.append(normalized.substr(copied));
  return result;
}

}  // namespace gridbot::nlu
