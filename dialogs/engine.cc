#include "dialogs/engine.h"

#include <re2/re2.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace gridbot::dialogs {
namespace {

using nlohmann::json;

constexpr double kMinConfidence = 0.5;  // below: not a request we act on
constexpr size_t kMaxStack = 3;         // flows waiting at once (one active, two interrupted)
constexpr UnixSeconds kLocationFreshSeconds = 30 * 60;  // a reported location still holds

// Intents whose answer a bare follow-up ("那3月份的呢") can repeat.
bool Followable(const std::string& intent) {
  return intent == "query_bill" || intent == "query_arrears" || intent == "query_payments" ||
         intent == "query_outage" || intent == "query_progress" || intent == "find_outlet" ||
         intent == "query_profile";
}

// Answered anywhere, after which the pending question is asked again.
bool Aside(const std::string& intent) {
  return intent == "help" || intent == "greet" || intent == "thanks";
}

json SlotsJson(const nlu::Slots& slots) {
  json j = json::object();
  for (const auto& [k, v] : slots) j[k] = v;
  return j;
}

nlu::Slots SlotsFrom(const json& j) {
  nlu::Slots s;
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.value().is_string()) s[it.key()] = it.value().get<std::string>();
  return s;
}

// A request to answer later (Frame::then), with its words: flows such as the
// profile answer from the wording ("抄表日是哪天"), not only the slots.
json Deferred(const nlu::Understanding& u);

// A password typed where none was asked ("密码123456 帮我登录") is still
// kept out of the log: what follows a password word is masked.
std::string MaskPasswords(const std::string& text) {
  static const RE2 kPassword(
      R"((?i)(密码|密碼|口令|password|passwd|pwd)([^0-9a-z]{0,6})([0-9a-z!@#$%^&*._-]{3,}))");
  std::string out = text;
  RE2::GlobalReplace(&out, kPassword, "\\1\\2******");
  return out;
}

// (The state is persisted: its text is masked like the log's.)
json Deferred(const nlu::Understanding& u) {
  return json{{"intent", u.intent},
              {"slots", SlotsJson(u.slots)},
              {"text", MaskPasswords(u.text)},
              {"normalized", MaskPasswords(u.normalized)}};
}

}  // namespace

struct Engine::TurnState {
  bool masked = false;
  bool fallback = false;  // the bot said it did not understand
  std::string intent;     // what the turn was taken as (after follow-up resolution)
};

Engine::Engine(std::shared_ptr<const nlu::Model> nlu, std::shared_ptr<const Replies> replies,
               storage::Store& store, std::shared_ptr<Clock> clock)
    : nlu_(std::move(nlu)),
      replies_(std::move(replies)),
      store_(store),
      clock_(std::move(clock)),
      flows_(MakeFlows()) {}

Engine::~Engine() = default;

std::vector<std::string> Engine::RequiredReplies() {
  // The engine's own texts, and those of flow_util's shared helpers; each
  // flow lists its own in Flow::replies().
  return {"welcome",
          "fallback",
          "fallback_repeat",
          "invalid_text",
          "empty",
          "cancelled",
          "gave_up",
          "resume",
          "need_bind",
          "need_bind_pending",
          "storage_error",
          "click_unknown",
          "account_not_bound",
          "account_missing",
          "accounts.none",
          "accounts.item",
          "accounts.default_mark",
          "choose.bad"};
}

Status Engine::CheckReplies() const {
  std::vector<std::string> keys = RequiredReplies();
  for (const auto& f : flows_)
    for (const std::string& k : f->replies()) keys.push_back(k);
  for (const std::string& k : keys)
    if (!replies_->Has(k)) return Status::Error("corpus/replies: missing reply [" + k + "]");
  return Status::Ok();
}

Flow* Engine::FlowFor(const std::string& intent) const {
  for (const auto& f : flows_)
    if (f->name() == intent) return f.get();
  return nullptr;
}

nlu::Understanding Engine::EventToUnderstanding(const Event& e, const CivilDay& today) const {
  nlu::Understanding u;
  u.confidence = 1.0;
  u.text = "[" + e.type + (e.key.empty() ? "" : ":" + e.key) + "]";
  u.normalized = u.text;
  if (e.type == "subscribe") {
    u.intent = "welcome";
  } else if (e.type == "click") {
    auto it = click_intents_.find(e.key);
    u.intent = it != click_intents_.end() ? it->second : "click:" + e.key;
  } else if (e.type == "location") {
    u.intent = "find_outlet";
    u.slots["lat"] = std::to_string(e.lat);
    u.slots["lng"] = std::to_string(e.lng);
  }
  return u;
}

Outcome Engine::Handle(const Inbound& in) {
  const auto started = std::chrono::steady_clock::now();
  const UnixSeconds now = clock_->Now();
  const CivilDay today = ToCivilDay(now);
  nlu::Understanding u =
      in.event ? EventToUnderstanding(*in.event, today) : nlu_->Parse(in.text, today);

  Outcome outcome;
  storage::Tx tx = store_.Begin();
  if (in.event && in.event->type == "location_report") {
    // WeChat reports where the customer is (every few seconds while the
    // account is open, if they allowed it): remembered for "附近的营业厅",
    // no reply, no log row.
    tx.UserIdFor(in.channel, in.user, now);
    ConversationState state =
        ConversationState::FromJson(tx.LoadSession(in.channel, in.user).value_or(""));
    state.lat = in.event->lat;
    state.lng = in.event->lng;
    state.location_at = now;
    tx.SaveSession(in.channel, in.user, state.ToJson(), now);
    outcome.ok = tx.Commit().ok();
    outcome.intent = "location_report";
    return outcome;
  }
  if (!in.dedup_key.empty()) {
    if (auto cached = tx.DedupReply(in.channel, in.dedup_key)) {
      json j = json::parse(*cached, nullptr, false);
      if (j.is_object()) {
        for (const json& t : j.value("replies", json::array()))
          if (t.is_string()) outcome.replies.push_back(Reply{"text", t.get<std::string>()});
        outcome.intent = j.value("intent", "");
        outcome.duplicate = true;
        return outcome;
      }
    }
  }
  const std::int64_t user_id = tx.UserIdFor(in.channel, in.user, now);
  ConversationState state =
      ConversationState::FromJson(tx.LoadSession(in.channel, in.user).value_or(""));
  Context ctx{tx,    user_id,         now,       today,      *replies_,
              *nlu_, outcome.replies, settings_, in.channel, in.user};
  TurnState turn;
  turn.intent = u.intent;

  if (state.InFlow()) {
    Flow* flow = FlowFor(state.Active().flow);
    if (flow && flow->SecretStep(state.Active())) {
      // The answer is a password: masked in the log, and only "取消" is
      // taken as a command (a password is never matched as an intent).
      turn.masked = true;
      if (u.intent != "cancel" || u.normalized.size() > 12) {
        u.intent = "secret";
        u.slots.clear();
      }
    }
  }
  Step(ctx, state, u, turn);
  if (in.channel == "web" || in.channel == "cli") {
    // What happened meanwhile (a payment confirmed, an agent's message)
    // comes first.
    auto notices = tx.PendingNotices(in.channel, in.user);
    for (auto it = notices.rbegin(); it != notices.rend(); ++it) {
      outcome.replies.insert(outcome.replies.begin(), Reply{"notice", it->second});
      tx.MarkOutboxSent(it->first, now);
    }
  }

  if (tx.ok()) {
    tx.SaveSession(in.channel, in.user, state.ToJson(), now);
    storage::TurnLog log;
    log.at = now;
    log.channel = in.channel;
    log.external_id = in.user;
    log.text = turn.masked ? "******" : MaskPasswords(u.text);
    log.normalized = turn.masked ? "******" : MaskPasswords(u.normalized);
    log.intent = turn.intent;
    log.confidence = u.confidence;
    log.slots_json = SlotsJson(u.slots).dump();
    log.flow = state.InFlow() ? state.Active().flow : "";
    log.step = state.InFlow() ? state.Active().step : "";
    json replies = json::array();
    for (const Reply& r : outcome.replies) replies.push_back(r.text);
    log.replies_json = replies.dump();
    log.masked = turn.masked;
    if (!turn.masked) {
      for (const std::string& t : u.tokens) log.tokens += (log.tokens.empty() ? "" : " ") + t;
      log.tokens = MaskPasswords(log.tokens);
    }
    log.micros = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count();
    tx.AppendTurn(log);
    if (!in.dedup_key.empty())
      tx.SaveDedup(in.channel, in.dedup_key,
                   json{{"replies", replies}, {"intent", turn.intent}}.dump(), now);
  }
  Status committed = tx.Commit();
  if (!committed.ok()) {
    outcome.ok = false;
    outcome.replies = {Reply{"text", replies_->Render("storage_error")}};
  }
  outcome.intent = turn.intent;
  outcome.fallback = turn.fallback;
  return outcome;
}

void Engine::Step(Context& ctx, ConversationState& state, nlu::Understanding& u, TurnState& turn) {
  if (!u.valid_utf8) {
    ctx.Say("invalid_text");
    return;
  }
  if (u.intent == "welcome") {
    ctx.Say("welcome");
    return;
  }
  if (u.intent.rfind("click:", 0) == 0) {
    ctx.Say("click_unknown");  // a key the menu does not have
    return;
  }
  if (u.normalized.empty() && u.intent != "secret") {
    ctx.Say("empty");
    if (state.InFlow()) {
      if (Flow* flow = FlowFor(state.Active().flow)) flow->Prompt(ctx, state.Active(), false);
    }
    return;
  }

  if (state.InFlow()) {
    Frame& frame = state.Active();
    Flow* flow = FlowFor(frame.flow);
    if (!flow) {  // a flow that no longer exists (after an upgrade)
      state.stack.clear();
    } else {
      if (u.intent == "cancel" && !flow->ClaimsCancelWords(frame)) {
        ctx.Say("cancelled", {{"flow", flow->title()}});
        state.stack.clear();
        return;
      }
      if (u.intent == "secret" || flow->Answers(frame, u)) {
        // An answer to the flow's question counts as that flow's turn
        // ("南宁" answering the bind prompt is not an unknown message).
        turn.intent = frame.flow;
        if (flow->Continue(ctx, frame, u) == FlowResult::kDone) {
          Frame done = std::move(state.stack.back());
          state.stack.pop_back();
          if (!done.then.is_null()) {
            // What the customer asked before being sent to this flow; it
            // resumes anything below it itself.
            nlu::Understanding next;
            next.intent = done.then.value("intent", "unknown");
            next.slots = SlotsFrom(done.then["slots"]);
            next.confidence = 1.0;
            next.text = done.then.value("text", "");
            next.normalized = done.then.value("normalized", next.intent);
            Dispatch(ctx, state, next, turn);
          } else {
            Finish(ctx, state, turn);
          }
        }
        return;
      }
      if (u.intent == "human_agent") {
        // A person takes over: the flow in progress ends here.
        if (Flow* agent = FlowFor(u.intent)) {
          Frame scratch;
          agent->Start(ctx, scratch, u);
        }
        state.stack.clear();
        return;
      }
      if (u.intent == "deny") {
        // "不要了" where no yes/no was asked: the customer does not want to go on.
        ctx.Say("cancelled", {{"flow", flow->title()}});
        state.stack.clear();
        return;
      }
      if (Aside(u.intent)) {
        if (Flow* aside = FlowFor(u.intent)) {
          Frame scratch;
          aside->Start(ctx, scratch, u);
        }
        ctx.Say("resume", {{"flow", flow->title()}});
        flow->Prompt(ctx, frame, false);
        return;
      }
      if (u.intent == "goodbye") {
        state.stack.clear();
        ctx.Say("goodbye");
        return;
      }
      Flow* other = u.confidence >= kMinConfidence ? FlowFor(u.intent) : nullptr;
      if (other && other != flow && u.intent != "affirm" && u.intent != "deny") {
        // An interruption: answer it, then come back to the pending question.
        StartFlow(ctx, state, *other, u, turn);
        return;
      }
      // Not an answer, not a request: ask again with a hint, or give up.
      if (++frame.failures >= kMaxFailures) {
        ctx.Say("gave_up", {{"flow", flow->title()}});
        state.stack.pop_back();
        Finish(ctx, state, turn);
        return;
      }
      flow->Prompt(ctx, frame, true);
      return;
    }
  }

  // A bare number with nothing going on says what the customer wants: a 户号
  // to bind (or, if bound, its bill), a card to recharge with, a business
  // number to follow.
  if (u.intent == "unknown" && u.slots.size() == 1 && !Followable(state.last_intent)) {
    const std::string& slot = u.slots.begin()->first;
    if (slot == "account_no")
      u.intent = ctx.IsBound(u.slots.at("account_no")) ? "query_bill" : "bind_account";
    if (slot == "card_no") u.intent = "recharge_card";
    if (slot == "business_no") u.intent = "query_progress";
    if (u.intent != "unknown") u.confidence = std::max(u.confidence, kMinConfidence);
  }
  // A bare follow-up ("那3月份的呢") repeats the last request with new slots.
  if (u.intent == "unknown" && !u.slots.empty() && Followable(state.last_intent)) {
    nlu::Slots merged = SlotsFrom(state.last_slots);
    const bool new_time =
        u.slots.count("month") || u.slots.count("start_month") || u.slots.count("end_month");
    if (new_time) {
      merged.erase("month");
      merged.erase("start_month");
      merged.erase("end_month");
    }
    for (const auto& [k, v] : u.slots) merged[k] = v;
    u.slots = merged;
    u.intent = state.last_intent;
    u.confidence = std::max(u.confidence, kMinConfidence);
  }
  // "附近的营业厅" with no place named: a location WeChat reported lately
  // stands in for one.
  if (u.intent == "find_outlet" && !u.slots.count("lat") && !u.slots.count("city") &&
      !u.slots.count("district") && state.location_at != 0 &&
      ctx.now - state.location_at <= kLocationFreshSeconds) {
    u.slots["lat"] = std::to_string(state.lat);
    u.slots["lng"] = std::to_string(state.lng);
  }
  turn.intent = u.intent;
  Dispatch(ctx, state, u, turn);
}

void Engine::Dispatch(Context& ctx, ConversationState& state, const nlu::Understanding& u,
                      TurnState& turn) {
  Flow* flow = u.confidence >= kMinConfidence ? FlowFor(u.intent) : nullptr;
  if (!flow || u.intent == "unknown") {
    ++state.fallbacks;
    ctx.Say(state.fallbacks >= 2 ? "fallback_repeat" : "fallback");
    turn.fallback = true;
    return;
  }
  state.fallbacks = 0;
  StartFlow(ctx, state, *flow, u, turn);
}

void Engine::StartFlow(Context& ctx, ConversationState& state, Flow& flow,
                       const nlu::Understanding& u, TurnState& turn) {
  const bool interrupting = state.InFlow();
  if (flow.needs_account() && ctx.tx.Bindings(ctx.user_id).empty()) {
    if (interrupting && state.Active().flow == "bind_account") {
      // Already binding: answer this once the binding is done.
      Frame& binding = state.Active();
      binding.then = Deferred(u);
      ctx.Say("need_bind_pending");
      if (Flow* bind = FlowFor("bind_account")) bind->Prompt(ctx, binding, false);
      return;
    }
    // Bind first, then answer what was asked.
    ctx.Say("need_bind");
    Flow* bind = FlowFor("bind_account");
    Frame frame;
    frame.flow = bind->name();
    frame.then = Deferred(u);
    if (bind->Start(ctx, frame, u) == FlowResult::kWaiting) state.stack.push_back(frame);
    return;
  }
  Frame frame;
  frame.flow = flow.name();
  if (flow.Start(ctx, frame, u) == FlowResult::kWaiting) {
    // Asking again for a flow already in progress below replaces it, and
    // at most kMaxStack flows wait at once (the oldest is dropped).
    for (auto it = state.stack.begin(); it != state.stack.end(); ++it) {
      if (it->flow == frame.flow) {
        state.stack.erase(it);
        break;
      }
    }
    if (state.stack.size() >= kMaxStack) state.stack.erase(state.stack.begin());
    state.stack.push_back(std::move(frame));
    return;
  }
  if (flow.one_shot() && Followable(u.intent)) {
    state.last_intent = u.intent;
    state.last_slots = SlotsJson(u.slots);
  }
  if (interrupting) Finish(ctx, state, turn);
}

void Engine::Finish(Context& ctx, ConversationState& state, TurnState& turn) {
  // Resume the flow that was interrupted, if any.
  if (!state.InFlow()) return;
  Frame& below = state.Active();
  if (Flow* flow = FlowFor(below.flow)) {
    ctx.Say("resume", {{"flow", flow->title()}});
    flow->Prompt(ctx, below, false);
  } else {
    state.stack.pop_back();
  }
}

}  // namespace gridbot::dialogs
