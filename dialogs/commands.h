// The command layer: what one customer message means for the conversation.
//
// Between the NLU and the flows, every message — at every step, password
// steps included — becomes a short list of commands, decided on evidence:
// the NLU's intent and confidence, the message's clauses, question forms,
// correction and cancel cues, the slot kinds the active step expects, the
// values the flow holds. The engine (engine.h) applies them in order. The
// idea is Rasa CALM's command generator, done by rules that are data in
// corpus/dialog/commands.rules.
//
//   === at the service-password prompt of a binding ===
//   "246810"                 → Secret                 (shaped like the secret)
//   "附近营业厅在哪"           → Start(find_outlet)     (answered; the password asked again)
//   "服务密码忘了"             → AskAboutStep(step.service_password_forgot)
//   "不对，是柳州"             → Correct(city: 柳州市)
//   === at a payment's confirmation ===
//   "算了还是银联"             → Switch(pay_method: unionpay)
//   "要手续费吗"               → AskAboutStep(…)        (the confirmation shown again, not carried out)
//   === anywhere ===
//   "我欠多少 用银联交了吧"     → Start(query_arrears), Start(pay_bill, unionpay)
//   "三月份和四月份的电费"       → Start(query_bill 2024-03), Start(query_bill 2024-04)
//   "算了不报修了，我先交电费吧" → Cancel, Start(pay_bill)
//
// Decide() is pure: it reads, never writes; the NLU model, rules and flow
// are shared read-only. Thread safety: CommandRules is immutable after
// Load(); Decide() may run on any thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "dialogs/flow.h"
#include "nlu/nlu.h"

namespace re2 {
class RE2;
}

namespace gridbot::dialogs {

enum class CommandKind {
  kAnswer,         // answers the pending step (Flow::Continue)
  kSecret,         // the secret asked for: tested, masked, never parsed
  kCorrect,        // changes a value given earlier (`slot`; `u` carries the new value)
  kSwitch,         // changes an option of the flow (method, channel, account): as kCorrect
  kStart,          // another request (`u`): answered, then the pending question again
  kCancel,         // ends the active flow (`all`: every waiting flow)
  kAskAboutStep,   // a question about the step itself: reply `key` ("" = the step shown again)
  kClarify,        // two or more close readings: one short question (`options`)
  kHandoff,        // a person takes over
  kChitChat,       // greet, thanks, help: answered, then the pending question again
  kGoodbye,        // leaves: every flow ends
  kFrustrated,     // an apology and the offer of a person
  kComplaint,      // a bill that seems too high: compared, meter check and a person offered
  kNotUnderstood,  // nothing of the above: asked again (never a failure at a secret step)
};

const char* CommandName(CommandKind k);

struct Command {
  CommandKind kind;
  nlu::Understanding u;        // what the command carries (the clause, the value)
  std::string key;             // kAskAboutStep: reply key
  Flow::Corrigible slot;       // kCorrect, kSwitch
  std::vector<std::string> options;  // kClarify: the intents offered
  bool all = false;            // kCancel
};

// "Start(query_bill month=2024-03), Start(pay_bill pay_method=unionpay)"
std::string ToString(const std::vector<Command>& commands);

// corpus/dialog/commands.rules: the cues, the questions about steps and the
// words that clarify. See that file for the format.
class CommandRules {
 public:
  // Error names the file and line of the first bad line.
  static Result<std::shared_ptr<const CommandRules>> Load(const std::string& path);
  ~CommandRules();

  // Whether cue `name` (question, correction, switch, moving_on, cancel_all,
  // frustration, complaint, meter_question, danger) matches the normalised text.
  bool Cue(const std::string& name, const std::string& normalized) const;
  // The reply key answering a question about step `step` of `flow` ("" if
  // none). Rules for flow "*" answer at any step and with no flow.
  // With `strong_only`, only the rules that name the step's thing ("ask");
  // else also those that only look like a question ("weakask").
  std::string StepQuestion(const std::string& flow, const std::string& step,
                           const std::string& normalized, bool strong_only) const;
  // The intents a bare ambiguous message could mean ("电费" → bill, arrears,
  // pay); empty if it is not one.
  std::vector<std::string> Clarify(const std::string& normalized) const;
  // The text without its correction words ("不对，是柳州" → "柳州").
  std::string StripCorrection(const std::string& normalized) const;
  // The message cut into clauses where it joins requests (spaces,
  // 然后, 顺便, 再查 …), and where it lists values (和, 跟, 、).
  std::vector<std::string> Clauses(const std::string& normalized) const;
  std::vector<std::string> ListItems(const std::string& normalized) const;
  // Whether a message asks about a detail of the last answer to `intent`
  // ("几号之前要交" after a bill, "营业时间呢" after outlets).
  bool FollowUp(const std::string& intent, const std::string& normalized) const;
  // Every reply key the rules name (checked at start-up).
  std::vector<std::string> ReplyKeys() const;

 private:
  CommandRules();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What Decide() looks at.
struct TurnInput {
  const nlu::Understanding& u;
  const nlu::Model& nlu;
  CivilDay today;
  const Flow* flow = nullptr;    // the active flow, if one waits
  const Frame* frame = nullptr;  // its frame
  // Whether an intent has a flow (the engine's list).
  std::function<bool(const std::string&)> has_flow;
  // The last answered request, for bare follow-ups ("那3月份的呢", "几号之前要交").
  std::string last_intent;
  nlu::Slots last_slots;
  // Whether the customer has bound this 户号 (a bare bound 户号 asks for its bill).
  std::function<bool(const std::string&)> is_bound;
  // Whether the message refers to one of the bound accounts without its
  // number ("民族大道那个", "柳州那个"): flow_util's ReferencedAccount().
  std::function<bool(const nlu::Understanding&)> names_account;
};

std::vector<Command> Decide(const CommandRules& rules, const TurnInput& in);

// Intents whose answer a bare follow-up can repeat with new slots.
bool Followable(const std::string& intent);

// Intents that are talk, not requests: greet, thanks, help, affirm, deny,
// cancel, goodbye, human_agent, unknown.
bool IsTalk(const std::string& intent);

}  // namespace gridbot::dialogs
