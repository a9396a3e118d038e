// The cuda target's run half: the f32 device (cuBLASLt matmuls, the hand-written kernels, the
// generated fused kernels from the executable's cubin or PTX, one planned arena in GPU memory).
// Built where the CUDA toolkit is; elsewhere the device is registered as absent and says so.
#pragma once

namespace kiln {

// Sections the cuda target writes into an executable and its device reads.
inline constexpr const char* kCudaArenaPlanSection = "cuda.arena_plan";
inline constexpr const char* kCudaKernelPlansSection = "cuda.kernel_plans";  // formatKernelPlans
inline constexpr const char* kCudaCubinSection = "cuda.kernels.cubin";       // sm_90
inline constexpr const char* kCudaPtxSection = "cuda.kernels.ptx";           // compute_90, JIT on newer GPUs

void registerCudaDevice();

}  // namespace kiln
