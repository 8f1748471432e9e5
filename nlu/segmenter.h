// Segmenter: words of a normalised message, with the domain's words whole.
//
// Stock ICU splits this domain's words (电费 → 电|费, 青秀区 → 青|秀|区;
// ../shared/notes/chinese-nlu.md). ICU 72 has no API to add words, so the
// segmenter protects the longest lexicon match at each position (domain
// lexicon from corpus/nlu/lexicon.txt plus every gazetteer name) and lets
// ICU's word BreakIterator segment only the gaps between them. Tokens that are
// only white space or punctuation are dropped.
//
// Thread safety: immutable after construction; Segment() may be called from
// any number of threads (each thread clones its own ICU iterator).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace gridbot::nlu {

class Segmenter {
 public:
  explicit Segmenter(const std::vector<std::string>& lexicon);
  ~Segmenter();

  std::vector<std::string> Segment(std::string_view normalized) const;

  // Words of corpus/nlu/lexicon.txt: one a line, '#' starts a comment.
  static Result<std::vector<std::string>> LoadLexicon(const std::string& path);

 private:
  // Longest lexicon word starting at `pos`, in bytes (0 if none).
  size_t LongestMatch(std::string_view text, size_t pos) const;
  void SegmentGap(std::string_view gap, std::vector<std::string>& out) const;

  // Trie over UTF-8 bytes: node -> (byte -> child); terminal flags.
  struct Node {
    std::unordered_map<unsigned char, int> next;
    bool terminal = false;
  };
  std::vector<Node> trie_;
  struct IcuState;
  std::unique_ptr<IcuState> icu_;
};

}  // namespace gridbot::nlu
