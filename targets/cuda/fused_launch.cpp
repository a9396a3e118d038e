#include "targets/cuda/fused_launch.h"

#include <algorithm>

namespace kiln::cuda {

FusedLaunch fusedLaunch(const FusedKernelPlan& plan) {
  FusedLaunch l;
  if (plan.sums) {
    l.threads = int(std::clamp<int64_t>((plan.rowElems + 31) / 32 * 32, 32, 512));
    l.blocks = plan.rows;
    return l;
  }
  int64_t n = 1;
  for (int64_t d : plan.shape) n *= d;
  // Four elements per thread at most before the grid-stride loop takes over; capped so one
  // launch stays within a few waves of a large GPU.
  l.blocks = std::clamp<int64_t>((n + l.threads * 4 - 1) / (l.threads * 4), 1, 132 * 32);
  return l;
}

}  // namespace kiln::cuda
