#include "nlu/nlu.h"

#include <cmath>
#include <cstdio>

namespace gridbot::nlu {

// The text without its negated parts must score at least this (tier S of
// intents.rules) to decide the intent instead.
constexpr double kNegationRestConfidence = 0.84;
// Below this the rules did not understand a message: pinyin correction is
// tried, and what it understands costs this factor of confidence.
constexpr double kPinyinBelow = 0.5;
constexpr double kPinyinPenalty = 0.9;

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
             const std::vector<std::string>& lexicon, const std::vector<std::string>& sound_words)
    : gazetteer_(std::move(gazetteer)), rules_(std::move(rules)) {
  std::vector<std::string> sounds = lexicon;
  sounds.insert(sounds.end(), sound_words.begin(), sound_words.end());
  pinyin_ = std::make_unique<PinyinMatcher>(sounds);
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
  auto sound_words = Segmenter::LoadLexicon(corpus_dir + "/nlu/pinyin_words.txt");
  if (!sound_words.ok()) return sound_words.status();
  auto model = std::make_shared<Model>(std::move(*gazetteer), std::move(*rules), *lexicon,
                                       *sound_words);
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
  const std::vector<NegatedSpan> negated = NegatedSpans(u.normalized);
  if (!negated.empty()) {
    // What is negated does not vote: "我不是要交费，是想查账单" is a bill
    // question. The text without the negated parts decides when it holds a
    // request of its own; else the intent stands ("我不想用支付宝" still
    // wants to pay) and only the negated values are set aside.
    std::string rest = u.normalized;
    for (const NegatedSpan& n : negated)
      for (size_t i = n.cue; i < n.end; ++i) rest[i] = ' ';
    IntentScore r = rules_->Classify(rest);
    if (r.intent != "unknown" && r.intent != u.intent && r.confidence >= kNegationRestConfidence) {
      u.intent = std::move(r.intent);
      u.confidence = r.confidence;
      u.rule_line = r.rule_line;
    }
  }
  if (u.confidence < kPinyinBelow) {  // no rule matched (a veto is a match)
    // Not understood as written: homophone typos of domain words, by sound.
    std::string corrected = pinyin_->Correct(u.normalized);
    if (corrected != u.normalized) {
      IntentScore p = rules_->Classify(corrected);
      if (p.intent != "unknown" && p.confidence >= kNegationRestConfidence) {
        u.intent = std::move(p.intent);
        u.confidence = p.confidence * kPinyinPenalty;
        u.rule_line = p.rule_line;
        u.corrected = std::move(corrected);
      }
    }
  }
  if (intent_only) return u;
  const std::string digits = ChineseDigitRunsToAscii(u.corrected.empty() ? u.normalized : u.corrected);
  u.slots = slots_->Extract(digits, today);
  for (const NegatedSpan& n : negated) {
    const Slots in_span =
        slots_->Extract(std::string_view(u.normalized).substr(n.begin, n.end - n.begin), today);
    for (const auto& [k, v] : in_span) {
      auto it = u.slots.find(k);
      if (it == u.slots.end() || it->second != v) continue;
      if (k != "pay_method" && k != "channel" && k != "apply_type") continue;  // options only
      u.negated[k] = v;
    }
  }
  return u;
}

namespace {

// The UTF-8 code point at s[i] and its length (1 for a byte that starts none).
char32_t CodePointAt(std::string_view s, size_t i, size_t* len) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80 || i + 1 >= s.size()) return *len = 1, c;
  if ((c >> 5) == 0x6 && i + 1 < s.size())
    return *len = 2, ((c & 0x1F) << 6) | (s[i + 1] & 0x3F);
  if ((c >> 4) == 0xE && i + 2 < s.size())
    return *len = 3, ((c & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
  if ((c >> 3) == 0x1E && i + 3 < s.size())
    return *len = 4, ((c & 0x07) << 18) | ((s[i + 1] & 0x3F) << 12) | ((s[i + 2] & 0x3F) << 6) |
                     (s[i + 3] & 0x3F);
  return *len = 1, c;
}

bool StartsWithAt(std::string_view s, size_t i, std::string_view w) {
  return s.substr(i, w.size()) == w;
}

}  // namespace

std::vector<NegatedSpan> NegatedSpans(std::string_view s) {
  // Longest first. "不" alone negates too much ("不能用电", "用不了", "不来电").
  static const std::vector<std::string_view> kCues = {
      "不需要", "不打算", "不会用", "不是要", "不是想", "不想", "不要", "不用", "不是", "不会",
      "别再",   "不必",   "无需",   "唔使",   "唔要",   "唔想", "冇想", "别"};
  // Where a contrast starts what is not negated ("不是停电，是跳闸").
  static const std::vector<std::string_view> kContrast = {
      "而是", "但是", "可是", "只是", "就是", "我想", "我要", "我自己", "自己", "帮我", "麻烦",
      "请",   "但",   "是",   "就"};
  std::vector<NegatedSpan> spans;
  if (s.find("不") == std::string_view::npos && s.find("别") == std::string_view::npos &&
      s.find("唔") == std::string_view::npos && s.find("冇") == std::string_view::npos &&
      s.find("无需") == std::string_view::npos)
    return spans;
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    CodePointAt(s, i, &len);
    std::string_view cue;
    for (std::string_view c : kCues)
      if (StartsWithAt(s, i, c)) {
        cue = c;
        break;
      }
    if (cue.empty()) {
      i += len;
      continue;
    }
    // "是不是", "要不要", "会不会", "用不用": a question, not a negation;
    // 别人, 别的, 特别, 区别: no negation either.
    const size_t after = i + cue.size();
    const bool question = i >= 3 && s.substr(i - 3, 3) == s.substr(i + 3, 3);
    // 别 negates at the start of a clause or before a verb ("别再发",
    // "你别扣"); elsewhere it is part of a word (类别, 特别, 别人, 区别).
    static const std::vector<std::string_view> kAfterBie = {
        "再", "给", "发", "打", "让", "催", "搞", "弄", "动", "删", "扣", "停", "挂",
        "帮", "用", "交", "缴", "转", "绑", "解", "订", "取", "问", "骗", "急", "乱"};
    bool bie_verb = false;
    for (std::string_view v : kAfterBie) bie_verb = bie_verb || StartsWithAt(s, after, v);
    const bool clause_start = i == 0 || s[i - 1] == ' ';
    const bool not_a_cue = cue == "别" && !bie_verb && !clause_start;
    if (question || not_a_cue) {
      i += len;
      continue;
    }
    size_t end = after;
    while (end < s.size() && s[end] != ' ') {
      size_t l = 1;
      CodePointAt(s, end, &l);
      bool contrast = false;
      if (end > after)
        for (std::string_view c : kContrast)
          if (StartsWithAt(s, end, c)) contrast = true;
      if (contrast) break;
      end += l;
    }
    if (end > after) spans.push_back(NegatedSpan{i, after, end});
    i = end;
  }
  return spans;
}

std::string ChineseDigitRunsToAscii(std::string_view s) {
  static const std::vector<std::pair<std::string_view, char>> kDigits = {
      {"零", '0'}, {"〇", '0'}, {"幺", '1'}, {"一", '1'}, {"二", '2'}, {"三", '3'}, {"四", '4'},
      {"五", '5'}, {"六", '6'}, {"七", '7'}, {"八", '8'}, {"九", '9'}};
  auto digit_at = [&](size_t i) -> char {
    for (const auto& [w, d] : kDigits)
      if (StartsWithAt(s, i, w)) return d;
    return 0;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t j = i;
    std::string run;
    while (j < s.size()) {
      const char d = digit_at(j);
      if (!d) break;
      run += d;
      j += 3;  // every Chinese digit is three bytes of UTF-8
    }
    if (run.size() >= 7) {
      out += run;
      i = j;
    } else if (j > i) {
      out.append(s.substr(i, j - i));
      i = j;
    } else {
      out += s[i];
      ++i;
    }
  }
  return out;
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
