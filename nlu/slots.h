// Slot extraction: the values of nlu.md's slots, found in one normalised
// message.
//
// Input is the *normalised* text produced by nlu::Normalizer (see
// normalizer.h): UTF-8, NFKC with case folding (full-width digits/letters are
// ASCII, Latin is lower case), Traditional already mapped to Simplified,
// emoji removed, CJK punctuation (。，！？、；：“”（）【】…) turned into one
// space, runs of white space collapsed to one ASCII space, and white space
// between two Han characters removed. ASCII punctuation inside tokens
// (@ . - _ + : / ¥ $) is kept, and so are spaces between digit groups
// ("138 0013 8000").
//
//   nlu::Gazetteer gaz = ...;                  // corpus/gazetteer
//   nlu::SlotExtractor slots(gaz);             // build once, share
//   Slots s = slots.Extract("帮我查下上个月电费", CivilDay{2024, 8, 4});
//   // s == {{"month", "2024-07"}}
//
// Slot names and value formats are exactly those of ../shared/spec/nlu.md.
// Slots hold only what the message says (a district does not add its city).
//
// Thread safety: a SlotExtractor is immutable after construction; Extract()
// may be called from any number of threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "nlu/gazetteer.h"

namespace gridbot::nlu {

// slot name -> normalised value, e.g. {"month","2024-07"}, {"amount","100.00"}.
using Slots = std::map<std::string, std::string>;

class SlotExtractor {
 public:
  // REQUIRES: `gazetteer` outlives this object.
  explicit SlotExtractor(const Gazetteer& gazetteer);
  ~SlotExtractor();
  SlotExtractor(const SlotExtractor&) = delete;
  SlotExtractor& operator=(const SlotExtractor&) = delete;

  // All slots found in `normalized`, with relative dates resolved against
  // `today` (Asia/Shanghai).
  Slots Extract(std::string_view normalized, const CivilDay& today) const;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace gridbot::nlu
