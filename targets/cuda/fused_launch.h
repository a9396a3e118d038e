// How a generated fused kernel (fused_cuda_source.h) is launched: decided on the host from its
// plan, by the compile half's tests and by the device alike.
#pragma once

#include <cstdint>

#include "targets/cpu/fused_kernel_plan.h"

namespace kiln::cuda {

// How a plan's kernel is launched: elementwise, a grid-stride loop over the result's elements;
// a sum, one block per output (its elements added in a fixed order).
struct FusedLaunch {
  int threads = 256;
  int64_t blocks = 0;
};
FusedLaunch fusedLaunch(const FusedKernelPlan& plan);

}  // namespace kiln::cuda
