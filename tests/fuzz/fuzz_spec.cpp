// The spec reader (TOML, every key's type and range, the cross-key rules) on arbitrary text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "frontends/spec/spec.h"
#include "objectives/objectives.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  kiln::registerObjectives();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto spec = kiln::parseSpec(text, "fuzz.toml");
  (void)spec;
  return 0;
}
