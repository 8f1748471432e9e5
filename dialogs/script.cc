#include "dialogs/script.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "dialogs/engine.h"
#include "storage/store.h"

namespace gridbot::dialogs {
namespace {

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  const size_t end = s.find_last_not_of(ws);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<std::string> Alternatives(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t bar; (bar = s.find('|', start)) != std::string::npos; start = bar + 1)
    if (auto t = Trim(s.substr(start, bar - start)); !t.empty()) out.push_back(t);
  if (auto t = Trim(s.substr(start)); !t.empty()) out.push_back(t);
  return out;
}

// "30m" -> 1800; nullopt unless a number with s, m, h or d.
std::optional<std::int64_t> Duration(const std::string& s) {
  if (s.size() < 2) return std::nullopt;
  const char unit = s.back();
  const std::string n = s.substr(0, s.size() - 1);
  if (n.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const std::int64_t v = std::stoll(n);
  switch (unit) {
    case 's': return v;
    case 'm': return v * 60;
    case 'h': return v * 3600;
    case 'd': return v * 86400;
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<Script>> ParseScripts(const std::string& text, const std::string& file) {
  std::vector<Script> scripts;
  std::set<std::string> ids;
  std::istringstream in(text);
  std::string raw;
  int n = 0;
  auto error = [&](const std::string& why) {
    return Status::Error(file + ":" + std::to_string(n) + ": " + why);
  };
  while (std::getline(in, raw)) {
    ++n;
    const std::string line = Trim(raw);
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("===", 0) == 0) {
      auto w = Words(line.substr(3));
      if (w.size() < 2) return error("expected '=== ID CATEGORY'");
      if (!ids.insert(w[0]).second) return error("script id '" + w[0] + "' used twice");
      scripts.push_back(Script{w[0], w[1], file, n, {}});
      continue;
    }
    if (scripts.empty()) return error("a line before the first '=== ID CATEGORY'");
    Script& s = scripts.back();
    const bool said = std::any_of(s.lines.begin(), s.lines.end(),
                                  [](const ScriptLine& l) { return l.kind == ScriptLine::Kind::kSay; });
    ScriptLine l{ScriptLine::Kind::kSay, {}, n};
    if (line.rfind("<!", 0) == 0) {
      l.kind = ScriptLine::Kind::kLacks;
      l.args = {Trim(line.substr(2))};
    } else if (line.rfind("<|", 0) == 0) {
      l.kind = ScriptLine::Kind::kAnyOf;
      l.args = Alternatives(line.substr(2));
    } else if (line[0] == '<') {
      l.kind = ScriptLine::Kind::kContains;
      l.args = {Trim(line.substr(1))};
    } else if (line[0] == '>') {
      l.kind = ScriptLine::Kind::kSay;
      l.args = {Trim(line.substr(1))};
    } else if (line.rfind("?flow", 0) == 0) {
      l.kind = ScriptLine::Kind::kFlow;
      l.args = Words(line.substr(5));
      if (l.args.size() != 1) return error("expected '?flow NAME' or '?flow none'");
    } else if (line.rfind("@bind", 0) == 0) {
      l.kind = ScriptLine::Kind::kBind;
      l.args = Words(line.substr(5));
      if (l.args.size() != 3) return error("expected '@bind CITY ACCOUNT PASSWORD'");
    } else if (line.rfind("@advance", 0) == 0) {
      l.kind = ScriptLine::Kind::kAdvance;
      l.args = Words(line.substr(8));
      if (l.args.size() != 1 || !Duration(l.args[0])) return error("expected '@advance 30m'");
    } else if (line.rfind("@now", 0) == 0) {
      l.kind = ScriptLine::Kind::kNow;
      l.args = {Trim(line.substr(4))};
      std::string t = l.args[0];
      if (t.size() > 10 && t[10] == ' ') t[10] = 'T';
      if (!ParseNowFlag(t)) return error("expected '@now YYYY-MM-DD[ HH:MM]'");
      l.args = {t};
    } else {
      return error("a line must start with >, <, <!, <|, ?flow, @bind, @advance, @now or #");
    }
    const bool check = l.kind == ScriptLine::Kind::kContains || l.kind == ScriptLine::Kind::kLacks ||
                       l.kind == ScriptLine::Kind::kAnyOf || l.kind == ScriptLine::Kind::kFlow;
    if (check && !said) return error("a check before the script's first '>' message");
    if (l.args.empty() || (l.args.size() == 1 && l.args[0].empty()))
      return error("a line without text");
    s.lines.push_back(std::move(l));
  }
  for (const Script& s : scripts)
    if (s.lines.empty()) return Status::Error(file + ":" + std::to_string(s.line) + ": empty script");
  return scripts;
}

Result<std::vector<Script>> ReadScripts(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseScripts(ss.str(), path);
}

ScriptRunner::ScriptRunner(std::shared_ptr<const nlu::Model> nlu,
                           std::shared_ptr<const Replies> replies,
                           std::shared_ptr<const CommandRules> commands,
                           storage::BackendData fixtures)
    : nlu_(std::move(nlu)),
      replies_(std::move(replies)),
      commands_(std::move(commands)),
      fixtures_(std::move(fixtures)) {}

ScriptResult ScriptRunner::Run(const Script& script) const {
  ScriptResult result;
  auto fail = [&](int line, const std::string& why) {
    result.passed = false;
    result.failures.push_back(script.file + ":" + std::to_string(line) + ": " + why);
  };
  auto store = storage::Store::Open(":memory:");
  if (!store.ok()) {
    fail(script.line, "cannot open a database: " + store.error());
    return result;
  }
  {
    storage::Tx tx = (*store)->Begin();
    if (!tx.ReplaceBackend(fixtures_).ok() || !tx.Commit().ok()) {
      fail(script.line, "cannot load the fixtures");
      return result;
    }
  }
  auto clock = std::make_shared<FakeClock>(FromCivil(CivilTime{{2024, 8, 4}, 10, 0, 0}));
  Engine engine(nlu_, replies_, commands_, **store, clock);
  std::string reply, said;
  auto say = [&](const std::string& text) {
    Inbound in;
    in.channel = "web";
    in.user = "u1";
    in.text = text;
    Outcome out = engine.Handle(in);
    reply.clear();
    for (const Reply& r : out.replies) reply += (reply.empty() ? "" : "\n") + r.text;
    said = text;
    result.transcript += "你：" + text + "  [" + out.intent + " " + out.commands + "]\n小南：" + reply + "\n\n";
  };
  auto quote = [&]() { return " (to '" + said + "'; the reply: " + reply + ")"; };
  for (const ScriptLine& l : script.lines) {
    switch (l.kind) {
      case ScriptLine::Kind::kSay:
        say(l.args[0]);
        break;
      case ScriptLine::Kind::kContains:
        if (reply.find(l.args[0]) == std::string::npos)
          fail(l.line, "'" + l.args[0] + "' is not in the reply" + quote());
        break;
      case ScriptLine::Kind::kLacks:
        if (reply.find(l.args[0]) != std::string::npos)
          fail(l.line, "'" + l.args[0] + "' is in the reply" + quote());
        break;
      case ScriptLine::Kind::kAnyOf: {
        bool any = false;
        std::string all;
        for (const std::string& a : l.args) {
          any = any || reply.find(a) != std::string::npos;
          all += (all.empty() ? "'" : " | '") + a + "'";
        }
        if (!any) fail(l.line, "none of " + all + " is in the reply" + quote());
        break;
      }
      case ScriptLine::Kind::kFlow: {
        const std::string active = engine.ActiveFlow("web", "u1");
        const std::string want = l.args[0] == "none" ? "" : l.args[0];
        if (active != want)
          fail(l.line, "the active flow is '" + (active.empty() ? "none" : active) + "', not '" +
                           l.args[0] + "'" + quote());
        break;
      }
      case ScriptLine::Kind::kBind: {
        const std::string before = result.transcript;
        say("绑定户号");
        say(l.args[0]);
        say(l.args[1]);
        say(l.args[2]);
        const bool bound = reply.find("绑定成功") != std::string::npos;
        result.transcript = before + "[@bind " + l.args[1] + (bound ? "" : " failed") + "]\n\n";
        if (!bound) fail(l.line, "@bind did not bind: " + reply);
        break;
      }
      case ScriptLine::Kind::kAdvance:
        clock->Advance(*Duration(l.args[0]));
        break;
      case ScriptLine::Kind::kNow:
        clock->Set(*ParseNowFlag(l.args[0]));
        break;
    }
  }
  return result;
}

std::string ScriptReport(const std::vector<Script>& scripts, const std::vector<ScriptResult>& results,
                         bool verbose) {
  std::map<std::string, std::pair<int, int>> by_category;  // passed, total
  int passed = 0;
  std::string failures;
  for (size_t i = 0; i < scripts.size() && i < results.size(); ++i) {
    auto& [p, t] = by_category[scripts[i].category];
    ++t;
    if (results[i].passed) {
      ++p;
      ++passed;
      continue;
    }
    failures += "FAILED " + scripts[i].id + " (" + scripts[i].category + ")\n";
    for (const std::string& f : results[i].failures) failures += "  " + f + "\n";
    if (verbose) failures += results[i].transcript;
  }
  std::string out = "| category | passed | scripts |\n| --- | ---: | ---: |\n";
  for (const auto& [category, pt] : by_category)
    out += "| " + category + " | " + std::to_string(pt.first) + " | " + std::to_string(pt.second) +
           " |\n";
  out += "| **all** | **" + std::to_string(passed) + "** | **" + std::to_string(scripts.size()) +
         "** |\n";
  if (!failures.empty()) out += "\n" + failures;
  return out;
}

}  // namespace gridbot::dialogs
