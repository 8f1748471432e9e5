// 停电查询: current and upcoming outages for the current account (those
// covering it, fixtures.md) or for a named city / district, with area, kind,
// reason, start and expected restoration.
//
// "家里停电了" (a power cut now, told by the words of [outage.power_out_words])
// checks the outages covering the account now; if none, it says so and offers
// a repair: on "是" the repair flow (report_fault) starts through Frame::then
// with the account, its address and the customer's words carried over.
//
// Without a bound account or a named place it asks for a district.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"
#include "storage/queries.h"

namespace gridbot::dialogs {
namespace {

using nlohmann::json;

constexpr size_t kMaxListed = 8;

// Whether the message tells of a power cut now: holds a word of
// [outage.power_out_words] (spaces in them ignored, as in the message).
bool SaysPowerOut(const Context& ctx, const nlu::Understanding& u) {
  const std::string said = Compact(u.normalized);
  const auto words = ReplyWords(ctx, "outage.power_out_words");
  return std::any_of(words.begin(), words.end(), [&](const std::string& w) {
    return said.find(Compact(w)) != std::string::npos;
  });
}

// "2024年8月5日 08:00" and, for the same day, "18:00".
std::string EndText(UnixSeconds start, UnixSeconds end) {
  const CivilTime s = ToCivil(start), e = ToCivil(end);
  if (!(s.day == e.day)) return ChineseDateTime(end);
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", e.hour, e.minute);
  return buf;
}

std::string KindName(const Context& ctx, const std::string& kind) {
  if (kind == "planned" || kind == "fault") return ctx.replies.Render("outage.kind." + kind);
  return ctx.replies.Render("outage.kind.other");
}

bool Started(const storage::Outage& o, UnixSeconds now) { return o.start <= now; }

std::string List(const Context& ctx, const std::vector<storage::Outage>& outages) {
  std::string lines;
  for (size_t i = 0; i < outages.size() && i < kMaxListed; ++i) {
    const storage::Outage& o = outages[i];
    if (!lines.empty()) lines += "\n";
    lines += ctx.replies.Render(Started(o, ctx.now) ? "outage.item_now" : "outage.item",
                                {{"kind", KindName(ctx, o.kind)},
                                 {"district", o.district},
                                 {"area", o.area},
                                 {"start", ChineseDateTime(o.start)},
                                 {"end", EndText(o.start, o.end)},
                                 {"reason", o.reason}});
  }
  if (outages.size() > kMaxListed)
    lines += "\n" + ctx.replies.Render("outage.more",
                                       {{"more", std::to_string(outages.size() - kMaxListed)}});
  return lines;
}

class OutageFlow : public Flow {
 public:
  std::string name() const override { return "query_outage"; }
  std::string title() const override { return "停电查询"; }
  bool one_shot() const override { return true; }
  std::vector<std::string> replies() const override {
    return {"outage.power_out_words",
            "outage.kind.planned",
            "outage.kind.fault",
            "outage.kind.other",
            "outage.item",
            "outage.item_now",
            "outage.more",
            "outage.account",
            "outage.account_now",
            "outage.account_none",
            "outage.out_current",
            "outage.out_none",
            "outage.upcoming_note",
            "outage.place",
            "outage.place_none",
            "outage.ask_place",
            "outage.bad_place",
            "outage.offer_repair",
            "outage.offer_repair_hint",
            "outage.repair_declined"};
  }

  FlowResult Start(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (SaysPowerOut(ctx, u)) {
      f.slots["power_out"] = true;
      f.slots["said"] = u.text;
    }
    const Place place = PlaceOf(ctx, u);
    if (!place.city.empty()) return ForPlace(ctx, f, place);
    if (!Slot(u, "account_no").empty() || !ctx.tx.Bindings(ctx.user_id).empty()) {
      auto account = RequestedAccount(ctx, u);
      if (!account) return FlowResult::kDone;
      return ForAccount(ctx, f, *account);
    }
    return Ask(ctx, *this, f, "place");
  }

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    if (f.step == "offer")
      return u.intent == "affirm" || u.intent == "deny" || u.intent == "report_fault";
    if (f.step == "place") return u.slots.count("city") || u.slots.count("district");
    return false;
  }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (f.step == "offer") {
      if (u.intent == "deny") {
        ctx.Say("outage.repair_declined");
        return FlowResult::kDone;
      }
      // The repair flow starts once this one is done (engine: Frame::then).
      json slots = json::object();
      for (const char* k : {"account_no", "address"})
        if (!FrameSlot(f, k).empty()) slots[k] = FrameSlot(f, k);
      // "不是停电 是总开关跳闸了": what the customer says now describes the fault.
      if (u.intent == "report_fault" && CodePoints(Compact(u.normalized)) >= 4)
        slots["description"] = Trimmed(u.text);
      else if (!FrameSlot(f, "said").empty())
        slots["description"] = FrameSlot(f, "said");
      f.then = json{{"intent", "report_fault"}, {"slots", slots}};
      return FlowResult::kDone;
    }
    const Place place = PlaceOf(ctx, u);
    if (place.city.empty()) {
      ++f.failures;
      Prompt(ctx, f, true);
      return FlowResult::kWaiting;
    }
    return ForPlace(ctx, f, place);
  }

  void Prompt(Context& ctx, const Frame& f, bool hint) override {
    if (f.step == "place") ctx.Say(hint ? "outage.bad_place" : "outage.ask_place");
    if (f.step == "offer") ctx.Say(hint ? "outage.offer_repair_hint" : "outage.offer_repair");
  }

 private:
  FlowResult Offer(Context& ctx, Frame& f) {
    f.failures = 0;
    return Ask(ctx, *this, f, "offer");
  }

  FlowResult ForAccount(Context& ctx, Frame& f, const storage::Account& account) {
    const auto covering = storage::OutagesCovering(ctx.tx, account, ctx.now);
    Vars vars = {{"account", account.account_no}, {"address", account.address}};
    if (!FrameFlag(f, "power_out")) {
      vars["count"] = std::to_string(covering.size());
      vars["list"] = List(ctx, covering);
      const bool any_now = std::any_of(covering.begin(), covering.end(),
                                       [&](const auto& o) { return Started(o, ctx.now); });
      ctx.Say(covering.empty() ? "outage.account_none"
              : any_now        ? "outage.account_now"
                               : "outage.account",
              vars);
      return FlowResult::kDone;
    }
    std::vector<storage::Outage> now, later;
    for (const auto& o : covering) (Started(o, ctx.now) ? now : later).push_back(o);
    if (!now.empty()) {
      vars["list"] = List(ctx, now);
      ctx.Say("outage.out_current", vars);
      return FlowResult::kDone;
    }
    ctx.Say("outage.out_none", vars);
    if (!later.empty()) ctx.Say("outage.upcoming_note", {{"list", List(ctx, later)}});
    f.slots["account_no"] = account.account_no;
    f.slots["address"] = account.address;
    return Offer(ctx, f);
  }

  FlowResult ForPlace(Context& ctx, Frame& f, const Place& place) {
    const auto outages = storage::OutagesIn(ctx.tx, place.city, place.district, ctx.now);
    if (outages.empty()) {
      ctx.Say("outage.place_none", {{"place", place.Name()}});
    } else {
      ctx.Say("outage.place", {{"place", place.Name()},
                               {"count", std::to_string(outages.size())},
                               {"list", List(ctx, outages)}});
    }
    const bool any_now = std::any_of(outages.begin(), outages.end(),
                                     [&](const auto& o) { return Started(o, ctx.now); });
    if (FrameFlag(f, "power_out") && !any_now) return Offer(ctx, f);
    return FlowResult::kDone;
  }
};

}  // namespace

std::unique_ptr<Flow> MakeOutageFlow() { return std::make_unique<OutageFlow>(); }

}  // namespace gridbot::dialogs
