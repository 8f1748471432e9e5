#include "nlu/eval.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

namespace gridbot::nlu {

Result<std::vector<Example>> ReadExamples(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read " + path);
  std::vector<Example> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("text") || !j["text"].is_string() ||
        !j.contains("intent") || !j["intent"].is_string())
      return Status::Error(path + ":" + std::to_string(n) +
                           ": expected {\"text\":…, \"intent\":…, \"slots\":{…}}");
    Example e;
    e.text = j["text"].get<std::string>();
    e.intent = j["intent"].get<std::string>();
    e.line = n;
    if (j.contains("slots") && j["slots"].is_object())
      for (auto it = j["slots"].begin(); it != j["slots"].end(); ++it)
        if (it.value().is_string()) e.slots[it.key()] = it.value().get<std::string>();
    out.push_back(std::move(e));
  }
  return out;
}

EvalReport Score(const std::vector<Example>& gold, const std::vector<Example>& pred) {
  EvalReport r;
  for (size_t i = 0; i < gold.size() && i < pred.size(); ++i) {
    const Example& g = gold[i];
    const Example& p = pred[i];
    ++r.total;
    if (g.intent == p.intent) {
      ++r.correct;
      ++r.intents[g.intent].tp;
    } else {
      ++r.intents[g.intent].fn;
      ++r.intents[p.intent].fp;
      ++r.confusions[{g.intent, p.intent}];
      r.misses.push_back({g.line, g.text, g.intent, p.intent});
    }
    if (g.intent == "unknown") {
      ++r.ood_total;
      if (p.intent == "unknown") ++r.ood_rejected;
    }
    bool slot_ok = true;
    for (const auto& [k, v] : g.slots) {
      auto it = p.slots.find(k);
      if (it != p.slots.end() && it->second == v) {
        ++r.slots[k].tp;
        ++r.slots_all.tp;
      } else {
        ++r.slots[k].fn;
        ++r.slots_all.fn;
        slot_ok = false;
        if (it != p.slots.end()) {
          ++r.slots[k].fp;
          ++r.slots_all.fp;
        }
      }
    }
    for (const auto& [k, v] : p.slots) {
      if (!g.slots.count(k)) {
        ++r.slots[k].fp;
        ++r.slots_all.fp;
        slot_ok = false;
      }
    }
    if (!slot_ok) {
      auto show = [](const Slots& s) {
        std::string o;
        for (const auto& [k, v] : s) o += (o.empty() ? "" : " ") + k + "=" + v;
        return o.empty() ? "-" : o;
      };
      r.slot_misses.push_back({g.line, g.text, show(g.slots), show(p.slots)});
    }
  }
  return r;
}

EvalReport Evaluate(const Model& model, const std::vector<Example>& examples,
                    const CivilDay& today) {
  std::vector<Example> pred;
  pred.reserve(examples.size());
  for (const Example& e : examples) {
    Understanding u = model.Parse(e.text, today);
    pred.push_back(Example{e.text, u.intent, u.slots, e.line});
  }
  return Score(examples, pred);
}

std::string EvalReport::ToText(size_t max_lines) const {
  std::string o;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "examples: %d\nintent accuracy: %.4f (%d/%d)\nout-of-domain rejection: %.4f "
                "(%d/%d)\nslot precision: %.4f  recall: %.4f  F1: %.4f\n"
                "in-domain intent accuracy: %.4f (%d/%d)\n\n",
                total, accuracy(), correct, total, ood_rejection(), ood_rejected, ood_total,
                slots_all.precision(), slots_all.recall(), slots_all.f1(), in_domain_accuracy(),
                correct - ood_rejected, total - ood_total);
  o += buf;
  o += "per intent (precision recall F1 support):\n";
  for (const auto& [name, p] : intents) {
    std::snprintf(buf, sizeof buf, "  %-18s %.3f %.3f %.3f %d\n", name.c_str(), p.precision(),
                  p.recall(), p.f1(), p.tp + p.fn);
    o += buf;
  }
  o += "\nper slot (precision recall F1 support):\n";
  for (const auto& [name, p] : slots) {
    std::snprintf(buf, sizeof buf, "  %-18s %.3f %.3f %.3f %d\n", name.c_str(), p.precision(),
                  p.recall(), p.f1(), p.tp + p.fn);
    o += buf;
  }
  std::vector<std::pair<int, std::pair<std::string, std::string>>> conf;
  for (const auto& [k, n] : confusions) conf.push_back({n, k});
  std::sort(conf.rbegin(), conf.rend());
  o += "\nmost frequent confusions (gold -> predicted):\n";
  for (size_t i = 0; i < conf.size() && i < 15; ++i) {
    std::snprintf(buf, sizeof buf, "  %3d  %s -> %s\n", conf[i].first, conf[i].second.first.c_str(),
                  conf[i].second.second.c_str());
    o += buf;
  }
  o += "\nmisclassified:\n";
  for (size_t i = 0; i < misses.size() && i < max_lines; ++i)
    o += "  line " + std::to_string(misses[i].line) + ": " + misses[i].text + "  [" +
         misses[i].gold + " -> " + misses[i].predicted + "]\n";
  o += "\nslot errors:\n";
  for (size_t i = 0; i < slot_misses.size() && i < max_lines; ++i)
    o += "  line " + std::to_string(slot_misses[i].line) + ": " + slot_misses[i].text +
         "  [expected " + slot_misses[i].expected + "; got " + slot_misses[i].got + "]\n";
  return o;
}

}  // namespace gridbot::nlu
