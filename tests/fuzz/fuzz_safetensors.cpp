// The safetensors loader (checkpoints, the corpus cache) on arbitrary bytes: a file either
// loads with every tensor inside its data, or is refused with a reason.
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/checkpoint/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto f = kiln::parseSafetensors(bytes, "fuzz.safetensors");
  if (!f) return 0;
  for (const auto& [name, t] : f->tensors) (void)kiln::describeNonFinite(t);
  return 0;
}
