// 缴费记录: the payments of the current account in a month, a range of months
// (slots month / start_month + end_month) or, by default, the last 6 months
// up to now: date, amount and method of each, and the total.
#include <algorithm>
#include <optional>

#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {
namespace {

using storage::FormatMoney;

constexpr int kDefaultMonths = 6;
constexpr int kMaxListed = 60;  // a range of years is summed, but not all listed

struct YearMonth {
  int year = 0, month = 0;
  static std::optional<YearMonth> Parse(const std::string& s) {
    if (s.size() != 7 || s[4] != '-') return std::nullopt;
    for (size_t i : {0, 1, 2, 3, 5, 6})
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
    YearMonth ym{std::stoi(s.substr(0, 4)), std::stoi(s.substr(5, 2))};
    if (ym.month < 1 || ym.month > 12) return std::nullopt;
    return ym;
  }
  YearMonth Plus(int months) const {
    const int index = year * 12 + (month - 1) + months;
    return YearMonth{index / 12, index % 12 + 1};
  }
  std::string Text() const { return FormatYearMonth(year, month); }
  UnixSeconds Begin() const { return FromCivil(CivilTime{{year, month, 1}, 0, 0, 0}); }
  auto operator<=>(const YearMonth&) const = default;
};

class PaymentsFlow : public Flow {
 public:
  std::string name() const override { return "query_payments"; }
  std::string title() const override { return "缴费记录"; }
  bool one_shot() const override { return true; }
  bool needs_account() const override { return true; }
  std::vector<std::string> replies() const override {
    return {"payments.month",      "payments.range",       "payments.recent",
            "payments.item",       "payments.more",        "payments.none_month",
            "payments.none_range", "payments.none_recent", "payments.future"};
  }

  FlowResult Start(Context& ctx, Frame&, const nlu::Understanding& u) override {
    auto account = RequestedAccount(ctx, u);
    if (!account) return FlowResult::kDone;
    const YearMonth current{ctx.today.year, ctx.today.month};
    std::optional<YearMonth> start = YearMonth::Parse(Slot(u, "start_month"));
    std::optional<YearMonth> end = YearMonth::Parse(Slot(u, "end_month"));
    const std::optional<YearMonth> month = YearMonth::Parse(Slot(u, "month"));
    bool recent = false;
    if (start && end) {
      if (*end < *start) std::swap(start, end);
    } else if (month) {
      start = end = month;
    } else {
      recent = true;
      start = current.Plus(1 - kDefaultMonths);
      end = current;
    }
    if (current < *start) {
      ctx.Say("payments.future", {{"month", ChineseMonth(start->Text())}});
      return FlowResult::kDone;
    }
    if (current < *end) end = current;
    const bool one_month = *start == *end;

    // Payments dated after now have not happened yet.
    const UnixSeconds to = std::min(end->Plus(1).Begin(), ctx.now + 1);
    const auto payments = ctx.tx.Payments(account->account_no, start->Begin(), to);
    Vars vars = {{"account", account->account_no},
                 {"month", ChineseMonth(start->Text())},
                 {"start", ChineseMonth(start->Text())},
                 {"end", ChineseMonth(end->Text())},
                 {"months", std::to_string(kDefaultMonths)}};
    if (payments.empty()) {
      ctx.Say(recent      ? "payments.none_recent"
              : one_month ? "payments.none_month"
                          : "payments.none_range",
              vars);
      return FlowResult::kDone;
    }
    std::string lines;
    std::int64_t total = 0;
    int listed = 0;
    for (const auto& p : payments) {
      total += p.amount_fen;
      if (++listed > kMaxListed) continue;
      if (!lines.empty()) lines += "\n";
      lines += ctx.replies.Render("payments.item", {{"date", ChineseDateTime(p.paid_at)},
                                                    {"amount", FormatMoney(p.amount_fen)},
                                                    {"method", p.method}});
    }
    if (listed > kMaxListed)
      lines += "\n" +
               ctx.replies.Render("payments.more", {{"more", std::to_string(listed - kMaxListed)}});
    vars["list"] = lines;
    vars["count"] = std::to_string(payments.size());
    vars["total"] = FormatMoney(total);
    ctx.Say(recent ? "payments.recent" : one_month ? "payments.month" : "payments.range", vars);
    return FlowResult::kDone;
  }
};

}  // namespace

std::unique_ptr<Flow> MakePaymentsFlow() { return std::make_unique<PaymentsFlow>(); }

}  // namespace gridbot::dialogs
