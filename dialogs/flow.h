// Flows: one per feature of the account, each a slot-filling form.
//
// A flow starts from the message that asked for it (Start), then receives
// the customer's answers to its pending step (Continue) until it is done. It
// keeps what it collected in its Frame (persisted with the conversation). The
// engine (engine.h) decides which flow a message goes to, handles cancel,
// interruptions, follow-ups and giving up; a flow only runs its form.
//
// A flow reads and writes through ctx.tx, inside the turn's transaction, and
// answers through ctx.Say(). Flows hold no state of their own: one instance
// of each serves every conversation, from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/service_hours.h"
#include "dialogs/replies.h"
#include "dialogs/state.h"
#include "nlu/nlu.h"
#include "privacy/sealer.h"
#include "storage/store.h"

namespace gridbot::dialogs {

struct Reply {
  std::string type = "text";  // "text"; "notice": a message that came meanwhile
  std::string text;
  std::int64_t seq = 0;  // a notice's place in the customer's updates (0: none)
  std::string from = "bot";  // a notice's sender: bot, agent, system
};

// Deployment settings a flow may need (set once by bot/ at start-up).
struct Settings {
  // This service's public base URL, for links (e.g. payment pages):
  // "http://127.0.0.1:8080" — no trailing slash.
  std::string public_url = "http://127.0.0.1:8080";
  // The payment gateway's base URL; "" = the built-in simulator under
  // public_url + "/pay/".
  std::string pay_gateway;
  // Whether orders can be paid online (a gateway, or the simulator asked
  // for); without, the pay flow says where else to pay.
  bool online_payment = true;
  // When people answer at the desk (config desk_hours); a handoff outside
  // them is queued and the customer told when a person answers.
  ServiceHours desk_hours;
  // Seals what must wait in the outbox but never sit there in clear (the
  // text of an SMS with a code); delivery opens it. A key of this process
  // unless the service sets the configured one.
  std::shared_ptr<const privacy::Sealer> sealer =
      std::make_shared<const privacy::Sealer>(privacy::Sealer::Random());
  // Testing only (--inject-slow-backend-ms): every turn first waits this
  // long, as it would behind a slow back end.
  int slow_backend_ms = 0;
};

// What a flow may use during one turn.
struct Context {
  storage::Tx& tx;
  std::int64_t user_id;
  UnixSeconds now;
  CivilDay today;
  const Replies& replies;
  const nlu::Model& nlu;
  std::vector<Reply>& out;
  const Settings& settings;
  std::string channel;      // of this conversation: "web", "wechat", "cli"
  std::string external_id;  // the user on that channel (WeChat: the OpenID)
  // The bound account the conversation is about ("南宁那个欠多少" → then
  // "帮我交了" pays that one): set when a request names or refers to one,
  // used before the default; kept in the conversation state for a while.
  std::string focus_account = {};
  // The client's address, when wrong secrets count per address (Inbound::source).
  std::string source = {};
  // Set when the flow gave up on the customer (GiveUp): a person takes over.
  std::string handoff = {};

  void Say(const std::string& key, const Vars& vars = {}) {
    out.push_back(Reply{"text", replies.Render(key, vars)});
  }
  std::string CurrentMonth() const { return FormatYearMonth(today.year, today.month); }
  // The last month whose bill can have been issued: a month's bill is made
  // after the month ends, so bills dated this month or later are not shown.
  std::string LastBilledMonth() const {
    return today.month == 1 ? FormatYearMonth(today.year - 1, 12)
                            : FormatYearMonth(today.year, today.month - 1);
  }
  // The default bound account, if any.
  std::optional<std::string> DefaultAccount();
  bool IsBound(const std::string& account_no);
};

enum class FlowResult {
  kWaiting,  // asked something; the frame's step says what
  kDone,     // finished (successfully or not); the frame is dropped
};

class Flow {
 public:
  virtual ~Flow() = default;
  virtual std::string name() const = 0;
  // A short Chinese name for "we were …" messages, e.g. "绑定户号".
  virtual std::string title() const = 0;
  // True for flows that answer at once and never wait (bill, arrears, …):
  // asked in the middle of another flow, they answer and the other resumes.
  virtual bool one_shot() const { return false; }
  // True if the flow needs a bound account before it can start.
  virtual bool needs_account() const { return false; }
  // The reply keys (corpus/replies/) this flow says; checked at start-up.
  virtual std::vector<std::string> replies() const { return {}; }

  virtual FlowResult Start(Context& ctx, Frame& frame, const nlu::Understanding& u) = 0;
  virtual FlowResult Continue(Context& ctx, Frame& frame, const nlu::Understanding& u) {
    return FlowResult::kDone;
  }
  // Whether `u` answers the pending step; if not, the engine treats it as a
  // new request (an interruption) or as a failed answer.
  virtual bool Answers(const Frame& frame, const nlu::Understanding& u) const { return false; }
  // Asks the pending step again (after an interruption), with a hint if
  // `hint` is set.
  virtual void Prompt(Context& ctx, const Frame& frame, bool hint) {}
  // True if, at this step, words that sound like "cancel" can be an answer
  // ("都取消吧" = cancel all of the listed subscriptions): the engine then
  // hands cancel-intent messages to Continue instead of ending the flow, and
  // Continue must end the flow itself on a bare "取消".
  virtual bool ClaimsCancelWords(const Frame& frame) const { return false; }
  // True while the pending step is a password: the answer is never run
  // through the NLU's log, and is masked in the dialog log.
  virtual bool SecretStep(const Frame& frame) const { return false; }
  // At a secret step: whether the customer's message (normalised) is shaped
  // like the secret asked for (six digits, with or without "密码是"; a login
  // password's one word of letters and digits). Only such a message is taken
  // as the secret, tested against it and counted when wrong; any other is
  // understood like every message (a question, another request, "取消") and
  // never counts as a wrong password.
  virtual bool ShapedLikeSecret(const Frame& frame, const std::string& normalized) const {
    return true;
  }
  // At a secret step: a message not shaped like the secret, understood as
  // nothing else, that the step still takes (the SMS code step's "重新发送").
  virtual bool TakesAtSecretStep(const Context& ctx, const Frame& frame,
                                 const nlu::Understanding& u) const {
    return false;
  }
  // The values given earlier that the customer may correct ("不对，是柳州",
  // "地址改成…"): the frame key, the step that asks for it, and its kind —
  // an NLU slot name (city, district, account_no, amount, pay_method,
  // phone, channel, email, card_no, apply_type) or a free-text kind
  // (address, name, description). The engine (commands.h) finds the value in
  // the message, says it understood, and gives the message without its
  // correction words to Continue() as the answer to that step.
  // The number the pending step asks for, if any: "account_no", "card_no"
  // or "phone". A bare number there is read as one ("0301 0000 01234" at
  // the 户号 prompt), as a sentence naming it would be.
  virtual std::string ExpectedSlot(const Frame& frame) const { return ""; }
  struct Corrigible {
    std::string key, step, kind;
  };
  virtual std::vector<Corrigible> CorrigibleSlots() const { return {}; }
};

// Every flow of the bot, by intent name.
std::vector<std::unique_ptr<Flow>> MakeFlows();

// Formatting shared by flows.
std::string ChineseMonth(const std::string& year_month);  // "2024-07" -> "2024年7月"

}  // namespace gridbot::dialogs
