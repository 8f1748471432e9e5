// Placeholder until the menu command lands.
#include <cstdio>

#include "bot/commands.h"

namespace gridbot::bot {

int MenuCommand(const std::vector<std::string>&) {
  std::fprintf(stderr, "gridbot: menu is not implemented yet\n");
  return 2;
}

}  // namespace gridbot::bot
