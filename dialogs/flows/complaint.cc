// 电费异常咨询: a customer who finds a bill too high ("电费怎么这么贵",
// "是不是电表坏了"). Not a fault repair: the latest bill is compared with
// the months before it (usage and amount), then a meter check (校验电表) and
// a person are offered; on "是" a meter-check business record (YK + date +
// sequence, type meter_check) is filed, shown by progress queries.
//
// Started by the command layer (commands.h: Complaint), never by an intent
// of the NLU.
#include <nlohmann/json.hpp>

#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"
#include "storage/services.h"

namespace gridbot::dialogs {
namespace {

using storage::FormatMoney;

constexpr int kMonthsCompared = 3;

class BillComplaintFlow : public Flow {
 public:
  std::string name() const override { return "bill_complaint"; }
  std::string title() const override { return "电费异常咨询"; }
  bool needs_account() const override { return true; }
  std::vector<std::string> replies() const override {
    return {"complaint.compare", "complaint.compare_none", "complaint.previous", "complaint.higher",
            "complaint.similar", "complaint.lower",        "complaint.offer",
            "complaint.done",    "complaint.declined",     "complaint.failed",
            "progress.type.meter_check"};
  }

  FlowResult Start(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    auto account = RequestedAccount(ctx, u);
    if (!account) return FlowResult::kDone;
    return Compare(ctx, f, u, *account);
  }

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    // Another bound account's 户号: compared instead.
    return f.step == "offer" &&
           (u.intent == "affirm" || u.intent == "deny" || u.slots.count("account_no"));
  }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (!Slot(u, "account_no").empty() && u.intent != "affirm") {
      auto account = RequestedAccount(ctx, u);
      if (!account) return FlowResult::kDone;
      return Compare(ctx, f, u, *account);
    }
    return Offered(ctx, f, u);
  }

 private:
  FlowResult Compare(Context& ctx, Frame& f, const nlu::Understanding& u,
                     const storage::Account& account_ref) {
    const storage::Account* account = &account_ref;
    const std::string& no = account->account_no;
    f.slots["account_no"] = no;
    std::string month = Slot(u, "month");
    if (month.empty() || month > ctx.LastBilledMonth()) month = ctx.LastBilledMonth();
    auto bill = ctx.tx.FindBill(no, month);
    if (!bill) bill = ctx.tx.LatestBill(no, ctx.LastBilledMonth());
    if (!bill) {
      ctx.Say("complaint.compare_none", {{"account", no}});
      return Ask(ctx, *this, f, "offer");
    }
    std::int64_t kwh = 0, fen = 0;
    int n = 0;
    std::string m = bill->month;
    // "比5月份贵咗一倍": the month the customer compares with, else the one before.
    std::string other = PreviousYearMonth(bill->month);
    {
      std::string text = Compact(u.normalized);
      const size_t at = text.find("比");
      if (at != std::string::npos) {
        auto s = ctx.nlu.slots().Extract(text.substr(at), ctx.today);
        if (s.count("month") && s["month"] != bill->month) other = s["month"];
      }
    }
    auto previous = ctx.tx.FindBill(no, other);
    for (int i = 0; i < kMonthsCompared; ++i) {
      m = PreviousYearMonth(m);
      if (auto b = ctx.tx.FindBill(no, m)) {
        kwh += b->kwh;
        fen += b->amount_fen;
        ++n;
      }
    }
    Vars vars = {{"account", no},
                 {"month", ChineseMonth(bill->month)},
                 {"kwh", std::to_string(bill->kwh)},
                 {"amount", FormatMoney(bill->amount_fen)},
                 {"months", std::to_string(n)},
                 {"previous", previous ? ctx.replies.Render(
                                             "complaint.previous",
                                             {{"month", ChineseMonth(previous->month)},
                                              {"kwh", std::to_string(previous->kwh)},
                                              {"amount", FormatMoney(previous->amount_fen)}})
                                       : ""}};
    std::string verdict;
    if (n > 0) {
      const std::int64_t avg_kwh = kwh / n, avg_fen = fen / n;
      vars["avg_kwh"] = std::to_string(avg_kwh);
      vars["avg_amount"] = FormatMoney(avg_fen);
      const std::int64_t diff = bill->kwh - avg_kwh;
      vars["diff_kwh"] = std::to_string(diff < 0 ? -diff : diff);
      vars["percent"] = std::to_string(avg_kwh > 0 ? (diff < 0 ? -diff : diff) * 100 / avg_kwh : 0);
      verdict = diff * 10 > avg_kwh ? "complaint.higher"
                : diff * 10 < -avg_kwh ? "complaint.lower"
                                       : "complaint.similar";
      vars["verdict"] = ctx.replies.Render(verdict, vars);
      ctx.Say("complaint.compare", vars);
    } else {
      ctx.Say("complaint.compare_none", vars);
    }
    return Ask(ctx, *this, f, "offer");
  }

  FlowResult Offered(Context& ctx, Frame& f, const nlu::Understanding& u) {
    if (u.intent != "affirm") {
      ctx.Say("complaint.declined");
      return FlowResult::kDone;
    }
    const std::string account_no = FrameSlot(f, "account_no");
    auto account = ctx.tx.FindAccount(account_no);
    const std::string no = storage::NextBusinessNo(ctx.tx, "YK", ctx.today);
    const nlohmann::json details = {{"address", account ? account->address : ""},
                                    {"reason", "电费异常，申请校验电表"},
                                    {"channel", ctx.channel}};
    if (!FileBusiness(ctx, no, account_no, "meter_check", details.dump())) {
      ctx.Say("complaint.failed");
      return FlowResult::kDone;
    }
    ctx.Say("complaint.done", {{"business_no", no}, {"account", account_no}});
    return FlowResult::kDone;
  }


 public:
  void Prompt(Context& ctx, const Frame& f, bool hint) override {
    if (f.step == "offer") ctx.Say("complaint.offer");
  }
};

}  // namespace

std::unique_ptr<Flow> MakeBillComplaintFlow() { return std::make_unique<BillComplaintFlow>(); }

}  // namespace gridbot::dialogs
