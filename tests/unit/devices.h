// Engines for tests made straight from a module: the cpu device gets the memory plans the cpu
// target would write into an executable.
#pragma once

#include <memory>

#include "compiler/memory_plan.h"
#include "targets/cpu/cpu_device.h"
#include "targets/reference/reference_device.h"

namespace kiln {

inline Expected<std::unique_ptr<Engine>> testCpuEngine(const Module& m, std::shared_ptr<const KernelLibrary> kernels = nullptr) {
  return makeCpuEngine(m, std::move(kernels), planArenas(m, 4), planKernels(m));
}

}  // namespace kiln
