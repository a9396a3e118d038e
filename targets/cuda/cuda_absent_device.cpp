// The cuda target's run half where kiln was built without the CUDA toolkit (no nvcc at configure
// time, -DKILN_CUDA=OFF, or the sanitizer build): registered so that asking for it says why it
// cannot run, rather than that the target does not exist.
#include "runtime/engine/device_registry.h"
#include "targets/cuda/cuda_absent.h"

namespace kiln {

void registerCudaDevice() {
  registerDevice("cuda", "NVIDIA GPUs (not in this build)", [](const DeviceInputs&) -> Expected<std::unique_ptr<Engine>> {
    return makeError({}, kCudaAbsent);
  });
}

}  // namespace kiln
