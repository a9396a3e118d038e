// CUDA C++ for `fused` and `fused_sum` ops, from the same plans the cpu target's generated
// kernels follow (targets/cpu/fused_kernel_plan.h): one `extern "C" __global__` kernel per plan,
// named by its symbol, taking the operands' f32 pointers and then the result's, every shape a
// constant. The compile half turns the source into sm_90 cubin and PTX with NVRTC
// (nvrtc_compiler.h); the scalar math is the reference's (eval/kernels/scalar_math.h) in f32.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "targets/cpu/fused_kernel_plan.h"

namespace kiln::cuda {

// The kernel's source (no includes; NVRTC compiles it as it is).
std::string fusedKernelSource(const FusedKernelPlan& plan);
// Every plan's kernel in one translation unit.
std::string fusedKernelsSource(const std::vector<FusedKernelPlan>& plans);

// How a plan's kernel is launched: elementwise, a grid-stride loop over the result's elements;
// a sum, one block per output (its elements added in a fixed order).
struct FusedLaunch {
  int threads = 256;
  int64_t blocks = 0;
};
FusedLaunch fusedLaunch(const FusedKernelPlan& plan);

}  // namespace kiln::cuda
