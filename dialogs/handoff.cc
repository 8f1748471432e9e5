// The desk's side of the engine (issue 8, ../shared/spec/desk.md): handing a
// conversation to a person, the customer's messages while it is queued or
// held, the rating after it closed, and pictures and voice.
//
// Everything here runs inside the turn's transaction, so the customer's
// message, the desk's record of it and the turn's log row commit together.
#include <openssl/rand.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "dialogs/engine.h"
#include "dialogs/flow_util.h"
#include "dialogs/turn_state.h"

namespace gridbot::dialogs {
namespace {

using nlohmann::json;

constexpr int kHistoryTurns = 30;  // the bot's turns copied for the agent

std::string NewPublicId() {
  unsigned char bytes[12];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // No randomness: an id must still be unique and unguessable enough for
    // an internal id; fail loudly rather than hand out predictable ones.
    throw std::runtime_error("no random bytes for a desk conversation id");
  }
  static const char* kHex = "0123456789abcdef";
  std::string id = "c";
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

// "今天14:00", "明天08:00", "12月3日08:00".
std::string WhenText(UnixSeconds t, UnixSeconds now) {
  const CivilTime c = ToCivil(t), n = ToCivil(now);
  char clock[8];
  std::snprintf(clock, sizeof clock, "%02d:%02d", c.hour, c.minute);
  if (c.day == n.day) return std::string("今天") + clock;
  if (c.day == ToCivilDay(now + 24 * 3600)) return std::string("明天") + clock;
  return std::to_string(c.day.month) + "月" + std::to_string(c.day.day) + "日" + clock;
}

// What the customer sent, as the agent reads it.
std::string MessageText(const Inbound& in, const nlu::Understanding& u) {
  if (in.media) {
    if (in.media->type == "image") return "[图片]";
    if (in.media->type == "voice") return in.text.empty() ? "[语音]" : "[语音] " + in.text;
    return "[" + in.media->type + "]";
  }
  if (in.event) {
    if (in.event->type == "click") return "[点击菜单 " + in.event->key + "]";
    if (in.event->type == "location")
      return "[位置] " + (in.event->label.empty() ? std::to_string(in.event->lat) + "," +
                                                        std::to_string(in.event->lng)
                                                  : in.event->label);
    return "[" + in.event->type + "]";
  }
  return TextForStaff(u);
}

json MediaJson(const Media& m) {
  return {{"type", m.type}, {"url", m.url}, {"media_id", m.media_id}, {"format", m.format}};
}

// "取消", "不用了", "不转了", "不需要人工了": leave the queue (desk.md).
bool LeavesQueue(const nlu::Understanding& u) {
  if (u.intent == "cancel") return true;
  for (const char* w : {"不转", "不用了", "不需要了", "不用转", "不要转", "不排了", "不等了",
                        "不需要人工", "不要人工", "不用人工", "不找人工", "不要客服", "不用客服"})
    if (u.normalized.find(w) != std::string::npos) return true;
  return false;
}

// A rating of 1 to 5: "5", "五", "5分", "四星", "非常满意".
int RatingIn(const nlu::Understanding& u) {
  std::string t = u.normalized;
  for (const char* tail : {"颗星", "星", "分"}) {
    const std::string s(tail);
    if (t.size() > s.size() && t.compare(t.size() - s.size(), s.size(), s) == 0)
      t.resize(t.size() - s.size());
  }
  while (!t.empty() && t.back() == ' ') t.pop_back();
  if (t.size() == 1 && t[0] >= '1' && t[0] <= '5') return t[0] - '0';
  static const std::vector<std::pair<std::string, int>> kWords = {
      {"一", 1}, {"二", 2}, {"两", 2}, {"三", 3}, {"四", 4}, {"五", 5},
      {"非常满意", 5}, {"很满意", 5}, {"满意", 4}, {"还行", 3}, {"一般", 3},
      {"不满意", 2}, {"很不满意", 1}, {"非常不满意", 1}, {"差评", 1}, {"好评", 5}};
  for (const auto& [w, n] : kWords)
    if (t == w) return n;
  return 0;
}

}  // namespace

void Engine::DeskTurn(Context& ctx, const storage::DeskConversation& open, const Inbound& in,
                      const nlu::Understanding& u, TurnState& turn) {
  storage::DeskConversation conv = open;
  turn.intent = "handoff";
  turn.handoff = "message";
  turn.desk_id = conv.public_id;
  json meta = {{"intent", u.intent}, {"confidence", u.confidence}};
  if (in.media) meta["media"] = MediaJson(*in.media);
  const std::string text = MessageText(in, u);
  storage::AppendDeskMessage(ctx.tx, conv.id, ctx.now, "customer", 0, text, meta.dump());
  conv.last_customer_at = ctx.now;
  conv.replies_since_customer = 0;  // WeChat: 5 more messages may go out

  if (conv.state == "queued" && !in.media && !in.event && LeavesQueue(u)) {
    conv.state = "released";
    conv.end_kind = "cancelled";
    conv.ended_at = ctx.now;
    storage::AppendDeskMessage(ctx.tx, conv.id, ctx.now, "system", 0, "客户取消了排队", "{}");
    storage::UpdateDeskConversation(ctx.tx, conv);
    storage::AppendDeskEvent(ctx.tx, conv.id, "cancelled", ctx.now);
    ctx.Say("desk.left_queue");
    turn.handoff = "cancelled";
    return;
  }
  storage::UpdateDeskConversation(ctx.tx, conv);
  storage::AppendDeskEvent(ctx.tx, conv.id, "message", ctx.now);
  if (conv.state != "queued") return;  // held: the agent answers, the bot is silent
  // Queued: one short acknowledgement, never a flow's prompt — but danger
  // (有人触电, 电线掉了) gets the safety advice at once, whoever answers later.
  if (!in.media && !in.event &&
      ContainsAny(Compact(u.normalized), ReplyWords(ctx, "repair.danger_words"))) {
    ctx.Say("repair.danger");
    return;
  }
  if (u.intent == "human_agent") {
    if (settings_.desk_hours.OpenAt(ctx.now)) {
      const int ahead = storage::QueuePosition(ctx.tx, conv) - 1;
      if (ahead == 0)
        ctx.Say("desk.still_queued_next");
      else
        ctx.Say("desk.still_queued", {{"ahead", std::to_string(ahead)}});
    }
    if (!settings_.desk_hours.OpenAt(ctx.now))
      ctx.Say("desk.still_queued_after_hours",
              {{"when", WhenText(settings_.desk_hours.NextOpening(ctx.now), ctx.now)}});
    return;
  }
  ctx.Say("desk.ack");
}

void Engine::StartHandoff(Context& ctx, ConversationState& state, const std::string& reason,
                          TurnState& turn) {
  // A person takes over: whatever flow waited ends here.
  state.stack.clear();
  state.queue = json::array();
  state.clarify.clear();
  state.fallbacks = 0;

  storage::DeskConversation conv;
  conv.public_id = NewPublicId();
  conv.channel = ctx.channel;
  conv.external_id = ctx.external_id;
  conv.state = "queued";
  conv.reason = reason;
  conv.queued_at = ctx.now;
  conv.last_customer_at = ctx.now;
  storage::CreateDeskConversation(ctx.tx, conv);
  turn.desk_id = conv.public_id;

  // The agent reads the conversation so far: the bot's recent turns, then
  // this message and what the bot says to it now.
  for (const storage::TurnLog& t :
       storage::RecentBotTurns(ctx.tx, ctx.channel, ctx.external_id, kHistoryTurns)) {
    const json meta = {{"intent", t.intent}, {"confidence", t.confidence},
                       {"flow", t.flow},     {"step", t.step}};
    storage::AppendDeskMessage(ctx.tx, conv.id, t.at, "customer", 0, t.text, meta.dump());
    const json replies = json::parse(t.replies_json, nullptr, false);
    if (replies.is_array())
      for (const json& r : replies)
        if (r.is_string())
          storage::AppendDeskMessage(ctx.tx, conv.id, t.at, "bot", 0, r.get<std::string>(), "{}");
  }
  if (settings_.desk_hours.OpenAt(ctx.now)) {
    const int ahead = storage::QueuePosition(ctx.tx, conv) - 1;
    // "好的，…" only when they asked; after not being understood, plainly.
    const std::string lead = reason == "asked" ? "好的，" : "";
    if (ahead == 0)
      ctx.Say("desk.queued_next", {{"lead", lead}});
    else
      ctx.Say("desk.queued", {{"ahead", std::to_string(ahead)}, {"lead", lead}});
  } else {
    ctx.Say("desk.after_hours",
            {{"hours", settings_.desk_hours.Describe()},
             {"when", WhenText(settings_.desk_hours.NextOpening(ctx.now), ctx.now)}});
  }
  storage::AppendDeskEvent(ctx.tx, conv.id, "queued", ctx.now);
}

void Engine::AppendHandoffTurn(Context& ctx, const std::string& desk_id, const std::string* text,
                               const nlu::Understanding& u, const std::vector<Reply>& replies) {
  auto conv = storage::FindDeskConversation(ctx.tx, desk_id);
  if (!conv) return;
  if (text) {
    const json meta = {{"intent", u.intent}, {"confidence", u.confidence}};
    storage::AppendDeskMessage(ctx.tx, conv->id, ctx.now, "customer", 0, *text, meta.dump());
  }
  for (const Reply& r : replies)
    storage::AppendDeskMessage(ctx.tx, conv->id, ctx.now, "bot", 0, r.text, "{}");
}

bool Engine::TakeRating(Context& ctx, const nlu::Understanding& u, TurnState& turn) {
  auto conv = storage::RatingPending(ctx.tx, ctx.channel, ctx.external_id);
  if (!conv) return false;
  const int rating = RatingIn(u);
  conv->rating_open = false;  // asked once: the next message answers it or not
  if (rating > 0) conv->rating = rating;
  storage::UpdateDeskConversation(ctx.tx, *conv);
  if (rating == 0) return false;
  storage::AppendDeskMessage(ctx.tx, conv->id, ctx.now, "system", 0,
                             "客户评分：" + std::to_string(rating) + "分", "{}");
  storage::AppendDeskEvent(ctx.tx, conv->id, "rated", ctx.now);
  ctx.Say(rating >= 3 ? "desk.rating_thanks" : "desk.rating_low",
          {{"rating", std::to_string(rating)}});
  turn.intent = "rating";
  return true;
}

void Engine::MediaTurn(Context& ctx, ConversationState& state, const Media& media,
                       TurnState& turn) {
  turn.intent = "media";
  Flow* flow = state.InFlow() ? FlowFor(state.Active().flow) : nullptr;
  if (media.type == "image" && flow && flow->name() == "report_fault") {
    // A photo of the fault goes with the ticket.
    json& photos = state.Active().slots["photos"];
    if (!photos.is_array()) photos = json::array();
    if (photos.size() < 9) photos.push_back({{"url", media.url}, {"media_id", media.media_id}});
    ctx.Say("media.photo_attached");
    flow->Prompt(ctx, state.Active(), false);
    turn.intent = flow->name();
    return;
  }
  ctx.Say(media.type == "image" ? "media.image" : media.type == "voice" ? "media.voice" : "media.other");
  if (flow) {
    ctx.Say("resume", {{"flow", flow->title()}});
    flow->Prompt(ctx, state.Active(), false);
  }
}

}  // namespace gridbot::dialogs
