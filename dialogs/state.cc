#include "dialogs/state.h"

namespace gridbot::dialogs {

using nlohmann::json;

std::string ConversationState::ToJson() const {
  json j;
  j["v"] = 1;
  json frames = json::array();
  for (const Frame& f : stack)
    frames.push_back({{"flow", f.flow},
                      {"step", f.step},
                      {"slots", f.slots},
                      {"failures", f.failures},
                      {"run", f.run},
                      {"then", f.then}});
  j["stack"] = frames;
  j["last_intent"] = last_intent;
  j["last_slots"] = last_slots;
  j["fallbacks"] = fallbacks;
  if (runs) j["runs"] = runs;
  if (!queue.empty()) j["queue"] = queue;
  if (!clarify.empty()) j["clarify"] = clarify;
  if (!focus_account.empty()) j["focus"] = {{"account", focus_account}, {"at", focus_at}};
  if (guard_until != 0) j["guard"] = {{"flow", guard_flow}, {"step", guard_step}, {"until", guard_until}};
  if (location_at != 0) j["location"] = {{"lat", lat}, {"lng", lng}, {"at", location_at}};
  return j.dump();
}

ConversationState ConversationState::FromJson(const std::string& text) {
  ConversationState s;
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("v", 0) != 1) return s;
  const json& frames = j["stack"];
  if (frames.is_array()) {
    for (const json& f : frames) {
      if (!f.is_object()) continue;
      Frame fr;
      fr.flow = f.value("flow", "");
      fr.step = f.value("step", "");
      if (f.contains("slots") && f["slots"].is_object()) fr.slots = f["slots"];
      fr.failures = f.value("failures", 0);
      fr.run = f.value("run", static_cast<std::int64_t>(0));
      if (f.contains("then")) fr.then = f["then"];
      if (!fr.flow.empty()) s.stack.push_back(std::move(fr));
    }
  }
  s.last_intent = j.value("last_intent", "");
  if (j.contains("last_slots") && j["last_slots"].is_object()) s.last_slots = j["last_slots"];
  s.fallbacks = j.value("fallbacks", 0);
  s.runs = j.value("runs", static_cast<std::int64_t>(0));
  if (j.contains("queue") && j["queue"].is_array())
    for (const json& q : j["queue"])
      if (q.is_object() && q.value("intent", "") != "") s.queue.push_back(q);
  if (j.contains("clarify") && j["clarify"].is_array())
    for (const json& c : j["clarify"])
      if (c.is_string()) s.clarify.push_back(c.get<std::string>());
  if (j.contains("focus") && j["focus"].is_object()) {
    s.focus_account = j["focus"].value("account", "");
    s.focus_at = j["focus"].value("at", static_cast<UnixSeconds>(0));
  }
  if (j.contains("guard") && j["guard"].is_object()) {
    const json& g = j["guard"];
    s.guard_flow = g.value("flow", "");
    s.guard_step = g.value("step", "");
    s.guard_until = g.value("until", static_cast<UnixSeconds>(0));
  }
  if (j.contains("location") && j["location"].is_object()) {
    const json& l = j["location"];
    if (l.value("lat", 0.0) != 0 || l.value("lng", 0.0) != 0) {
      s.lat = l.value("lat", 0.0);
      s.lng = l.value("lng", 0.0);
      s.location_at = l.value("at", static_cast<UnixSeconds>(0));
    }
  }
  return s;
}

}  // namespace gridbot::dialogs
