#include "nlu/intent_rules.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

namespace gridbot::nlu {

// RE2 memory for the set: its DFA cache must hold the states real traffic
// visits, or RE2 throws the cache away and rebuilds it on every few messages
// (measured: 3,600 messages/s instead of 600,000 on varied text with 64 MiB).
// RE2 allocates states as they are needed, not the whole budget up front.
constexpr int64_t kSetMaxMem = int64_t{512} << 20;

struct IntentRules::SetHolder {
  explicit SetHolder(const RE2::Options& o) : set(o, RE2::UNANCHORED) {}
  RE2::Set set;
};

IntentRules::IntentRules() = default;
IntentRules::~IntentRules() = default;

namespace {

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

// Strips a trailing "  # comment" (a '#' preceded by white space).
std::string StripComment(const std::string& s) {
  if (!s.empty() && s[0] == '#') return "";
  for (size_t i = 1; i < s.size(); ++i)
    if (s[i] == '#' && (s[i - 1] == ' ' || s[i - 1] == '\t')) return s.substr(0, i);
  return s;
}

// Replaces {NAME} by the macro's pattern; returns false and sets `bad` for an
// undefined one. RE2 repetition braces ({2}, {0,6}) start with a digit and
// are left alone.
bool ExpandMacros(std::string& pattern, const std::map<std::string, std::string>& macros,
                  std::string* bad) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{' && i + 1 < pattern.size() &&
        (std::isupper(static_cast<unsigned char>(pattern[i + 1])) || pattern[i + 1] == '_')) {
      const size_t close = pattern.find('}', i);
      if (close == std::string::npos) {
        *bad = pattern.substr(i);
        return false;
      }
      const std::string name = pattern.substr(i + 1, close - i - 1);
      auto it = macros.find(name);
      if (it == macros.end()) {
        *bad = name;
        return false;
      }
      out += "(?:" + it->second + ")";
      i = close;
    } else {
      out += pattern[i];
    }
  }
  pattern = out;
  return true;
}

}  // namespace

Result<std::unique_ptr<IntentRules>> IntentRules::Load(
    const std::string& path, const std::vector<std::string>& known_intents) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read intent rules " + path);
  std::unique_ptr<IntentRules> rules(new IntentRules);
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingUTF8);
  options.set_log_errors(false);
  options.set_max_mem(kSetMaxMem);
  rules->set_ = std::make_unique<SetHolder>(options);
  std::map<std::string, std::string> macros;
  std::string raw;
  int line_no = 0;
  auto fail = [&](const std::string& why) {
    return Status::Error(path + ":" + std::to_string(line_no) + ": " + why);
  };
  while (std::getline(in, raw)) {
    ++line_no;
    const std::string line = Trim(StripComment(raw));
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string first;
    fields >> first;
    if (first == "define") {
      std::string name;
      fields >> name;
      std::string body;
      std::getline(fields, body);
      body = Trim(body);
      if (name.empty() || body.empty()) return fail("define needs a NAME and a pattern");
      std::string bad;
      if (!ExpandMacros(body, macros, &bad)) return fail("undefined macro {" + bad + "}");
      macros[name] = body;
      continue;
    }
    if (std::find(known_intents.begin(), known_intents.end(), first) == known_intents.end())
      return fail("unknown intent '" + first + "'");
    std::string score_text;
    fields >> score_text;
    char* end = nullptr;
    const double score = std::strtod(score_text.c_str(), &end);
    if (score_text.empty() || *end != '\0' || score <= 0 || score > 1)
      return fail("score must be a number in (0,1], got '" + score_text + "'");
    std::string pattern;
    std::getline(fields, pattern);
    pattern = Trim(pattern);
    if (pattern.empty()) return fail("rule has no pattern");
    std::string bad;
    if (!ExpandMacros(pattern, macros, &bad)) return fail("undefined macro {" + bad + "}");
    auto re = std::make_unique<RE2>(pattern, options);
    if (!re->ok()) return fail("bad pattern: " + re->error());
    std::string error;
    if (rules->set_->set.Add(pattern, &error) < 0) return fail("bad pattern: " + error);
    rules->rules_.push_back(Rule{first, score, line_no, std::move(re)});
  }
  if (!rules->set_->set.Compile()) return Status::Error(path + ": rule set too large to compile");
  return rules;
}

IntentScore IntentRules::Classify(std::string_view text) const {
  IntentScore result;
  result.confidence = kNoMatchConfidence;
  std::vector<int> matched;
  if (rules_.empty() || !set_->set.Match(text, &matched) || matched.empty()) return result;

  // Best rule per intent.
  struct Best {
    double score;
    int rule;
  };
  std::map<std::string_view, Best> best;
  double top = 0;
  for (int i : matched) {
    const Rule& r = rules_[i];
    auto it = best.find(r.intent);
    if (it == best.end() || r.score > it->second.score) best[r.intent] = Best{r.score, i};
    top = std::max(top, r.score);
  }
  // Among the intents close to the top, the earliest mention wins. Finding
  // positions costs a regex search per candidate: skip it when one intent
  // stands alone (the common case).
  int close = 0, only = -1;
  for (const auto& [intent, b] : best) {
    if (b.score >= top - kPositionMargin) {
      ++close;
      only = b.rule;
    }
  }
  if (close == 1) {
    const Rule& win = rules_[only];
    result.intent = win.intent;
    result.confidence = win.score;
    result.rule_line = win.line;
    return result;
  }
  size_t earliest = std::string_view::npos;
  int chosen = -1;
  for (const auto& [intent, b] : best) {
    if (b.score < top - kPositionMargin) continue;
    re2::StringPiece m;
    size_t pos = text.size();
    if (rules_[b.rule].re->Match(text, 0, text.size(), RE2::UNANCHORED, &m, 1))
      pos = static_cast<size_t>(m.data() - text.data());
    if (chosen < 0 || pos < earliest || (pos == earliest && b.score > rules_[chosen].score)) {
      earliest = pos;
      chosen = b.rule;
    }
  }
  const Rule& win = rules_[chosen];
  result.intent = win.intent;
  result.confidence = win.score;
  result.rule_line = win.line;
  return result;
}

}  // namespace gridbot::nlu
