// Evaluation of the NLU against labelled utterances (corpus/nlu/*.jsonl:
// {"text","intent","slots"} per line): intent accuracy, per-intent
// precision/recall/F1, confusions, out-of-domain rejection, slot P/R/F1.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "nlu/nlu.h"

namespace gridbot::nlu {

struct Example {
  std::string text, intent;
  Slots slots;
  int line = 0;
};

// Reads a JSONL file; error names the line.
Result<std::vector<Example>> ReadExamples(const std::string& path);

struct Prf {
  int tp = 0, fp = 0, fn = 0;
  double precision() const { return tp + fp ? double(tp) / (tp + fp) : 0; }
  double recall() const { return tp + fn ? double(tp) / (tp + fn) : 0; }
  double f1() const {
    const double p = precision(), r = recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
  }
};

struct EvalReport {
  int total = 0, correct = 0;
  int ood_total = 0, ood_rejected = 0;  // gold unknown, predicted unknown
  std::map<std::string, Prf> intents;
  std::map<std::string, Prf> slots;
  Prf slots_all;
  std::map<std::pair<std::string, std::string>, int> confusions;  // (gold, predicted)
  struct Miss {
    int line;
    std::string text, gold, predicted;
  };
  std::vector<Miss> misses;
  struct SlotMiss {
    int line;
    std::string text, expected, got;
  };
  std::vector<SlotMiss> slot_misses;

  double accuracy() const { return total ? double(correct) / total : 0; }
  double ood_rejection() const { return ood_total ? double(ood_rejected) / ood_total : 1; }
  // Intent accuracy over the in-domain lines alone (gold intent not unknown).
  double in_domain_accuracy() const {
    const int n = total - ood_total;
    return n ? double(correct - ood_rejected) / n : 0;
  }
  std::string ToText(size_t max_lines = 200) const;
};

// Scores predictions (intent + slots per example, same order).
EvalReport Score(const std::vector<Example>& gold, const std::vector<Example>& predicted);
EvalReport Evaluate(const Model& model, const std::vector<Example>& examples,
                    const CivilDay& today);

}  // namespace gridbot::nlu
