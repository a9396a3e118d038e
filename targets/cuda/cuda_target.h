// The cuda target's compile half: the cpu target's fusions (the same fused-op plans), f32
// storage, its scratch rule, and the sections it writes: memory plans, kernel plans, and the
// generated kernels as sm_90 cubin plus compute_90 PTX (NVRTC, no GPU needed).
#pragma once

namespace kiln {

void registerCudaTarget();

}  // namespace kiln
