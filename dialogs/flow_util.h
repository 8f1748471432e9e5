// Building blocks shared by the flows: reading slots, naming months and
// dates, listing and picking bound accounts, and small reusable flows.
//
// Thread safety: stateless functions and flows; see flow.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dialogs/flow.h"
#include "storage/fixtures.h"

namespace gridbot::dialogs {

inline constexpr int kMaxBindings = 5;

// A slot of the message, "" if absent.
std::string Slot(const nlu::Understanding& u, const std::string& name);
// A string slot the flow collected, "" if absent.
std::string FrameSlot(const Frame& f, const std::string& name);
// The city a message names, directly or through one of its districts.
std::string CityOf(const Context& ctx, const nlu::Understanding& u);
// "2024年8月20日" from a bill's due date.
std::string DueText(const storage::Bill& b);
// "2024年8月5日 08:00" from a time.
std::string ChineseDateTime(UnixSeconds t);
// The bound accounts as numbered lines, for choosing.
std::string NumberedAccounts(Context& ctx, const std::vector<storage::Binding>& bindings);
// Which bound account a message picks: its account number, the number of a
// line of the list ("2", "第二个"), or the last 4+ digits of one account.
std::optional<std::string> PickAccount(const nlu::Understanding& u,
                                       const std::vector<storage::Binding>& bindings);
// The account a data request is about: the one named (if bound), else the
// default. nullopt, with a reply said, if the named one is not bound.
std::optional<storage::Account> RequestedAccount(Context& ctx, const nlu::Understanding& u);

// Answers with one reply and is done: greetings, thanks, help, …
class SayFlow : public Flow {
 public:
  SayFlow(std::string intent, std::string title, std::string key)
      : intent_(std::move(intent)), title_(std::move(title)), key_(std::move(key)) {}
  std::string name() const override { return intent_; }
  std::string title() const override { return title_; }
  bool one_shot() const override { return true; }
  std::vector<std::string> replies() const override { return {key_}; }
  FlowResult Start(Context& ctx, Frame&, const nlu::Understanding&) override {
    ctx.Say(key_);
    return FlowResult::kDone;
  }

 private:
  std::string intent_, title_, key_;
};

// A service the chat cannot run yet: says so and where to get it done.
class NotYetFlow : public SayFlow {
 public:
  NotYetFlow(std::string intent, std::string title)
      : SayFlow(intent, title, "not_yet"), title_(std::move(title)) {}
  FlowResult Start(Context& ctx, Frame&, const nlu::Understanding&) override {
    ctx.Say("not_yet", {{"service", title_}});
    return FlowResult::kDone;
  }

 private:
  std::string title_;
};

// Flows that pick one of the bound accounts (asking "which one?" when there
// are several), then act on it; with an optional confirmation step.
class PickAccountFlow : public Flow {
 public:
  FlowResult Start(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    auto bindings = ctx.tx.Bindings(ctx.user_id);
    if (bindings.empty()) {
      ctx.Say("accounts.none");
      return FlowResult::kDone;
    }
    const std::string no = Slot(u, "account_no");
    if (!no.empty()) {
      auto picked = PickAccount(u, bindings);
      if (!picked) {
        ctx.Say("account_not_bound", {{"account", no}});
        return FlowResult::kDone;
      }
      return Picked(ctx, f, *picked);
    }
    if (bindings.size() == 1 && pick_single()) return Picked(ctx, f, bindings[0].account_no);
    if (bindings.size() == 1) {
      ctx.Say("switch.only_one", {{"account", bindings[0].account_no}});
      return FlowResult::kDone;
    }
    f.step = "choose";
    Prompt(ctx, f, false);
    return FlowResult::kWaiting;
  }

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    if (f.step == "confirm") return u.intent == "affirm" || u.intent == "deny";
    // A number or an account number answers "which one?"
    return u.slots.count("account_no") ||
           std::any_of(u.normalized.begin(), u.normalized.end(),
                       [](char c) { return c >= '0' && c <= '9'; }) ||
           u.normalized.find("第") != std::string::npos || u.normalized.size() <= 6;
  }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (f.step == "confirm") return Confirmed(ctx, f, u.intent == "affirm");
    auto picked = PickAccount(u, ctx.tx.Bindings(ctx.user_id));
    if (!picked) {
      ++f.failures;
      Prompt(ctx, f, true);
      return FlowResult::kWaiting;
    }
    return Picked(ctx, f, *picked);
  }

  void Prompt(Context& ctx, const Frame& f, bool hint) override {
    if (f.step == "confirm") {
      ctx.Say(confirm_key(), {{"account", FrameSlot(f, "account_no")}});
      return;
    }
    auto bindings = ctx.tx.Bindings(ctx.user_id);
    ctx.Say(hint ? "choose.bad" : choose_key(), {{"list", NumberedAccounts(ctx, bindings)}});
  }

 protected:
  virtual bool pick_single() const = 0;
  virtual std::string choose_key() const = 0;
  virtual std::string confirm_key() const { return ""; }
  virtual FlowResult Picked(Context& ctx, Frame& f, const std::string& account_no) = 0;
  virtual FlowResult Confirmed(Context& ctx, Frame& f, bool yes) { return FlowResult::kDone; }
};

}  // namespace gridbot::dialogs
