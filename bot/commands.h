// Commands of `gridbot` beyond serve/chat/nlu/logs, one file each.
#pragma once

#include <string>
#include <vector>

namespace gridbot::bot {

// gridbot outbox [--db PATH] [--status pending|sent|failed|all] [--deliver]
int OutboxCommand(const std::vector<std::string>& args);  // bot/outbox.cc
// gridbot notify-bills --month YYYY-MM [--db PATH] [--now DATE]
int NotifyBillsCommand(const std::vector<std::string>& args);  // bot/outbox.cc
// gridbot menu: the JSON body for WeChat's menu-create API
int MenuCommand(const std::vector<std::string>& args);  // bot/menu.cc

}  // namespace gridbot::bot
