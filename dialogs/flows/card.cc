// 充值卡充值: card number → card password (secret, with lock-out) → target
// account (the default one, or another bound account the customer names) →
// confirmation → the card's value credited once (storage/money.h).
#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"
#include "storage/money.h"

namespace gridbot::dialogs {
namespace {

using storage::FormatMoney;

constexpr int kMaxPasswordFailures = 5;
// Per card, whoever tries: after 10 wrong passwords from anyone, everyone
// waits before each next try (flow_util.h TargetCounter). Users are cheap to
// make on the web channel; cards must not be guessable, nor lockable.
constexpr UnixSeconds kLockSeconds = 30 * 60;
constexpr int kMaxAnswerFailures = 3;
constexpr const char* kCardPassword = "card_password";

// "2024年6月、2024年7月" — the months of the bills a credit paid.
std::string Months(const std::vector<storage::Bill>& bills) {
  std::string s;
  for (const auto& b : bills) s += (s.empty() ? "" : "、") + ChineseMonth(b.month);
  return s;
}

class RechargeCardFlow : public Flow {
 public:
  std::string name() const override { return "recharge_card"; }
  std::string title() const override { return "充值卡充值"; }
  bool needs_account() const override { return true; }
  std::vector<std::string> replies() const override {
    return {"card.ask_number",    "card.bad_number",    "card.unknown",
            "card.used",          "card.used_now",      "card.locked",
            "card.target_wait",   "secret.source_wait", "card.locked_now",
            "card.ask_password",  "card.bad_password",  "card.confirm",
            "card.confirm_other", "card.kept",          "card.done",
            "card.bills_paid",    "card.arrears_none",  "card.arrears_some",
            "account_not_bound",  "account_missing",    "gave_up"};
  }

  FlowResult Start(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    const std::string no = Slot(u, "account_no");
    if (!no.empty()) {
      if (!ctx.IsBound(no)) {
        ctx.Say("account_not_bound", {{"account", no}});
        return FlowResult::kDone;
      }
      f.slots["account_no"] = no;
    }
    const std::string card = Slot(u, "card_no");
    if (!card.empty()) return TakeCard(ctx, f, card);
    return Ask(ctx, *this, f, "card_no");
  }

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    if (f.step == "password") return true;
    // Digits answer, unless the message is another request ("3月份账单").
    const bool digits_only = u.intent == "unknown" || u.intent == name();
    if (f.step == "card_no")
      return u.slots.count("card_no") || (digits_only && !Digits(u.normalized).empty());
    if (f.step == "confirm")
      return u.intent == "affirm" || u.intent == "deny" || u.slots.count("account_no") ||
             u.slots.count("city") || u.slots.count("district") ||
             (digits_only && Digits(u.normalized).size() >= 4);
    return false;
  }

  bool SecretStep(const Frame& f) const override { return f.step == "password"; }
  bool ShapedLikeSecret(const Frame& f, const std::string& normalized) const override {
    return !SecretDigits(normalized, 6, 8).empty();
  }
  std::string ExpectedSlot(const Frame& f) const override {
    return f.step == "card_no" ? "card_no" : "";
  }
  std::vector<Corrigible> CorrigibleSlots() const override {
    return {{"card_no", "card_no", "card_no"}, {"account_no", "confirm", "account_no"}};
  }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (f.step == "card_no") {
      std::string card = Slot(u, "card_no");
      if (card.empty()) card = Digits(u.normalized);
      return TakeCard(ctx, f, card);
    }
    if (f.step == "password") return CheckPassword(ctx, f, u.text);
    if (f.step == "confirm") {
      if (u.intent == "affirm") return Redeem(ctx, f);
      if (u.intent == "deny") {
        ctx.Say("card.kept", {{"card", FrameSlot(f, "card_no")}});
        return FlowResult::kDone;
      }
      // Another bound account as the target.
      auto bindings = ctx.tx.Bindings(ctx.user_id);
      auto picked = PickAccount(u, bindings);
      if (!picked) picked = ReferencedAccount(ctx, u, bindings);
      if (picked) {
        f.slots["account_no"] = *picked;
        Prompt(ctx, f, false);
        return FlowResult::kWaiting;
      }
      if (!Slot(u, "account_no").empty())
        ctx.Say("account_not_bound", {{"account", Slot(u, "account_no")}});
      return Failed(ctx, f);
    }
    return FlowResult::kDone;
  }

  void Prompt(Context& ctx, const Frame& f, bool hint) override {
    if (f.step == "card_no") ctx.Say(hint ? "card.bad_number" : "card.ask_number");
    if (f.step == "password") ctx.Say("card.ask_password", {{"card", FrameSlot(f, "card_no")}});
    if (f.step == "confirm") {
      const std::string no = FrameSlot(f, "account_no");
      auto account = ctx.tx.FindAccount(no);
      std::int64_t amount = f.slots.value("amount_fen", std::int64_t{0});
      ctx.Say("card.confirm", {{"card", FrameSlot(f, "card_no")},
                               {"amount", FormatMoney(amount)},
                               {"account", no},
                               {"address", account ? account->address : ""},
                               {"other", ctx.tx.Bindings(ctx.user_id).size() > 1
                                             ? "\n" + ctx.replies.Render("card.confirm_other")
                                             : ""}});
    }
  }

 private:
  // A card number was given: unless locked, ask its password.
  FlowResult TakeCard(Context& ctx, Frame& f, const std::string& raw) {
    const std::string card = Digits(raw);
    f.step = "card_no";
    if (card.size() < 12 || card.size() > 20) return Failed(ctx, f);
    // Whether such a card exists, or was used, is said only to someone who
    // also knows its password: the number alone tells nothing.
    if (Refused(ctx, card)) return FlowResult::kDone;
    f.slots["card_no"] = card;
    f.failures = 0;
    return Ask(ctx, *this, f, "password");
  }

  // Locked for this customer, or everyone waits after many wrong passwords
  // for this card (flow_util.h TargetCounter).
  bool Refused(Context& ctx, const std::string& card) {
    const UnixSeconds locked = LockedUntil(ctx, {ctx.user_id, card, kCardPassword});
    const UnixSeconds wait = TargetWaitUntil(ctx, {card, kCardPassword});
    if (locked <= ctx.now && wait <= ctx.now) return false;
    const UnixSeconds until = std::max(locked, wait);
    if (locked > ctx.now || !SaySourceWait(ctx, wait))
      ctx.Say(locked > ctx.now ? "card.locked" : "card.target_wait",
              {{"card", card}, {"minutes", MinutesLeft(until, ctx.now)}});
    return true;
  }

  // The password is checked in the turn it is typed and never kept: the
  // frame only learns the card's value once it is right.
  FlowResult CheckPassword(Context& ctx, Frame& f, const std::string& raw) {
    const std::string card = FrameSlot(f, "card_no");
    auto found = storage::FindCard(ctx.tx, card);
    const PasswordCounter mine{ctx.user_id, card, kCardPassword, kMaxPasswordFailures,
                               kLockSeconds};
    if (Refused(ctx, card)) return FlowResult::kDone;
    const std::string password = SecretDigits(ctx.nlu.normalizer().Normalize(raw).text, 6, 8);
    if (!found || !ConstantTimeEqual(password, found->password)) {
      // An unknown number counts like a wrong password (the same answer).
      // Per card as well as per user: new identities get no new guesses.
      CountTargetFailure(ctx, {card, kCardPassword});
      const int left = CountWrongPassword(ctx, mine);
      if (left == 0) {
        ctx.Say("card.locked_now", {{"card", card},
                                    {"max", std::to_string(kMaxPasswordFailures)},
                                    {"minutes", std::to_string(kLockSeconds / 60)}});
        return FlowResult::kDone;
      }
      // This failure made everyone wait: no "还可以尝试N次" for a try that
      // would be refused.
      if (Refused(ctx, card)) return FlowResult::kDone;
      ctx.Say("card.bad_password", {{"left", std::to_string(left)}});
      return FlowResult::kWaiting;
    }
    ClearWrongPasswords(ctx, mine);
    ClearTargetFailures(ctx, {card, kCardPassword});
    if (found->used) {
      // Its owner may have another card at hand: keep asking for one.
      ctx.Say("card.used", {{"card", card}});
      f.slots.erase("card_no");
      f.step = "card_no";
      if (++f.failures >= kMaxAnswerFailures) return GiveUp(ctx, *this);
      return FlowResult::kWaiting;
    }
    f.slots["amount_fen"] = found->amount_fen;
    if (FrameSlot(f, "account_no").empty()) {
      auto no = ctx.DefaultAccount();
      if (!no) {  // unbound meanwhile
        ctx.Say("account_missing", {{"account", ""}});
        return FlowResult::kDone;
      }
      f.slots["account_no"] = *no;
    }
    f.failures = 0;
    return Ask(ctx, *this, f, "confirm");
  }

  FlowResult Redeem(Context& ctx, Frame& f) {
    const std::string card = FrameSlot(f, "card_no");
    const std::string no = FrameSlot(f, "account_no");
    if (!ctx.IsBound(no) || !ctx.tx.FindAccount(no)) {
      ctx.Say("account_missing", {{"account", no}});
      return FlowResult::kDone;
    }
    auto r = storage::RedeemCard(ctx.tx, card, no, ctx.now, ctx.LastBilledMonth());
    if (r.status == storage::RedeemStatus::kUnknownCard) {
      ctx.Say("card.unknown", {{"card", card}});
      return FlowResult::kDone;
    }
    if (r.status == storage::RedeemStatus::kAlreadyUsed) {
      ctx.Say("card.used_now", {{"card", card}});
      return FlowResult::kDone;
    }
    const storage::MoneyResult& m = r.money;
    ctx.Say(
        "card.done",
        {{"card", card},
         {"amount", FormatMoney(m.amount_fen)},
         {"account", no},
         {"bills", m.bills_paid.empty()
                       ? ""
                       : ctx.replies.Render("card.bills_paid", {{"months", Months(m.bills_paid)}})},
         {"owed", ctx.replies.Render(m.arrears_fen > 0 ? "card.arrears_some" : "card.arrears_none",
                                     {{"arrears", FormatMoney(m.arrears_fen)}})},
         {"balance", FormatMoney(m.credit.balance_fen)}});
    return FlowResult::kDone;
  }

  FlowResult Failed(Context& ctx, Frame& f) { return Retry(ctx, *this, f, kMaxAnswerFailures); }
};

}  // namespace

std::unique_ptr<Flow> MakeRechargeCardFlow() { return std::make_unique<RechargeCardFlow>(); }

}  // namespace gridbot::dialogs
