#include "dialogs/engine.h"

#include "privacy/mask.h"
#include "dialogs/turn_state.h"

#include "dialogs/commands.h"
#include "dialogs/flow_util.h"

#include <re2/re2.h>

#include <chrono>
#include <thread>
#include <nlohmann/json.hpp>

namespace gridbot::dialogs {
namespace {

using nlohmann::json;

constexpr double kMinConfidence = 0.5;  // below: not a request we act on
constexpr size_t kMaxStack = 3;         // flows waiting at once (one active, two interrupted)
constexpr UnixSeconds kLocationFreshSeconds = 30 * 60;  // a reported location still holds

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
json Deferred(const nlu::Understanding& u, bool masked = false);

// A password typed where none was asked ("密码123456 帮我登录") is still
// kept out of the log: what follows a password word is masked.
// So is a lone run of six to eight digits beside a 户号, card or phone
// number ("绑定户号 0301000001234 246810": the service password, unlabelled).
std::string MaskPasswords(const std::string& text) {
  static const RE2 kPassword(
      R"((?i)(密码|密碼|口令|password|passwd|pwd)([^0-9a-z]{0,6})([0-9a-z!@#$%^&*._-]{3,}))");
  static const RE2 kLongNumber(R"([0-9０-９]{10,})");
  static const RE2 kLoneSecret(R"((^|[^0-9０-９])[0-9０-９]{6,8}([^0-9０-９]|$))");
  std::string out = text;
  RE2::GlobalReplace(&out, kPassword, "\\1\\2******");
  if (RE2::PartialMatch(out, kLongNumber))
    while (RE2::Replace(&out, kLoneSecret, "\\1******\\2")) {
    }
  return out;
}

// (The state is persisted: its text is masked like the log's.)
json Deferred(const nlu::Understanding& u, bool masked) {
  return json{{"intent", u.intent},
              {"slots", SlotsJson(u.slots)},
              {"text", masked ? "******" : MaskPasswords(u.text)},
              {"normalized", masked ? u.intent : MaskPasswords(u.normalized)}};
}

}  // namespace

std::string TextForStaff(const nlu::Understanding& u) {
  // As the log keeps it: what follows a password word masked, and a lone
  // word of letters and digits (a password typed where none was asked) too.
  if (ShapedLikeWordPassword(u.normalized, 6) &&
      std::any_of(u.normalized.begin(), u.normalized.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      std::any_of(u.normalized.begin(), u.normalized.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
    return "******";
  return MaskPasswords(u.text);
}


Engine::Engine(std::shared_ptr<const nlu::Model> nlu, std::shared_ptr<const Replies> replies,
               std::shared_ptr<const CommandRules> commands, storage::Store& store,
               std::shared_ptr<Clock> clock)
    : nlu_(std::move(nlu)),
      replies_(std::move(replies)),
      commands_(std::move(commands)),
      store_(store),
      clock_(std::move(clock)),
      flows_(MakeFlows()) {}

Engine::~Engine() = default;

std::vector<std::string> Engine::RequiredReplies() {
  // The engine's own texts, and those of flow_util's shared helpers; each
  // flow lists its own in Flow::replies().
  return {"welcome",
          "fallback",
          "invalid_text",
          "empty",
          "cancelled",
          "gave_up",
          "desk.queued",
          "desk.queued_next",
          "desk.after_hours",
          "desk.not_understood",
          "desk.gave_up",
          "desk.ack",
          "desk.still_queued",
          "desk.still_queued_next",
          "desk.still_queued_after_hours",
          "desk.left_queue",
          "desk.rating_thanks",
          "desk.rating_low",
          "media.image",
          "media.voice",
          "media.other",
          "media.photo_attached",
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
          "choose.bad",
          "correct.ack",
          "switch.ack",
          "confirm.question",
          "frustrated",
          "clarify.ask",
          "clarify.item",
          "several.next",
          "several.queued",
          "secret.not_shaped",
          "secret.after_end"};
}

Status Engine::CheckReplies() const {
  std::vector<std::string> keys = RequiredReplies();
  for (const auto& f : flows_)
    for (const std::string& k : f->replies()) keys.push_back(k);
  for (const std::string& k : commands_->ReplyKeys()) keys.push_back(k);
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
  if (settings_.slow_backend_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(settings_.slow_backend_ms));
  return Run(in, /*preview=*/false);
}

Outcome Engine::Preview(const Inbound& in) {
  Inbound quiet = in;
  quiet.dedup_key.clear();
  return Run(quiet, /*preview=*/true);
}

// How long the answer to a message is given again to its retries (WeChat
// retries three times within 15 seconds; a day-old "retry" is a replay).
constexpr UnixSeconds kRetryAnswerSeconds = 10 * 60;

namespace {
// What a message said, keyed (no text kept in clear): a resend under the
// same id must say the same to count as one.
std::string MessageDigest(const Settings& settings, const Inbound& in) {
  std::string what = in.text;
  if (in.event)
    what += "\x1f" + in.event->type + "\x1f" + in.event->key + "\x1f" +
            std::to_string(in.event->lat) + "\x1f" + std::to_string(in.event->lng);
  return settings.sealer->Mac("dedup", what);
}
}  // namespace

bool Engine::Answered(const Inbound& in) {
  if (in.dedup_key.empty()) return false;
  storage::Tx tx = store_.Begin();
  auto cached = tx.DedupReply(in.channel, in.dedup_key, clock_->Now() - kRetryAnswerSeconds);
  if (!cached) return false;
  const json j = json::parse(*cached, nullptr, false);
  return j.is_object() && j.value("digest", "") == MessageDigest(settings_, in);
}

std::string WithoutInvisibleControls(const std::string& text) {
  // NUL and other C0 controls (tabs and newlines aside), DEL, and the
  // direction controls that make a log line read other than it is (U+200E,
  // U+200F, U+202A-U+202E, U+2066-U+2069), and U+FEFF.
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = text[i];
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) continue;
    if (c == 0xE2 && i + 2 < text.size()) {
      const unsigned char b = text[i + 1], d = text[i + 2];
      if ((b == 0x80 && (d == 0x8E || d == 0x8F || (d >= 0xAA && d <= 0xAE))) ||
          (b == 0x81 && d >= 0xA6 && d <= 0xA9)) {
        i += 2;
        continue;
      }
    }
    if (c == 0xEF && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xBB &&
        static_cast<unsigned char>(text[i + 2]) == 0xBF) {
      i += 2;
      continue;
    }
    out += static_cast<char>(c);
  }
  return out;
}

Outcome Engine::Run(const Inbound& in, bool preview) {
  const auto started = std::chrono::steady_clock::now();
  const UnixSeconds now = clock_->Now();
  const CivilDay today = ToCivilDay(now);
  nlu::Understanding u = in.event ? EventToUnderstanding(*in.event, today)
                                  : nlu_->Parse(WithoutInvisibleControls(in.text), today);

  Outcome outcome;
  storage::Tx tx = store_.Begin();
  // One conversation's turns one at a time, on every instance sharing the
  // database (a retry that reached another instance waits here, then finds
  // the first answer below).
  tx.LockKey(in.channel + "\x1f" + in.user);
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
    if (auto cached = tx.DedupReply(in.channel, in.dedup_key, now - kRetryAnswerSeconds)) {
      json j = json::parse(*cached, nullptr, false);
      if (j.is_object()) {
        // The notices the first answer carried (marked delivered then):
        // the retry of a lost answer must not lose them.
        for (const json& n : j.value("notices", json::array()))
          if (n.is_object())
            outcome.replies.push_back(Reply{"notice", n.value("text", ""), n.value("seq", 0LL),
                                            n.value("from", "bot")});
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
  ctx.source = in.source;
  TurnState turn;
  turn.intent = u.intent;
  // What the rules alone made of it, before the dialog reads it in context.
  const json nlu_reading = {{"intent", u.intent}, {"confidence", u.confidence}, {"slots", SlotsJson(u.slots)}};
  constexpr UnixSeconds kFocusSeconds = 30 * 60;
  if (!state.focus_account.empty() && now - state.focus_at <= kFocusSeconds)
    ctx.focus_account = state.focus_account;

  // The flow runs waiting before the turn (analytics: how each ends).
  std::vector<std::tuple<std::int64_t, std::string, std::string>> before_runs;
  for (const Frame& f : state.stack) before_runs.emplace_back(f.run, f.flow, f.step);
  std::optional<storage::DeskConversation> desk;
  if (!preview) desk = storage::OpenDeskConversation(tx, in.channel, in.user);
  if (desk) {
    DeskTurn(ctx, *desk, in, u, turn);  // a person answers: no flow runs
  } else if (!preview && TakeRating(ctx, u, turn)) {
  } else if (in.media) {
    MediaTurn(ctx, state, *in.media, turn);
  } else {
    Step(ctx, state, u, turn);
  }
  if (turn.handoff.empty()) turn.handoff = ctx.handoff;
  if (!desk && !preview) RecordRuns(before_runs, state, u, turn);
  if (!turn.handoff.empty() && !desk && !preview) StartHandoff(ctx, state, turn.handoff, turn);
  if (preview) {
    // Nothing of it stays: the transaction rolls back when tx goes.
    outcome.intent = turn.intent;
    outcome.fallback = turn.fallback;
    outcome.commands = turn.commands;
    outcome.confidence = u.confidence;
    return outcome;
  }
  if (in.channel == "web" || in.channel == "cli") {
    // What happened meanwhile (a payment confirmed, an agent's message)
    // comes first.
    auto notices = storage::PendingCustomerUpdates(tx, in.channel, in.user);
    for (auto it = notices.rbegin(); it != notices.rend(); ++it) {
      outcome.replies.insert(outcome.replies.begin(), Reply{"notice", it->text, it->seq, it->from});
      tx.MarkOutboxSent(it->seq, now);
    }
  }

  // A lone word of letters and digits that means nothing else is most
  // likely a password typed where none was asked ("abc12345" after a login
  // ended): kept out of the log all the same.
  if (!turn.masked && u.intent == "unknown" && u.slots.empty() &&
      ShapedLikeWordPassword(u.normalized, 6) &&
      std::any_of(u.normalized.begin(), u.normalized.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      std::any_of(u.normalized.begin(), u.normalized.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
    turn.masked = true;
  // A name the flow took at the step that asks for one ("黄建明" for the
  // contact of an application) is logged masked, like names in free text.
  std::string taken_name;
  if (!turn.masked && !before_runs.empty() && std::get<2>(before_runs.back()) == "name")
    for (const Frame& f : state.stack)
      if (f.run == std::get<0>(before_runs.back()) && f.slots.contains("name") &&
          f.slots["name"].is_string() && u.text.find(f.slots["name"].get<std::string>()) != std::string::npos)
        taken_name = f.slots["name"].get<std::string>();
  auto without_name = [&taken_name](std::string text) {
    if (taken_name.empty()) return text;
    const std::string masked = privacy::MaskName(taken_name);
    for (size_t p; (p = text.find(taken_name)) != std::string::npos;) text.replace(p, taken_name.size(), masked);
    return text;
  };
  const bool holds_name = !taken_name.empty();
  if (tx.ok()) {
    if (!ctx.focus_account.empty()) {
      state.focus_account = ctx.focus_account;
      state.focus_at = now;
    }
    tx.SaveSession(in.channel, in.user, state.ToJson(), now);
    storage::TurnLog log;
    log.at = now;
    log.channel = in.channel;
    log.external_id = in.user;
    log.text = turn.masked ? "******" : without_name(MaskPasswords(u.text));
    if (in.media && log.text.empty()) log.text = "[" + in.media->type + "]";
    log.normalized = turn.masked ? "******" : without_name(MaskPasswords(u.normalized));
    log.intent = desk ? "handoff" : turn.intent;
    log.confidence = u.confidence;
    log.slots_json = turn.masked ? "{}" : SlotsJson(u.slots).dump();
    log.flow = state.InFlow() ? state.Active().flow : "";
    log.step = state.InFlow() ? state.Active().step : "";
    // The bot's answer; notices shown above it came from elsewhere.
    json replies = json::array();
    for (const Reply& r : outcome.replies)
      if (r.type != "notice") replies.push_back(r.text);
    log.replies_json = replies.dump();
    log.masked = turn.masked;
    log.events_json = turn.events.dump();
    log.commands = turn.commands;
    log.fallback = turn.fallback;
    log.handoff = turn.handoff;
    // What replay compares: only for a text logged as typed (a masked
    // password or name would read differently); "-" = not replayable.
    log.nlu_json = !turn.masked && !holds_name && !in.event && !in.media && log.text == u.text
                       ? nlu_reading.dump()
                       : "-";
    if (!turn.masked && !holds_name) {
      for (const std::string& t : u.tokens) log.tokens += (log.tokens.empty() ? "" : " ") + t;
      log.tokens = MaskPasswords(log.tokens);
    }
    log.micros = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count();
    tx.AppendTurn(log);
    if (!turn.desk_id.empty()) {
      // The desk's copy: a new handoff gets this message and the bot's
      // answer; a message to the desk has its text there already.
      std::vector<Reply> said;
      for (const Reply& r : outcome.replies)
        if (r.type != "notice") said.push_back(r);
      AppendHandoffTurn(ctx, turn.desk_id, desk ? nullptr : &log.text, u, said);
    }
    // Too late to answer in the reply: the customer gets the replies as a
    // message of the channel (once: the outbox's key), and the retries of
    // this message nothing.
    if (!preview && in.may_reply && !in.may_reply()) {
      outcome.late = true;
      std::string text;
      for (const Reply& r : outcome.replies) text += (text.empty() ? "" : "\n\n") + r.text;
      if (!text.empty())
        tx.QueueOutbox(in.channel, in.user, text,
                       "late:" + in.channel + ":" + (in.dedup_key.empty() ? std::to_string(now) + ":" + in.user
                                                                          : in.dedup_key),
                       now);
      replies = json::array();
    }
    if (!in.dedup_key.empty()) {
      json notices = json::array();
      for (const Reply& r : outcome.replies)
        if (r.type == "notice" && !outcome.late) notices.push_back({{"text", r.text}, {"seq", r.seq}, {"from", r.from}});
      tx.SaveDedup(in.channel, in.dedup_key,
                   json{{"replies", replies},
                        {"notices", notices},
                        {"digest", MessageDigest(settings_, in)},
                        {"intent", turn.intent},
                        {"late", outcome.late}}
                       .dump(),
                   now);
    }
  }
  Status committed = tx.Commit();
  if (!committed.ok()) {
    outcome.ok = false;
    outcome.replies = {Reply{"text", replies_->Render("storage_error")}};
  } else if (outcome.late) {
    outcome.replies.clear();
  }
  outcome.intent = turn.intent;
  outcome.fallback = turn.fallback;
  outcome.commands = turn.commands;
  outcome.handoff = turn.handoff;
  outcome.desk_id = turn.desk_id;
  outcome.confidence = u.confidence;
  return outcome;
}

namespace {

// Whether a message not shaped like the secret may still hold one (a run of
// four letters or digits): logged masked all the same.
// Digits said in words (二四六八…) count as digits.
bool MightHoldSecret(const std::string& normalized) {
  const std::string text = SecretDigitsSpelled(normalized);
  int run = 0, digits = 0;
  for (char c : text) {
    const bool digit = c >= '0' && c <= '9';
    const bool alnum = digit || (c >= 'a' && c <= 'z');
    run = alnum ? run + 1 : (c == ' ' ? run : 0);
    digits += digit;
    if (run >= 4 || digits >= 4) return true;
  }
  return false;
}

constexpr UnixSeconds kSecretGuardSeconds = 30 * 60;

}  // namespace

std::string Engine::ActiveFlow(const std::string& channel, const std::string& user) {
  storage::Tx tx = store_.Begin();
  ConversationState state = ConversationState::FromJson(tx.LoadSession(channel, user).value_or(""));
  return state.InFlow() ? state.Active().flow : "";
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
  if (u.normalized.empty()) {
    ctx.Say("empty");
    if (state.InFlow()) {
      if (Flow* flow = FlowFor(state.Active().flow)) flow->Prompt(ctx, state.Active(), false);
    }
    return;
  }
  auto has_flow = [this](const std::string& intent) { return FlowFor(intent) != nullptr; };
  auto is_bound = [&ctx](const std::string& no) { return ctx.IsBound(no); };
  auto names_account = [&ctx](const nlu::Understanding& x) {
    return ReferencedAccount(ctx, x, ctx.tx.Bindings(ctx.user_id)).has_value();
  };

  if (state.InFlow()) {
    Frame& frame = state.Active();
    Flow* flow = FlowFor(frame.flow);
    if (!flow) {  // a flow that no longer exists (after an upgrade)
      state.stack.clear();
    } else {
      if (flow->SecretStep(frame)) {
        // The secret first, by its shape, without parsing it: only a message
        // shaped like it is tested (and counted when wrong).
        if (flow->ShapedLikeSecret(frame, u.normalized)) {
          turn.masked = true;
          turn.commands = "Secret()";
          u.intent = "secret";
          u.slots.clear();
          u.tokens.clear();
          const Frame before = frame;
          if (Continue(ctx, state, *flow, u, turn)) {
            state.guard_flow = before.flow;
            state.guard_step = before.step;
            state.guard_until = ctx.now + kSecretGuardSeconds;
          }
          return;
        }
        turn.masked = MightHoldSecret(u.normalized);
      }
      if (const std::string want = flow->ExpectedSlot(frame); !want.empty() && !u.slots.count(want)) {
        // A bare number at a prompt that asks for one is read as one.
        const char* word = want == "account_no" ? "户号" : want == "card_no" ? "卡号" : "手机";
        nlu::Slots s =
            nlu_->slots().Extract(std::string(word) + " " + nlu::ChineseDigitRunsToAscii(u.normalized),
                                  ctx.today);
        if (s.count(want)) u.slots[want] = s[want];
      }
      TurnInput in{u,        *nlu_,           ctx.today, flow, &frame, has_flow, state.last_intent,
                   SlotsFrom(state.last_slots), is_bound, names_account};
      std::vector<Command> commands = Decide(*commands_, in);
      // A number the interrupted flow below asked for ("0301000001234" after
      // "附近有营业厅吗" in the middle of a binding) goes back to it: the
      // digression that waits is dropped.
      if (!commands.empty() && (commands.front().kind == CommandKind::kNotUnderstood ||
                                commands.front().kind == CommandKind::kStart)) {
        for (size_t i = state.stack.size() - 1; i-- > 0;) {
          Frame& below = state.stack[i];
          Flow* under = FlowFor(below.flow);
          const std::string want = under ? under->ExpectedSlot(below) : "";
          if (want.empty() || !u.slots.count(want) || flow->Answers(frame, u)) continue;
          state.stack.erase(state.stack.begin() + static_cast<std::ptrdiff_t>(i) + 1, state.stack.end());
          turn.commands = "Answer(below)";
          Continue(ctx, state, *under, u, turn);
          return;
        }
      }
      turn.commands = ToString(commands);
      const bool at_secret = flow->SecretStep(frame);
      const Frame before = frame;
      Apply(ctx, state, *flow, commands, turn);
      if (at_secret && (!state.InFlow() || state.Active().flow != before.flow)) {
        state.guard_flow = before.flow;
        state.guard_step = before.step;
        state.guard_until = ctx.now + kSecretGuardSeconds;
      }
      return;
    }
  }

  // A password typed just after its step ended (a lock-out): masked, and
  // not read as anything else.
  if (state.guard_until > ctx.now) {
    Frame guard;
    guard.flow = state.guard_flow;
    guard.step = state.guard_step;
    Flow* guarded = FlowFor(state.guard_flow);
    if (guarded && guarded->ShapedLikeSecret(guard, u.normalized) && MightHoldSecret(u.normalized) &&
        u.slots.count("account_no") == 0 && u.slots.count("card_no") == 0 &&
        u.slots.count("phone") == 0) {
      turn.masked = true;
      turn.intent = "secret";
      turn.commands = "Secret(after)";
      ctx.Say("secret.after_end", {{"flow", guarded->title()}});
      return;
    }
  }

  // The answer to "您是想查账单、查欠费还是交电费？"
  if (!state.clarify.empty()) {
    const std::vector<std::string> options = std::move(state.clarify);
    state.clarify.clear();
    if (std::find(options.begin(), options.end(), u.intent) == options.end()) {
      const std::string c = Compact(u.normalized);
      int pick = c.size() == 1 && c[0] >= '1' && c[0] <= '9' ? c[0] - '0' : 0;
      static const std::vector<std::string> kOrdinals = {"一", "二", "三", "四"};
      for (size_t i = 0; i < kOrdinals.size() && pick == 0; ++i)
        if (c == kOrdinals[i] || c == "第" + kOrdinals[i] + "个" || c == "第" + kOrdinals[i] ||
            c == kOrdinals[i] + "个")
          pick = static_cast<int>(i) + 1;
      if (pick >= 1 && pick <= static_cast<int>(options.size())) {
        u.intent = options[pick - 1];
        u.confidence = 1.0;
      }
    }
  }

  TurnInput in{u,        *nlu_,           ctx.today, nullptr, nullptr, has_flow, state.last_intent,
               SlotsFrom(state.last_slots), is_bound, names_account};
  const std::vector<Command> commands = Decide(*commands_, in);
  turn.commands = ToString(commands);
  std::vector<nlu::Understanding> starts;
  for (const Command& c : commands) {
    switch (c.kind) {
      case CommandKind::kFrustrated:
        ctx.Say("frustrated");
        break;
      case CommandKind::kAskAboutStep:
        ctx.Say(c.key);
        turn.intent = "ask:" + c.key;
        return;
      case CommandKind::kClarify: {
        std::string list;
        int n = 0;
        for (const std::string& o : c.options) {
          Flow* f = FlowFor(o);
          if (!f) continue;
          list += (list.empty() ? "" : "\n") +
                  replies_->Render("clarify.item", {{"n", std::to_string(++n)}, {"title", f->title()}});
          state.clarify.push_back(o);
        }
        ctx.Say("clarify.ask", {{"list", list}});
        turn.intent = "clarify";
        return;
      }
      case CommandKind::kHandoff:
        turn.handoff = "asked";
        turn.intent = "human_agent";
        return;
      case CommandKind::kComplaint:
        if (Flow* complaint = FlowFor("bill_complaint")) {
          turn.intent = "bill_complaint";
          nlu::Understanding as_complaint = c.u;  // deferred as itself if a binding comes first
          as_complaint.intent = "bill_complaint";
          as_complaint.confidence = 1.0;
          StartFlow(ctx, state, *complaint, as_complaint, turn);
          state.last_intent = "query_bill";  // "那3月份呢" afterwards is about bills
          state.last_slots = nlohmann::json::object();
        }
        return;
      case CommandKind::kStart:
        starts.push_back(c.u);
        break;
      default:
        break;
    }
  }
  if (starts.empty()) return;
  if (starts.size() >= 2) {
    RunRequests(ctx, state, starts, turn);
    return;
  }
  u = starts.front();
  if (!commands.empty() && commands.front().kind == CommandKind::kFrustrated &&
      (u.intent == "unknown" || u.confidence < kMinConfidence))
    return;  // the apology and the offer of a person say it all

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

bool Engine::Continue(Context& ctx, ConversationState& state, Flow& flow,
                      const nlu::Understanding& u, TurnState& turn) {
  // An answer to the flow's question counts as that flow's turn ("南宁"
  // answering the bind prompt is not an unknown message).
  turn.intent = flow.name();
  Frame& frame = state.Active();
  if (flow.Continue(ctx, frame, u) == FlowResult::kWaiting) return false;
  Frame done = std::move(state.stack.back());
  state.stack.pop_back();
  if (Followable(flow.name())) {
    // "青秀区" answering "which district?" was an outage question: "要多久才来电"
    // next follows it up.
    state.last_intent = flow.name();
    state.last_slots = SlotsJson(u.slots);
  }
  if (!done.then.is_null()) {
    // What the customer asked before being sent to this flow; it resumes
    // anything below it itself.
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
  return true;
}

void Engine::Apply(Context& ctx, ConversationState& state, Flow& flow,
                   const std::vector<Command>& commands, TurnState& turn) {
  Frame& frame = state.Active();
  std::vector<nlu::Understanding> starts;
  bool cancelled = false;
  bool answered = false;
  for (const Command& c : commands) {
    // After a cancel or an answer only the requests that follow are left
    // (the frame may be gone).
    if ((cancelled || answered) && c.kind != CommandKind::kStart) continue;
    switch (c.kind) {
      case CommandKind::kAnswer:
      case CommandKind::kSecret:
        Continue(ctx, state, flow, c.u, turn);
        answered = true;
        break;
      case CommandKind::kCorrect:
      case CommandKind::kSwitch: {
        std::string shown = c.u.slots.count(c.slot.kind) ? c.u.slots.at(c.slot.kind) : c.u.text;
        if (c.slot.kind == "pay_method" && replies_->Has("pay.method." + shown))
          shown = replies_->Render("pay.method." + shown);
        if (c.slot.kind == "amount" && c.u.slots.count("amount")) shown += "元";
        const size_t ack = ctx.out.size();
        ctx.Say(c.kind == CommandKind::kSwitch ? "switch.ack" : "correct.ack", {{"value", shown}});
        frame.slots.erase(c.slot.key);
        frame.step = c.slot.step;
        frame.failures = 0;
        Continue(ctx, state, flow, c.u, turn);
        // The flow's next words already say the new value ("好的，南宁市。请输入…"):
        // no second acknowledgement.
        for (size_t i = ack + 1; i < ctx.out.size(); ++i)
          if (ctx.out[i].text.find(shown) != std::string::npos) {
            ctx.out.erase(ctx.out.begin() + static_cast<std::ptrdiff_t>(ack));
            break;
          }
        turn.intent = flow.name();
        return;
      }
      case CommandKind::kCancel:
        ctx.Say("cancelled", {{"flow", flow.title()}});
        if (c.all) {  // "都不要了": everything that waits
          state.stack.clear();
          state.queue = nlohmann::json::array();
        } else {
          state.stack.pop_back();  // this flow; one interrupted below resumes
        }
        cancelled = true;
        turn.cancelled = true;
        break;
      case CommandKind::kStart:
        starts.push_back(c.u);
        break;
      case CommandKind::kAskAboutStep: {
        // The answer may use what the flow holds ({phone} masked).
        Vars vars;
        for (auto it = frame.slots.begin(); it != frame.slots.end(); ++it)
          if (it.value().is_string()) vars[it.key()] = it.value().get<std::string>();
        if (vars.count("phone")) vars["phone"] = MaskPhone(vars["phone"]);
        ctx.Say(c.key.empty() ? "confirm.question" : c.key, vars);
        flow.Prompt(ctx, frame, false);
        turn.intent = flow.name();
        return;
      }
      case CommandKind::kHandoff:
        // A person takes over: the flow in progress ends (StartHandoff).
        turn.handoff = "asked";
        turn.intent = "human_agent";
        return;
      case CommandKind::kChitChat:
        if (Flow* aside = FlowFor(c.u.intent)) {
          Frame scratch;
          aside->Start(ctx, scratch, c.u);
        }
        ctx.Say("resume", {{"flow", flow.title()}});
        flow.Prompt(ctx, frame, false);
        return;
      case CommandKind::kGoodbye:
        state.stack.clear();
        state.queue = nlohmann::json::array();
        ctx.Say("goodbye");
        return;
      case CommandKind::kFrustrated:
        ctx.Say("frustrated");
        if (commands.size() == 1) {
          ctx.Say("resume", {{"flow", flow.title()}});
          flow.Prompt(ctx, frame, false);
          return;
        }
        break;
      case CommandKind::kComplaint:
        if (Flow* complaint = FlowFor("bill_complaint")) {
          turn.intent = "bill_complaint";
          nlu::Understanding as_complaint = c.u;
          as_complaint.intent = "bill_complaint";
          as_complaint.confidence = 1.0;
          StartFlow(ctx, state, *complaint, as_complaint, turn);
        }
        return;
      case CommandKind::kClarify:
      case CommandKind::kNotUnderstood:
        if (flow.SecretStep(frame)) {
          if (flow.TakesAtSecretStep(ctx, frame, c.u)) {
            Continue(ctx, state, flow, c.u, turn);
            return;
          }
          // Not shaped like the secret and not understood: never a wrong password.
          ctx.Say("secret.not_shaped");
          flow.Prompt(ctx, frame, false);
          return;
        }
        // Not an answer, not a request: ask again with a hint, or give up.
        if (++frame.failures >= kMaxFailures) {
          // The bot gave up: a person takes over (desk.md).
          ctx.Say("desk.gave_up", {{"flow", flow.title()}});
          turn.handoff = "gave_up";
          state.stack.pop_back();
          Finish(ctx, state, turn);
          return;
        }
        flow.Prompt(ctx, frame, true);
        return;
    }
  }
  if (answered) {
    // "好的 顺便查下电费": the other request after the answer, the flow
    // (if it still waits) asked again after it.
    if (!starts.empty()) {
      const std::string intent = turn.intent;
      RunRequests(ctx, state, starts, turn);
      turn.intent = intent;
    }
    return;
  }
  if (starts.empty()) {
    if (cancelled) {
      turn.intent = "cancel";
      Finish(ctx, state, turn);
    }
    return;
  }
  if (starts.size() >= 2 || cancelled) {
    RunRequests(ctx, state, starts, turn);
    return;
  }
  // An interruption: answer it, then come back to the pending question.
  Flow* other = FlowFor(starts.front().intent);
  turn.intent = starts.front().intent;
  if (other) StartFlow(ctx, state, *other, starts.front(), turn);
}

void Engine::RunRequests(Context& ctx, ConversationState& state,
                         const std::vector<nlu::Understanding>& requests, TurnState& turn) {
  // In order; when one waits for an answer, the rest are kept for after it.
  for (size_t i = 0; i < requests.size(); ++i) {
    Flow* flow = FlowFor(requests[i].intent);
    if (!flow) continue;
    if (i == 0) turn.intent = requests[i].intent;
    if (StartFlow(ctx, state, *flow, requests[i], turn, /*resume=*/false)) {
      std::string titles;
      for (size_t j = i + 1; j < requests.size(); ++j) {
        if (Flow* later = FlowFor(requests[j].intent)) {
          state.queue.push_back(Deferred(requests[j], turn.masked));
          titles += (titles.empty() ? "" : "、") + later->title();
        }
      }
      if (!titles.empty()) ctx.Say("several.queued", {{"titles", titles}});
      return;
    }
  }
  Finish(ctx, state, turn);
}

void Engine::Dispatch(Context& ctx, ConversationState& state, const nlu::Understanding& u,
                      TurnState& turn) {
  Flow* flow = u.confidence >= kMinConfidence ? FlowFor(u.intent) : nullptr;
  if (!flow || u.intent == "unknown") {
    turn.fallback = true;
    if (++state.fallbacks >= 2) {
      // Not understood twice in a row: a person takes over (desk.md).
      state.fallbacks = 0;
      ctx.Say("desk.not_understood");
      turn.handoff = "not_understood";
      return;
    }
    ctx.Say("fallback");
    return;
  }
  state.fallbacks = 0;
  StartFlow(ctx, state, *flow, u, turn);
}

bool Engine::StartFlow(Context& ctx, ConversationState& state, Flow& flow,
                       const nlu::Understanding& u, TurnState& turn, bool resume) {
  if (flow.name() == "human_agent") {
    turn.handoff = "asked";  // StartHandoff, once the turn's step is done
    return true;
  }
  const bool interrupting = state.InFlow();
  if (flow.needs_account() && ctx.tx.Bindings(ctx.user_id).empty()) {
    if (interrupting && state.Active().flow == "bind_account") {
      // Already binding: answer this once the binding is done.
      // Already binding: answer this once the binding is done (after what
      // the binding already holds for later, if anything).
      Frame& binding = state.Active();
      if (binding.then.is_null())
        binding.then = Deferred(u, turn.masked);
      else
        state.queue.push_back(Deferred(u, turn.masked));
      ctx.Say("need_bind_pending");
      if (Flow* bind = FlowFor("bind_account")) bind->Prompt(ctx, binding, false);
      return true;
    }
    // Bind first, then answer what was asked.
    ctx.Say("need_bind");
    Flow* bind = FlowFor("bind_account");
    Frame frame;
    frame.flow = bind->name();
    frame.then = Deferred(u, turn.masked);
    frame.run = ++state.runs;
    turn.events.push_back({{"e", "start"}, {"flow", frame.flow}, {"run", frame.run}});
    if (bind->Start(ctx, frame, u) == FlowResult::kWaiting) {
      state.stack.push_back(frame);
      return true;
    }
    turn.events.push_back({{"e", "end"}, {"flow", frame.flow}, {"run", frame.run}, {"how", "completed"}});
    return false;
  }
  Frame frame;
  frame.flow = flow.name();
  frame.run = ++state.runs;
  turn.events.push_back({{"e", "start"}, {"flow", frame.flow}, {"run", frame.run}});
  if (flow.Start(ctx, frame, u) != FlowResult::kWaiting)
    turn.events.push_back({{"e", "end"}, {"flow", frame.flow}, {"run", frame.run},
                           {"how", ctx.handoff == "gave_up" ? "gave_up" : "completed"}});
  else {
    // Asking again for a flow already in progress below replaces it, and
    // at most kMaxStack flows wait at once (the oldest is dropped).
    // The run so replaced or dropped was left unfinished: abandoned.
    auto left = [&turn](const Frame& f) {
      turn.events.push_back({{"e", "end"}, {"flow", f.flow}, {"run", f.run}, {"how", "abandoned"}});
    };
    for (auto it = state.stack.begin(); it != state.stack.end(); ++it) {
      if (it->flow == frame.flow) {
        left(*it);
        state.stack.erase(it);
        break;
      }
    }
    if (state.stack.size() >= kMaxStack) {
      left(state.stack.front());
      state.stack.erase(state.stack.begin());
    }
    state.stack.push_back(std::move(frame));
    return true;
  }
  if (flow.one_shot() && Followable(u.intent)) {
    state.last_intent = u.intent;
    state.last_slots = SlotsJson(u.slots);
  }
  if (interrupting && resume) Finish(ctx, state, turn);
  return false;
}

void Engine::Finish(Context& ctx, ConversationState& state, TurnState& turn) {
  // What an earlier message asked for too, once nothing waits.
  while (!state.InFlow() && !state.queue.empty()) {
    nlohmann::json next = state.queue.front();
    state.queue.erase(state.queue.begin());
    nlu::Understanding u;
    u.intent = next.value("intent", "unknown");
    u.slots = SlotsFrom(next["slots"]);
    u.confidence = 1.0;
    u.text = next.value("text", "");
    u.normalized = next.value("normalized", u.intent);
    Flow* flow = FlowFor(u.intent);
    if (!flow) continue;
    ctx.Say("several.next", {{"flow", flow->title()}});
    if (StartFlow(ctx, state, *flow, u, turn, /*resume=*/false)) return;  // it asks now
  }
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

void Engine::RecordRuns(
    const std::vector<std::tuple<std::int64_t, std::string, std::string>>& before,
    const ConversationState& state, const nlu::Understanding& u, TurnState& turn) {
  // Runs that waited before and do not now ended in this turn; how, from
  // what the turn did. (Runs started and ended within the turn are already
  // in turn.events.)
  auto ended = [&turn](std::int64_t run) {
    for (const auto& e : turn.events)
      if (e.value("e", "") == "end" && e.value("run", std::int64_t{0}) == run) return true;
    return false;
  };
  const std::int64_t top = before.empty() ? 0 : std::get<0>(before.back());
  for (const auto& [run, flow, step] : before) {
    bool still = false;
    for (const Frame& f : state.stack) still = still || f.run == run;
    if (still || run == 0 || ended(run)) continue;
    std::string how = "completed";
    if (turn.handoff == "gave_up")
      how = run == top ? "gave_up" : "handed_off";
    else if (turn.handoff == "asked" || turn.handoff == "not_understood")
      how = "handed_off";
    else if (turn.cancelled || u.intent == "cancel")
      how = "cancelled";
    turn.events.push_back({{"e", "end"}, {"flow", flow}, {"run", run}, {"how", how}});
  }
  // The steps asked now: a run waiting at a step it was not at before.
  for (const Frame& f : state.stack) {
    if (f.run == 0 || f.step.empty()) continue;
    bool same = false;
    for (const auto& [run, flow, step] : before) same = same || (run == f.run && step == f.step);
    if (!same) turn.events.push_back({{"e", "ask"}, {"flow", f.flow}, {"run", f.run}, {"step", f.step}});
  }
}

}  // namespace gridbot::dialogs
