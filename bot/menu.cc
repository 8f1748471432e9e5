#include "bot/menu.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bot/app.h"
#include "bot/commands.h"

namespace gridbot::bot {

using nlohmann::json;

Result<Menu> LoadMenu(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  json j = json::parse(buf.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("button") || !j["button"].is_array())
    return Status::Error(path + ": expected {\"button\": [...]}");
  Menu menu;
  json body = {{"button", json::array()}};
  // WeChat: at most 3 top menus of at most 5 entries; names of at most 16 /
  // 60 bytes.
  if (j["button"].size() > 3) return Status::Error(path + ": WeChat allows at most 3 top menus");
  for (size_t i = 0; i < j["button"].size(); ++i) {
    const json& top = j["button"][i];
    const std::string where = path + ": button[" + std::to_string(i) + "]";
    if (!top.is_object() || !top.contains("name") || !top["name"].is_string())
      return Status::Error(where + ": needs a name");
    json out_top = {{"name", top["name"]}, {"sub_button", json::array()}};
    const json subs = top.value("sub_button", json::array());
    if (!subs.is_array() || subs.empty() || subs.size() > 5)
      return Status::Error(where + ": needs 1 to 5 sub_button entries");
    for (size_t k = 0; k < subs.size(); ++k) {
      const json& s = subs[k];
      const std::string at = where + ".sub_button[" + std::to_string(k) + "]";
      if (!s.is_object() || !s.contains("name") || !s.contains("key") || !s.contains("intent") ||
          !s["key"].is_string() || !s["intent"].is_string())
        return Status::Error(at + ": needs name, key and intent");
      const std::string key = s["key"].get<std::string>();
      if (menu.intents.count(key)) return Status::Error(at + ": duplicate key " + key);
      menu.intents[key] = s["intent"].get<std::string>();
      out_top["sub_button"].push_back(
          {{"type", s.value("type", "click")}, {"name", s["name"]}, {"key", key}});
    }
    body["button"].push_back(out_top);
  }
  menu.create_body = body.dump();
  return menu;
}

int MenuCommand(const std::vector<std::string>& args) {
  Config config;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::printf(
          "gridbot menu [--corpus DIR]: prints the JSON body for WeChat's menu-create API\n"
          "(POST https://api.weixin.qq.com/cgi-bin/menu/create?access_token=…), from\n"
          "corpus/menu.json.\n");
      return 0;
    }
    if (args[i] == "--corpus" && i + 1 < args.size()) {
      config.corpus = args[++i];
    } else {
      std::fprintf(stderr, "gridbot: unknown argument %s (see gridbot menu --help)\n",
                   args[i].c_str());
      return 2;
    }
  }
  auto menu = LoadMenu(CorpusDir(config) + "/menu.json");
  if (!menu.ok()) {
    std::fprintf(stderr, "gridbot: %s\n", menu.error().c_str());
    return 2;
  }
  std::printf("%s\n", menu->create_body.c_str());
  return 0;
}

}  // namespace gridbot::bot
