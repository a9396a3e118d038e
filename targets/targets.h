// Registration of every target listed in targets/targets.def. A trainer registers the run
// halves only (it carries no compiler); the kiln driver and the tests register both.
#pragma once

#include <string>

namespace kiln {

void registerDevices();         // run halves (runtime/engine/device_registry.h)
void registerCompileTargets();  // compile halves (compiler/target.h)
std::string defaultTargetName();  // the first line of targets.def

}  // namespace kiln
