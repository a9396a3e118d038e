// The run halves of every target (targets.def); linked into every trainer.
#include "targets/targets.h"

namespace kiln {

#define KILN_TARGET(name, Name) void register##Name##Device();
#include "targets/targets.def"
#undef KILN_TARGET

void registerDevices() {
#define KILN_TARGET(name, Name) register##Name##Device();
#include "targets/targets.def"
#undef KILN_TARGET
}

std::string defaultTargetName() {
  static const char* const names[] = {
#define KILN_TARGET(name, Name) #name,
#include "targets/targets.def"
#undef KILN_TARGET
  };
  return names[0];
}

}  // namespace kiln
