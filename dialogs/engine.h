// The dialog engine: one customer message in, the bot's replies out, with the
// conversation's state loaded and saved around it.
//
//   dialogs::Engine engine(model, replies, commands, store, clock);
//   dialogs::Inbound in{.channel = "web", .user = "u1", .text = "上个月电费多少"};
//   dialogs::Outcome out = engine.Handle(in);
//   // out.replies[0].text == "您户号0301000001234（…）2024年7月的电费账单：…"
//
// A turn is: NLU (pure) → in one storage transaction: load the state, step
// the dialog (flows read/write the back end and the bot's tables), save the
// state, append the turn's log row → commit. Anything the turn changed is
// committed together or not at all.
//
// Engine-wide rules, whatever the flow:
//  - "取消" ends the flow in progress; help, human_agent, greet, thanks answer
//    anywhere and the pending question is asked again;
//  - a request that belongs to another flow is an interruption: a one-shot
//    answer is given and the pending question asked again, or the new flow
//    runs and the interrupted one resumes after it;
//  - a bare follow-up ("那3月份的呢") reuses the last request with new slots;
//  - an answer that fails validation is asked again with a hint, and after
//    kMaxFailures the flow gives up politely;
//  - a password answer is masked in the log and never kept in the state.
//
// Thread safety: Handle() may be called from several threads; callers keep
// the messages of one conversation in order (bot/ does, per user).
#pragma once

#include <map>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common/time.h"
#include "dialogs/commands.h"
#include "dialogs/flow.h"
#include "dialogs/replies.h"
#include "nlu/nlu.h"
#include "storage/desk.h"
#include "storage/store.h"

namespace gridbot::dialogs {

struct Event {
  std::string type;  // "click", "location", "subscribe", "location_report"
  std::string key;   // menu key of a click
  double lat = 0, lng = 0;
  std::string label;
};

// A picture or a voice message (WeChat image / voice without recognition).
struct Media {
  std::string type;  // "image", "voice", "video"
  std::string url;   // PicUrl of an image
  std::string media_id, format;
};

struct Inbound {
  std::string channel = "web";  // "web", "wechat", "cli"
  std::string user;
  std::string text;
  std::optional<Event> event;
  std::optional<Media> media;
  // Set by channels that retry (WeChat: the MsgId): a message whose key was
  // already answered gets the same replies again and runs nothing. The key
  // and the answer are committed with the turn.
  std::string dedup_key;
  // Asked right before the turn commits, when set: false means the caller
  // has already been answered without the replies (WeChat's deadline
  // passed), so they go to the customer through the outbox instead, in the
  // same transaction, and the key's retries get no reply (common/reply_race.h).
  std::function<bool()> may_reply;
  // The client's address where it tells customers apart (web sessions; not
  // WeChat or an API-key caller, which speak for many): wrong secrets are
  // counted per address too, so new identities from one place don't get
  // new guesses (flow_util.h TargetCounter). "" = not counted.
  std::string source;
};

struct Outcome {
  std::vector<Reply> replies;
  std::string intent;
  double confidence = 0;   // the NLU's, for the message
  bool ok = true;          // false: storage failed; replies hold an apology
  bool duplicate = false;  // answered from the dedup record
  bool late = false;       // the replies went to the outbox (may_reply said no)
  bool fallback = false;   // the bot said it did not understand
  std::string commands;    // what the command layer made of the message (commands.h)
  // The turn handed the conversation to the desk ("asked", "not_understood",
  // "gave_up"), or the message went to the desk's conversation ("message").
  std::string handoff;
  std::string desk_id;  // the desk conversation's public id, if any
};

// The text without NUL, other control characters (tab and newline kept),
// bidirectional-override controls and U+FEFF: what every message is read
// and logged as.
std::string WithoutInvisibleControls(const std::string& text);

class Engine {
 public:
  static constexpr int kMaxFailures = 3;

  Engine(std::shared_ptr<const nlu::Model> nlu, std::shared_ptr<const Replies> replies,
         std::shared_ptr<const CommandRules> commands, storage::Store& store,
         std::shared_ptr<Clock> clock);
  ~Engine();

  Outcome Handle(const Inbound& in);
  // Whether `in` (by its dedup_key) was answered already: Handle() would
  // give the answer again and run nothing — not a new message to count or
  // limit.
  bool Answered(const Inbound& in);
  // What the bot would answer to `in` with the conversation's state as it
  // is, ignoring the desk, changing nothing (agent assist): the turn runs
  // in a transaction that is rolled back.
  Outcome Preview(const Inbound& in);
  // The flow waiting for the conversation's answer, "" if none.
  std::string ActiveFlow(const std::string& channel, const std::string& user);

  // Menu key -> intent (corpus/menu.json). REQUIRES: called before Handle().
  void SetClickIntents(std::map<std::string, std::string> keys) {
    click_intents_ = std::move(keys);
  }
  // REQUIRES: called before Handle().
  void SetSettings(Settings settings) { settings_ = std::move(settings); }
  const Settings& settings() const { return settings_; }

  // The reply keys the engine itself uses.
  static std::vector<std::string> RequiredReplies();
  // Every reply key the engine and its flows use exists; error names the
  // first missing one. Call at start-up.
  Status CheckReplies() const;

 private:
  struct TurnState;
  Outcome Run(const Inbound& in, bool preview);
  // handoff.cc: the desk's side of a turn.
  // A message of a customer whose conversation is queued or held.
  void DeskTurn(Context& ctx, const storage::DeskConversation& conv, const Inbound& in,
                const nlu::Understanding& u, TurnState& turn);
  // Hands the conversation to the desk (queued), telling the customer.
  void StartHandoff(Context& ctx, ConversationState& state, const std::string& reason,
                    TurnState& turn);
  // Adds the turn to the desk conversation `desk_id`: the customer's
  // message (unless null: already there) and the bot's replies.
  void AppendHandoffTurn(Context& ctx, const std::string& desk_id, const std::string* text,
                         const nlu::Understanding& u, const std::vector<Reply>& replies);
  // Adds to turn.events how the runs waiting before the turn ended and the
  // steps now asked.
  void RecordRuns(const std::vector<std::tuple<std::int64_t, std::string, std::string>>& before,
                  const ConversationState& state, const nlu::Understanding& u, TurnState& turn);
  // A 1-5 rating after a closed desk conversation; true if `u` was one.
  bool TakeRating(Context& ctx, const nlu::Understanding& u, TurnState& turn);
  // A picture or voice message the bot cannot read.
  void MediaTurn(Context& ctx, ConversationState& state, const Media& media, TurnState& turn);
  void Step(Context& ctx, ConversationState& state, nlu::Understanding& u, TurnState& turn);
  // Applies the command layer's commands for the active flow.
  void Apply(Context& ctx, ConversationState& state, Flow& flow,
             const std::vector<Command>& commands, TurnState& turn);
  // Gives `u` to the active flow as the answer to its step; true if the flow
  // finished (what it deferred, or the flow below, then runs).
  bool Continue(Context& ctx, ConversationState& state, Flow& flow, const nlu::Understanding& u,
                TurnState& turn);
  // Several requests of one message, in order; those after one that waits
  // are kept in the state's queue.
  void RunRequests(Context& ctx, ConversationState& state,
                   const std::vector<nlu::Understanding>& requests, TurnState& turn);
  void Dispatch(Context& ctx, ConversationState& state, const nlu::Understanding& u,
                TurnState& turn);
  // Starts the flow of `u` (or the binding it needs first); true if it
  // waits for an answer now (or is deferred until a binding is done).
  bool StartFlow(Context& ctx, ConversationState& state, Flow& flow, const nlu::Understanding& u,
                 TurnState& turn, bool resume = true);
  void Finish(Context& ctx, ConversationState& state, TurnState& turn);
  Flow* FlowFor(const std::string& intent) const;
  nlu::Understanding EventToUnderstanding(const Event& e, const CivilDay& today) const;

  std::shared_ptr<const nlu::Model> nlu_;
  std::shared_ptr<const Replies> replies_;
  std::shared_ptr<const CommandRules> commands_;
  storage::Store& store_;
  std::shared_ptr<Clock> clock_;
  std::vector<std::unique_ptr<Flow>> flows_;
  std::map<std::string, std::string> click_intents_;
  Settings settings_;
};

}  // namespace gridbot::dialogs
