// 新装变更: type (new install, capacity increase, change) → city → district
// → contact name → phone → address → description → confirmation → a
// business record "YK" + date + sequence, shown by progress queries.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"
#include "nlu/numbers.h"
#include "storage/services.h"

namespace gridbot::dialogs {
namespace {

using nlohmann::json;

constexpr int kMaxTries = 3;
constexpr size_t kMaxDescription = 200;  // code points
const std::vector<std::string> kTypes = {"new_install", "capacity_increase", "change"};

class ApplyServiceFlow : public Flow {
 public:
  std::string name() const override { return "apply_service"; }
  std::string title() const override { return "新装变更"; }
  std::vector<std::string> replies() const override {
    return {"services.skip_words",
            "apply.generic_words",
            "services.type.new_install",
            "services.type.capacity_increase",
            "services.type.change",
            "apply.ask_type",
            "apply.bad_type",
            "apply.ask_city",
            "apply.ask_place_offer",
            "apply.place_taken",
            "services.same_address_words",
            "apply.bad_city",
            "apply.ask_district",
            "apply.bad_district",
            "apply.district_mismatch",
            "apply.ask_name",
            "apply.bad_name",
            "apply.ask_phone_offer",
            "apply.ask_phone",
            "apply.bad_phone",
            "apply.ask_address",
            "apply.bad_address",
            "apply.ask_description",
            "apply.bad_description",
            "apply.confirm",
            "apply.no_description",
            "apply.kept",
            "apply.done",
            "apply.next.new_install",
            "apply.next.capacity_increase",
            "apply.next.change",
            "apply.failed"};
  }

  FlowResult Start(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    // "新装变更" (the menu's name) asks for the service, not for a new install.
    if (!ContainsAny(Compact(u.normalized), ReplyWords(ctx, "apply.generic_words"))) TakeType(f, u);
    TakePlace(ctx, f, u, /*quiet=*/true);
    const std::string phone = PhoneOf(u);
    if (!phone.empty()) f.slots["phone"] = phone;
    // A bound customer applies, most often, where the account is: offered.
    if (FrameSlot(f, "city").empty()) {
      if (auto no = ctx.DefaultAccount()) {
        if (auto account = ctx.tx.FindAccount(*no); account && !account->address.empty()) {
          f.slots["offered_account"] = account->account_no;
          f.slots["offered_city"] = account->city;
          f.slots["offered_district"] = account->district;
          f.slots["offered_address"] = account->address;
          if (SameAddress(ctx, u)) TakeOffered(ctx, f);
        }
      }
    }
    return Advance(ctx, f);
  }

  std::string ExpectedSlot(const Frame& f) const override {
    return f.step == "phone" || f.step == "phone_offer" ? "phone" : "";
  }
  std::vector<Corrigible> CorrigibleSlots() const override {
    return {{"apply_type", "type", "apply_type"}, {"city", "city", "city"},
            {"district", "district", "district"}, {"name", "name", "name"},
            {"phone", "phone", "phone"},          {"address", "address", "address"},
            {"description", "description", "description"}};
  }

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    const bool yes_no = u.intent == "affirm" || u.intent == "deny";
    const bool place = u.slots.count("city") || u.slots.count("district");
    if (f.step == "confirm") return yes_no;
    if (f.step == "place_offer") return yes_no || place || FreeText(u);
    if (f.step == "type")
      return u.slots.count("apply_type") || FreeText(u) || u.intent == "apply_service";
    if (f.step == "city" || f.step == "district") return place || FreeText(u);
    if (f.step == "name" || f.step == "address") return FreeText(u) || place;
    if (f.step == "phone" || f.step == "phone_offer")
      return (f.step == "phone_offer" && yes_no) || MayBePhone(u);
    if (f.step == "description")
      return FreeText(u) || u.intent == "apply_service" || u.intent == "deny" || place;
    return false;
  }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    const std::string text = Trimmed(u.text);
    if (f.step == "confirm") return u.intent == "affirm" ? Submit(ctx, f) : Kept(ctx);
    if (f.step == "place_offer") {
      const bool place = u.slots.count("city") || u.slots.count("district");
      if (!place && (u.intent == "affirm" || (u.intent != "deny" && SameAddress(ctx, u)))) {
        TakeOffered(ctx, f);
      } else if (place) {
        // "不是 是新房子 在南宁市西乡塘区大学东路100号": the new place, and
        // the address from where the place begins.
        f.slots["address_declined"] = true;
        TakePlace(ctx, f, u, /*quiet=*/true);
        const std::string address = AddressFrom(u);
        if (CodePoints(address) >= 5) {
          f.slots["address"] = address;
          ctx.Say("apply.place_taken", {{"address", address}});
        }
      } else if (u.intent == "deny") {
        f.slots["address_declined"] = true;
      } else {
        if (CodePoints(Compact(u.normalized)) < 5) return Retry(ctx, *this, f, kMaxTries);
        f.slots["address_declined"] = true;
        f.slots["address"] = Trimmed(u.text);
      }
      f.failures = 0;
      return Advance(ctx, f);
    }
    if (f.step == "type") {
      if (!TakeType(f, u) && !TypeByNumber(f, u)) return Retry(ctx, *this, f, kMaxTries);
    } else if (f.step == "city" || f.step == "district") {
      const std::string before = FrameSlot(f, "city") + "/" + FrameSlot(f, "district");
      if (!TakePlace(ctx, f, u, /*quiet=*/false))  // said why and asked again, or gave up
        return f.step == "gave_up" ? FlowResult::kDone : FlowResult::kWaiting;
      if (FrameSlot(f, "city") + "/" + FrameSlot(f, "district") == before)
        return Retry(ctx, *this, f, kMaxTries);
    } else if (f.step == "name") {
      if (CodePoints(text) > 20 || CodePoints(Compact(u.normalized)) < 1 || !Digits(text).empty())
        return Retry(ctx, *this, f, kMaxTries);
      f.slots["name"] = text;
    } else if (f.step == "phone" || f.step == "phone_offer") {
      if (!TakePhone(f, u)) return Retry(ctx, *this, f, kMaxTries);
    } else if (f.step == "address") {
      if (CodePoints(Compact(u.normalized)) < 5) return Retry(ctx, *this, f, kMaxTries);
      f.slots["address"] = text;
    } else if (f.step == "description") {
      if (u.intent == "deny" || IsOneOf(u.normalized, ReplyWords(ctx, "services.skip_words"))) {
        f.slots["description"] = "";
      } else {
        if (CodePoints(text) > kMaxDescription || Compact(u.normalized).empty())
          return Retry(ctx, *this, f, kMaxTries);
        f.slots["description"] = text;
      }
    }
    f.failures = 0;
    return Advance(ctx, f);
  }

  void Prompt(Context& ctx, const Frame& f, bool hint) override {
    const std::string city = FrameSlot(f, "city");
    if (f.step == "type") ctx.Say(hint ? "apply.bad_type" : "apply.ask_type");
    if (f.step == "place_offer")
      ctx.Say("apply.ask_place_offer", {{"type", TypeName(ctx, f)},
                                        {"account", FrameSlot(f, "offered_account")},
                                        {"address", FrameSlot(f, "offered_address")}});
    if (f.step == "city")
      ctx.Say(hint ? "apply.bad_city" : "apply.ask_city", {{"type", TypeName(ctx, f)}});
    if (f.step == "district")
      ctx.Say(hint ? "apply.bad_district" : "apply.ask_district",
              {{"city", city}, {"example", ExampleDistrict(ctx, city)}});
    if (f.step == "name") ctx.Say(hint ? "apply.bad_name" : "apply.ask_name");
    if (f.step == "phone_offer")
      ctx.Say(hint ? "apply.bad_phone" : "apply.ask_phone_offer",
              {{"phone", MaskPhone(FrameSlot(f, "offered_phone"))}});
    if (f.step == "phone") ctx.Say(hint ? "apply.bad_phone" : "apply.ask_phone");
    if (f.step == "address") ctx.Say(hint ? "apply.bad_address" : "apply.ask_address");
    if (f.step == "description") ctx.Say(hint ? "apply.bad_description" : "apply.ask_description");
    if (f.step == "confirm") {
      const std::string description = FrameSlot(f, "description");
      ctx.Say("apply.confirm",
              {{"type", TypeName(ctx, f)},
               {"city", city},
               {"district", FrameSlot(f, "district")},
               {"address", FrameSlot(f, "address")},
               {"name", FrameSlot(f, "name")},
               {"phone", ShownPhone(f)},
               {"description",
                description.empty() ? ctx.replies.Render("apply.no_description") : description}});
    }
  }

 private:
  static std::string TypeName(const Context& ctx, const Frame& f) {
    const std::string type = FrameSlot(f, "apply_type");
    return type.empty() ? "" : ctx.replies.Render("services.type." + type);
  }

  static std::string ExampleDistrict(const Context& ctx, const std::string& city) {
    auto districts = ctx.nlu.gazetteer().DistrictsOf(city);
    return districts.empty() ? "" : districts.front();
  }

  static bool SameAddress(const Context& ctx, const nlu::Understanding& u) {
    return ContainsAny(Compact(u.normalized), ReplyWords(ctx, "services.same_address_words"));
  }

  void TakeOffered(Context& ctx, Frame& f) {
    f.slots["city"] = FrameSlot(f, "offered_city");
    f.slots["district"] = FrameSlot(f, "offered_district");
    f.slots["address"] = FrameSlot(f, "offered_address");
    ctx.Say("apply.place_taken", {{"address", FrameSlot(f, "offered_address")}});
  }

  static bool TakeType(Frame& f, const nlu::Understanding& u) {
    const std::string type = Slot(u, "apply_type");
    if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) return false;
    f.slots["apply_type"] = type;
    return true;
  }

  static bool TypeByNumber(Frame& f, const nlu::Understanding& u) {
    std::string s = Compact(u.normalized);
    for (const char* strip : {"第", "个", "种", "项", "类"})
      for (size_t p; (p = s.find(strip)) != std::string::npos;)
        s.erase(p, std::string(strip).size());
    auto n = nlu::ParseNumber(s);
    if (!n || *n < 1 || *n > static_cast<std::int64_t>(kTypes.size())) return false;
    f.slots["apply_type"] = kTypes[*n - 1];
    return true;
  }

  // Takes the city and district a message names. A district gives its city;
  // one that does not belong to the city is refused: false, after saying so
  // and asking again (or giving up) unless `quiet`.
  bool TakePlace(Context& ctx, Frame& f, const nlu::Understanding& u, bool quiet) {
    const auto& gazetteer = ctx.nlu.gazetteer();
    std::string city = Slot(u, "city");
    const std::string district = Slot(u, "district");
    if (!city.empty() && city != FrameSlot(f, "city")) {
      f.slots["city"] = city;
      f.slots.erase("district");
    }
    if (district.empty()) return true;
    city = FrameSlot(f, "city");
    if (city.empty()) {
      city = gazetteer.CityOfDistrict(district);
      if (city.empty()) return true;  // a name several cities have: ask the city first
      f.slots["city"] = city;
    }
    auto districts = gazetteer.DistrictsOf(city);
    if (std::find(districts.begin(), districts.end(), district) == districts.end()) {
      if (quiet) return false;
      ctx.Say("apply.district_mismatch",
              {{"district", district}, {"city", city}, {"example", ExampleDistrict(ctx, city)}});
      f.step = "district";
      if (++f.failures >= kMaxTries) {
        GiveUp(ctx, *this);
        f.step = "gave_up";
      }
      return false;
    }
    f.slots["district"] = district;
    return true;
  }

  FlowResult Advance(Context& ctx, Frame& f) {
    if (f.step == "gave_up") return FlowResult::kDone;
    if (FrameSlot(f, "apply_type").empty()) return Ask(ctx, *this, f, "type");
    if (FrameSlot(f, "city").empty() && !FrameSlot(f, "offered_address").empty() &&
        !FrameFlag(f, "address_declined"))
      return Ask(ctx, *this, f, "place_offer");
    if (FrameSlot(f, "city").empty()) return Ask(ctx, *this, f, "city");
    if (FrameSlot(f, "district").empty()) return Ask(ctx, *this, f, "district");
    if (FrameSlot(f, "name").empty()) return Ask(ctx, *this, f, "name");
    if (FrameSlot(f, "phone").empty()) {
      std::optional<storage::Account> account;
      if (auto no = ctx.DefaultAccount()) account = ctx.tx.FindAccount(*no);
      return AskPhone(ctx, *this, f, account);
    }
    if (FrameSlot(f, "address").empty()) return Ask(ctx, *this, f, "address");
    if (!f.slots.contains("description")) return Ask(ctx, *this, f, "description");
    return Ask(ctx, *this, f, "confirm");
  }

  FlowResult Kept(Context& ctx) {
    ctx.Say("apply.kept");
    return FlowResult::kDone;
  }

  FlowResult Submit(Context& ctx, Frame& f) {
    const std::string type = FrameSlot(f, "apply_type");
    const std::string no = storage::NextBusinessNo(ctx.tx, "YK", ctx.today);
    const json details = {{"city", FrameSlot(f, "city")},
                          {"district", FrameSlot(f, "district")},
                          {"name", FrameSlot(f, "name")},
                          {"phone", FrameSlot(f, "phone")},
                          {"address", FrameSlot(f, "address")},
                          {"description", FrameSlot(f, "description")},
                          {"channel", ctx.channel}};
    if (!FileBusiness(ctx, no, ctx.DefaultAccount().value_or(""), type, details.dump())) {
      ctx.Say("apply.failed");
      return FlowResult::kDone;
    }
    ctx.Say("apply.done",
            {{"type", TypeName(ctx, f)},
             {"business_no", no},
             {"next", ctx.replies.Render("apply.next." + type, {{"phone", ShownPhone(f)}})}});
    return FlowResult::kDone;
  }
};

}  // namespace

std::unique_ptr<Flow> MakeApplyServiceFlow() { return std::make_unique<ApplyServiceFlow>(); }

}  // namespace gridbot::dialogs
