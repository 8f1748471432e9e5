// The NLU: from a customer's message to an intent, a confidence and slots.
//
//   auto model = nlu::Model::Load("corpus");     // once, at start-up
//   if (!model.ok()) { report model.error(); }   // names the bad file/line
//   nlu::Understanding u = (*model)->Parse("帮我查下上个月電費", CivilDay{2024, 8, 4});
//   // u.intent == "query_bill", u.slots == {{"month", "2024-07"}},
//   // u.normalized == "帮我查下上个月电费"
//
// Parse() is pure: no I/O, no clock of its own ("today" is an argument), no
// globals. The pipeline is Normalizer → Segmenter → IntentRules →
// SlotExtractor, all built once from corpus/ and shared read-only.
//
// Thread safety: a Model is immutable; Parse() may be called from any number
// of threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "nlu/gazetteer.h"
#include "nlu/intent_rules.h"
#include "nlu/normalizer.h"
#include "nlu/pinyin.h"
#include "nlu/segmenter.h"
#include "nlu/slots.h"

namespace gridbot::nlu {

// The intents of ../shared/spec/nlu.md.
const std::vector<std::string>& KnownIntents();

struct Understanding {
  std::string text;        // as the customer wrote it
  std::string normalized;  // what the rules matched on
  std::vector<std::string> tokens;
  std::string intent = "unknown";
  double confidence = 0.0;
  Slots slots;
  // Slot values the message negates ("我不想用支付宝": pay_method=alipay).
  // They stay in `slots` too (the message names them: nlu.md); the dialog
  // reads slots through dialogs::Slot(), which leaves negated ones out.
  Slots negated;
  bool valid_utf8 = true;
  int rule_line = 0;  // the intents.rules line that decided, 0 if none
  // The text the rules understood after homophone typos were corrected by
  // pinyin ("版定户号" → "绑定户号"), "" if the text was understood as written.
  std::string corrected;
};

class Model {
 public:
  // Loads corpus_dir/nlu/intents.rules, corpus_dir/nlu/lexicon.txt and
  // corpus_dir/gazetteer/. Error names the file (and line) at fault.
  static Result<std::shared_ptr<const Model>> Load(const std::string& corpus_dir);

  // The whole pipeline. With `intent_only`, only what decides the intent
  // runs (normalise, classify: the rules match the normalised text, not the
  // tokens); no tokens, no slots. For measuring classification alone.
  Understanding Parse(std::string_view text, const CivilDay& today, bool intent_only = false) const;

  const Normalizer& normalizer() const { return normalizer_; }
  const Gazetteer& gazetteer() const { return gazetteer_; }
  const SlotExtractor& slots() const { return *slots_; }
  const Segmenter& segmenter() const { return *segmenter_; }
  const IntentRules& rules() const { return *rules_; }

  // `sound_words`: the words whose homophone typos are corrected (the
  // lexicon's and corpus/nlu/pinyin_words.txt's).
  Model(Gazetteer gazetteer, std::unique_ptr<IntentRules> rules,
        const std::vector<std::string>& lexicon, const std::vector<std::string>& sound_words);
  const PinyinMatcher& pinyin() const { return *pinyin_; }

 private:
  Normalizer normalizer_;
  Gazetteer gazetteer_;
  std::unique_ptr<IntentRules> rules_;
  std::unique_ptr<Segmenter> segmenter_;
  std::unique_ptr<SlotExtractor> slots_;
  std::unique_ptr<PinyinMatcher> pinyin_;
};

// Negation scopes: where a negation cue (不想, 不要, 不是, 别, 不用, 唔使 …)
// starts and how far what it negates runs — to the end of the clause or to
// a contrast word ("不是停电，是跳闸": only 停电). Byte offsets into the
// normalised text; the cue itself is [cue, begin).
struct NegatedSpan {
  size_t cue, begin, end;
};
std::vector<NegatedSpan> NegatedSpans(std::string_view normalized);

// Runs of seven or more Chinese digits ("零三零一零零…", "幺三八…") as ASCII
// digits, the rest unchanged: how an account, card or phone number read out
// digit by digit is written.
std::string ChineseDigitRunsToAscii(std::string_view normalized);

// `{"text":…,"intent":…,"confidence":…,"slots":{…}}` as `gridbot nlu` prints it.
std::string ToJsonLine(const Understanding& u);

}  // namespace gridbot::nlu
