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
constexpr double kMinConfidence = 0.5;
// Values of the business table (as the back end writes them), not replies.
constexpr const char* kStatusAccepted = "已受理";
constexpr const char* kStepAccepted = "受理";

std::vector<std::string> Words(const Context& ctx, const std::string& key) {
  std::vector<std::string> out;
  const std::string list = ctx.replies.Render(key);
  for (size_t start = 0; start <= list.size();) {
    size_t end = list.find('|', start);
    if (end == std::string::npos) end = list.size();
    std::string w = list.substr(start, end - start);
    while (!w.empty() && (w.back() == '\n' || w.back() == ' ')) w.pop_back();
    if (!w.empty()) out.push_back(w);
    start = end + 1;
  }
  return out;
}

bool ContainsAny(const std::string& text, const std::vector<std::string>& words) {
  for (const auto& w : words)
    if (text.find(w) != std::string::npos) return true;
  return false;
}

std::string Compact(const std::string& s) {
  std::string out;
  for (char c : s)
    if (c != ' ') out += c;
  return out;
}

bool IsOneOf(const std::string& normalized, const std::vector<std::string>& words) {
  const std::string s = Compact(normalized);
  for (const auto& w : words)
    if (s == w) return true;
  return false;
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// The customer's words without surrounding white space (ASCII or U+3000).
std::string Trimmed(std::string s) {
  static const std::string kIdeoSpace = "\xE3\x80\x80";
  for (bool changed = true; changed;) {
    changed = false;
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
      s.pop_back(), changed = true;
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
      s.erase(0, 1), changed = true;
    if (s.size() >= 3 && s.compare(s.size() - 3, 3, kIdeoSpace) == 0)
      s.resize(s.size() - 3), changed = true;
    if (s.rfind(kIdeoSpace, 0) == 0) s.erase(0, 3), changed = true;
  }
  return s;
}

bool IsMobile(const std::string& s) {
  if (s.size() != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string Digits(const std::string& s) {
  std::string d;
  for (char c : s)
    if (c >= '0' && c <= '9') d += c;
  return d;
}

// The mobile number a message gives, "" if none (or not a valid one).
std::string PhoneOf(const nlu::Understanding& u) {
  const std::string slot = Slot(u, "phone");
  if (IsMobile(slot)) return slot;
  const std::string d = Digits(u.normalized);
  return IsMobile(d) ? d : "";
}

std::string MaskPhone(const std::string& p) {
  return p.size() == 11 ? p.substr(0, 3) + "****" + p.substr(7) : p;
}

// A message that is free text for the form rather than another request.
bool FreeText(const nlu::Understanding& u) {
  return u.intent == "unknown" || u.confidence < kMinConfidence;
}

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
    if (no.empty() || !ctx.IsBound(no)) no = ctx.DefaultAccount().value_or("");
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

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    const bool yes_no = u.intent == "affirm" || u.intent == "deny";
    if (f.step == "confirm") return yes_no;
    if (f.step == "description")
      return FreeText(u) || u.intent == "report_fault" || u.intent == "query_outage";
    if (f.step == "address")
      return FreeText(u) || u.slots.count("city") || u.slots.count("district");
    if (f.step == "address_offer")
      return yes_no || FreeText(u) || u.slots.count("city") || u.slots.count("district");
    if (f.step == "phone" || f.step == "phone_offer")
      return (f.step == "phone_offer" && yes_no) || u.slots.count("phone") ||
             Digits(u.normalized).size() >= 5;
    if (f.step == "name") return FreeText(u) || u.intent == "deny";
    return false;
  }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    const std::string text = Trimmed(u.text);
    if (f.step == "confirm") return u.intent == "affirm" ? Submit(ctx, f) : Kept(ctx);
    if (f.step == "description") {
      if (CodePoints(Compact(u.normalized)) < 2) return Retry(ctx, f);
      f.slots["description"] = text;
      WarnIfDangerous(ctx, text);
    } else if (f.step == "address_offer" && u.intent == "affirm") {
      f.slots["address"] = FrameSlot(f, "offered_address");
    } else if (f.step == "address_offer" && u.intent == "deny") {
      f.slots["address_declined"] = true;
    } else if (f.step == "address" || f.step == "address_offer") {
      if (CodePoints(Compact(u.normalized)) < 5) return Retry(ctx, f);
      f.slots["address"] = text;
    } else if (f.step == "phone_offer" && u.intent == "affirm") {
      f.slots["phone"] = FrameSlot(f, "offered_phone");
      f.slots["phone_on_file"] = true;
    } else if (f.step == "phone_offer" && u.intent == "deny") {
      f.slots["phone_declined"] = true;
    } else if (f.step == "phone" || f.step == "phone_offer") {
      const std::string phone = PhoneOf(u);
      if (phone.empty()) return Retry(ctx, f);
      f.slots["phone"] = phone;
    } else if (f.step == "name") {
      if (u.intent == "deny" || IsOneOf(u.normalized, Words(ctx, "services.skip_words"))) {
        f.slots["name"] = "";
      } else {
        if (CodePoints(text) > 20 || Digits(text).size() >= 5) return Retry(ctx, f);
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
    const std::string text = Trimmed(u.text);
    if (text.empty() || text.front() == '[' || u.intent != "report_fault") return "";
    std::string rest = Compact(u.normalized);
    for (const std::string& w : Words(ctx, "repair.filler_words"))
      for (size_t p; (p = rest.find(w)) != std::string::npos;) rest.erase(p, w.size());
    std::string meaningful;
    for (char c : rest)
      if (!(c >= '0' && c <= '9')) meaningful += c;
    return CodePoints(meaningful) >= 2 ? text : "";
  }

  static void WarnIfDangerous(Context& ctx, const std::string& description) {
    if (Dangerous(ctx, description)) ctx.Say("repair.danger");
  }

  static bool Dangerous(const Context& ctx, const std::string& description) {
    const std::string normalized = Compact(ctx.nlu.normalizer().Normalize(description).text);
    return ContainsAny(normalized, Words(ctx, "repair.danger_words"));
  }

  static std::string ShownPhone(const Frame& f) {
    const std::string phone = FrameSlot(f, "phone");
    const auto on_file = f.slots.find("phone_on_file");
    return on_file != f.slots.end() && *on_file == true ? MaskPhone(phone) : phone;
  }

  static bool Flag(const Frame& f, const char* name) {
    auto it = f.slots.find(name);
    return it != f.slots.end() && *it == true;
  }

  FlowResult Ask(Context& ctx, Frame& f, const std::string& step) {
    f.step = step;
    Prompt(ctx, f, false);
    return FlowResult::kWaiting;
  }

  FlowResult Advance(Context& ctx, Frame& f) {
    if (FrameSlot(f, "description").empty()) return Ask(ctx, f, "description");
    std::optional<storage::Account> account;
    if (!FrameSlot(f, "account_no").empty())
      account = ctx.tx.FindAccount(FrameSlot(f, "account_no"));
    if (FrameSlot(f, "address").empty()) {
      if (account && !account->address.empty() && !Flag(f, "address_declined")) {
        f.slots["offered_address"] = account->address;
        return Ask(ctx, f, "address_offer");
      }
      return Ask(ctx, f, "address");
    }
    if (FrameSlot(f, "phone").empty()) {
      std::string offered = account ? account->phone : "";
      if (!IsMobile(offered)) {
        auto user = storage::FindUser(ctx.tx, ctx.user_id);
        offered = user && IsMobile(user->phone) ? user->phone : "";
      }
      if (!offered.empty() && !Flag(f, "phone_declined")) {
        f.slots["offered_phone"] = offered;
        return Ask(ctx, f, "phone_offer");
      }
      return Ask(ctx, f, "phone");
    }
    if (!f.slots.contains("name")) return Ask(ctx, f, "name");
    return Ask(ctx, f, "confirm");
  }

  FlowResult Retry(Context& ctx, Frame& f) {
    if (++f.failures >= kMaxTries) {
      ctx.Say("gave_up", {{"flow", title()}});
      return FlowResult::kDone;
    }
    Prompt(ctx, f, true);
    return FlowResult::kWaiting;
  }

  FlowResult Kept(Context& ctx) {
    ctx.Say("repair.kept");
    return FlowResult::kDone;
  }

  FlowResult Submit(Context& ctx, Frame& f) {
    const std::string no = storage::NextBusinessNo(ctx.tx, "BX", ctx.today);
    const json details = {{"description", FrameSlot(f, "description")},
                          {"address", FrameSlot(f, "address")},
                          {"phone", FrameSlot(f, "phone")},
                          {"name", FrameSlot(f, "name")},
                          {"channel", ctx.channel}};
    storage::Business b;
    b.business_no = no;
    b.account_no = FrameSlot(f, "account_no");
    b.type = "repair";
    b.status = kStatusAccepted;
    b.steps = {storage::BusinessStep{kStepAccepted, ctx.now}};
    storage::CreateBusiness(ctx.tx, b, details.dump(), ctx.now);
    if (!ctx.tx.ok()) {
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
