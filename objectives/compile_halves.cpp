// The compile halves of every objective (objectives.def); linked into the kiln driver.
#include "objectives/objectives.h"

namespace kiln {

#define KILN_OBJECTIVE(name, Name) void register##Name##Objective();
#include "objectives/objectives.def"
#undef KILN_OBJECTIVE

void registerObjectives() {
#define KILN_OBJECTIVE(name, Name) register##Name##Objective();
#include "objectives/objectives.def"
#undef KILN_OBJECTIVE
}

}  // namespace kiln
