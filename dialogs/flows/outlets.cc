// 营业网点: from a location (WeChat location message or /api/chat location
// event: the engine gives intent find_outlet with slots lat and lng) the
// three nearest outlets with their distance; or the outlets of a named
// district (else of its city), at most five. Asked with neither ("附近的营业厅")
// it asks for a location or a district and waits.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"
#include "storage/queries.h"

namespace gridbot::dialogs {
namespace {

constexpr size_t kNearest = 3;
constexpr size_t kMaxInPlace = 5;

std::optional<double> Coordinate(const nlu::Understanding& u, const std::string& name,
                                 double limit) {
  const std::string s = Slot(u, name);
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !std::isfinite(v) || std::fabs(v) > limit)
    return std::nullopt;
  return v;
}

std::string DistanceText(const Context& ctx, double km) {
  if (km < 1.0)
    return ctx.replies.Render("outlet.m", {{"m", std::to_string(std::lround(km * 1000))}});
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", km);
  return ctx.replies.Render("outlet.km", {{"km", buf}});
}

class FindOutletFlow : public Flow {
 public:
  std::string name() const override { return "find_outlet"; }
  std::string title() const override { return "营业网点查询"; }
  bool one_shot() const override { return true; }
  std::vector<std::string> replies() const override {
    return {"outlet.nearest",
            "outlet.item_distance",
            "outlet.item",
            "outlet.km",
            "outlet.m",
            "outlet.place",
            "outlet.place_fallback",
            "outlet.more",
            "outlet.none",
            "outlet.none_at_all",
            "outlet.ask_location",
            "outlet.ask_location_wechat",
            "outlet.bad_location"};
  }

  FlowResult Start(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (Answer(ctx, u)) return FlowResult::kDone;
    return Ask(ctx, *this, f, "location");
  }

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    return f.step == "location" &&
           (u.slots.count("lat") || u.slots.count("city") || u.slots.count("district"));
  }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (Answer(ctx, u)) return FlowResult::kDone;
    ++f.failures;
    Prompt(ctx, f, true);
    return FlowResult::kWaiting;
  }

  void Prompt(Context& ctx, const Frame& f, bool hint) override {
    if (f.step != "location") return;
    // WeChat customers send a location with the "+" button; say how.
    ctx.Say(hint                      ? "outlet.bad_location"
            : ctx.channel == "wechat" ? "outlet.ask_location_wechat"
                                      : "outlet.ask_location");
  }

 private:
  // Answers from the place or the location of `u`; false if it has neither.
  bool Answer(Context& ctx, const nlu::Understanding& u) {
    const Place place = PlaceOf(ctx, u);
    if (!place.city.empty()) {
      InPlace(ctx, place);
      return true;
    }
    const auto lat = Coordinate(u, "lat", 90), lng = Coordinate(u, "lng", 180);
    if (!lat || !lng) return false;
    Nearest(ctx, *lat, *lng);
    return true;
  }

  void Nearest(Context& ctx, double lat, double lng) {
    std::vector<std::pair<double, storage::Outlet>> ranked;
    for (auto& o : storage::Outlets(ctx.tx))
      ranked.emplace_back(storage::DistanceKm(lat, lng, o.lat, o.lng), std::move(o));
    if (ranked.empty()) {
      ctx.Say("outlet.none_at_all");
      return;
    }
    const size_t n = std::min(kNearest, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + n, ranked.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string lines;
    for (size_t i = 0; i < n; ++i) {
      const storage::Outlet& o = ranked[i].second;
      if (!lines.empty()) lines += "\n";
      lines += ctx.replies.Render("outlet.item_distance",
                                  {{"n", std::to_string(i + 1)},
                                   {"name", o.name},
                                   {"distance", DistanceText(ctx, ranked[i].first)},
                                   {"address", o.address},
                                   {"hours", o.hours},
                                   {"phone", o.phone}});
    }
    ctx.Say("outlet.nearest", {{"count", std::to_string(n)}, {"list", lines}});
  }

  void InPlace(Context& ctx, const Place& place) {
    std::vector<storage::Outlet> outlets;
    bool fallback = false;
    if (!place.district.empty()) outlets = storage::OutletsIn(ctx.tx, place.city, place.district);
    if (outlets.empty()) {
      fallback = !place.district.empty();
      outlets = storage::OutletsIn(ctx.tx, place.city, "");
    }
    if (outlets.empty()) {
      ctx.Say("outlet.none", {{"place", place.Name()}});
      return;
    }
    std::string lines;
    for (size_t i = 0; i < outlets.size() && i < kMaxInPlace; ++i) {
      const storage::Outlet& o = outlets[i];
      if (!lines.empty()) lines += "\n";
      lines += ctx.replies.Render("outlet.item", {{"n", std::to_string(i + 1)},
                                                  {"name", o.name},
                                                  {"address", o.address},
                                                  {"hours", o.hours},
                                                  {"phone", o.phone}});
    }
    if (outlets.size() > kMaxInPlace)
      lines += "\n" + ctx.replies.Render("outlet.more",
                                         {{"more", std::to_string(outlets.size() - kMaxInPlace)}});
    ctx.Say(fallback ? "outlet.place_fallback" : "outlet.place",
            {{"place", fallback ? place.city : place.Name()},
             {"district", place.district},
             {"count", std::to_string(outlets.size())},
             {"list", lines}});
  }
};

}  // namespace

std::unique_ptr<Flow> MakeFindOutletFlow() { return std::make_unique<FindOutletFlow>(); }

}  // namespace gridbot::dialogs
