// Normalizer: the text the NLU matches on, from what the customer typed.
//
//   NFKC with case folding (full-width digits/letters → ASCII, lower case),
//   then Traditional → Simplified, then emoji removed, CJK and sentence
//   punctuation turned into a space, white space collapsed, and white space
//   between two Han characters removed. "繳費 ０３０１！😊" → "缴费 0301".
//
// Traditional → Simplified uses ICU's Hant-Hans transliterator once, at
// construction, to build a per-character table (Hant-Hans on this domain is
// character-for-character); per message it is a table look-up, not the ~18 µs
// transliterator (../shared/notes/chinese-nlu.md).
//
// Thread safety: immutable after construction; Normalize() may be called from
// any number of threads.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <unicode/normalizer2.h>

#include "common/status.h"

namespace gridbot::nlu {

struct NormalizedText {
  bool valid_utf8 = true;  // false: `text` is empty
  std::string text;
};

class Normalizer {
 public:
  Normalizer();
  // Emoji that carry a meaning in this domain (👍 = 好的) are replaced by
  // their word instead of being dropped; from corpus/nlu/emoji.tsv
  // (emoji<TAB>word). REQUIRES: called before the Normalizer is shared.
  Status LoadEmojiWords(const std::string& path);
  NormalizedText Normalize(std::string_view utf8) const;

  // Traditional → Simplified of one code point (identity if none).
  char32_t ToSimplified(char32_t c) const;

 private:
  std::vector<char16_t> bmp_;  // 0x10000 entries; 0 = unchanged
  // ICU's NFKC-casefold instance, looked up once here (ICU makes it lazily;
  // fetched before any thread uses it, so no thread races its creation).
  const icu::Normalizer2* nfkc_ = nullptr;
  std::unordered_map<char32_t, std::string> emoji_words_;
};

// True if `s` is well-formed UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(std::string_view s);

}  // namespace gridbot::nlu
