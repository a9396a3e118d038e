// The cuda device's factory: a GPU first (one line and no engine where there is none), then
// everything else from the executable's cuda sections.
#include "targets/cuda/cuda_device.h"

#include <cuda_runtime.h>

#include "runtime/engine/device_registry.h"
#include "targets/cuda/cuda_engine.h"

namespace kiln {

namespace {

const std::string* section(const DeviceInputs& in, const char* name) {
  auto it = in.sections.find(name);
  return it == in.sections.end() ? nullptr : &it->second;
}

// The GPU the device runs on, or why there is none it can use.
Expected<cudaDeviceProp> usableGpu(const DeviceInputs& in) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0)
    return makeError({}, "no CUDA GPU on this machine (" + std::string(e != cudaSuccess ? cudaGetErrorString(e) : "none found") + "); " +
                             in.origin + " was compiled for --target cuda: run it where there is one, or compile the spec with --target cpu");
  cudaDeviceProp p{};
  cudaGetDeviceProperties(&p, 0);
  if (p.major < 9)
    return makeError({}, std::string("the GPU here (") + p.name + ", sm_" + std::to_string(p.major) + std::to_string(p.minor) +
                             ") is older than the sm_90 (Hopper) code in " + in.origin);
  return p;
}

Expected<std::unique_ptr<Engine>> makeCudaDevice(const DeviceInputs& in) {
  const std::string* planText = section(in, kCudaArenaPlanSection);
  if (!planText)
    return makeError({}, in.origin + " holds no cuda memory plan: it was compiled for another target "
                                     "(compile the spec with --target cuda to run it on the cuda device)");
  auto gpu = usableGpu(in);
  if (!gpu) return gpu.error();
  auto plans = parseArenaPlans(in.module, *planText, in.origin + " [" + kCudaArenaPlanSection + "]", 4);
  if (!plans) return plans.error();
  KernelPlans kernelPlans;
  cuda::CudaCode code;
  if (const std::string* planned = section(in, kCudaKernelPlansSection)) {
    auto loaded = parseKernelPlans(in.module, *planned, in.origin + " [" + kCudaKernelPlansSection + "]");
    if (!loaded) return loaded.error();
    kernelPlans = loaded.take();
    const std::string* cubin = section(in, kCudaCubinSection);
    const std::string* ptx = section(in, kCudaPtxSection);
    if (!cubin || !ptx) return makeError({}, "damaged executable: " + in.origin + " has kernel plans but not their cubin and PTX");
    code.cubin = *cubin;
    code.ptx = *ptx;
  }
  return cuda::makeCudaEngine(in.module, code, plans.take(), std::move(kernelPlans));
}

std::string describeCuda(const DeviceInputs& in) {
  std::string code = section(in, kCudaCubinSection) ? "sm_90 cubin + compute_90 PTX" : "no generated kernels";
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) return "no CUDA GPU here (the trainer holds " + code + ")";
  cudaDeviceProp p{};
  cudaGetDeviceProperties(&p, 0);
  int driver = 0;
  cudaDriverGetVersion(&driver);
  return std::string(p.name) + " (sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " + std::to_string(p.multiProcessorCount) +
         " SMs, " + std::to_string(p.totalGlobalMem >> 30) + " GiB), CUDA driver " + std::to_string(driver / 1000) + "." +
         std::to_string(driver % 1000 / 10) + "; " + code;
}

// The GPU's free memory (0, unknown, without one: the device then says why it cannot start).
MemoryLimit gpuMemory() {
  int count = 0;
  size_t freeBytes = 0, total = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0 || cudaMemGetInfo(&freeBytes, &total) != cudaSuccess) return {};
  return {int64_t(freeBytes), "free GPU memory"};
}

}  // namespace

void registerCudaDevice() {
  registerDevice("cuda", "f32 or bf16 mixed on an NVIDIA GPU: cuBLASLt matmuls, hand-written and generated kernels, one planned arena",
                 makeCudaDevice, describeCuda, gpuMemory);
}

}  // namespace kiln
