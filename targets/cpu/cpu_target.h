// The cpu target's compile half: its fusion passes, f32 storage, workspace rule, and the
// sections it writes (memory plans, the generated kernels as a shared object, their features).
#pragma once

namespace kiln {

void registerCpuTarget();

}  // namespace kiln
