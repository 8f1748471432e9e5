// IntentRules: the intent classifier, from the rules in corpus/nlu/intents.rules.
//
// A rules file is data, not code:
//
//   # comment
//   define FEE (电费|电废|电钱)          # a macro, used as {FEE}
//   query_bill    0.80  {FEE}.{0,6}(多少|几多)
//   cancel        0.70  ^(取消|算了)$
//   unsubscribe_bill 0.95 取消.{0,4}订阅
//   unknown       0.90  (水费|燃气费)       # a veto: near misses stay unknown
//
// Every line is `intent score pattern`; the pattern (RE2 syntax, the rest of
// the line) runs unanchored over the normalised text (normalizer.h). All
// patterns are compiled once into one RE2::Set. For a message, each intent
// scores the highest score among its matching rules: the more specific rule
// carries the higher score. The intent with the highest score wins, except
// that among intents within kPositionMargin of the best, the one whose match
// starts first wins: "先查电费再报修" is about the bill first. No match at
// all is `unknown` with low confidence.
//
// Thread safety: immutable after Load(); Classify() may run on any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace re2 {
class RE2;
}

namespace gridbot::nlu {

struct IntentScore {
  std::string intent = "unknown";
  double confidence = 0.0;
  int rule_line = 0;  // line of the winning rule in the rules file; 0 if none
};

class IntentRules {
 public:
  static constexpr double kPositionMargin = 0.1;
  static constexpr double kNoMatchConfidence = 0.2;

  // Error names the file and line of the first bad rule (unknown intent, bad
  // score, undefined macro, pattern RE2 rejects with RE2's message).
  // `known_intents` lists the intents a rule may name.
  static Result<std::unique_ptr<IntentRules>> Load(const std::string& path,
                                                   const std::vector<std::string>& known_intents);
  ~IntentRules();

  IntentScore Classify(std::string_view normalized) const;
  size_t size() const { return rules_.size(); }

 private:
  struct Rule {
    std::string intent;
    double score;
    int line;
    std::unique_ptr<re2::RE2> re;
  };
  IntentRules();
  std::vector<Rule> rules_;
  struct SetHolder;
  std::unique_ptr<SetHolder> set_;
};

}  // namespace gridbot::nlu
