// 户号: bind (city → 户号 → service password, with lock-out), list,
// switch the default, unbind (with confirmation).
#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {
namespace {

using storage::FormatMoney;

constexpr int kMaxPasswordFailures = 5;
constexpr UnixSeconds kLockSeconds = 30 * 60;
constexpr const char* kServicePassword = "service_password";

class ListAccountsFlow : public Flow {
 public:
  std::string name() const override { return "list_accounts"; }
  std::vector<std::string> replies() const override { return {"accounts.list"}; }
  std::string title() const override { return "查看已绑定户号"; }
  bool one_shot() const override { return true; }
  FlowResult Start(Context& ctx, Frame&, const nlu::Understanding&) override {
    auto bindings = ctx.tx.Bindings(ctx.user_id);
    if (bindings.empty()) {
      ctx.Say("accounts.none");
      return FlowResult::kDone;
    }
    ctx.Say("accounts.list", {{"count", std::to_string(bindings.size())},
                              {"max", std::to_string(kMaxBindings)},
                              {"list", NumberedAccounts(ctx, bindings)}});
    return FlowResult::kDone;
  }
};

// 绑定户号: city → 户号 → service password (checked, with lock-out).
class BindAccountFlow : public Flow {
 public:
  std::string name() const override { return "bind_account"; }
  std::string title() const override { return "绑定户号"; }
  std::vector<std::string> replies() const override {
    return {"bind.limit",          "bind.ask_city",     "bind.bad_city",      "bind.ask_account",
            "bind.ask_account_in", "bind.bad_account",  "bind.already",       "bind.locked",
            "bind.locked_now",     "bind.target_wait",  "secret.source_wait", "bind.ask_password",
            "bind.password_hint",  "bind.bad_password", "bind.done",          "bind.done_first"};
  }

  FlowResult Start(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (ctx.tx.Bindings(ctx.user_id).size() >= kMaxBindings) {
      ctx.Say("bind.limit", {{"max", std::to_string(kMaxBindings)}});
      f.then = nullptr;
      return FlowResult::kDone;
    }
    Take(ctx, f, u);
    return Advance(ctx, f);
  }

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    if (f.step == "password") return true;
    return u.slots.count("city") || u.slots.count("district") || u.slots.count("account_no");
  }

  bool SecretStep(const Frame& f) const override { return f.step == "password"; }
  bool ShapedLikeSecret(const Frame& f, const std::string& normalized) const override {
    return !SecretDigits(normalized, 6, 6).empty();  // service passwords are six digits
  }
  std::string ExpectedSlot(const Frame& f) const override {
    return f.step == "city" || f.step == "account" ? "account_no" : "";
  }
  std::vector<Corrigible> CorrigibleSlots() const override {
    return {{"city", "city", "city"},
            {"city", "city", "district"},
            {"account_no", "account", "account_no"}};
  }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (f.step == "password") return CheckPassword(ctx, f, u.text);
    const nlohmann::json before = f.slots;
    Take(ctx, f, u);
    if (f.slots == before) {
      ++f.failures;
      Prompt(ctx, f, true);
      return FlowResult::kWaiting;
    }
    return Advance(ctx, f);
  }

  void Prompt(Context& ctx, const Frame& f, bool hint) override {
    if (f.step == "city") ctx.Say(hint ? "bind.bad_city" : "bind.ask_city");
    if (f.step == "account") ctx.Say(hint ? "bind.bad_account" : "bind.ask_account");
    if (f.step == "password")
      ctx.Say("bind.ask_password", {{"account", FrameSlot(f, "account_no")}});
  }

 private:
  void Take(Context& ctx, Frame& f, const nlu::Understanding& u) {
    const std::string city = CityOf(ctx, u);
    if (!city.empty()) f.slots["city"] = city;
    if (!Slot(u, "account_no").empty()) f.slots["account_no"] = Slot(u, "account_no");
  }

  FlowResult Advance(Context& ctx, Frame& f) {
    if (FrameSlot(f, "city").empty()) {
      f.step = "city";
      Prompt(ctx, f, false);
      return FlowResult::kWaiting;
    }
    const std::string no = FrameSlot(f, "account_no");
    if (no.empty()) {
      f.step = "account";
      ctx.Say("bind.ask_account_in", {{"city", FrameSlot(f, "city")}});
      return FlowResult::kWaiting;
    }
    for (const auto& b : ctx.tx.Bindings(ctx.user_id)) {
      if (b.account_no == no) {
        ctx.Say("bind.already", {{"account", no}});
        return FlowResult::kDone;  // `then` still runs: the account is bound
      }
    }
    // Whether the 户号 exists (or is in that city) is not said before its
    // password: every number is asked for one, and an unknown number and a
    // wrong password get the same answer (a guesser learns nothing).
    if (Refused(ctx, f, no)) return FlowResult::kDone;
    f.step = "password";
    f.failures = 0;
    Prompt(ctx, f, false);
    return FlowResult::kWaiting;
  }

  // Locked for this customer, or everyone waits after many wrong passwords
  // for this account (flow_util.h TargetCounter): said, and the flow ends.
  bool Refused(Context& ctx, Frame& f, const std::string& no) {
    const UnixSeconds locked = LockedUntil(ctx, {ctx.user_id, no, kServicePassword});
    const UnixSeconds wait = TargetWaitUntil(ctx, {no, kServicePassword});
    if (locked <= ctx.now && wait <= ctx.now) return false;
    if (locked > ctx.now)
      ctx.Say("bind.locked", {{"account", no}, {"minutes", MinutesLeft(locked, ctx.now)}});
    else if (!SaySourceWait(ctx, wait))
      ctx.Say("bind.target_wait", {{"account", no}, {"minutes", MinutesLeft(wait, ctx.now)}});
    f.then = nullptr;
    return true;
  }

  FlowResult CheckPassword(Context& ctx, Frame& f, const std::string& raw) {
    const std::string no = FrameSlot(f, "account_no");
    auto account = ctx.tx.FindAccount(no);
    if (Refused(ctx, f, no)) return FlowResult::kDone;
    // Customers type the password with spaces or full-width digits, in a
    // sentence ("密码是246810") or digit by digit in words; the engine only
    // gives messages shaped so (ShapedLikeSecret).
    const std::string password = SecretDigits(ctx.nlu.normalizer().Normalize(raw).text, 6, 6);
    if (password.empty()) {
      ctx.Say("bind.password_hint", {{"account", no}});
      return FlowResult::kWaiting;
    }
    const PasswordCounter counter{ctx.user_id, no, kServicePassword, kMaxPasswordFailures,
                                  kLockSeconds};
    // The city the customer named is only a help to find the number: the
    // number and its password decide (the reply names the account's own
    // address).
    if (!account || !ConstantTimeEqual(password, account->service_password)) {
      CountTargetFailure(ctx, {no, kServicePassword});
      const int left = CountWrongPassword(ctx, counter);
      if (left == 0) {
        ctx.Say("bind.locked_now", {{"account", no},
                                    {"max", std::to_string(kMaxPasswordFailures)},
                                    {"minutes", std::to_string(kLockSeconds / 60)}});
        f.then = nullptr;
        return FlowResult::kDone;
      }
      // This failure made everyone wait: no "还可以尝试N次" for a try that
      // would be refused.
      if (Refused(ctx, f, no)) return FlowResult::kDone;
      // Wrong again and again, whatever the number: a person helps.
      const int tries = f.slots.value("wrong_tries", 0) + 1;
      f.slots["wrong_tries"] = tries;
      if (tries >= kMaxPasswordFailures) return GiveUp(ctx, f);
      ctx.Say("bind.bad_password", {{"account", no}, {"left", std::to_string(left)}});
      return FlowResult::kWaiting;
    }
    ClearWrongPasswords(ctx, counter);
    ClearTargetFailures(ctx, {no, kServicePassword});
    const bool first = ctx.tx.Bindings(ctx.user_id).empty();
    ctx.tx.AddBinding(ctx.user_id, no, first, ctx.now);
    ctx.Say(first ? "bind.done_first" : "bind.done",
            {{"account", no}, {"holder", account->holder}, {"address", account->address}});
    return FlowResult::kDone;
  }

  FlowResult GiveUp(Context& ctx, Frame& f) {
    dialogs::GiveUp(ctx, *this);  // a person takes over (desk.md)
    f.then = nullptr;
    return FlowResult::kDone;
  }
};

class SwitchAccountFlow : public PickAccountFlow {
 public:
  std::string name() const override { return "switch_account"; }
  std::vector<std::string> replies() const override {
    return {"switch.ask", "switch.only_one", "switch.done"};
  }
  std::string title() const override { return "切换默认户号"; }

 protected:
  bool pick_single() const override { return false; }
  std::string choose_key() const override { return "switch.ask"; }
  FlowResult Picked(Context& ctx, Frame& f, const std::string& no) override {
    ctx.tx.SetDefault(ctx.user_id, no);
    ctx.focus_account = no;
    auto account = ctx.tx.FindAccount(no);
    ctx.Say("switch.done", {{"account", no}, {"address", account ? account->address : ""}});
    return FlowResult::kDone;
  }
};

class UnbindAccountFlow : public PickAccountFlow {
 public:
  std::string name() const override { return "unbind_account"; }
  std::vector<std::string> replies() const override {
    return {"unbind.ask", "unbind.confirm", "unbind.kept", "unbind.done", "unbind.done_last"};
  }
  std::string title() const override { return "解绑户号"; }

 protected:
  bool pick_single() const override { return true; }
  std::string choose_key() const override { return "unbind.ask"; }
  std::string confirm_key() const override { return "unbind.confirm"; }
  FlowResult Picked(Context& ctx, Frame& f, const std::string& no) override {
    f.slots["account_no"] = no;
    f.step = "confirm";
    f.failures = 0;
    Prompt(ctx, f, false);
    return FlowResult::kWaiting;
  }
  FlowResult Confirmed(Context& ctx, Frame& f, bool yes) override {
    const std::string no = FrameSlot(f, "account_no");
    if (!yes) {
      ctx.Say("unbind.kept", {{"account", no}});
      return FlowResult::kDone;
    }
    ctx.tx.RemoveBinding(ctx.user_id, no);
    auto rest = ctx.tx.Bindings(ctx.user_id);
    std::string default_no;
    for (const auto& b : rest)
      if (b.is_default) default_no = b.account_no;
    ctx.Say(default_no.empty() ? "unbind.done_last" : "unbind.done",
            {{"account", no}, {"default", default_no}});
    return FlowResult::kDone;
  }
};

}  // namespace

std::unique_ptr<Flow> MakeBindAccountFlow() { return std::make_unique<BindAccountFlow>(); }
std::unique_ptr<Flow> MakeListAccountsFlow() { return std::make_unique<ListAccountsFlow>(); }
std::unique_ptr<Flow> MakeSwitchAccountFlow() { return std::make_unique<SwitchAccountFlow>(); }
std::unique_ptr<Flow> MakeUnbindAccountFlow() { return std::make_unique<UnbindAccountFlow>(); }

}  // namespace gridbot::dialogs
