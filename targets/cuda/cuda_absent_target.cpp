// The cuda target's compile half where kiln was built without the CUDA toolkit (no nvcc at configure
// time, -DKILN_CUDA=OFF, or the sanitizer build): registered so that asking for it says why it
// cannot run, rather than that the target does not exist.
#include "compiler/target.h"
#include "targets/cuda/cuda_absent.h"

namespace kiln {

namespace {

class AbsentCudaTarget : public Target {
 public:
  std::string name() const override { return "cuda"; }
  std::string summary() const override { return "NVIDIA GPUs (not in this build: no CUDA toolkit)"; }
  std::vector<DType> computeTypes() const override { return {DType::F32}; }
  Status emit(const Module&, std::map<std::string, std::string>&, std::ostream&, bool) const override {
    return makeError({}, kCudaAbsent);
  }
};

}  // namespace

void registerCudaTarget() { registerTarget(std::make_unique<AbsentCudaTarget>()); }

}  // namespace kiln
