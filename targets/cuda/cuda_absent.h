// Why the cuda target cannot run in a kiln built without the CUDA toolkit.
#pragma once

namespace kiln {

inline constexpr const char* kCudaAbsent =
    "this kiln was built without the CUDA toolkit (nvcc was not found when it was configured, or KILN_CUDA was off); "
    "install CUDA 13 and build kiln again to use the cuda target";

}  // namespace kiln
