// Placeholder until the outbox commands land.
#include <cstdio>

#include "bot/commands.h"

namespace gridbot::bot {

int OutboxCommand(const std::vector<std::string>&) {
  std::fprintf(stderr, "gridbot: outbox is not implemented yet\n");
  return 2;
}
int NotifyBillsCommand(const std::vector<std::string>&) {
  std::fprintf(stderr, "gridbot: notify-bills is not implemented yet\n");
  return 2;
}

}  // namespace gridbot::bot
