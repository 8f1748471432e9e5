// The flows of the foundation: greeting and small talk, help, human agent,
// binding, listing, switching and unbinding accounts, bills and arrears; and
// a polite "not in chat yet" for services that have no flow yet.
#include <algorithm>

#include "dialogs/flow.h"
#include "nlu/numbers.h"
#include "storage/fixtures.h"

namespace gridbot::dialogs {
namespace {

using nlohmann::json;
using storage::FormatMoney;

constexpr int kMaxBindings = 5;
constexpr int kMaxPasswordFailures = 5;
constexpr UnixSeconds kLockSeconds = 30 * 60;
constexpr const char* kServicePassword = "service_password";

std::string Slot(const nlu::Understanding& u, const std::string& name) {
  auto it = u.slots.find(name);
  return it == u.slots.end() ? "" : it->second;
}

std::string FrameSlot(const Frame& f, const std::string& name) {
  auto it = f.slots.find(name);
  return it != f.slots.end() && it->is_string() ? it->get<std::string>() : "";
}

// The city a message names, directly or through one of its districts.
std::string CityOf(const Context& ctx, const nlu::Understanding& u) {
  std::string city = Slot(u, "city");
  if (city.empty() && !Slot(u, "district").empty())
    city = ctx.nlu.gazetteer().CityOfDistrict(Slot(u, "district"));
  return city;
}

std::string DueText(const storage::Bill& b) {
  auto d = ParseCivilDay(b.due_date);
  if (!d) return b.due_date;
  return std::to_string(d->year) + "年" + std::to_string(d->month) + "月" +
         std::to_string(d->day) + "日";
}

// The accounts bound by this user, as numbered lines for choosing.
std::string NumberedAccounts(Context& ctx, const std::vector<storage::Binding>& bindings) {
  std::string lines;
  for (size_t i = 0; i < bindings.size(); ++i) {
    auto account = ctx.tx.FindAccount(bindings[i].account_no);
    lines += ctx.replies.Render(
        "accounts.item",
        {{"n", std::to_string(i + 1)},
         {"account", bindings[i].account_no},
         {"address", account ? account->address : ""},
         {"default", bindings[i].is_default ? ctx.replies.Render("accounts.default_mark") : ""}});
    if (i + 1 < bindings.size()) lines += "\n";
  }
  return lines;
}

// Which bound account a message picks: its account number, the number of a
// line of the list ("2", "第二个"), or the last digits of one account.
std::optional<std::string> PickAccount(const nlu::Understanding& u,
                                       const std::vector<storage::Binding>& bindings) {
  const std::string no = Slot(u, "account_no");
  for (const auto& b : bindings)
    if (!no.empty() && b.account_no == no) return no;
  std::string digits;
  for (char c : u.normalized)
    if (c >= '0' && c <= '9') digits += c;
  if (!digits.empty() && digits.size() >= 4) {
    std::optional<std::string> found;
    for (const auto& b : bindings) {
      if (b.account_no.size() >= digits.size() &&
          b.account_no.compare(b.account_no.size() - digits.size(), digits.size(), digits) == 0) {
        if (found) return std::nullopt;  // ambiguous
        found = b.account_no;
      }
    }
    return found;
  }
  // "2" / "第2个" / "第二个" / "二"
  std::string s = u.normalized;
  for (const char* strip : {"第", "个", "号", "户", "那", "吧", "的"}) {
    for (size_t p; (p = s.find(strip)) != std::string::npos;) s.erase(p, std::string(strip).size());
  }
  auto n = nlu::ParseNumber(s);
  if (n && *n >= 1 && *n <= static_cast<std::int64_t>(bindings.size()))
    return bindings[*n - 1].account_no;
  return std::nullopt;
}

// ---------------------------------------------------------------------------

// Answers with one reply and is done: greetings, thanks, help, …
class SayFlow : public Flow {
 public:
  SayFlow(std::string intent, std::string title, std::string key)
      : intent_(std::move(intent)), title_(std::move(title)), key_(std::move(key)) {}
  std::string name() const override { return intent_; }
  std::string title() const override { return title_; }
  bool one_shot() const override { return true; }
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

class ListAccountsFlow : public Flow {
 public:
  std::string name() const override { return "list_accounts"; }
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

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (f.step == "password") return CheckPassword(ctx, f, u.text);
    const size_t before = f.slots.size();
    Take(ctx, f, u);
    if (f.slots.size() == before) {
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
    auto account = ctx.tx.FindAccount(no);
    if (!account || account->city != FrameSlot(f, "city")) {
      ctx.Say(account ? "bind.city_mismatch" : "bind.account_not_found",
              {{"account", no}, {"city", FrameSlot(f, "city")}});
      f.slots.erase("account_no");
      f.step = "account";
      if (++f.failures >= 3) return GiveUp(ctx, f);
      return FlowResult::kWaiting;
    }
    const storage::AttemptState attempts = ctx.tx.Attempts(ctx.user_id, no, kServicePassword);
    if (attempts.locked_until > ctx.now) {
      ctx.Say("bind.locked", {{"account", no}, {"minutes", MinutesLeft(ctx, attempts)}});
      f.then = nullptr;
      return FlowResult::kDone;
    }
    f.step = "password";
    f.failures = 0;
    Prompt(ctx, f, false);
    return FlowResult::kWaiting;
  }

  FlowResult CheckPassword(Context& ctx, Frame& f, const std::string& raw) {
    const std::string no = FrameSlot(f, "account_no");
    auto account = ctx.tx.FindAccount(no);
    if (!account) return Advance(ctx, f);  // back end changed under us
    storage::AttemptState attempts = ctx.tx.Attempts(ctx.user_id, no, kServicePassword);
    if (attempts.locked_until > ctx.now) {
      ctx.Say("bind.locked", {{"account", no}, {"minutes", MinutesLeft(ctx, attempts)}});
      f.then = nullptr;
      return FlowResult::kDone;
    }
    // Customers type the password with spaces or full-width digits.
    std::string password;
    for (char c : ctx.nlu.normalizer().Normalize(raw).text)
      if (c != ' ') password += c;
    if (password != account->service_password) {
      if (attempts.locked_until != 0) attempts = {};  // an expired lock starts afresh
      ++attempts.failures;
      if (attempts.failures >= kMaxPasswordFailures) {
        attempts.locked_until = ctx.now + kLockSeconds;
        ctx.tx.SaveAttempts(ctx.user_id, no, kServicePassword, attempts);
        ctx.Say("bind.locked_now", {{"account", no}, {"max", std::to_string(kMaxPasswordFailures)},
                                    {"minutes", std::to_string(kLockSeconds / 60)}});
        f.then = nullptr;
        return FlowResult::kDone;
      }
      ctx.tx.SaveAttempts(ctx.user_id, no, kServicePassword, attempts);
      ctx.Say("bind.bad_password",
              {{"left", std::to_string(kMaxPasswordFailures - attempts.failures)}});
      return FlowResult::kWaiting;
    }
    ctx.tx.SaveAttempts(ctx.user_id, no, kServicePassword, storage::AttemptState{});
    const bool first = ctx.tx.Bindings(ctx.user_id).empty();
    ctx.tx.AddBinding(ctx.user_id, no, first, ctx.now);
    ctx.Say(first ? "bind.done_first" : "bind.done",
            {{"account", no}, {"holder", account->holder}, {"address", account->address}});
    return FlowResult::kDone;
  }

  FlowResult GiveUp(Context& ctx, Frame& f) {
    ctx.Say("gave_up", {{"flow", title()}});
    f.then = nullptr;
    return FlowResult::kDone;
  }

  static std::string MinutesLeft(const Context& ctx, const storage::AttemptState& a) {
    return std::to_string(std::max<std::int64_t>(1, (a.locked_until - ctx.now + 59) / 60));
  }
};

// Flows that pick one of the bound accounts, then act on it.
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

class SwitchAccountFlow : public PickAccountFlow {
 public:
  std::string name() const override { return "switch_account"; }
  std::string title() const override { return "切换默认户号"; }

 protected:
  bool pick_single() const override { return false; }
  std::string choose_key() const override { return "switch.ask"; }
  FlowResult Picked(Context& ctx, Frame& f, const std::string& no) override {
    ctx.tx.SetDefault(ctx.user_id, no);
    auto account = ctx.tx.FindAccount(no);
    ctx.Say("switch.done", {{"account", no}, {"address", account ? account->address : ""}});
    return FlowResult::kDone;
  }
};

class UnbindAccountFlow : public PickAccountFlow {
 public:
  std::string name() const override { return "unbind_account"; }
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

// The account a data request is about: the one named (if bound), else the
// default. nullopt (with a reply said) if the named one is not bound.
std::optional<storage::Account> RequestedAccount(Context& ctx, const nlu::Understanding& u) {
  std::string no = Slot(u, "account_no");
  if (!no.empty() && !ctx.IsBound(no)) {
    ctx.Say("account_not_bound", {{"account", no}});
    return std::nullopt;
  }
  if (no.empty()) no = ctx.DefaultAccount().value_or("");
  auto account = ctx.tx.FindAccount(no);
  if (!account) ctx.Say("account_missing", {{"account", no}});
  return account;
}

class BillFlow : public Flow {
 public:
  std::string name() const override { return "query_bill"; }
  std::string title() const override { return "账单查询"; }
  bool one_shot() const override { return true; }
  bool needs_account() const override { return true; }

  FlowResult Start(Context& ctx, Frame&, const nlu::Understanding& u) override {
    auto account = RequestedAccount(ctx, u);
    if (!account) return FlowResult::kDone;
    const std::string& no = account->account_no;
    const std::string start = Slot(u, "start_month"), end = Slot(u, "end_month");
    if (!start.empty() && !end.empty()) return Range(ctx, *account, start, end);
    const std::string month = Slot(u, "month");
    std::optional<storage::Bill> bill =
        month.empty()                    ? ctx.tx.LatestBill(no, ctx.LastBilledMonth())
        : month > ctx.LastBilledMonth() ? std::nullopt
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
    ctx.Say(bill->paid ? "bill.paid" : "bill.unpaid",
            {{"account", no},
             {"address", account->address},
             {"month", ChineseMonth(bill->month)},
             {"kwh", std::to_string(bill->kwh)},
             {"amount", FormatMoney(bill->amount_fen)},
             {"due", DueText(*bill)}});
    return FlowResult::kDone;
  }

 private:
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
        lines += ctx.replies.Render("bill.range_item",
                                    {{"month", ChineseMonth(m)},
                                     {"kwh", std::to_string(b->kwh)},
                                     {"amount", FormatMoney(b->amount_fen)},
                                     {"status", ctx.replies.Render(b->paid ? "bill.status_paid"
                                                                           : "bill.status_unpaid")}});
        total += b->amount_fen;
        kwh += b->kwh;
        ++count;
      }
      int y = std::stoi(m.substr(0, 4)), mo = std::stoi(m.substr(5, 2)) + 1;
      if (mo > 12) mo = 1, ++y;
      m = FormatYearMonth(y, mo);
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
  std::string title() const override { return "欠费查询"; }
  bool one_shot() const override { return true; }
  bool needs_account() const override { return true; }

  FlowResult Start(Context& ctx, Frame&, const nlu::Understanding& u) override {
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
      lines += ctx.replies.Render("arrears.item", {{"month", ChineseMonth(b.month)},
                                                   {"amount", FormatMoney(b.amount_fen)},
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

std::optional<std::string> Context::DefaultAccount() {
  auto bindings = tx.Bindings(user_id);
  for (const auto& b : bindings)
    if (b.is_default) return b.account_no;
  if (!bindings.empty()) return bindings.front().account_no;
  return std::nullopt;
}

bool Context::IsBound(const std::string& account_no) {
  for (const auto& b : tx.Bindings(user_id))
    if (b.account_no == account_no) return true;
  return false;
}

std::string ChineseMonth(const std::string& ym) {
  if (ym.size() != 7) return ym;
  return ym.substr(0, 4) + "年" + std::to_string(std::stoi(ym.substr(5, 2))) + "月";
}

std::vector<std::unique_ptr<Flow>> MakeFlows() {
  std::vector<std::unique_ptr<Flow>> f;
  f.push_back(std::make_unique<SayFlow>("greet", "问候", "greet"));
  f.push_back(std::make_unique<SayFlow>("goodbye", "道别", "goodbye"));
  f.push_back(std::make_unique<SayFlow>("thanks", "致谢", "thanks"));
  f.push_back(std::make_unique<SayFlow>("help", "帮助", "help"));
  f.push_back(std::make_unique<SayFlow>("affirm", "确认", "affirm_idle"));
  f.push_back(std::make_unique<SayFlow>("deny", "否定", "deny_idle"));
  f.push_back(std::make_unique<SayFlow>("human_agent", "人工客服", "human_agent"));
  f.push_back(std::make_unique<BindAccountFlow>());
  f.push_back(std::make_unique<ListAccountsFlow>());
  f.push_back(std::make_unique<SwitchAccountFlow>());
  f.push_back(std::make_unique<UnbindAccountFlow>());
  f.push_back(std::make_unique<BillFlow>());
  f.push_back(std::make_unique<ArrearsFlow>());
  // Services whose conversations are not built yet: answered honestly.
  const std::pair<const char*, const char*> not_yet[] = {
      {"register", "注册"},          {"login", "登录"},
      {"query_profile", "我的档案"}, {"query_progress", "进度查询"},
      {"query_outage", "停电查询"},  {"query_payments", "缴费记录"},
      {"recharge_card", "充值卡充值"}, {"pay_bill", "在线缴费"},
      {"report_fault", "故障报修"},  {"apply_service", "新装变更"},
      {"subscribe_bill", "订阅账单"}, {"unsubscribe_bill", "取消订阅"},
      {"find_outlet", "营业网点查询"}};
  for (auto [intent, title] : not_yet) f.push_back(std::make_unique<NotYetFlow>(intent, title));
  return f;
}

}  // namespace gridbot::dialogs
