// Code generation for fused elementwise kernels through MLIR 16: each FusedKernelPlan becomes a
// linalg.generic over static memrefs, lowered to loops and LLVM IR with f32 polynomial
// approximations of exp/log/tanh/erf (so the loops vectorize), optimized at O3 for this
// machine's CPU features (AVX-512 where present). The only translation unit with MLIR headers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "targets/cpu/fused_kernel_plan.h"

namespace kiln {

// Ahead of time: a relocatable object (ELF) defining every plan's kernels.
Expected<std::string> emitFusedKernelObject(const std::vector<FusedKernelPlan>& plans);

// Just in time, into this process (for `kiln run` and tests).
Expected<std::shared_ptr<KernelLibrary>> jitFusedKernels(const std::vector<FusedKernelPlan>& plans);

// The MLIR text of the kernels before lowering (for --dump-kernels and tests).
Expected<std::string> fusedKernelsMlir(const std::vector<FusedKernelPlan>& plans);

// Links an object into a shared object with the system C compiler ($CC, else cc).
Expected<std::string> linkSharedObject(const std::string& object);

}  // namespace kiln
