// The cuda device's engine (cuda_engine.cpp), made by the device's factory (cuda_device.cpp)
// from the executable's cuda sections.
#pragma once

#include <memory>
#include <string>

#include "ir/arena_plan.h"
#include "runtime/engine/engine.h"
#include "targets/cpu/fused_kernel_plan.h"
#include "targets/cuda/cublaslt.h"
#include "targets/cuda/cuda_check.h"
#include "targets/cuda/fused_cuda_source.h"

namespace kiln::cuda {

// The generated kernels as the compile half wrote them (either may be empty: no fused ops).
struct CudaCode {
  std::string cubin, ptx;
};

// GPU scratch shared by a module's functions (which never run at the same time): kernel
// workspaces, and the flags kernels raise for an index or label out of range.
struct Scratch {
  DeviceMemory work, flags;
  uint64_t generation = 0;  // bumped when `work` moves: graphs that captured it are dropped
  float* floats(size_t n);
  unsigned long long* badIndex();  // ~0: none
  int64_t* badRow();               // -1: none
  Status checkFlags(const Function& f);  // after the stream is idle
};

Expected<std::unique_ptr<Engine>> makeCudaEngine(const Module& m, const CudaCode& code, ArenaPlans plans, KernelPlans kernelPlans);

}  // namespace kiln::cuda
