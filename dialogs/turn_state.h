// What one turn of the engine has decided so far; private to the engine's
// files (engine.cc, handoff.cc).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "dialogs/engine.h"

namespace gridbot::dialogs {

// A customer's message as staff and the log may see it: passwords masked.
std::string TextForStaff(const nlu::Understanding& u);

struct Engine::TurnState {
  bool masked = false;
  std::string handoff;  // Outcome::handoff
  bool cancelled = false;  // the customer cancelled a flow in this turn
  // What happened to flow runs in this turn, for analytics' funnels:
  // {"e":"start"|"ask"|"end","flow","run",("step"),("how")}.
  nlohmann::json events = nlohmann::json::array();
  std::string desk_id;
  std::string commands;  // what the command layer decided (ToString)
  bool fallback = false;  // the bot said it did not understand
  std::string intent;     // what the turn was taken as (after follow-up resolution)
};

}  // namespace gridbot::dialogs
