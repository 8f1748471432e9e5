#include "nlu/normalizer.h"

#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <fstream>
#include <memory>

namespace gridbot::nlu {
namespace {

bool IsHan(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2FFFF) || (c >= 0xF900 && c <= 0xFAFF) || c == 0x3007;
}

bool IsDroppedSymbol(char32_t c) {
  // Emoji and their modifiers; digits and '#' carry the Emoji property too, so
  // use Extended_Pictographic.
  if (c == 0x200D || c == 0x20E3 || (c >= 0xFE00 && c <= 0xFE0F) ||
      (c >= 0x1F3FB && c <= 0x1F3FF) || (c >= 0xE0020 && c <= 0xE007F))
    return true;
  if (c >= 0x80 && u_hasBinaryProperty(c, UCHAR_EXTENDED_PICTOGRAPHIC)) return true;
  const int8_t type = u_charType(c);
  return type == U_CONTROL_CHAR || type == U_FORMAT_CHAR || type == U_PRIVATE_USE_CHAR ||
         type == U_UNASSIGNED || (c >= 0x80 && type == U_OTHER_SYMBOL);
}

// Punctuation that separates rather than belongs to a token.
bool IsBreakingPunct(char32_t c) {
  if (c < 0x80) {
    switch (c) {
      case '!':
      case '?':
      case ',':
      case ';':
      case '"':
      case '\'':
      case '(':
      case ')':
      case '[':
      case ']':
      case '{':
      case '}':
      case '<':
      case '>':
      case '`':
      case '|':
      case '\\':
      case '^':
      case '=':
        return true;
      default:
        return false;
    }
  }
  if (c == 0x00A5 || c == 0xFFE5) return false;  // yuan sign
  return u_ispunct(c) || c == 0x3000;
}

void AppendUtf8(std::string& out, char32_t c) {
  char buf[4];
  int32_t i = 0;
  UBool err = false;
  U8_APPEND(buf, i, 4, c, err);
  if (!err) out.append(buf, i);
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  int32_t i = 0;
  const int32_t n = static_cast<int32_t>(s.size());
  if (s.size() > 0x7fffffff) return false;
  while (i < n) {
    UChar32 c;
    U8_NEXT(s.data(), i, n, c);
    if (c < 0) return false;
  }
  return true;
}

Normalizer::Normalizer() : bmp_(0x10000, 0) {
  UErrorCode status = U_ZERO_ERROR;
  nfkc_ = icu::Normalizer2::getNFKCCasefoldInstance(status);
  if (U_FAILURE(status)) nfkc_ = nullptr;
  status = U_ZERO_ERROR;
  std::unique_ptr<icu::Transliterator> t(
      icu::Transliterator::createInstance("Hant-Hans", UTRANS_FORWARD, status));
  if (U_FAILURE(status) || !t) return;  // no table: text stays as written
  // One pass over the CJK blocks; fall back to a character at a time where
  // the lengths do not line up.
  const std::pair<char32_t, char32_t> blocks[] = {
      {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xF900, 0xFAFF}};
  for (auto [lo, hi] : blocks) {
    for (char32_t c = lo; c <= hi; ++c) {
      icu::UnicodeString s(static_cast<UChar32>(c));
      t->transliterate(s);
      if (s.length() == 1 && s.charAt(0) != static_cast<char16_t>(c)) bmp_[c] = s.charAt(0);
    }
  }
}

Status Normalizer::LoadEmojiWords(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read " + path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos || tab == 0 || tab + 1 >= line.size())
      return Status::Error(path + ":" + std::to_string(n) + ": expected emoji<TAB>word");
    const std::string emoji = line.substr(0, tab);
    int32_t i = 0;
    UChar32 cp;
    U8_NEXT(emoji.data(), i, static_cast<int32_t>(emoji.size()), cp);
    if (cp < 0) return Status::Error(path + ":" + std::to_string(n) + ": invalid UTF-8");
    emoji_words_[static_cast<char32_t>(cp)] = line.substr(tab + 1);
  }
  return Status::Ok();
}

char32_t Normalizer::ToSimplified(char32_t c) const {
  if (c < 0x10000 && bmp_[c] != 0) return bmp_[c];
  return c;
}

NormalizedText Normalizer::Normalize(std::string_view utf8) const {
  NormalizedText out;
  if (!IsValidUtf8(utf8)) {
    out.valid_utf8 = false;
    return out;
  }
  UErrorCode status = nfkc_ ? U_ZERO_ERROR : U_MISSING_RESOURCE_ERROR;
  const icu::Normalizer2* nfkc = nfkc_;
  icu::UnicodeString src = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  icu::UnicodeString folded;
  if (U_SUCCESS(status)) folded = nfkc->normalize(src, status);
  if (U_FAILURE(status)) folded = src;

  // Code points after mapping; spaces collapsed; spaces between Han dropped.
  std::u32string cps;
  cps.reserve(folded.length());
  bool pending_space = false;
  for (int32_t i = 0; i < folded.length();) {
    char32_t c = folded.char32At(i);
    i += U16_LENGTH(c);
    if (IsDroppedSymbol(c)) {
      auto word = emoji_words_.find(c);
      if (word == emoji_words_.end()) continue;
      // A meaningful emoji reads as its word, set apart by spaces.
      if (!cps.empty()) cps.push_back(U' ');
      icu::UnicodeString w = icu::UnicodeString::fromUTF8(word->second);
      for (int32_t k = 0; k < w.length();) {
        const char32_t wc = w.char32At(k);
        k += U16_LENGTH(wc);
        cps.push_back(wc);
      }
      pending_space = true;
      continue;
    }
    if (u_isUWhiteSpace(c) || IsBreakingPunct(c)) {
      pending_space = !cps.empty();
      continue;
    }
    c = ToSimplified(c);
    if (pending_space) {
      if (!(IsHan(c) && !cps.empty() && IsHan(cps.back()))) cps.push_back(U' ');
      pending_space = false;
    }
    cps.push_back(c);
  }
  // Trailing sentence dots ("多少." / "...") are stray punctuation too.
  while (!cps.empty() && (cps.back() == U'.' || cps.back() == U'~' || cps.back() == U' '))
    cps.pop_back();
  out.text.reserve(cps.size() * 3);
  for (char32_t c : cps) AppendUtf8(out.text, c);
  return out;
}

}  // namespace gridbot::nlu
