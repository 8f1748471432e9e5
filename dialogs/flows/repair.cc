// 故障报修: description → address (the account's offered) → contact phone
// (the bound or registered one offered) → optional name → confirmation →
// a repair business record "BX" + date + sequence, shown by progress queries.
//
// Works without a bound account (the address is then typed). The outage flow
// starts it (Frame::then) with slots account_no and address of the account it
// checked, and description (what the customer said); those are not asked.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"
#include "storage/services.h"

namespace gridbot::dialogs {
namespace {

using nlohmann::json;

constexpr int kMaxTries = 3;

class ReportFaultFlow : public Flow {
 public:
  std::string name() const override { return "report_fault"; }
  std::string title() const override { return "故障报修"; }
  std::vector<std::string> replies() const override {
    return {"services.skip_words",
            "repair.filler_words",
            "repair.danger_words",
            "repair.danger",
            "repair.handover",
            "repair.ask_description",
            "repair.bad_description",
            "repair.ask_address_offer",
            "repair.detail_added",
            "repair.address_taken",
            "repair.detail_words",
            "repair.detail_lead_words",
            "services.same_address_words",
            "repair.ask_address",
            "repair.bad_address",
            "repair.ask_phone_offer",
            "repair.ask_phone",
            "repair.bad_phone",
            "repair.ask_name",
            "repair.bad_name",
            "repair.confirm",
            "repair.name_line",
            "repair.kept",
            "repair.done",
            "repair.done_danger",
            "repair.failed"};
  }

  FlowResult Start(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    // The account the repair is about: the one named (if bound; the outage
    // flow passes the account it checked), else the default one.
    std::string no = Slot(u, "account_no");
    if (no.empty() || !ctx.IsBound(no))
      no = ReferencedAccount(ctx, u, ctx.tx.Bindings(ctx.user_id)).value_or("");
    if (no.empty()) no = ctx.DefaultAccount().value_or("");
    f.slots["account_no"] = no;
    // The outage flow may hand over what the customer said ("家里停电了").
    std::string description = Trimmed(Slot(u, "description"));
    if (description.empty()) description = DescriptionOf(ctx, u);
    if (!description.empty()) {
      f.slots["description"] = description;
      WarnIfDangerous(ctx, description);
    }
    const std::string address = Trimmed(Slot(u, "address"));
    if (!address.empty()) {
      f.slots["address"] = address;
      ctx.Say("repair.handover", {{"address", address}});
    }
    const std::string phone = PhoneOf(u);
    if (!phone.empty()) f.slots["phone"] = phone;
    return Advance(ctx, f);
  }

  std::string ExpectedSlot(const Frame& f) const override {
    return f.step == "phone" || f.step == "phone_offer" ? "phone" : "";
  }
  std::vector<Corrigible> CorrigibleSlots() const override {
    return {{"address", "address", "address"},
            {"phone", "phone", "phone"},
            {"name", "name", "name"},
            {"description", "description", "description"}};
  }

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    const bool yes_no = u.intent == "affirm" || u.intent == "deny";
    if (f.step == "confirm") return yes_no;
    // More about the fault, at any later step ("整栋楼都没电了", "还有一股焦味").
    if (f.step != "description" && (u.intent == "report_fault" || u.intent == "query_outage"))
      return true;
    if (f.step == "description")
      return FreeText(u) || u.intent == "report_fault" || u.intent == "query_outage";
    if (f.step == "address")
      return FreeText(u) || u.slots.count("city") || u.slots.count("district");
    if (f.step == "address_offer")
      return yes_no || FreeText(u) || u.slots.count("city") || u.slots.count("district");
    if (f.step == "phone" || f.step == "phone_offer")
      return (f.step == "phone_offer" && yes_no) || MayBePhone(u);
    if (f.step == "name") return FreeText(u) || u.intent == "deny";
    return false;
  }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    const std::string text = Trimmed(u.text);
    if (f.step == "confirm") return u.intent == "affirm" ? Submit(ctx, f) : Kept(ctx);
    if (f.step != "description" && AddDetail(ctx, f, u)) {
      // The detail may come with the answer ("是的 对了插座还冒烟了").
      if (f.step == "address" || f.step == "name") {  // the detail is no address or name
        Prompt(ctx, f, false);
        return FlowResult::kWaiting;
      }
      const bool yes = YesLead(ctx, u);
      const bool answered = yes || u.intent == "affirm" || u.intent == "deny" || !PhoneOf(u).empty();
      if (yes && u.intent != "affirm") {
        nlu::Understanding as_yes = u;
        as_yes.intent = "affirm";
        as_yes.text = as_yes.normalized = "是";  // the detail is taken
        return Continue(ctx, f, as_yes);
      }
      if (!answered) {
        Prompt(ctx, f, false);
        return FlowResult::kWaiting;
      }
    }
    if (f.step == "description") {
      if (CodePoints(Compact(u.normalized)) < 2) return Retry(ctx, *this, f, kMaxTries);
      f.slots["description"] = text;
      WarnIfDangerous(ctx, text);
    } else if (f.step == "address_offer" && WithoutNegated(u.normalized) != u.normalized &&
               CodePoints(WithoutNegated(u.normalized)) >= 5) {
      // "不是这个地址，是南宁市青秀区民族大道100号2栋"
      f.slots["address"] = WithoutNegated(u.normalized);
      ctx.Say("repair.address_taken", {{"address", FrameSlot(f, "address")}});
    } else if (f.step == "address_offer" &&
               (u.intent == "affirm" ||
                (u.intent != "deny" &&
                 ContainsAny(Compact(u.normalized), ReplyWords(ctx, "services.same_address_words"))))) {
      f.slots["address"] = FrameSlot(f, "offered_address");
    } else if (f.step == "address_offer" && u.intent == "deny") {
      f.slots["address_declined"] = true;
    } else if (f.step == "address" || f.step == "address_offer") {
      if (CodePoints(Compact(u.normalized)) < 5) return Retry(ctx, *this, f, kMaxTries);
      // "不是 是我妈家 南宁市江南区星光大道100号": the address from its place on.
      const std::string from_place = AddressFrom(u);
      f.slots["address"] = CodePoints(from_place) >= 5 ? from_place : text;
    } else if (f.step == "phone" || f.step == "phone_offer") {
      if (!TakePhone(f, u)) return Retry(ctx, *this, f, kMaxTries);
    } else if (f.step == "name") {
      if (u.intent == "deny" || IsOneOf(u.normalized, ReplyWords(ctx, "services.skip_words"))) {
        f.slots["name"] = "";
      } else {
        if (CodePoints(text) > 20 || Digits(text).size() >= 5)
          return Retry(ctx, *this, f, kMaxTries);
        f.slots["name"] = text;
      }
    }
    f.failures = 0;
    return Advance(ctx, f);
  }

  void Prompt(Context& ctx, const Frame& f, bool hint) override {
    if (f.step == "description")
      ctx.Say(hint ? "repair.bad_description" : "repair.ask_description");
    if (f.step == "address_offer")
      ctx.Say(hint ? "repair.bad_address" : "repair.ask_address_offer",
              {{"address", FrameSlot(f, "offered_address")},
               {"description", FrameSlot(f, "description")}});
    if (f.step == "address") ctx.Say(hint ? "repair.bad_address" : "repair.ask_address");
    if (f.step == "phone_offer")
      ctx.Say(hint ? "repair.bad_phone" : "repair.ask_phone_offer",
              {{"phone", MaskPhone(FrameSlot(f, "offered_phone"))}});
    if (f.step == "phone") ctx.Say(hint ? "repair.bad_phone" : "repair.ask_phone");
    if (f.step == "name") ctx.Say(hint ? "repair.bad_name" : "repair.ask_name");
    if (f.step == "confirm") {
      const std::string name = FrameSlot(f, "name");
      ctx.Say(
          "repair.confirm",
          {{"description", FrameSlot(f, "description")},
           {"address", FrameSlot(f, "address")},
           {"phone", ShownPhone(f)},
           {"name_line",
            name.empty() ? "" : "\n" + ctx.replies.Render("repair.name_line", {{"name", name}})}});
    }
  }

 private:
  // The customer's own words, unless the message only asks for a repair
  // ("报修", "我要报修", a menu click, the outage flow's hand-over).
  static std::string DescriptionOf(const Context& ctx, const nlu::Understanding& u) {
    std::string text = Trimmed(u.text);
    if (text.empty() || text.front() == '[' || u.intent != "report_fault") return "";
    // "不是停电，是跳闸": what is denied is no description.
    if (const std::string rest = WithoutNegated(u.normalized);
        rest != u.normalized && CodePoints(rest) >= 2)
      text = rest;
    std::string rest = Compact(u.normalized);
    for (const std::string& w : ReplyWords(ctx, "repair.filler_words"))
      for (size_t p; (p = rest.find(w)) != std::string::npos;) rest.erase(p, w.size());
    std::string meaningful;
    for (char c : rest)
      if (!(c >= '0' && c <= '9')) meaningful += c;
    return CodePoints(meaningful) >= 2 ? text : "";
  }

  // "是的 …" / "对，…": a yes before more words.
  static bool YesLead(const Context& ctx, const nlu::Understanding& u) {
    const std::string t = Trimmed(u.text);
    for (const char* yes : {"是的", "是", "对的", "对", "好的", "嗯", "可以"})
      if (t.rfind(yes, 0) == 0 && t.size() > std::string(yes).size() && t.substr(std::string(yes).size(), 3) != "不")
        return true;
    return false;
  }

  // A message during the repair that tells more of the fault is added to its
  // description; true if it did.
  bool AddDetail(Context& ctx, Frame& f, const nlu::Understanding& u) {
    const std::string said = Compact(u.normalized);
    const bool about_fault = u.intent == "report_fault" || u.intent == "query_outage" ||
                             ContainsAny(said, ReplyWords(ctx, "repair.detail_words"));
    if (!about_fault || (f.step == "address" && (u.slots.count("city") || u.slots.count("district"))))
      return false;
    std::string detail = Trimmed(u.text);
    std::vector<std::string> leads = ReplyWords(ctx, "repair.detail_lead_words");
    std::sort(leads.begin(), leads.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    for (bool again = true; again;) {
      again = false;
      for (const std::string& lead : leads)
        if (detail.rfind(lead, 0) == 0) {
          detail = Trimmed(detail.substr(lead.size()));
          while (detail.rfind("，", 0) == 0) detail = Trimmed(detail.substr(3));
          again = true;
          break;
        }
    }
    while (!detail.empty() && (detail.rfind("，", 0) == 0 || detail.rfind(",", 0) == 0 ||
                               detail.rfind(" ", 0) == 0))
      detail = Trimmed(detail.substr(detail[0] == ',' || detail[0] == ' ' ? 1 : 3));
    if (CodePoints(detail) < 2) return false;
    const std::string before = FrameSlot(f, "description");
    f.slots["description"] = before.empty() ? detail : before + "；" + detail;
    ctx.Say("repair.detail_added", {{"detail", detail}});
    WarnIfDangerous(ctx, detail);
    return true;
  }

  static void WarnIfDangerous(Context& ctx, const std::string& description) {
    if (Dangerous(ctx, description)) ctx.Say("repair.danger");
  }

  static bool Dangerous(const Context& ctx, const std::string& description) {
    const std::string normalized = Compact(ctx.nlu.normalizer().Normalize(description).text);
    return ContainsAny(normalized, ReplyWords(ctx, "repair.danger_words"));
  }

  FlowResult Advance(Context& ctx, Frame& f) {
    if (FrameSlot(f, "description").empty()) return Ask(ctx, *this, f, "description");
    std::optional<storage::Account> account;
    if (!FrameSlot(f, "account_no").empty())
      account = ctx.tx.FindAccount(FrameSlot(f, "account_no"));
    if (FrameSlot(f, "address").empty()) {
      if (account && !account->address.empty() && !FrameFlag(f, "address_declined")) {
        f.slots["offered_address"] = account->address;
        return Ask(ctx, *this, f, "address_offer");
      }
      return Ask(ctx, *this, f, "address");
    }
    if (FrameSlot(f, "phone").empty()) return AskPhone(ctx, *this, f, account);
    if (!f.slots.contains("name")) return Ask(ctx, *this, f, "name");
    return Ask(ctx, *this, f, "confirm");
  }

  FlowResult Kept(Context& ctx) {
    ctx.Say("repair.kept");
    return FlowResult::kDone;
  }

  FlowResult Submit(Context& ctx, Frame& f) {
    const std::string no = storage::NextBusinessNo(ctx.tx, "BX", ctx.today);
    json details = {{"description", FrameSlot(f, "description")},
                    {"address", FrameSlot(f, "address")},
                    {"phone", FrameSlot(f, "phone")},
                    {"name", FrameSlot(f, "name")},
                    {"channel", ctx.channel}};
    // Photos sent during the repair (the engine's MediaTurn keeps them).
    if (f.slots.contains("photos") && f.slots["photos"].is_array()) details["photos"] = f.slots["photos"];
    if (!FileBusiness(ctx, no, FrameSlot(f, "account_no"), "repair", details.dump())) {
      ctx.Say("repair.failed");
      return FlowResult::kDone;
    }
    ctx.Say("repair.done",
            {{"business_no", no}, {"address", FrameSlot(f, "address")}, {"phone", ShownPhone(f)}});
    if (Dangerous(ctx, FrameSlot(f, "description"))) ctx.Say("repair.done_danger");
    return FlowResult::kDone;
  }
};

}  // namespace

std::unique_ptr<Flow> MakeReportFaultFlow() { return std::make_unique<ReportFaultFlow>(); }

}  // namespace gridbot::dialogs
