// libFuzzer: the fixture loader (back-end data as JSON) on arbitrary bytes:
// a clear error or data, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/fixtures.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)gridbot::storage::ParseFixtures(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
