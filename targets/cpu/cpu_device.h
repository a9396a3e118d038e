// The cpu target's run half: the f32 device (oneDNN matmuls and softmax, attention in query
// blocks, the generated fused kernels, one planned arena).
#pragma once

#include <memory>

#include "ir/arena_plan.h"
#include "runtime/engine/engine.h"
#include "targets/cpu/fused_kernel_plan.h"

namespace kiln {

// Sections the cpu target writes into an executable and its device reads.
inline constexpr const char* kCpuArenaPlanSection = "cpu.arena_plan";
inline constexpr const char* kCpuKernelsSection = "cpu.kernels.so";
inline constexpr const char* kCpuKernelFeaturesSection = "cpu.kernel_features";  // space-separated
inline constexpr const char* kCpuKernelPlansSection = "cpu.kernel_plans";        // formatKernelPlans

// Fused ops run the generated kernels of `kernels` with their `kernelPlans` (or the portable
// kernel when it is null or lacks one); `plans` places every function's values (compiler:
// planArenas(m, 4), planKernels(m)).
Expected<std::unique_ptr<Engine>> makeCpuEngine(const Module& m, std::shared_ptr<const KernelLibrary> kernels,
                                                ArenaPlans plans, KernelPlans kernelPlans);
void registerCpuDevice();

}  // namespace kiln
