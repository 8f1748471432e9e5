// 账单 and 欠费: a month's bill, the latest, a range of months; arrears.
#include <sstream>

#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {
namespace {

using storage::FormatMoney;

class BillFlow : public Flow {
 public:
  std::string name() const override { return "query_bill"; }
  std::vector<std::string> replies() const override {
    return {"bill.paid",        "bill.unpaid",       "bill.none",       "bill.none_month",
            "bill.not_issued",  "bill.range",        "bill.range_item", "bill.range_none",
            "bill.status_paid", "bill.status_unpaid", "bill.overdue", "bill.status_overdue",
            "bill.recent_note", "bill.months", "bill.months_not_issued", "bill.months_none",
            "bill.months_empty"};
  }
  std::string title() const override { return "账单查询"; }
  bool one_shot() const override { return true; }
  bool needs_account() const override { return true; }

  FlowResult Start(Context& ctx, Frame&, const nlu::Understanding& u) override {
    auto account = RequestedAccount(ctx, u);
    if (!account) return FlowResult::kDone;
    const std::string& no = account->account_no;
    if (const std::string months = Slot(u, "months"); !months.empty())
      return Months(ctx, *account, months);
    const std::string start = Slot(u, "start_month"), end = Slot(u, "end_month");
    if (!start.empty() && !end.empty()) {
      // "最近三个月" counts bills, not calendar months: this month's is not
      // issued yet, so the last three that exist are shown.
      if (end > ctx.LastBilledMonth() && Compact(u.normalized).find("近") != std::string::npos) {
        int count = 0;
        for (std::string m = start; m <= end && count < 24; m = NextYearMonth(m)) ++count;
        std::string last = ctx.LastBilledMonth(), first = last;
        for (int i = 1; i < count; ++i) first = PreviousYearMonth(first);
        ctx.Say("bill.recent_note", {{"month", ChineseMonth(ctx.CurrentMonth())},
                                      {"count", std::to_string(count)}});
        return Range(ctx, *account, first, last);
      }
      return Range(ctx, *account, start, end);
    }
    const std::string month = Slot(u, "month");
    std::optional<storage::Bill> bill = month.empty() ? ctx.tx.LatestBill(no, ctx.LastBilledMonth())
                                        : month > ctx.LastBilledMonth()
                                            ? std::nullopt
                                            : ctx.tx.FindBill(no, month);
    if (!bill) {
      if (month.empty()) {
        ctx.Say("bill.none", {{"account", no}});
      } else {
        auto latest = ctx.tx.LatestBill(no, ctx.LastBilledMonth());
        ctx.Say(month > ctx.LastBilledMonth() ? "bill.not_issued" : "bill.none_month",
                {{"account", no},
                 {"month", ChineseMonth(month)},
                 {"latest", latest ? ChineseMonth(latest->month) : "-"}});
      }
      return FlowResult::kDone;
    }
    const int late = OverdueDays(*bill, ctx.today);
    ctx.Say(bill->paid ? "bill.paid" : late > 0 ? "bill.overdue" : "bill.unpaid",
            {{"account", no},
             {"days", std::to_string(late)},
                                                       {"address", account->address},
                                                       {"month", ChineseMonth(bill->month)},
                                                       {"kwh", std::to_string(bill->kwh)},
                                                       {"amount", FormatMoney(bill->amount_fen)},
                                                       {"due", DueText(*bill)}});
    return FlowResult::kDone;
  }

 private:
  // "3月和4月的电费一共多少": the months listed ("2024-03,2024-04") and their sum.
  FlowResult Months(Context& ctx, const storage::Account& account, const std::string& months) {
    std::string lines, names;
    std::int64_t total = 0, kwh = 0;
    int count = 0;
    std::stringstream list(months);
    for (std::string m; std::getline(list, m, ',');) {
      auto b = m > ctx.LastBilledMonth() ? std::nullopt : ctx.tx.FindBill(account.account_no, m);
      names += (names.empty() ? "" : "、") + ChineseMonth(m);
      if (!b) {
        lines += (lines.empty() ? "" : "\n") +
                 ctx.replies.Render(m > ctx.LastBilledMonth() ? "bill.months_not_issued"
                                                              : "bill.months_none",
                                    {{"month", ChineseMonth(m)}});
        continue;
      }
      lines += (lines.empty() ? "" : "\n") +
               ctx.replies.Render(
                   "bill.range_item",
                   {{"month", ChineseMonth(m)},
                    {"kwh", std::to_string(b->kwh)},
                    {"amount", FormatMoney(b->amount_fen)},
                    {"status", ctx.replies.Render(b->paid ? "bill.status_paid" : "bill.status_unpaid")}});
      total += b->amount_fen;
      kwh += b->kwh;
      ++count;
    }
    if (count == 0) {
      ctx.Say("bill.months_empty", {{"account", account.account_no}, {"months", names}, {"list", lines}});
      return FlowResult::kDone;
    }
    ctx.Say("bill.months", {{"account", account.account_no},
                            {"months", names},
                            {"list", lines},
                            {"count", std::to_string(count)},
                            {"kwh", std::to_string(kwh)},
                            {"total", FormatMoney(total)}});
    return FlowResult::kDone;
  }

  FlowResult Range(Context& ctx, const storage::Account& account, std::string start,
                   std::string end) {
    if (start > end) std::swap(start, end);
    if (end > ctx.LastBilledMonth()) end = ctx.LastBilledMonth();
    std::string lines;
    std::int64_t total = 0, kwh = 0;
    int count = 0;
    for (std::string m = start; m <= end && count < 36;) {
      if (auto b = ctx.tx.FindBill(account.account_no, m)) {
        if (!lines.empty()) lines += "\n";
        lines += ctx.replies.Render(
            "bill.range_item",
            {{"month", ChineseMonth(m)},
             {"kwh", std::to_string(b->kwh)},
             {"amount", FormatMoney(b->amount_fen)},
             {"status", ctx.replies.Render(
                            b->paid                           ? "bill.status_paid"
                            : OverdueDays(*b, ctx.today) > 0 ? "bill.status_overdue"
                                                              : "bill.status_unpaid",
                            {{"days", std::to_string(OverdueDays(*b, ctx.today))}})}});
        total += b->amount_fen;
        kwh += b->kwh;
        ++count;
      }
      m = NextYearMonth(m);
    }
    if (count == 0) {
      ctx.Say("bill.range_none", {{"account", account.account_no},
                                  {"start", ChineseMonth(start)},
                                  {"end", ChineseMonth(end)}});
      return FlowResult::kDone;
    }
    ctx.Say("bill.range", {{"account", account.account_no},
                           {"start", ChineseMonth(start)},
                           {"end", ChineseMonth(end)},
                           {"list", lines},
                           {"count", std::to_string(count)},
                           {"kwh", std::to_string(kwh)},
                           {"total", FormatMoney(total)}});
    return FlowResult::kDone;
  }
};

class ArrearsFlow : public Flow {
 public:
  std::string name() const override { return "query_arrears"; }
  std::vector<std::string> replies() const override {
    return {"arrears.none", "arrears.none_balance", "arrears.some", "arrears.some_balance",
            "arrears.item", "arrears.item_overdue", "arrears.all_words", "arrears.all",
            "arrears.all_item"};
  }

  // "两个户号一共欠多少": each bound account's arrears and the sum.
  FlowResult AllAccounts(Context& ctx, const std::vector<storage::Binding>& bindings) {
    std::string lines;
    std::int64_t total = 0;
    for (const auto& b : bindings) {
      const std::int64_t owed = ctx.tx.ArrearsFen(b.account_no, ctx.LastBilledMonth());
      total += owed;
      lines += (lines.empty() ? "" : "\n") +
               ctx.replies.Render("arrears.all_item",
                                  {{"account", b.account_no}, {"amount", FormatMoney(owed)}});
    }
    ctx.Say("arrears.all", {{"count", std::to_string(bindings.size())},
                            {"list", lines},
                            {"total", FormatMoney(total)}});
    return FlowResult::kDone;
  }
  std::string title() const override { return "欠费查询"; }
  bool one_shot() const override { return true; }
  bool needs_account() const override { return true; }

  FlowResult Start(Context& ctx, Frame&, const nlu::Understanding& u) override {
    const auto bindings = ctx.tx.Bindings(ctx.user_id);
    if (bindings.size() >= 2 && Slot(u, "account_no").empty() &&
        ContainsAny(Compact(u.normalized), ReplyWords(ctx, "arrears.all_words")))
      return AllAccounts(ctx, bindings);
    auto account = RequestedAccount(ctx, u);
    if (!account) return FlowResult::kDone;
    const std::string& no = account->account_no;
    auto unpaid = ctx.tx.UnpaidBills(no, ctx.LastBilledMonth());
    const std::int64_t arrears = ctx.tx.ArrearsFen(no, ctx.LastBilledMonth());
    if (arrears == 0) {
      ctx.Say(account->balance_fen > 0 ? "arrears.none_balance" : "arrears.none",
              {{"account", no}, {"balance", FormatMoney(account->balance_fen)}});
      return FlowResult::kDone;
    }
    std::string lines;
    for (const auto& b : unpaid) {
      if (!lines.empty()) lines += "\n";
      const int late = OverdueDays(b, ctx.today);
      lines += ctx.replies.Render(late > 0 ? "arrears.item_overdue" : "arrears.item",
                                  {{"month", ChineseMonth(b.month)},
                                   {"amount", FormatMoney(b.amount_fen)},
                                   {"days", std::to_string(late)},
                                   {"due", DueText(b)}});
    }
    ctx.Say(account->balance_fen > 0 ? "arrears.some_balance" : "arrears.some",
            {{"account", no},
             {"address", account->address},
             {"count", std::to_string(unpaid.size())},
             {"list", lines},
             {"balance", FormatMoney(account->balance_fen)},
             {"total", FormatMoney(arrears)}});
    return FlowResult::kDone;
  }
};
}  // namespace

std::unique_ptr<Flow> MakeBillFlow() { return std::make_unique<BillFlow>(); }
std::unique_ptr<Flow> MakeArrearsFlow() { return std::make_unique<ArrearsFlow>(); }

}  // namespace gridbot::dialogs
