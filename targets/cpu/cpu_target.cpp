#include "targets/cpu/cpu_target.h"

#include <chrono>

#include "compiler/target.h"
#include "targets/cpu/cpu_device.h"
#include "targets/cpu/cpu_features.h"
#include "targets/cpu/cpu_rules.h"
#include "targets/cpu/mlir_codegen.h"

namespace kiln {

namespace {

class CpuTarget : public Target {
 public:
  std::string name() const override { return "cpu"; }
  std::string summary() const override { return "f32, oneDNN matmuls, generated fused kernels (default)"; }
  // Its generated kernels take f32 pointers: only f32 chains fuse.
  PassOptions passOptions(const std::string& pass) const override {
    if (pass == "fuse-elementwise") return {{"dtype", "f32"}};
    return {};
  }
  std::vector<std::string> passes() const override {
    return {
        "fuse-matmul-epilogue",  // bias + residual adds -> oneDNN matmul post-ops
        "fuse-cross-entropy",    // the loss and its gradient in one pass over the logits
        "fuse-residual-norm",    // residual add + layer norm (and gradients) in one op
        "fuse-elementwise",      // elementwise chains -> one generated kernel each
        "fuse-reductions",       // a fused program feeding a trailing sum -> one fused_sum
        "fuse-adamw",            // every parameter's update (and clipping) in one kernel
        "dce",                   // the constants fusion inlined
    };
  }
  int elementBytes() const override { return 4; }  // every dtype is stored as f32, but bf16 (2 bytes)
  int64_t workspaceBytes(const Function& f) const override { return cpuWorkspaceBytes(f, elementBytes()); }
  std::vector<DType> computeTypes() const override { return {DType::F32}; }
  // bf16 matmuls run on oneDNN's bf16 kernels (f32 accumulation); attention computes in f32 on
  // the rounded inputs.
  std::vector<DType> mixedPrecisionTypes() const override { return {DType::BF16}; }
  std::string mixedPrecisionWarning(DType narrow) const override {
    return narrow == DType::BF16 ? bf16SlowerReason(cpuModelName(), dnnlCpuIsa()) : "";
  }

  Expected<std::string> kernelSource(const Module& m) const override { return fusedKernelsMlir(planFusedKernels(m)); }

  Status emit(const Module& m, std::map<std::string, std::string>& sections, std::ostream& log,
              bool quiet) const override {
    sections[kCpuArenaPlanSection] = formatArenaPlans(m, planArenas(m, elementBytes()));
    // The kernels use this machine's vector extensions; the device checks for them first.
    sections[kCpuKernelFeaturesSection] = joinFeatures(hostCpuFeatures());
    auto plans = planFusedKernels(m);
    if (plans.empty()) return okStatus();
    sections[kCpuKernelPlansSection] = formatKernelPlans(m, planKernels(m));  // the device loads them
    auto t0 = std::chrono::steady_clock::now();
    auto object = emitFusedKernelObject(plans);
    if (!object) return object.error();
    auto so = linkSharedObject(*object);
    if (!so) return so.error();
    sections[kCpuKernelsSection] = *so;
    if (!quiet)
      log << "generated " << plans.size() << " fused kernels (" << so->size() / 1024 << " KiB) in "
          << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
    return okStatus();
  }
};

}  // namespace

void registerCpuTarget() { registerTarget(std::make_unique<CpuTarget>()); }

}  // namespace kiln
