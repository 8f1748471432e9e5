#include "nlu/nlu.h"

#include <cmath>
#include <cstdio>

namespace gridbot::nlu {

const std::vector<std::string>& KnownIntents() {
  static const std::vector<std::string> kIntents = {
      "greet",          "goodbye",          "thanks",
      "help",           "affirm",           "deny",
      "cancel",         "human_agent",      "register",
      "login",          "bind_account",     "unbind_account",
      "list_accounts",  "switch_account",   "query_profile",
      "query_bill",     "query_arrears",    "query_progress",
      "query_outage",   "query_payments",   "recharge_card",
      "pay_bill",       "report_fault",     "apply_service",
      "subscribe_bill", "unsubscribe_bill", "find_outlet",
      "unknown"};
  return kIntents;
}

Model::Model(Gazetteer gazetteer, std::unique_ptr<IntentRules> rules,
             const std::vector<std::string>& lexicon)
    : gazetteer_(std::move(gazetteer)), rules_(std::move(rules)) {
  std::vector<std::string> words = lexicon;
  for (std::string& name : gazetteer_.AllNames()) words.push_back(std::move(name));
  segmenter_ = std::make_unique<Segmenter>(words);
  slots_ = std::make_unique<SlotExtractor>(gazetteer_);
}

Result<std::shared_ptr<const Model>> Model::Load(const std::string& corpus_dir) {
  auto gazetteer = Gazetteer::Load(corpus_dir + "/gazetteer");
  if (!gazetteer.ok()) return gazetteer.status();
  auto rules = IntentRules::Load(corpus_dir + "/nlu/intents.rules", KnownIntents());
  if (!rules.ok()) return rules.status();
  auto lexicon = Segmenter::LoadLexicon(corpus_dir + "/nlu/lexicon.txt");
  if (!lexicon.ok()) return lexicon.status();
  auto model = std::make_shared<Model>(std::move(*gazetteer), std::move(*rules), *lexicon);
  Status s = model->normalizer_.LoadEmojiWords(corpus_dir + "/nlu/emoji.tsv");
  if (!s.ok()) return s;
  return std::shared_ptr<const Model>(std::move(model));
}

Understanding Model::Parse(std::string_view text, const CivilDay& today, bool intent_only) const {
  Understanding u;
  u.text = std::string(text);
  NormalizedText n = normalizer_.Normalize(text);
  u.valid_utf8 = n.valid_utf8;
  if (!n.valid_utf8) u.text.clear();  // never echo invalid bytes
  u.normalized = std::move(n.text);
  if (u.normalized.empty()) {
    u.confidence = 1.0;  // nothing to understand: certainly not a request
    return u;
  }
  if (!intent_only) u.tokens = segmenter_->Segment(u.normalized);
  IntentScore s = rules_->Classify(u.normalized);
  u.intent = std::move(s.intent);
  u.confidence = s.confidence;
  u.rule_line = s.rule_line;
  if (!intent_only) u.slots = slots_->Extract(u.normalized, today);
  return u;
}

namespace {

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

}  // namespace

std::string ToJsonLine(const Understanding& u) {
  // Hand-written: `gridbot nlu` prints 100,000 lines in a few seconds.
  std::string out;
  out.reserve(128 + u.text.size());
  out += "{\"text\":";
  AppendJsonString(out, u.text);
  out += ",\"intent\":";
  AppendJsonString(out, u.intent);
  char buf[32];
  std::snprintf(buf, sizeof buf, ",\"confidence\":%.2f", std::round(u.confidence * 100) / 100);
  out += buf;
  out += ",\"slots\":{";
  bool first = true;
  for (const auto& [k, v] : u.slots) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, k);
    out += ':';
    AppendJsonString(out, v);
  }
  out += "}}";
  return out;
}

}  // namespace gridbot::nlu
