// The executable loader on arbitrary payloads: sections, the settings schema, the embedded IR
// and tokenizer, as a trainer reads them before it trusts any of it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/trainer/executable.h"
#include "objectives/objectives.h"
#include "runtime/trainer/loaded_executable.h"

// The objectives' run halves: a trainer's settings are checked against its objective's keys.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  kiln::registerObjectiveDataHalves();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string payload(reinterpret_cast<const char*>(data), size);
  auto exe = kiln::Executable::deserialize(payload, "fuzz-trainer");
  if (!exe) return 0;
  auto loaded = kiln::loadExecutable(*exe, "fuzz-trainer");
  (void)loaded;
  return 0;
}
