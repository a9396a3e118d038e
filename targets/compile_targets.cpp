// The compile halves of every target (targets.def); linked into the kiln driver, never into a
// trainer.
#include "targets/targets.h"

namespace kiln {

#define KILN_TARGET(name, Name) void register##Name##Target();
#include "targets/targets.def"
#undef KILN_TARGET

void registerCompileTargets() {
#define KILN_TARGET(name, Name) register##Name##Target();
#include "targets/targets.def"
#undef KILN_TARGET
}

}  // namespace kiln
