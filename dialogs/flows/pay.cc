// 在线缴费 (支付宝 / 银联): the account's address, settlement unit and
// arrears → amount (default: the arrears) → method → confirmation → a payment
// order (storage/money.h) and the link to pay it. The gateway's notify
// (bot/payment_gateway.cc) credits the order and tells the customer.
//
// With nothing owed, UnionPay is refused (as in the original account, it
// pays arrears only) and Alipay is offered to prepay (预存) an amount the
// customer names.
//
// The link is always "<public_url>/pay/<order_no>" (Context::settings): that
// page is the built-in simulator, or, with a gateway configured, hands the
// order on to it (bot/payment_gateway.cc), so the flow never signs anything.
#include <algorithm>
#include <sstream>

#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"
#include "nlu/numbers.h"
#include "storage/money.h"

namespace gridbot::dialogs {
namespace {

using storage::FormatMoney;

constexpr int kMaxAnswerFailures = 3;

// Whether a message may be an amount: it has a number in it (Arabic or
// Chinese) and is not another request; Continue() reads it.
bool HasNumber(const nlu::Understanding& u) {
  if (u.slots.count("amount")) return true;
  if (u.intent != "unknown" && u.intent != "pay_bill") return false;
  for (const char* d :
       {"0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",  "9",  "零", "一", "二",
        "两", "三", "四", "五", "六", "七", "八", "九", "十", "百", "千", "万"})
    if (u.normalized.find(d) != std::string::npos) return true;
  return false;
}

// The amount a message names: the NLU's slot, else the message without its
// filler words ("改成100", "就交一百五吧") read as money, "元" implied.
std::optional<std::int64_t> AmountOf(const Context& ctx, const nlu::Understanding& u) {
  const std::string slot = Slot(u, "amount");
  if (!slot.empty()) return storage::ParseMoney(slot);
  std::string s = Compact(u.normalized);
  std::vector<std::string> fillers = ReplyWords(ctx, "pay.amount_filler_words");
  std::sort(fillers.begin(), fillers.end(),  // longest first
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& w : fillers)
    for (size_t p; (p = s.find(w)) != std::string::npos;) s.erase(p, w.size());
  if (s.empty()) return std::nullopt;
  if (auto fen = nlu::ParseMoneyFen(s)) return fen;
  return nlu::ParseMoneyFen(s + "元");
}

class PayBillFlow : public Flow {
 public:
  std::string name() const override { return "pay_bill"; }
  std::string title() const override { return "在线缴费"; }
  bool needs_account() const override { return true; }
  std::vector<std::string> replies() const override {
    return {"pay.info", "pay.info_balance", "pay.no_arrears", "pay.no_arrears_unionpay",
            "pay.ask_amount", "pay.bad_amount", "pay.ask_method", "pay.bad_method", "pay.confirm",
            "pay.confirm_prepay", "pay.unionpay_needs_arrears", "pay.kept", "pay.order", "pay.unavailable",
            "pay.amount_filler_words", "pay.method.alipay", "pay.months", "pay.months_note", "pay.oldest_words", "pay.month_paid",
            "pay.month_none", "pay.method.unionpay",
            // Said by the gateway (bot/payment_gateway.cc), checked here.
            "pay.notice_paid", "pay.notice_bills", "pay.notice_arrears_none",
            "pay.notice_arrears_some", "pay.page.title", "pay.page.details", "pay.page.button",
            "pay.page.note", "pay.page.done", "pay.page.already", "pay.page.not_found",
            "pay.page.gateway", "pay.status.pending", "pay.status.paid", "account_not_bound",
            "account_missing", "gave_up"};
  }

  FlowResult Start(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    auto account = RequestedAccount(ctx, u);
    if (!account) return FlowResult::kDone;
    const std::string& no = account->account_no;
    const std::int64_t arrears = ctx.tx.ArrearsFen(no, ctx.LastBilledMonth());
    std::string method = Slot(u, "pay_method");
    // "我不想用支付宝": the other one.
    if (auto n = u.negated.find("pay_method"); method.empty() && n != u.negated.end())
      method = n->second == "alipay" ? "unionpay" : "alipay";
    f.slots["account_no"] = no;
    f.slots["arrears_fen"] = arrears;
    std::string months;
    for (const auto& b : ctx.tx.UnpaidBills(no, ctx.LastBilledMonth()))
      months += (months.empty() ? "" : "、") + ChineseMonth(b.month);
    f.slots["arrears_months"] = months;
    const Vars vars = {{"account", no},
                       {"address", account->address},
                       {"unit", account->settlement_unit},
                       {"arrears", FormatMoney(arrears)},
                       {"balance", FormatMoney(account->balance_fen)}};
    if (arrears == 0) {
      if (method == "unionpay") {
        ctx.Say("pay.no_arrears_unionpay", vars);
        return FlowResult::kDone;
      }
      // Nothing owed: Alipay can still prepay an amount the customer names.
      ctx.Say("pay.no_arrears", vars);
      f.slots["method"] = "alipay";
      f.slots["prepay"] = true;
    } else {
      ctx.Say(account->balance_fen > 0 ? "pay.info_balance" : "pay.info", vars);
      if (!method.empty()) f.slots["method"] = method;
    }
    if (OldestFirst(ctx, u) && arrears > 0) return Oldest(ctx, f);
    // "支付宝交6月份的电费": that month's bill.
    if (!Slot(u, "month").empty() && Slot(u, "amount").empty() && arrears > 0) {
      f.step = "amount";
      return MonthsBills(ctx, f, u);
    }
    if (auto amount = AmountOf(ctx, u); amount && !Slot(u, "amount").empty()) {
      if (!ValidAmount(*amount)) {
        f.step = "amount";
        return Failed(ctx, f);
      }
      f.slots["amount_fen"] = *amount;
    }
    return Advance(ctx, f);
  }

  std::vector<Corrigible> CorrigibleSlots() const override {
    return {{"amount_fen", "amount", "amount"}, {"method", "method", "pay_method"}};
  }

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    if (f.step != "" && (u.intent == "unknown" || u.intent == "pay_bill") &&
        (u.normalized.find("最久") != std::string::npos || u.normalized.find("最早") != std::string::npos))
      return true;
    // "只交6月的": the bill of a month.
    if ((f.step == "amount" || f.step == "method" || f.step == "confirm") && u.slots.count("month") &&
        (u.intent == "unknown" || u.intent == "pay_bill" || u.intent == "query_bill"))
      return true;
    if (f.step == "amount") return HasNumber(u) || u.slots.count("pay_method");
    if (f.step == "method") return u.slots.count("pay_method") > 0;
    if (f.step == "confirm")
      return u.intent == "affirm" || u.intent == "deny" || u.slots.count("pay_method") ||
             HasNumber(u);
    return false;
  }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (f.step == "confirm" && u.intent == "affirm") return Order(ctx, f);
    if (f.step == "confirm" && u.intent == "deny") {
      ctx.Say("pay.kept");
      return FlowResult::kDone;
    }
    if (u.slots.count("month") && !u.slots.count("amount")) return MonthsBills(ctx, f, u);
    if (OldestFirst(ctx, u)) return Oldest(ctx, f);
    // An amount, a method, or (at the confirmation) a change of either.
    const std::string method = Slot(u, "pay_method");
    if (!method.empty()) {
      if (method == "unionpay" && Arrears(f) == 0) {
        ctx.Say("pay.unionpay_needs_arrears");
        Prompt(ctx, f, false);
        return FlowResult::kWaiting;
      }
      f.slots["method"] = method;
    }
    const bool amount_given =
        method.empty() || u.slots.count("amount") || (f.step == "amount" && HasNumber(u));
    if (amount_given) {
      auto amount = AmountOf(ctx, u);
      if (!amount || !ValidAmount(*amount)) return Failed(ctx, f);
      f.slots["amount_fen"] = *amount;
      f.slots.erase("paying_months");
    }
    return Advance(ctx, f);
  }

  void Prompt(Context& ctx, const Frame& f, bool hint) override {
    const Vars vars = {{"account", FrameSlot(f, "account_no")},
                       {"amount", FormatMoney(f.slots.value("amount_fen", std::int64_t{0}))},
                       {"arrears", FormatMoney(Arrears(f))},
                       {"max", FormatMoney(storage::kMaxOrderFen)},
                       {"method", MethodName(ctx, FrameSlot(f, "method"))},
                       {"months", PayingMonths(ctx, f)}};
    if (f.step == "amount") ctx.Say(hint ? "pay.bad_amount" : "pay.ask_amount", vars);
    if (f.step == "method") ctx.Say(hint ? "pay.bad_method" : "pay.ask_method", vars);
    if (f.step == "confirm")
      ctx.Say(f.slots.value("prepay", false) ? "pay.confirm_prepay" : "pay.confirm", vars);
  }

 private:
  // "（2024年7月电费）" when the amount is exactly some months' bills.
  static std::string PayingMonths(const Context& ctx, const Frame& f) {
    std::string months = FrameSlot(f, "paying_months");
    if (months.empty() && f.slots.value("amount_fen", std::int64_t{-1}) == Arrears(f))
      months = FrameSlot(f, "arrears_months");
    return months.empty() ? "" : ctx.replies.Render("pay.months_note", {{"months", months}});
  }

  static std::int64_t Arrears(const Frame& f) {
    return f.slots.value("arrears_fen", std::int64_t{0});
  }
  static bool ValidAmount(std::int64_t fen) { return fen > 0 && fen <= storage::kMaxOrderFen; }
  static std::string MethodName(const Context& ctx, const std::string& method) {
    return method.empty() ? "" : ctx.replies.Render("pay.method." + method);
  }

  // "先交逾期最久的那个": the oldest unpaid bill.
  static bool OldestFirst(const Context& ctx, const nlu::Understanding& u) {
    return ContainsAny(Compact(u.normalized), ReplyWords(ctx, "pay.oldest_words"));
  }
  FlowResult Oldest(Context& ctx, Frame& f) {
    auto unpaid = ctx.tx.UnpaidBills(FrameSlot(f, "account_no"), ctx.LastBilledMonth());
    if (unpaid.empty()) return Advance(ctx, f);
    const storage::Bill& b = unpaid.front();
    f.slots["amount_fen"] = b.amount_fen;
    f.slots["paying_months"] = ChineseMonth(b.month);
    ctx.Say("pay.months", {{"months", ChineseMonth(b.month)}, {"amount", FormatMoney(b.amount_fen)}});
    return Advance(ctx, f);
  }

  // "只交6月的" / "交6月和7月的": the amount is those months' unpaid bills.
  FlowResult MonthsBills(Context& ctx, Frame& f, const nlu::Understanding& u) {
    std::vector<std::string> months;
    std::string text = Compact(u.normalized);
    for (const char* sep : {"和", "跟", "、", "还有", "以及"})
      for (size_t p; (p = text.find(sep)) != std::string::npos;) text.replace(p, std::string(sep).size(), " ");
    std::istringstream items(text);
    for (std::string item; items >> item;) {
      auto s = ctx.nlu.slots().Extract(item, ctx.today);
      if (s.count("month") && std::find(months.begin(), months.end(), s["month"]) == months.end())
        months.push_back(s["month"]);
    }
    if (months.empty()) months.push_back(Slot(u, "month"));
    const std::string no = FrameSlot(f, "account_no");
    std::int64_t total = 0;
    std::string names;
    for (const std::string& m : months) {
      auto bill = ctx.tx.FindBill(no, m);
      if (!bill || bill->paid || m > ctx.LastBilledMonth()) {
        ctx.Say(bill && bill->paid ? "pay.month_paid" : "pay.month_none",
                {{"month", ChineseMonth(m)}, {"account", no}});
        Prompt(ctx, f, false);
        return FlowResult::kWaiting;
      }
      total += bill->amount_fen;
      names += (names.empty() ? "" : "、") + ChineseMonth(m);
    }
    f.slots["amount_fen"] = total;
    f.slots["paying_months"] = names;
    ctx.Say("pay.months", {{"months", names}, {"amount", FormatMoney(total)}});
    return Advance(ctx, f);
  }

  FlowResult Advance(Context& ctx, Frame& f) {
    f.failures = 0;
    if (!f.slots.contains("amount_fen")) {
      if (Arrears(f) <= 0) return Ask(ctx, *this, f, "amount");
      f.slots["amount_fen"] = Arrears(f);  // the default: all that is owed
    }
    return Ask(ctx, *this, f, FrameSlot(f, "method").empty() ? "method" : "confirm");
  }

  FlowResult Order(Context& ctx, Frame& f) {
    if (!ctx.settings.online_payment) {
      ctx.Say("pay.unavailable");
      return FlowResult::kDone;
    }
    storage::PaymentOrder order;
    order.user_id = ctx.user_id;
    order.account_no = FrameSlot(f, "account_no");
    order.amount_fen = f.slots.value("amount_fen", std::int64_t{0});
    order.method = FrameSlot(f, "method");
    if (!ctx.tx.FindAccount(order.account_no)) {
      ctx.Say("account_missing", {{"account", order.account_no}});
      return FlowResult::kDone;
    }
    order.channel = ctx.channel;  // told here when it is paid
    order.external_id = ctx.external_id;
    const std::string order_no = storage::CreateOrder(ctx.tx, order, ctx.now);
    if (order_no.empty()) return FlowResult::kDone;  // the turn rolls back with an apology
    ctx.Say("pay.order", {{"order", order_no},
                          {"account", order.account_no},
                          {"amount", FormatMoney(order.amount_fen)},
                          {"method", MethodName(ctx, order.method)},
                          {"link", ctx.settings.public_url + "/pay/" + order_no}});
    return FlowResult::kDone;
  }

  FlowResult Failed(Context& ctx, Frame& f) {
    if (++f.failures >= kMaxAnswerFailures) {
      GiveUp(ctx, *this);  // a person takes over (desk.md)
      return FlowResult::kDone;
    }
    // At the confirmation only a new amount can fail: say why, then ask again.
    if (f.step == "confirm")
      ctx.Say("pay.bad_amount", {{"max", FormatMoney(storage::kMaxOrderFen)}});
    Prompt(ctx, f, true);
    return FlowResult::kWaiting;
  }
};

}  // namespace

std::unique_ptr<Flow> MakePayBillFlow() { return std::make_unique<PayBillFlow>(); }

}  // namespace gridbot::dialogs
