#include "dialogs/commands.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "dialogs/flow_util.h"
#include "nlu/numbers.h"

namespace gridbot::dialogs {
namespace {

constexpr double kRequestConfidence = 0.5;   // an intent we act on
constexpr double kStrongConfidence = 0.84;   // an ordinary cue of an intent (intents.rules tier S)

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  const size_t end = s.find_last_not_of(ws);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

bool Expand(std::string& pattern, const std::map<std::string, std::string>& macros,
            std::string* bad) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const bool unicode_class = i >= 2 && pattern[i - 2] == '\\' &&
                               (pattern[i - 1] == 'p' || pattern[i - 1] == 'P');  // \p{Han}
    if (pattern[i] == '{' && i + 1 < pattern.size() && !unicode_class &&
        (std::isupper(static_cast<unsigned char>(pattern[i + 1])) || pattern[i + 1] == '_')) {
      const size_t close = pattern.find('}', i);
      const std::string name =
          close == std::string::npos ? pattern.substr(i) : pattern.substr(i + 1, close - i - 1);
      auto it = macros.find(name);
      if (close == std::string::npos || it == macros.end()) {
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

const char* CommandName(CommandKind k) {
  switch (k) {
    case CommandKind::kAnswer: return "Answer";
    case CommandKind::kSecret: return "Secret";
    case CommandKind::kCorrect: return "Correct";
    case CommandKind::kSwitch: return "Switch";
    case CommandKind::kStart: return "Start";
    case CommandKind::kCancel: return "Cancel";
    case CommandKind::kAskAboutStep: return "AskAboutStep";
    case CommandKind::kClarify: return "Clarify";
    case CommandKind::kHandoff: return "Handoff";
    case CommandKind::kChitChat: return "ChitChat";
    case CommandKind::kGoodbye: return "Goodbye";
    case CommandKind::kFrustrated: return "Frustrated";
    case CommandKind::kComplaint: return "Complaint";
    case CommandKind::kNotUnderstood: return "NotUnderstood";
  }
  return "?";
}

std::string ToString(const std::vector<Command>& commands) {
  std::string out;
  for (const Command& c : commands) {
    if (!out.empty()) out += ", ";
    out += CommandName(c.kind);
    std::string args;
    if (c.kind == CommandKind::kStart || c.kind == CommandKind::kChitChat) args = c.u.intent;
    if (c.kind == CommandKind::kCorrect || c.kind == CommandKind::kSwitch) args = c.slot.key;
    if (c.kind == CommandKind::kAskAboutStep) args = c.key;
    if (c.kind == CommandKind::kCancel && c.all) args = "all";
    if (c.kind == CommandKind::kClarify)
      for (const auto& o : c.options) args += (args.empty() ? "" : "|") + o;
    const bool carries = c.kind == CommandKind::kAnswer || c.kind == CommandKind::kStart ||
                         c.kind == CommandKind::kCorrect || c.kind == CommandKind::kSwitch;
    if (carries)
      for (const auto& [k, v] : c.u.slots) args += " " + k + "=" + v;
    out += "(" + Trim(args) + ")";
  }
  return out;
}

bool IsTalk(const std::string& intent) {
  return intent == "greet" || intent == "thanks" || intent == "help" || intent == "affirm" ||
         intent == "deny" || intent == "cancel" || intent == "goodbye" ||
         intent == "human_agent" || intent == "unknown";
}

// --------------------------------------------------------------------- rules

struct CommandRules::Impl {
  struct Ask {
    std::string flow, step, reply;
    bool weak;
    std::unique_ptr<RE2> re;
  };
  struct Clarify {
    std::vector<std::string> intents;
    std::unique_ptr<RE2> re;
  };
  std::map<std::string, std::unique_ptr<RE2>> cues;
  std::vector<Ask> asks;
  std::vector<Clarify> clarifies;
  std::vector<std::unique_ptr<RE2>> strips;
  std::unique_ptr<RE2> split, split_capture, list;
  std::map<std::string, std::unique_ptr<RE2>> followups;
};

CommandRules::CommandRules() : impl_(std::make_unique<Impl>()) {}
CommandRules::~CommandRules() = default;

Result<std::shared_ptr<const CommandRules>> CommandRules::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read " + path);
  std::shared_ptr<CommandRules> rules(new CommandRules());
  Impl& impl = *rules->impl_;
  std::map<std::string, std::string> macros;
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingUTF8);
  options.set_log_errors(false);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto fail = [&](const std::string& why) {
      return Status::Error(path + ":" + std::to_string(n) + ": " + why);
    };
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string kind;
    fields >> kind;
    std::vector<std::string> words;
    const int want = kind == "define" || kind == "cue" || kind == "followup" ? 1
                     : kind == "ask" || kind == "weakask" ? 3
                     : kind == "clarify"                  ? 1
                                                          : 0;
    if (kind != "define" && kind != "cue" && kind != "ask" && kind != "weakask" &&
        kind != "clarify" && kind != "strip" && kind != "split" && kind != "list" &&
        kind != "followup")
      return fail("unknown rule '" + kind + "'");
    for (int i = 0; i < want; ++i) {
      std::string w;
      if (!(fields >> w)) return fail("too few fields for '" + kind + "'");
      words.push_back(w);
    }
    std::string pattern;
    std::getline(fields, pattern);
    pattern = Trim(pattern);
    if (pattern.empty()) return fail("no pattern");
    std::string bad;
    if (!Expand(pattern, macros, &bad)) return fail("undefined macro {" + bad + "}");
    if (kind == "define") {
      macros[words[0]] = pattern;
      continue;
    }
    auto re = std::make_unique<RE2>(pattern, options);
    if (!re->ok()) return fail("bad pattern: " + re->error());
    if (kind == "cue") {
      impl.cues[words[0]] = std::move(re);
    } else if (kind == "followup") {
      impl.followups[words[0]] = std::move(re);
    } else if (kind == "ask" || kind == "weakask") {
      impl.asks.push_back(Impl::Ask{words[0], words[1], words[2], kind == "weakask", std::move(re)});
    } else if (kind == "clarify") {
      Impl::Clarify c;
      std::stringstream list(words[0]);
      for (std::string i; std::getline(list, i, ',');) c.intents.push_back(i);
      if (c.intents.size() < 2) return fail("clarify needs two intents or more");
      c.re = std::move(re);
      impl.clarifies.push_back(std::move(c));
    } else if (kind == "strip") {
      impl.strips.push_back(std::move(re));
    } else if (kind == "split") {
      impl.split_capture = std::make_unique<RE2>("(" + pattern + ")", options);
      impl.split = std::move(re);
    } else {
      impl.list = std::move(re);
    }
  }
  for (const char* cue : {"question", "correction", "switch", "moving_on", "cancel_all",
                          "frustration", "person", "complaint", "meter_question", "danger", "total",
                          "payment_records", "cannot"})
    if (!impl.cues.count(cue)) return Status::Error(path + ": missing cue '" + std::string(cue) + "'");
  if (!impl.split || !impl.list) return Status::Error(path + ": needs a split and a list rule");
  return std::shared_ptr<const CommandRules>(std::move(rules));
}

bool CommandRules::Cue(const std::string& name, const std::string& normalized) const {
  auto it = impl_->cues.find(name);
  return it != impl_->cues.end() && RE2::PartialMatch(normalized, *it->second);
}

std::string CommandRules::StepQuestion(const std::string& flow, const std::string& step,
                                       const std::string& normalized, bool strong_only) const {
  for (const auto& a : impl_->asks) {
    if (strong_only && a.weak) continue;
    if (a.flow != "*" && a.flow != flow) continue;
    if (a.step != "*" && a.step != step) continue;
    if (a.flow != "*" && flow.empty()) continue;
    if (RE2::PartialMatch(normalized, *a.re)) return a.reply;
  }
  return "";
}

std::vector<std::string> CommandRules::Clarify(const std::string& normalized) const {
  const std::string compact = Compact(normalized);
  for (const auto& c : impl_->clarifies)
    if (RE2::PartialMatch(compact, *c.re)) return c.intents;
  return {};
}

std::string CommandRules::StripCorrection(const std::string& normalized) const {
  std::string s = Trim(normalized);
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& re : impl_->strips) {
      RE2::GlobalReplace(&s, *re, "");
      s = Trim(s);
    }
  }
  return s;
}

std::vector<std::string> CommandRules::Clauses(const std::string& normalized) const {
  // Cut before every connector, then at spaces.
  std::string marked;
  re2::StringPiece rest(normalized), m;
  while (!rest.empty() && RE2::PartialMatch(rest, *impl_->split_capture, &m)) {
    const size_t at = static_cast<size_t>(m.data() - rest.data());
    marked.append(rest.data(), at);
    marked += ' ';
    marked.append(m.data(), m.size());
    rest.remove_prefix(at + m.size());
    if (m.empty()) break;
  }
  marked.append(rest.data(), rest.size());
  std::vector<std::string> out;
  std::istringstream words(marked);
  for (std::string w; words >> w;) out.push_back(w);
  return out;
}

std::vector<std::string> CommandRules::ListItems(const std::string& normalized) const {
  std::string s = normalized;
  RE2::GlobalReplace(&s, *impl_->list, " ");
  std::vector<std::string> out;
  std::istringstream words(s);
  for (std::string w; words >> w;) out.push_back(w);
  return out;
}

bool CommandRules::FollowUp(const std::string& intent, const std::string& normalized) const {
  auto it = impl_->followups.find(intent);
  return it != impl_->followups.end() && RE2::PartialMatch(normalized, *it->second);
}

bool Followable(const std::string& intent) {
  return intent == "query_bill" || intent == "query_arrears" || intent == "query_payments" ||
         intent == "query_outage" || intent == "query_progress" || intent == "find_outlet" ||
         intent == "query_profile";
}

std::vector<std::string> CommandRules::ReplyKeys() const {
  std::vector<std::string> keys;
  for (const auto& a : impl_->asks) keys.push_back(a.reply);
  return keys;
}

// --------------------------------------------------------------------- deciding

namespace {

struct Decider {
  const CommandRules& rules;
  const TurnInput& in;
  const nlu::Understanding& u;

  bool Question() const {
    return rules.Cue("question", u.normalized) || u.text.find('?') != std::string::npos ||
           u.text.find("？") != std::string::npos;
  }
  bool Request(const nlu::Understanding& x) const {
    return !IsTalk(x.intent) && x.confidence >= kRequestConfidence && in.has_flow(x.intent);
  }

  Command Make(CommandKind kind, const nlu::Understanding& x) const {
    Command c{kind, x, "", {}, {}, false};
    return c;
  }

  // Whether the request of `p` is what it negates ("我不是要交费", "我不想交电费";
  // not "别再发短信了", whose negation is the request).
  bool Negated(const nlu::Understanding& p) const {
    const auto spans = nlu::NegatedSpans(p.normalized);
    bool in_span = false;
    std::string rest = p.normalized;
    for (const auto& n : spans) {
      const std::string part = p.normalized.substr(n.begin, n.end - n.begin);
      in_span = in_span || in.nlu.Parse(part, in.today, /*intent_only=*/true).intent == p.intent;
      for (size_t i = n.cue; i < n.end; ++i) rest[i] = ' ';
    }
    // …and not asked outside it too ("想交电费 不要支付宝").
    return in_span && in.nlu.Parse(rest, in.today, /*intent_only=*/true).intent != p.intent;
  }

  // The message's requests, one per clause, when it holds two or more
  // different ones ("我欠多少 用银联交了吧"); else empty.
  // The message's clauses: cut where the customer put a space or a
  // punctuation mark (the normaliser joins Han characters across spaces, so
  // the customer's own text is cut first), at connectors (然后, 顺便, 还有 …)
  // and between listed requests ("上个月电费和缴费记录").
  const std::vector<std::string>& Clauses() const {
    if (clauses_) return *clauses_;
    clauses_.emplace();
    std::vector<std::string>& pieces = *clauses_;
    std::string piece;
    auto flush = [&] {
      if (piece.empty()) return;
      const std::string n = in.nlu.normalizer().Normalize(piece).text;
      for (const std::string& c : rules.Clauses(n))
        for (const std::string& item : rules.ListItems(c)) pieces.push_back(item);
      piece.clear();
    };
    static const std::vector<std::string> kBreaks = {" ", "\t", "，", "。", "！", "？", "；", "～",
                                                     ",", "!", "?", ";", "~", "\n", "　", "…"};
    const std::string& t = u.text;
    for (size_t i = 0; i < t.size();) {
      bool cut = false;
      for (const std::string& b : kBreaks) {
        if (t.compare(i, b.size(), b) == 0) {
          flush();
          i += b.size();
          cut = true;
          break;
        }
      }
      if (!cut) piece += t[i++];
    }
    flush();
    return pieces;
  }
  mutable std::optional<std::vector<std::string>> clauses_;  // Clauses(), once
  mutable std::optional<std::vector<nlu::Understanding>> several_;
  mutable bool several_negated_ = false;

  // With `negated_clause`, whether a clause was left out because it only
  // negates ("我不会用支付宝"): then one request left is the message's.
  std::vector<nlu::Understanding> SeveralRequests(bool* negated_clause = nullptr) const {
    if (!several_) several_ = FindSeveralRequests(&several_negated_);
    if (negated_clause) *negated_clause = several_negated_;
    return *several_;
  }

  std::vector<nlu::Understanding> FindSeveralRequests(bool* negated_clause) const {
    const std::vector<std::string>& clauses = Clauses();
    if (clauses.size() < 2) return {};
    // Classifying is cheap, parsing (tokens, slots) is not: parse the
    // clauses only when two of them ask something, or one of them negates.
    int asking = 0;
    bool negating = false;
    for (const std::string& c : clauses) {
      if (Request(in.nlu.Parse(c, in.today, /*intent_only=*/true))) ++asking;
      negating = negating || !nlu::NegatedSpans(c).empty();
    }
    if (asking < 2 && !negating && (asking == 0 || Request(u))) return {};
    std::vector<nlu::Understanding> requests;
    bool skipped = false;
    for (const std::string& c : clauses) {
      nlu::Understanding p = in.nlu.Parse(c, in.today);
      // "我不会用支付宝 能去哪里交": a clause that only says what is not
      // wanted asks for nothing.
      if (Request(p) && Negated(p)) {
        skipped = true;
        continue;
      }
      if (!Request(p)) {
        // Slots of a clause without a request of its own ("户号0301…")
        // belong to the request before it.
        if (!requests.empty())
          for (const auto& [k, v] : p.slots) requests.back().slots.emplace(k, v);
        continue;
      }
      if (!requests.empty() && requests.back().intent == p.intent) {
        for (const auto& [k, v] : p.slots) requests.back().slots.emplace(k, v);
        continue;
      }
      p.text = c;
      requests.push_back(std::move(p));
    }
    if (negated_clause) *negated_clause = skipped;
    // One request among talk ("算了唔绑啦，青秀区营业厅喺边度") is the
    // message's when the whole reads as talk or as what it negates.
    if (requests.size() == 1 && (skipped || !Request(u))) return requests;
    if (requests.size() < 2) return {};
    return requests;
  }

  // Whether what the message negates is `intent` ("不用绑定 我就问问停电" in
  // a binding; "我不是要交费，是想查账单" in a payment).
  bool NegatesIntent(const std::string& intent) const {
    if (nlu::NegatedSpans(u.normalized).empty()) return false;
    // Per clause of the customer's own text: the normaliser joins Han
    // characters across spaces, which would stretch a negation over the
    // next clause ("不要短信 发邮箱就行").
    for (const std::string& clause : Clauses())
      for (const auto& n : nlu::NegatedSpans(clause)) {
        const std::string part = clause.substr(n.begin, n.end - n.begin);
        if (in.nlu.Parse(part, in.today, /*intent_only=*/true).intent == intent) return true;
      }
    return false;
  }

  // "三月份和四月份的电费": one request per month listed.
  std::vector<nlu::Understanding> SeveralMonths() const {
    if (u.intent != "query_bill" && u.intent != "query_payments") return {};
    if (u.slots.count("start_month")) return {};
    std::vector<std::string> months;
    for (const std::string& item : rules.ListItems(u.normalized)) {
      nlu::Slots s = in.nlu.slots().Extract(item, in.today);
      auto it = s.find("month");
      if (it != s.end() && std::find(months.begin(), months.end(), it->second) == months.end())
        months.push_back(it->second);
    }
    if (months.size() < 2) return {};
    if (u.intent == "query_bill") {  // one list, with the sum
      nlu::Understanding x = u;
      x.slots.erase("month");
      std::string joined;
      for (const std::string& m : months) joined += (joined.empty() ? "" : ",") + m;
      x.slots["months"] = joined;
      return {x};
    }
    std::vector<nlu::Understanding> out;
    for (const std::string& m : months) {
      nlu::Understanding x = u;
      x.slots["month"] = m;
      out.push_back(std::move(x));
    }
    return out;
  }

  // A value the message gives for one of the flow's corrigible slots, with
  // the message reduced to that value.
  std::optional<Command> Correction(bool cued) const {
    if (!in.flow || !in.frame) return std::nullopt;
    const auto specs = in.flow->CorrigibleSlots();
    if (specs.empty()) return std::nullopt;
    if (!cued &&
        std::none_of(specs.begin(), specs.end(), [&](const auto& s) { return u.slots.count(s.kind); }))
      return std::nullopt;  // a bare value is one of the message's own slots
    const std::string value_text = cued ? rules.StripCorrection(u.normalized) : u.normalized;
    if (value_text.empty()) return std::nullopt;
    nlu::Understanding v = cued ? in.nlu.Parse(value_text, in.today) : u;
    v.text = value_text;
    // The slot named ("地址改成…"), else the one whose kind the value has.
    auto named = [&](const std::string& kind) {
      static const std::map<std::string, std::vector<std::string>> kWords = {
          {"address", {"地址", "住址"}},
          {"name", {"名字", "姓名", "称呼"}},
          {"phone", {"电话", "手机", "号码", "联系方式"}},
          {"description", {"描述", "情况", "故障"}},
          {"amount", {"金额", "钱"}},
          {"email", {"邮箱"}}};
      auto it = kWords.find(kind);
      if (it == kWords.end()) return false;
      for (const std::string& w : it->second)
        if (u.normalized.find(w) != std::string::npos) return true;
      return false;
    };
    const Flow::Corrigible* chosen = nullptr;
    for (const auto& s : specs)
      if (named(s.kind) && cued) chosen = chosen ? chosen : &s;
    if (!chosen)
      for (const auto& s : specs)
        if (!chosen && v.slots.count(s.kind)) chosen = &s;
    if (!chosen && cued) {
      // A bare amount ("改成200") at a flow that takes one.
      for (const auto& s : specs)
        if (!chosen && s.kind == "amount" &&
            (!Digits(value_text).empty() || nlu::ParseNumber(value_text).has_value()))
          chosen = &s;
    }
    if (!chosen) return std::nullopt;
    // Only a value given before can be corrected; a new one is an answer.
    const bool filled = in.frame->slots.contains(chosen->key) &&
                        !(in.frame->slots[chosen->key].is_string() &&
                          in.frame->slots[chosen->key].get<std::string>().empty());
    if (!filled) return std::nullopt;
    if (!cued && v.slots.count(chosen->kind) && in.frame->slots[chosen->key].is_string() &&
        in.frame->slots[chosen->key].get<std::string>() == v.slots.at(chosen->kind))
      return std::nullopt;  // the same value again
    const bool option = chosen->kind == "pay_method" || chosen->kind == "channel";
    Command c = Make(option ? CommandKind::kSwitch : CommandKind::kCorrect, v);
    c.slot = *chosen;
    return c;
  }

  std::vector<Command> InFlow() const {
    const Flow& flow = *in.flow;
    const Frame& frame = *in.frame;
    const bool secret = flow.SecretStep(frame);
    const bool confirm = frame.step == "confirm";
    std::vector<Command> out;

    if (rules.Cue("frustration", u.normalized)) {
      out.push_back(Make(CommandKind::kFrustrated, u));
      if (u.intent == "human_agent" && rules.Cue("person", u.normalized))
        out.push_back(Make(CommandKind::kHandoff, u));
      return out;
    }
    if (u.intent == "human_agent") return {Make(CommandKind::kHandoff, u)};
    // "不要银联" / "我不想用支付宝": the other option of the flow.
    if (auto n = u.negated.find("pay_method"); n != u.negated.end() && Slot(u, "pay_method").empty()) {
      for (const auto& spec : flow.CorrigibleSlots()) {
        if (spec.kind != "pay_method") continue;
        nlu::Understanding v = u;
        v.negated.clear();
        v.intent = "unknown";
        v.slots = {{"pay_method", n->second == "alipay" ? "unionpay" : "alipay"}};
        Command c = Make(CommandKind::kSwitch, v);
        c.slot = spec;
        return {c};
      }
    }
    // A question about the step itself, in words that name it.
    if (std::string key = rules.StepQuestion(flow.name(), frame.step, u.normalized, true);
        !key.empty()) {
      Command c = Make(CommandKind::kAskAboutStep, u);
      c.key = key;
      return {c};
    }
    // "取消了以后还能再订吗" at a confirmation: a question, not a no.
    if (confirm && Question() && (u.intent == "cancel" || u.intent == "deny") &&
        CodePoints(Compact(u.normalized)) >= 5) {
      Command c = Make(CommandKind::kAskAboutStep, u);
      c.key = rules.StepQuestion(flow.name(), frame.step, u.normalized, false);
      return {c};
    }
    const bool cancel_words = u.intent == "cancel" && !flow.ClaimsCancelWords(frame);
    if (rules.Cue("moving_on", u.normalized)) {
      // "算了不报修了，我先交电费吧": the old flow ends, the new one starts.
      std::vector<nlu::Understanding> others;
      for (const auto& r : Requests())
        if (r.intent != flow.name()) others.push_back(r);
      if (!others.empty()) {
        out.push_back(Make(CommandKind::kCancel, u));
        for (const auto& r : others) out.push_back(Make(CommandKind::kStart, r));
        return out;
      }
    }
    const bool correction_cue = rules.Cue("correction", u.normalized);
    const bool switch_cue = rules.Cue("switch", u.normalized);
    // A correction ("不对，是柳州"), a switch ("算了还是银联"), or a bare new
    // value of a slot given before where the step asks something else.
    if (correction_cue || switch_cue || cancel_words || u.intent == "deny") {
      if (auto c = Correction(true)) return {*c};
    }
    if (cancel_words || (u.intent == "deny" && !flow.Answers(frame, u))) {
      out.push_back(Make(CommandKind::kCancel, u));
      out.back().all = rules.Cue("cancel_all", u.normalized);
      // "算了不报修了，我先交电费吧": the customer moves on.
      for (const auto& r : Requests())
        if (r.intent != flow.name()) out.push_back(Make(CommandKind::kStart, r));
      return out;
    }
    // "不用绑定 我就问问停电": not this flow, that request.
    if (NegatesIntent(flow.name())) {
      out.push_back(Make(CommandKind::kCancel, u));
      for (const auto& r : Requests())
        if (r.intent != flow.name()) out.push_back(Make(CommandKind::kStart, r));
      return out;
    }
    // "那不解绑了" where no yes/no answer is taken: the customer stops.
    if (rules.Cue("moving_on", u.normalized) && !flow.Answers(frame, u) &&
        !(Request(u) && u.intent != flow.name()))
      return {Make(CommandKind::kCancel, u)};
    const auto resolved = Resolved();
    const bool other_request = (Request(u) && u.intent != flow.name()) ||
                               (resolved && Request(*resolved) && resolved->intent != flow.name() &&
                                !flow.Answers(frame, u));
    // A question at a confirmation is never a yes ("确定吗", "嗯？", "确认什么"),
    // nor is a yes that says it cannot ("确认不了").
    const bool doubtful_yes =
        u.intent == "affirm" && (Question() || rules.Cue("cannot", u.normalized));
    if (confirm && (doubtful_yes || (Question() && u.intent != "affirm" && u.intent != "deny")) &&
        !(other_request && u.confidence >= kStrongConfidence)) {
      Command c = Make(CommandKind::kAskAboutStep, u);
      c.key = rules.StepQuestion(flow.name(), frame.step, u.normalized, false);
      return {c};
    }
    if (!secret) {
      // A question that is another request ("西乡塘区有没有停电" at the city
      // prompt) is that request, even if it holds a value of the step.
      const bool answers = flow.Answers(frame, u);
      if (answers && !(other_request && Question() && u.confidence >= kStrongConfidence)) {
        // The flow takes what its step can take (a new city at the 户号
        // prompt too); a bare new value it would not take is a correction,
        // and at a confirmation a changed value ("好的用银联") is never a yes
        // to the old one.
        if (auto c = Correction(false); c && (confirm || !flow.Answers(frame, c->u))) return {*c};
        std::vector<Command> answer = {Make(CommandKind::kAnswer, u)};
        for (const auto& r : SeveralRequests())  // "好的 顺便查下电费"
          if (r.intent != flow.name() && r.intent != u.intent) answer.push_back(Make(CommandKind::kStart, r));
        return answer;
      }
    } else if (auto c = Correction(false)) {
      return {*c};  // "柳州" at the password prompt: the city was wrong
    }
    if (!other_request) {
      if (std::string key = rules.StepQuestion(flow.name(), frame.step, u.normalized, false);
          !key.empty()) {
        Command c = Make(CommandKind::kAskAboutStep, u);
        c.key = key;
        return {c};
      }
    }
    if (u.intent == "help" || u.intent == "greet" || u.intent == "thanks")
      return {Make(CommandKind::kChitChat, u)};
    if (u.intent == "goodbye") return {Make(CommandKind::kGoodbye, u)};
    if (rules.Cue("complaint", u.normalized) && ComplaintIntent())
      return {Make(CommandKind::kComplaint, u)};
    if (other_request) {
      for (const auto& r : Requests()) out.push_back(Make(CommandKind::kStart, r));
      if (out.empty()) out.push_back(Make(CommandKind::kStart, resolved ? *resolved : u));
      return out;
    }
    return {Make(CommandKind::kNotUnderstood, u)};
  }

  // The requests of the message, in order: several, one per month, or the one.
  std::vector<nlu::Understanding> Requests() const {
    auto several = SeveralRequests();
    if (!several.empty()) return several;
    auto months = SeveralMonths();
    if (!months.empty()) return months;
    if (Request(u)) {
      if (Negated(u)) return {};  // "我不想交电费"
      if (auto r = Resolved(); r && r->intent != u.intent) return {*r};  // read in context
      return {u};
    }
    if (auto r = Resolved(); r && Request(*r)) return {*r};
    return {};
  }

  // What a message without a request of its own asks, from the
  // conversation: a bare number (a 户号 to bind or, if bound, its bill; a
  // card to recharge with; a business number to follow), or a follow-up of
  // the last answer with new slots ("那3月份的呢", "柳州的呢") or about one of
  // its details ("几号之前要交").
  std::optional<nlu::Understanding> Resolved() const {
    // "不对 是4月" after the March bill: the last request, corrected.
    const bool corrects_last = (u.intent == "deny" || u.intent == "cancel") && !u.slots.empty() &&
                               rules.Cue("correction", u.normalized);
    // "5月的交了没" right after bills: whether that bill is paid, not the
    // payment records of May.
    if (in.last_intent == "query_bill" && u.intent == "query_payments" && u.slots.count("month") &&
        !rules.Cue("payment_records", u.normalized) && !rules.Cue("correction", u.normalized) &&
        nlu::NegatedSpans(u.normalized).empty()) {
      nlu::Understanding r = u;
      r.intent = "query_bill";
      return r;
    }
    if (u.intent != "unknown" && u.confidence >= kRequestConfidence && !corrects_last)
      return std::nullopt;
    nlu::Understanding r = u;
    r.confidence = std::max(r.confidence, kRequestConfidence);
    const bool followable = Followable(in.last_intent);
    if (u.slots.size() == 1 && !followable) {
      const std::string& slot = u.slots.begin()->first;
      if (slot == "account_no")
        r.intent = in.is_bound && in.is_bound(u.slots.at("account_no")) ? "query_bill" : "bind_account";
      if (slot == "card_no") r.intent = "recharge_card";
      if (slot == "business_no") r.intent = "query_progress";
      if (r.intent != "unknown") return r;
    }
    if (!followable) return std::nullopt;
    if (!u.slots.empty() || rules.FollowUp(in.last_intent, u.normalized) ||
        (u.slots.empty() && ReferencesAccount())) {
      nlu::Slots merged = in.last_slots;
      const bool new_time =
          u.slots.count("month") || u.slots.count("start_month") || u.slots.count("end_month");
      if (new_time)
        for (const char* k : {"month", "start_month", "end_month", "months"}) merged.erase(k);
      if (u.slots.count("city") || u.slots.count("district"))
        for (const char* k : {"city", "district"}) merged.erase(k);
      if (u.slots.count("account_no") || ReferencesAccount()) merged.erase("account_no");
      for (const auto& [k, v] : u.slots) merged[k] = v;
      r.slots = merged;
      r.intent = in.last_intent;
      return r;
    }
    return std::nullopt;
  }

  // "尾号1234的呢", "第一个的呢": another of the bound accounts.
  bool ReferencesAccount() const {
    for (const char* cue : {"尾号", "尾数", "后四位", "第一个", "第二个", "第三个", "另一个", "另外一个"})
      if (u.normalized.find(cue) != std::string::npos) return true;
    return u.slots.empty() && in.names_account && in.names_account(u);
  }

  bool ComplaintIntent() const {
    if (u.intent == "report_fault") return rules.Cue("meter_question", u.normalized) &&
                                           !rules.Cue("danger", u.normalized);
    return u.intent == "query_bill" || u.intent == "query_arrears" ||
           u.intent == "query_payments" || u.intent == "unknown" || u.intent == "human_agent";
  }

  std::vector<Command> TopLevel() const {
    std::vector<Command> out;
    if (rules.Cue("frustration", u.normalized)) {
      // An apology and the offer of a person; a person at once when asked
      // for ("我要投诉", "太笨了 转人工"), and a request still answered.
      out.push_back(Make(CommandKind::kFrustrated, u));
      if (u.intent == "human_agent" && rules.Cue("person", u.normalized)) {
        out.push_back(Make(CommandKind::kHandoff, u));
        return out;
      }
      auto requests = Requests();
      for (const auto& r : requests) out.push_back(Make(CommandKind::kStart, r));
      return out;
    }
    if (rules.Cue("complaint", u.normalized) && ComplaintIntent()) {
      out.push_back(Make(CommandKind::kComplaint, u));
      return out;
    }
    if (std::string key = rules.StepQuestion("", "", u.normalized, false); !key.empty()) {
      Command c = Make(CommandKind::kAskAboutStep, u);
      c.key = key;
      out.push_back(c);
      return out;
    }
    if (auto options = rules.Clarify(u.normalized); !options.empty()) {
      Command c = Make(CommandKind::kClarify, u);
      c.options = options;
      out.push_back(c);
      return out;
    }
    if (u.intent == "human_agent") {
      out.push_back(Make(CommandKind::kHandoff, u));
      return out;
    }
    auto requests = Requests();
    if (requests.empty() && u.intent == "deny")
      if (auto r = Resolved()) requests.push_back(*r);
    if (requests.size() >= 2) {
      for (const auto& r : requests) out.push_back(Make(CommandKind::kStart, r));
      return out;
    }
    // One request (resolved from the conversation if it has none of its
    // own), or talk, or nothing understood: the engine dispatches it.
    if (requests.empty() && Request(u) && Negated(u)) {
      nlu::Understanding no = u;  // "我不想交电费": nothing to do
      no.intent = "deny";
      no.slots.clear();
      out.push_back(Make(CommandKind::kStart, no));
      return out;
    }
    if (requests.size() == 1) {
      out.push_back(Make(CommandKind::kStart, requests.front()));
    } else if (auto r = Resolved()) {
      out.push_back(Make(CommandKind::kStart, *r));
    } else {
      out.push_back(Make(CommandKind::kStart, u));
    }
    return out;
  }
};

}  // namespace

std::vector<Command> Decide(const CommandRules& rules, const TurnInput& in) {
  Decider d{rules, in, in.u};
  if (in.flow && in.frame) return d.InFlow();
  return d.TopLevel();
}

}  // namespace gridbot::dialogs
