// The reference target's run half: the interpreter in f64 as a device.
#pragma once

#include <memory>

#include "runtime/engine/engine.h"

namespace kiln {

Expected<std::unique_ptr<Engine>> makeReferenceEngine(const Module& m);
void registerReferenceDevice();

}  // namespace kiln
