// The WeChat menu (corpus/menu.json): the body for WeChat's menu-create API,
// and which intent each CLICK key starts.
#pragma once

#include <map>
#include <string>

#include "common/status.h"

namespace gridbot::bot {

struct Menu {
  std::string create_body;                     // {"button":[…]} without our fields
  std::map<std::string, std::string> intents;  // CLICK key -> intent
};

// Error names the file and the entry at fault.
Result<Menu> LoadMenu(const std::string& path);

}  // namespace gridbot::bot
