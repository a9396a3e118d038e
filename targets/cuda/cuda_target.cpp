#include "targets/cuda/cuda_target.h"

#include <chrono>

#include "compiler/memory_plan.h"
#include "compiler/target.h"
#include "targets/cpu/fused_kernel_plan.h"
#include "targets/cuda/cuda_device.h"
#include "targets/cuda/fused_cuda_source.h"
#include "targets/cuda/nvrtc_compiler.h"
#include "targets/cuda/op_lowering.h"

namespace kiln {

namespace {

class CudaTarget : public Target {
 public:
  std::string name() const override { return "cuda"; }
  std::string summary() const override { return "NVIDIA GPUs (sm_90 + PTX): f32 or bf16 mixed, cuBLASLt matmuls, generated fused kernels"; }
  PassOptions passOptions(const std::string& pass) const override {
    if (pass == "fuse-elementwise") return {{"dtype", "f32"}};  // the generated kernels take f32 pointers
    return {};
  }
  // The cpu target's fusions: each fused op is one kernel here too (cuBLASLt epilogues for
  // matmul_bias, the hand-written cross-entropy, add_layer_norm and adamw_group kernels).
  std::vector<std::string> passes() const override {
    return {"fuse-matmul-epilogue", "fuse-cross-entropy", "fuse-residual-norm", "fuse-elementwise",
            "fuse-reductions",      "fuse-adamw",         "dce"};
  }
  int elementBytes() const override { return 4; }
  int64_t workspaceBytes(const Function& f) const override { return cuda::scratchBytes(f); }
  std::vector<DType> computeTypes() const override { return {DType::F32}; }
  // bf16 matmuls on cuBLASLt's tensor-core kernels and attention on the rounded inputs, both
  // accumulating in f32; master weights and moments stay f32.
  std::vector<DType> mixedPrecisionTypes() const override { return {DType::BF16}; }

  Expected<std::string> kernelSource(const Module& m) const override {
    return cuda::fusedKernelsSource(planFusedKernels(m));
  }

  Status emit(const Module& m, std::map<std::string, std::string>& sections, std::ostream& log, bool quiet) const override {
    sections[kCudaArenaPlanSection] = formatArenaPlans(m, planArenas(m, elementBytes()));
    const KernelPlans kernelPlans = planKernels(m);
    std::map<const Op*, bool> generated;
    for (const auto& [op, plan] : kernelPlans) generated[op] = true;
    if (!quiet)
      if (auto host = cuda::hostOps(m, generated); !host.empty()) {
        // Correct but slow: each such op copies its operands to the host and its results back.
        log << "cuda: ops with no GPU kernel yet run on the host:";
        for (const auto& [kind, n] : host) log << " " << kind << " x" << n;
        log << "\n";
      }
    auto plans = planFusedKernels(m);
    if (plans.empty()) return okStatus();
    sections[kCudaKernelPlansSection] = formatKernelPlans(m, kernelPlans);
    auto t0 = std::chrono::steady_clock::now();
    auto code = cuda::compileDeviceCode(cuda::fusedKernelsSource(plans), "kiln_fused_kernels.cu");
    if (!code) return code.error();
    sections[kCudaCubinSection] = code->cubin;
    sections[kCudaPtxSection] = code->ptx;
    if (!quiet) {
      log << "generated " << plans.size() << " fused CUDA kernels (cubin " << code->cubin.size() / 1024 << " KiB, PTX "
          << code->ptx.size() / 1024 << " KiB) in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
          << " s";
      auto spills = cuda::kernelsWithSpills(code->ptxasInfo);
      log << (spills.empty() ? ", no register spills\n" : ", " + std::to_string(spills.size()) + " spill registers\n");
    }
    return okStatus();
  }
};

}  // namespace

void registerCudaTarget() { registerTarget(std::make_unique<CudaTarget>()); }

}  // namespace kiln
