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
#include "targets/cuda/fused_launch.h"

namespace kiln::cuda {

// The kernel's source (no includes; NVRTC compiles it as it is).
std::string fusedKernelSource(const FusedKernelPlan& plan);
// Every plan's kernel in one translation unit.
std::string fusedKernelsSource(const std::vector<FusedKernelPlan>& plans);

// fusedLaunch (fused_launch.h) says how each kernel is launched.

}  // namespace kiln::cuda
