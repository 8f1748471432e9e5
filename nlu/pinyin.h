// PinyinMatcher: homophone typos of domain words, found by how they sound.
//
// Pinyin keyboards and voice recognition write a domain word with other
// characters of the same sound: 版定户号 (绑定), 报秀 (报修), 人攻 (人工),
// 停点了 (停电). Each character's pinyin comes from ICU's Han-Latin
// transliterator, once, at construction (a per-character table, as the
// normaliser's Traditional → Simplified one: the transliterator itself costs
// tens of µs a message). Tones are dropped, and the confusions of southern
// speakers folded (zh/z, ch/c, sh/s, n/l, -ng/-n), so 停点 ting dian and
// 听店 ting dian both sound like 停电.
//
//   PinyinMatcher m({"绑定", "户号", "报修", "人工", "停电"});
//   m.Correct("版定户号") == "绑定户号";   m.Correct("我要报秀") == "我要报修"
//
// Correct() replaces, longest first, every run of two to six Han characters
// that sounds like a domain word but is written otherwise. Homophones are
// also real words (保修 is a warranty), so the NLU uses it only for messages
// its rules did not understand, and with a confidence penalty (nlu.h).
//
// Thread safety: immutable after construction; Correct() may run on any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gridbot::nlu {

class PinyinMatcher {
 public:
  // `words`: the domain words; those of fewer than two Han characters, or
  // with anything but Han characters, are left out.
  explicit PinyinMatcher(const std::vector<std::string>& words);

  std::string Correct(std::string_view normalized) const;
  // The folded pinyin of one character ("ding"), "" if it has none.
  std::string_view Sound(char32_t c) const;
  size_t words() const { return words_.size(); }

 private:
  static constexpr char32_t kFirst = 0x4E00, kLast = 0x9FFF;  // CJK Unified Ideographs
  std::vector<std::uint16_t> sound_of_;  // per code point from kFirst; index into sounds_, 0 = none
  std::vector<std::string> sounds_;      // folded syllables; [0] = ""
  std::unordered_map<std::string, std::string> words_;  // "bang din" -> "绑定"
  size_t max_chars_ = 0;
};

}  // namespace gridbot::nlu
