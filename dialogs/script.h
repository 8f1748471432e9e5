// Scripted conversations: whole multi-turn dialogs with expectations, run
// against a fresh database, for `gridbot dialog eval` and the test suite.
// The file format is tests/dialogs/scripts/README.md:
//
//   === bind-digression-01 digression
//   @bind 南宁 0301000001234 246810
//   > 绑定户号
//   < 哪个市
//   <! 服务密码
//
//   auto scripts = dialogs::ParseScripts(text, "a.dlg");   // Result<vector<Script>>
//   dialogs::ScriptRunner runner(model, replies, fixtures);
//   dialogs::ScriptResult r = runner.Run((*scripts)[0]);    // r.passed, r.failures
//
// Thread safety: a ScriptRunner may run scripts from several threads; each
// run has its own in-memory database.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "dialogs/replies.h"
#include "nlu/nlu.h"
#include "storage/fixtures.h"

namespace gridbot::dialogs {

struct ScriptLine {
  enum class Kind { kSay, kContains, kLacks, kAnyOf, kFlow, kBind, kAdvance, kNow };
  Kind kind;
  std::vector<std::string> args;  // the text(s) of the line
  int line = 0;                   // in the file
};

struct Script {
  std::string id, category, file;
  int line = 0;  // of the "===" line
  std::vector<ScriptLine> lines;
};

// Error names the file and line of the first malformed line.
Result<std::vector<Script>> ParseScripts(const std::string& text, const std::string& file);
Result<std::vector<Script>> ReadScripts(const std::string& path);

struct ScriptResult {
  bool passed = true;
  std::vector<std::string> failures;  // "file:line: 'text' not in the reply …"
  std::string transcript;             // 你：…/小南：… of the whole run
};

class ScriptRunner {
 public:
  ScriptRunner(std::shared_ptr<const nlu::Model> nlu, std::shared_ptr<const Replies> replies,
               std::shared_ptr<const class CommandRules> commands, storage::BackendData fixtures);
  ScriptResult Run(const Script& script) const;

 private:
  std::shared_ptr<const nlu::Model> nlu_;
  std::shared_ptr<const Replies> replies_;
  std::shared_ptr<const CommandRules> commands_;
  storage::BackendData fixtures_;
};

// The table of `gridbot dialog eval`: per category passed / total, and the
// failures. `verbose` adds each failed script's transcript.
std::string ScriptReport(const std::vector<Script>& scripts, const std::vector<ScriptResult>& results,
                         bool verbose);

}  // namespace gridbot::dialogs
