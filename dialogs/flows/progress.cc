// 进度查询: one business record by its number, or the open business of the
// customer's bound accounts, with type, status and dated steps.
//
// A number is a receipt anyone holding it may follow (as on the 95598
// hotline): any existing number gets its type, status and steps. The
// personal part (户号 and address) is shown only when the record belongs to
// an account bound to this customer.
#include <nlohmann/json.hpp>

#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"
#include "storage/queries.h"
#include "storage/services.h"

namespace gridbot::dialogs {
namespace {

using nlohmann::json;

const std::vector<std::string>& KnownTypes() {
  static const std::vector<std::string> kTypes = {"new_install", "capacity_increase", "change",
                                                  "repair", "meter_check"};
  return kTypes;
}

std::string TypeName(const Context& ctx, const std::string& type) {
  for (const std::string& t : KnownTypes())
    if (t == type) return ctx.replies.Render("progress.type." + t);
  return ctx.replies.Render("progress.type.other");
}

std::string Steps(const Context& ctx, const storage::Business& b) {
  std::string lines;
  for (const auto& s : b.steps) {
    if (!lines.empty()) lines += "\n";
    lines += ctx.replies.Render("progress.step", {{"at", ChineseDateTime(s.at)}, {"name", s.name}});
  }
  return lines;
}

std::string Upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

class ProgressFlow : public Flow {
 public:
  std::string name() const override { return "query_progress"; }
  std::string title() const override { return "进度查询"; }
  bool one_shot() const override { return true; }
  std::vector<std::string> replies() const override {
    std::vector<std::string> keys = {
        "progress.one",      "progress.one_other",  "progress.not_found", "progress.ask_number",
        "progress.list",     "progress.item",       "progress.none",      "progress.step",
        "progress.no_steps", "progress.type.other", "progress.next_open", "progress.next_done"};
    for (const std::string& t : KnownTypes()) keys.push_back("progress.type." + t);
    return keys;
  }

  FlowResult Start(Context& ctx, Frame&, const nlu::Understanding& u) override {
    const std::string no = Slot(u, "business_no");
    if (!no.empty()) return ByNumber(ctx, Upper(no));
    auto bindings = ctx.tx.Bindings(ctx.user_id);
    if (bindings.empty()) {
      ctx.Say("progress.ask_number");
      return FlowResult::kDone;
    }
    std::vector<std::string> accounts;
    const std::string named = Slot(u, "account_no");
    if (!named.empty()) {
      if (!ctx.IsBound(named)) {
        ctx.Say("account_not_bound", {{"account", named}});
        return FlowResult::kDone;
      }
      accounts.push_back(named);
    } else {
      for (const auto& b : bindings) accounts.push_back(b.account_no);
    }
    std::string joined;
    for (const std::string& a : accounts) joined += (joined.empty() ? "" : "、") + a;
    const auto open = storage::OpenBusinessOf(ctx.tx, accounts, ctx.now);
    if (open.empty()) {
      ctx.Say("progress.none", {{"accounts", joined}});
      return FlowResult::kDone;
    }
    std::string list;
    for (const auto& b : open) {
      if (!list.empty()) list += "\n\n";
      list += ctx.replies.Render("progress.item", {{"business_no", b.business_no},
                                                   {"type", TypeName(ctx, b.type)},
                                                   {"status", b.status},
                                                   {"account", b.account_no},
                                                   {"steps", StepsOrNone(ctx, b)}});
    }
    ctx.Say("progress.list",
            {{"count", std::to_string(open.size())}, {"accounts", joined}, {"list", list}});
    return FlowResult::kDone;
  }

 private:
  static std::string StepsOrNone(const Context& ctx, const storage::Business& b) {
    return b.steps.empty() ? ctx.replies.Render("progress.no_steps") : Steps(ctx, b);
  }

  FlowResult ByNumber(Context& ctx, const std::string& no) {
    auto b = storage::FindBusiness(ctx.tx, no, ctx.now);
    if (!b) {
      ctx.Say("progress.not_found", {{"business_no", no}});
      return FlowResult::kDone;
    }
    Vars vars = {
        {"business_no", b->business_no},
        {"type", TypeName(ctx, b->type)},
        {"status", b->status},
        {"steps", StepsOrNone(ctx, *b)},
        {"next", ctx.replies.Render(b->status == storage::kBusinessDone ? "progress.next_done"
                                                                        : "progress.next_open")}};
    if (b->account_no.empty() || !ctx.IsBound(b->account_no)) {
      ctx.Say("progress.one_other", vars);
      return FlowResult::kDone;
    }
    // The address the business is about: the one given when it was filed,
    // else the account's.
    std::string address;
    json details = json::parse(storage::BusinessDetails(ctx.tx, b->business_no), nullptr, false);
    if (details.is_object() && details.value("address", json()).is_string())
      address = details["address"].get<std::string>();
    if (address.empty())
      if (auto account = ctx.tx.FindAccount(b->account_no)) address = account->address;
    vars["account"] = b->account_no;
    vars["address"] = address;
    ctx.Say("progress.one", vars);
    return FlowResult::kDone;
  }
};

}  // namespace

std::unique_ptr<Flow> MakeProgressFlow() { return std::make_unique<ProgressFlow>(); }

}  // namespace gridbot::dialogs
