// The IR parser and verifier on arbitrary text: every input gives a module or located errors,
// never a crash, a hang or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = kiln::parseModule(text, "fuzz.kir");
  if (!m) return 0;
  if (!kiln::verifyModule(*m).empty()) return 0;
  // A module that verifies prints and parses back.
  auto again = kiln::parseModule(kiln::printModule(*m), "printed.kir");
  if (!again) __builtin_trap();
  return 0;
}
