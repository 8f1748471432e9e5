#include "dialogs/flow_util.h"

#include <algorithm>

#include "nlu/numbers.h"

namespace gridbot::dialogs {

std::string Slot(const nlu::Understanding& u, const std::string& name) {
  auto it = u.slots.find(name);
  return it == u.slots.end() ? "" : it->second;
}

std::string FrameSlot(const Frame& f, const std::string& name) {
  auto it = f.slots.find(name);
  return it != f.slots.end() && it->is_string() ? it->get<std::string>() : "";
}

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

std::string ChineseDateTime(UnixSeconds t) {
  const CivilTime c = ToCivil(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d年%d月%d日 %02d:%02d", c.day.year, c.day.month, c.day.day,
                c.hour, c.minute);
  return buf;
}

}  // namespace gridbot::dialogs
