// 订阅服务: the monthly bill of the current account by SMS (default: the
// registered or the account's phone), e-mail (validated) or WeChat (the
// conversation's OpenID, on the WeChat channel only); "我的订阅" lists them.
// 取消订阅: pick one of the active subscriptions (number, channel, account) or
// all of them, confirm, deactivate. `gridbot notify-bills` (bot/outbox.h)
// sends the notices.
#include "storage/subscriptions.h"

#include <algorithm>

#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"
#include "nlu/numbers.h"

namespace gridbot::dialogs {
namespace {

using storage::Subscription;

constexpr int kMaxFailures = 3;

// A word list of corpus/replies ("a|b|c"): whether `text` holds one of them.
bool HasWord(const Context& ctx, const std::string& key, const std::string& text) {
  return ContainsAny(text, ReplyWords(ctx, key));
}

bool HasDigit(const std::string& s) { return !Digits(s).empty(); }

// A plain address: local@label.label…, ASCII letters, digits and the usual
// punctuation, a top-level domain of two letters or more.
bool ValidEmail(const std::string& e) {
  const size_t at = e.find('@');
  if (e.size() > 254 || at == std::string::npos || at == 0 || at > 64 ||
      e.find('@', at + 1) != std::string::npos)
    return false;
  const std::string local = e.substr(0, at), domain = e.substr(at + 1);
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string::npos)
    return false;
  for (char c : local)
    if (!alnum(c) && std::string("._%+-").find(c) == std::string::npos) return false;
  std::vector<std::string> labels;
  size_t start = 0;
  for (size_t dot; (dot = domain.find('.', start)) != std::string::npos; start = dot + 1)
    labels.push_back(domain.substr(start, dot - start));
  labels.push_back(domain.substr(start));
  if (labels.size() < 2) return false;
  for (const std::string& l : labels) {
    if (l.empty() || l.size() > 63 || l.front() == '-' || l.back() == '-') return false;
    for (char c : l)
      if (!alnum(c) && c != '-') return false;
  }
  const std::string& tld = labels.back();
  return tld.size() >= 2 && std::all_of(tld.begin(), tld.end(), [](char c) {
           return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
         });
}

std::string ChannelName(const Context& ctx, const std::string& channel) {
  return ctx.replies.Render("subscription.channel." + channel);
}

std::string TargetText(const Context& ctx, const std::string& channel, const std::string& target) {
  if (channel == "sms") return MaskPhone(target);
  if (channel == "wechat") return ctx.replies.Render("subscription.target.wechat");
  return target;
}

// Lines "1. 户号…｜短信｜138****8000" for `subs`, numbered by their place
// in `all` (the customer's list).
std::string Lines(const Context& ctx, const std::vector<Subscription>& all,
                  const std::vector<std::int64_t>& only = {}) {
  std::string lines;
  for (size_t i = 0; i < all.size(); ++i) {
    const Subscription& s = all[i];
    if (!only.empty() && std::find(only.begin(), only.end(), s.id) == only.end()) continue;
    if (!lines.empty()) lines += "\n";
    lines +=
        ctx.replies.Render("subscription.item", {{"n", std::to_string(i + 1)},
                                                 {"account", s.account_no},
                                                 {"channel", ChannelName(ctx, s.channel)},
                                                 {"target", TargetText(ctx, s.channel, s.target)}});
  }
  return lines;
}

// "2" / "第2个" / "第二条" → 2.
std::optional<std::int64_t> ListNumber(const std::string& text) {
  std::string s = text;
  for (const char* strip :
       {"第", "个", "条", "号", "项", "那", "吧", "的", "取消", "退订", "订阅", "。", "."})
    for (size_t p; (p = s.find(strip)) != std::string::npos;) s.erase(p, std::string(strip).size());
  return nlu::ParseNumber(s);
}

const std::vector<std::string> kReplies = {"subscription.words.list",
                                           "subscription.words.all",
                                           "subscription.channel.sms",
                                           "subscription.channel.email",
                                           "subscription.channel.wechat",
                                           "subscription.target.wechat",
                                           "subscription.ask_channel",
                                           "subscription.bad_channel",
                                           "subscription.ask_phone",
                                           "subscription.bad_phone",
                                           "subscription.ask_email",
                                           "subscription.bad_email",
                                           "subscription.wechat_elsewhere",
                                           "subscription.confirm_sms",
                                           "subscription.confirm_email",
                                           "subscription.confirm_wechat",
                                           "subscription.confirm_hint",
                                           "subscription.done",
                                           "subscription.declined",
                                           "subscription.exists",
                                           "subscription.list",
                                           "subscription.item",
                                           "subscription.list_none",
                                           "unsubscribe.none",
                                           "unsubscribe.ask",
                                           "unsubscribe.bad_choice",
                                           "unsubscribe.no_channel",
                                           "unsubscribe.no_account",
                                           "unsubscribe.confirm",
                                           "unsubscribe.confirm_hint",
                                           "unsubscribe.done",
                                           "unsubscribe.kept",
                                           "subscription.notice.sms",
                                           "subscription.notice.sms_paid",
                                           "subscription.notice.email",
                                           "subscription.notice.email_paid",
                                           "subscription.notice.wechat",
                                           "subscription.notice.wechat_paid"};

void SayList(Context& ctx) {
  auto subs = storage::ListSubscriptions(ctx.tx, ctx.user_id);
  if (subs.empty()) {
    ctx.Say("subscription.list_none");
    return;
  }
  ctx.Say("subscription.list",
          {{"count", std::to_string(subs.size())}, {"list", Lines(ctx, subs)}});
}

// 订阅账单: account (the current one) → channel → phone / e-mail → confirm.
// Frame slots: account_no, channel, target.
class SubscribeFlow : public Flow {
 public:
  std::string name() const override { return "subscribe_bill"; }
  std::string title() const override { return "订阅账单"; }
  bool needs_account() const override { return true; }
  std::vector<std::string> replies() const override { return kReplies; }

  FlowResult Start(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (Slot(u, "channel").empty() && Slot(u, "phone").empty() && Slot(u, "email").empty() &&
        HasWord(ctx, "subscription.words.list", u.normalized)) {
      SayList(ctx);
      return FlowResult::kDone;
    }
    auto account = RequestedAccount(ctx, u);
    if (!account) return FlowResult::kDone;
    f.slots["account_no"] = account->account_no;
    switch (Take(f, u)) {
      case Taken::kBadEmail:
        f.step = "email";
        ctx.Say("subscription.bad_email");
        return FlowResult::kWaiting;
      default:
        return Advance(ctx, f);
    }
  }

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    if (u.slots.count("channel") || u.slots.count("phone") || u.slots.count("email") ||
        u.normalized.find('@') != std::string::npos)
      return true;
    if (f.step == "confirm") return u.intent == "affirm" || u.intent == "deny";
    if (f.step == "channel")
      return u.intent == "unknown" && u.normalized.size() <= 12 && HasDigit(u.normalized);
    if (f.step == "phone") return HasDigit(u.normalized);
    return false;  // "email": anything else is a new request or a failure
  }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (f.step == "confirm" && (u.intent == "affirm" || u.intent == "deny"))
      return Confirmed(ctx, f, u.intent == "affirm");
    switch (Take(f, u)) {
      case Taken::kBadEmail:
        f.step = "email";
        return Failed(ctx, f, "subscription.bad_email");
      case Taken::kBadPhone:
        return Failed(ctx, f, "subscription.bad_phone");
      case Taken::kNothing:
        if (f.step == "confirm") return Failed(ctx, f, "subscription.confirm_hint");
        if (f.step == "channel") return Failed(ctx, f, "subscription.bad_channel");
        return Failed(ctx, f,
                      f.step == "phone" ? "subscription.bad_phone" : "subscription.bad_email");
      case Taken::kSome:
        break;
    }
    return Advance(ctx, f);
  }

  void Prompt(Context& ctx, const Frame& f, bool hint) override {
    const std::string no = FrameSlot(f, "account_no");
    if (f.step == "channel") {
      ctx.Say(hint ? "subscription.bad_channel" : "subscription.ask_channel", {{"account", no}});
    } else if (f.step == "phone") {
      ctx.Say(hint ? "subscription.bad_phone" : "subscription.ask_phone");
    } else if (f.step == "email") {
      ctx.Say(hint ? "subscription.bad_email" : "subscription.ask_email");
    } else if (f.step == "confirm") {
      if (hint) {
        ctx.Say("subscription.confirm_hint");
        return;
      }
      auto account = ctx.tx.FindAccount(no);
      const std::string channel = FrameSlot(f, "channel");
      ctx.Say("subscription.confirm_" + channel,
              {{"account", no},
               {"address", account ? account->address : ""},
               {"target", TargetText(ctx, channel, FrameSlot(f, "target"))}});
    }
  }

 private:
  enum class Taken { kNothing, kSome, kBadEmail, kBadPhone };

  // Reads the channel and the target from a message: an e-mail address or a
  // phone number says the channel too.
  static Taken Take(Frame& f, const nlu::Understanding& u) {
    const std::string email = Slot(u, "email"), phone = Slot(u, "phone");
    std::string channel = Slot(u, "channel");
    auto set_channel = [&f](const std::string& c) {
      if (FrameSlot(f, "channel") != c) f.slots.erase("target");
      f.slots["channel"] = c;
    };
    if (!email.empty() && (channel.empty() || channel == "email")) {
      set_channel("email");
      if (!ValidEmail(email)) return Taken::kBadEmail;
      f.slots["target"] = email;
      return Taken::kSome;
    }
    if (!phone.empty() && (channel.empty() || channel == "sms")) {
      set_channel("sms");
      f.slots["target"] = phone;
      return Taken::kSome;
    }
    if (!channel.empty()) {
      set_channel(channel);
      return Taken::kSome;
    }
    // An address the NLU could not read as one.
    if (u.normalized.find('@') != std::string::npos) {
      set_channel("email");
      return Taken::kBadEmail;
    }
    if (f.step == "channel" && HasDigit(u.normalized)) {
      static const char* kByNumber[] = {"sms", "email", "wechat"};
      auto n = ListNumber(u.normalized);
      if (n && *n >= 1 && *n <= 3) {
        set_channel(kByNumber[*n - 1]);
        return Taken::kSome;
      }
      return Taken::kNothing;
    }
    if (f.step == "phone" && HasDigit(u.normalized)) return Taken::kBadPhone;
    return Taken::kNothing;
  }

  FlowResult Advance(Context& ctx, Frame& f) {
    const std::string no = FrameSlot(f, "account_no");
    const std::string channel = FrameSlot(f, "channel");
    if (channel.empty()) return Ask(ctx, f, "channel");
    if (channel == "wechat") {
      if (ctx.channel != "wechat") {
        ctx.Say("subscription.wechat_elsewhere");
        return FlowResult::kDone;
      }
      f.slots["target"] = ctx.external_id;
    }
    if (channel == "sms" && FrameSlot(f, "target").empty()) {
      // The phone the customer registered with, else the account's own.
      std::string phone = storage::RegisteredPhone(ctx.tx, ctx.user_id).value_or("");
      if (!IsMobile(phone)) {
        auto account = ctx.tx.FindAccount(no);
        phone = account ? account->phone : "";
      }
      if (!IsMobile(phone)) return Ask(ctx, f, "phone");
      f.slots["target"] = phone;
    }
    if (channel == "email" && FrameSlot(f, "target").empty()) return Ask(ctx, f, "email");
    const std::string target = FrameSlot(f, "target");
    if (storage::FindSubscription(ctx.tx, ctx.user_id, no, channel, target)) {
      ctx.Say("subscription.exists", {{"account", no},
                                      {"channel", ChannelName(ctx, channel)},
                                      {"target", TargetText(ctx, channel, target)}});
      return FlowResult::kDone;
    }
    return Ask(ctx, f, "confirm");
  }

  FlowResult Ask(Context& ctx, Frame& f, const std::string& step) {
    if (f.step != step) f.failures = 0;
    f.step = step;
    Prompt(ctx, f, false);
    return FlowResult::kWaiting;
  }

  FlowResult Failed(Context& ctx, Frame& f, const std::string& hint_key) {
    if (++f.failures >= kMaxFailures) {
      GiveUp(ctx, *this);  // a person takes over (desk.md)
      return FlowResult::kDone;
    }
    ctx.Say(hint_key);
    return FlowResult::kWaiting;
  }

  FlowResult Confirmed(Context& ctx, Frame& f, bool yes) {
    if (!yes) {
      ctx.Say("subscription.declined");
      return FlowResult::kDone;
    }
    const std::string no = FrameSlot(f, "account_no"), channel = FrameSlot(f, "channel"),
                      target = FrameSlot(f, "target");
    const Vars vars = {{"account", no},
                       {"channel", ChannelName(ctx, channel)},
                       {"target", TargetText(ctx, channel, target)}};
    if (!storage::Subscribe(ctx.tx, ctx.user_id, no, channel, target, ctx.now)) {
      ctx.Say("subscription.exists", vars);  // made meanwhile, in another conversation
      return FlowResult::kDone;
    }
    ctx.Say("subscription.done", vars);
    return FlowResult::kDone;
  }
};

// 取消订阅: which one(s) → confirm → deactivate. Frame slots: ids (array).
class UnsubscribeFlow : public Flow {
 public:
  std::string name() const override { return "unsubscribe_bill"; }
  std::string title() const override { return "取消订阅"; }
  std::vector<std::string> replies() const override { return kReplies; }

  FlowResult Start(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    auto subs = storage::ListSubscriptions(ctx.tx, ctx.user_id);
    if (subs.empty()) {
      ctx.Say("unsubscribe.none");
      return FlowResult::kDone;
    }
    const std::string channel = StatedSlot(u, "channel"), account = Slot(u, "account_no");
    auto picked = Pick(ctx, u, subs, /*by_number=*/false);
    if (!picked && !channel.empty())
      ctx.Say("unsubscribe.no_channel", {{"channel", ChannelName(ctx, channel)}});
    else if (!picked && !account.empty())
      ctx.Say("unsubscribe.no_account", {{"account", account}});
    if (!picked && subs.size() == 1 && channel.empty() && account.empty()) picked = {subs[0].id};
    if (picked) return Chosen(ctx, f, *picked);
    f.step = "choose";
    Prompt(ctx, f, false);
    return FlowResult::kWaiting;
  }

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    if (f.step == "confirm") return u.intent == "affirm" || u.intent == "deny";
    return u.intent == "unknown" || u.intent == "unsubscribe_bill" || u.intent == "cancel" ||
           u.slots.count("channel") || u.slots.count("account_no");
  }

  // "都取消吧" / "全部取消" at "which one?" means all of them.
  bool ClaimsCancelWords(const Frame& f) const override { return f.step == "choose"; }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (f.step == "confirm") {
      const std::vector<std::int64_t> ids = Ids(f);
      if (u.intent != "affirm") {
        ctx.Say("unsubscribe.kept");
        return FlowResult::kDone;
      }
      int count = 0;
      for (std::int64_t id : ids) count += storage::Unsubscribe(ctx.tx, ctx.user_id, id) ? 1 : 0;
      ctx.Say("unsubscribe.done", {{"count", std::to_string(count)}});
      return FlowResult::kDone;
    }
    auto subs = storage::ListSubscriptions(ctx.tx, ctx.user_id);
    auto picked = Pick(ctx, u, subs, /*by_number=*/true);
    if (!picked && u.intent == "unsubscribe_bill" && StatedSlot(u, "channel").empty() &&
        Slot(u, "account_no").empty()) {
      Prompt(ctx, f, false);  // "取消订阅" again: the same question, not a wrong answer
      return FlowResult::kWaiting;
    }
    if (!picked && u.intent == "cancel") {  // a bare "取消": the customer gives up
      ctx.Say("cancelled", {{"flow", title()}});
      return FlowResult::kDone;
    }
    if (!picked) {
      if (++f.failures >= kMaxFailures) {
        GiveUp(ctx, *this);  // a person takes over (desk.md)
        return FlowResult::kDone;
      }
      Prompt(ctx, f, true);
      return FlowResult::kWaiting;
    }
    return Chosen(ctx, f, *picked);
  }

  void Prompt(Context& ctx, const Frame& f, bool hint) override {
    auto subs = storage::ListSubscriptions(ctx.tx, ctx.user_id);
    if (f.step == "confirm") {
      if (hint) {
        ctx.Say("unsubscribe.confirm_hint");
        return;
      }
      ctx.Say("unsubscribe.confirm", {{"list", Lines(ctx, subs, Ids(f))}});
      return;
    }
    ctx.Say(hint ? "unsubscribe.bad_choice" : "unsubscribe.ask",
            {{"count", std::to_string(subs.size())}, {"list", Lines(ctx, subs)}});
  }

 private:
  static std::vector<std::int64_t> Ids(const Frame& f) {
    std::vector<std::int64_t> ids;
    auto it = f.slots.find("ids");
    if (it != f.slots.end() && it->is_array())
      for (const auto& v : *it)
        if (v.is_number_integer()) ids.push_back(v.get<std::int64_t>());
    return ids;
  }

  // The subscriptions a message names: all of them ("全部"), those of a
  // channel and/or an account, or the one at a number of the list.
  static std::optional<std::vector<std::int64_t>> Pick(const Context& ctx,
                                                       const nlu::Understanding& u,
                                                       const std::vector<Subscription>& subs,
                                                       bool by_number) {
    std::vector<std::int64_t> ids;
    if (HasWord(ctx, "subscription.words.all", u.normalized)) {
      for (const auto& s : subs) ids.push_back(s.id);
      return ids;
    }
    const std::string channel = StatedSlot(u, "channel"), account = Slot(u, "account_no");
    if (!channel.empty() || !account.empty()) {
      for (const auto& s : subs)
        if ((channel.empty() || s.channel == channel) &&
            (account.empty() || s.account_no == account))
          ids.push_back(s.id);
      if (ids.empty()) return std::nullopt;
      return ids;
    }
    if (by_number) {
      auto n = ListNumber(u.normalized);
      if (n && *n >= 1 && *n <= static_cast<std::int64_t>(subs.size()))
        return std::vector<std::int64_t>{subs[*n - 1].id};
    }
    return std::nullopt;
  }

  FlowResult Chosen(Context& ctx, Frame& f, const std::vector<std::int64_t>& ids) {
    f.slots["ids"] = ids;
    f.step = "confirm";
    f.failures = 0;
    Prompt(ctx, f, false);
    return FlowResult::kWaiting;
  }
};

}  // namespace

std::unique_ptr<Flow> MakeSubscribeFlow() { return std::make_unique<SubscribeFlow>(); }
std::unique_ptr<Flow> MakeUnsubscribeFlow() { return std::make_unique<UnsubscribeFlow>(); }

}  // namespace gridbot::dialogs
