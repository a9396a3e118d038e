// The run halves of every objective (objectives.def); linked into every trainer.
#include "objectives/objectives.h"

namespace kiln {

#define KILN_OBJECTIVE(name, Name) void register##Name##Data();
#include "objectives/objectives.def"
#undef KILN_OBJECTIVE

void registerObjectiveDataHalves() {
#define KILN_OBJECTIVE(name, Name) register##Name##Data();
#include "objectives/objectives.def"
#undef KILN_OBJECTIVE
}

}  // namespace kiln
