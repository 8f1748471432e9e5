#include "nlu/segmenter.h"

#include <unicode/brkiter.h>
#include <unicode/utext.h>

#include <cctype>
#include <fstream>
#include <mutex>

namespace gridbot::nlu {

struct Segmenter::IcuState {
  std::unique_ptr<icu::BreakIterator> prototype;  // never used directly after clone
  std::mutex mu;                                  // guards cloning from prototype
};

namespace {

// One iterator per thread and segmenter; cloning costs ~0.2 µs, once.
icu::BreakIterator* ThreadIterator(const void* owner, icu::BreakIterator* prototype,
                                   std::mutex& mu) {
  thread_local std::vector<std::pair<const void*, std::unique_ptr<icu::BreakIterator>>> cache;
  for (auto& [o, it] : cache)
    if (o == owner) return it.get();
  std::lock_guard<std::mutex> lock(mu);
  cache.emplace_back(owner, std::unique_ptr<icu::BreakIterator>(prototype->clone()));
  return cache.back().second.get();
}

bool AllSpaceOrPunct(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80 || std::isalnum(c) || c == '@' || c == '.' || c == '-' || c == '_' || c == '/' ||
        c == ':' || c == '+')
      return false;
  return true;
}

}  // namespace

Segmenter::Segmenter(const std::vector<std::string>& lexicon) : trie_(1), icu_(new IcuState) {
  for (const std::string& w : lexicon) {
    if (w.empty()) continue;
    int node = 0;
    for (unsigned char c : w) {
      auto it = trie_[node].next.find(c);
      if (it == trie_[node].next.end()) {
        trie_.push_back(Node());
        const int child = static_cast<int>(trie_.size()) - 1;
        trie_[node].next.emplace(c, child);
        node = child;
      } else {
        node = it->second;
      }
    }
    trie_[node].terminal = true;
  }
  UErrorCode status = U_ZERO_ERROR;
  icu_->prototype.reset(icu::BreakIterator::createWordInstance(icu::Locale("zh"), status));
  if (U_FAILURE(status)) icu_->prototype.reset();
}

Segmenter::~Segmenter() = default;

Result<std::vector<std::string>> Segmenter::LoadLexicon(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read lexicon " + path);
  std::vector<std::string> words;
  std::string line;
  while (std::getline(in, line)) {
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
      line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    // "word<TAB>anything": only the first column is the word.
    std::string word = line.substr(start, line.find_first_of(" \t", start) - start);
    words.push_back(std::move(word));
  }
  return words;
}

size_t Segmenter::LongestMatch(std::string_view text, size_t pos) const {
  int node = 0;
  size_t best = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    auto it = trie_[node].next.find(static_cast<unsigned char>(text[i]));
    if (it == trie_[node].next.end()) break;
    node = it->second;
    if (trie_[node].terminal) best = i + 1 - pos;
  }
  return best;
}

void Segmenter::SegmentGap(std::string_view gap, std::vector<std::string>& out) const {
  if (gap.empty()) return;
  if (!icu_->prototype) {
    if (!AllSpaceOrPunct(gap)) out.emplace_back(gap);
    return;
  }
  icu::BreakIterator* bi = ThreadIterator(this, icu_->prototype.get(), icu_->mu);
  UErrorCode status = U_ZERO_ERROR;
  UText* ut = utext_openUTF8(nullptr, gap.data(), static_cast<int64_t>(gap.size()), &status);
  if (U_FAILURE(status)) {
    out.emplace_back(gap);
    return;
  }
  bi->setText(ut, status);
  int32_t start = bi->first();
  for (int32_t end = bi->next(); end != icu::BreakIterator::DONE; start = end, end = bi->next()) {
    // With UTF-8 UText, boundaries are native (byte) indexes.
    std::string_view tok = gap.substr(start, end - start);
    if (!AllSpaceOrPunct(tok)) out.emplace_back(tok);
  }
  utext_close(ut);
}

std::vector<std::string> Segmenter::Segment(std::string_view text) const {
  std::vector<std::string> out;
  size_t gap_start = 0, i = 0;
  while (i < text.size()) {
    const size_t n = LongestMatch(text, i);
    if (n > 0) {
      SegmentGap(text.substr(gap_start, i - gap_start), out);
      out.emplace_back(text.substr(i, n));
      i += n;
      gap_start = i;
    } else {
      // Advance one UTF-8 code point.
      unsigned char c = static_cast<unsigned char>(text[i]);
      i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    }
  }
  SegmentGap(text.substr(gap_start, std::min(i, text.size()) - gap_start), out);
  return out;
}

}  // namespace gridbot::nlu
