// libFuzzer: the NLU on arbitrary bytes (invalid UTF-8, controls, huge
// numbers, mixed scripts). Parse is pure: it must return for anything.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nlu/nlu.h"

using namespace gridbot;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto model = nlu::Model::Load(GRIDBOT_SOURCE_DIR "/corpus");
  if (!model.ok()) __builtin_trap();
  if (size > 4096) return 0;  // the channels cut a message at 1,000 characters
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  nlu::Understanding u = (*model)->Parse(text, CivilDay{2024, 8, 4});
  if (u.confidence < 0 || u.confidence > 1.0001) __builtin_trap();
  (void)(*model)->Parse(text, CivilDay{2024, 1, 1}, /*intent_only=*/true);
  return 0;
}
