// Graphviz export of a function's dataflow graph (`kiln ir --emit=dot`).
#pragma once

#include <ostream>

#include "ir/module.h"

namespace kiln {

// One node per parameter, op and output; edges carry the value's type. `dot -Tsvg` renders it.
void emitDot(const Function& f, std::ostream& os);

}  // namespace kiln
