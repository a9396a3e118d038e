// adamw_group: every parameter's AdamW update in one launch, one block per chunk of one
// parameter, with torch.optim.AdamW's arithmetic in the reference's order (eval/kernels).
#include <cuda_runtime.h>

#include "targets/cuda/kernels/cuda_kernels.h"

namespace kiln::cuda {

namespace {

__global__ void adamwGroupKernel(const AdamWParam* __restrict__ params, const AdamWChunk* __restrict__ chunks,
                                 const float* __restrict__ lr, const float* __restrict__ t,
                                 const float* __restrict__ gscale, float beta1, float beta2, float eps) {
  const AdamWChunk c = chunks[blockIdx.x];
  const AdamWParam q = params[c.param];
  // The step's constants from device scalars: a replayed graph sees each step's lr and t.
  const float stepSize = float(double(*lr) / (1.0 - pow(double(beta1), double(*t))));
  const float bc2Sqrt = float(sqrt(1.0 - pow(double(beta2), double(*t))));
  const float b1c = float(1.0 - double(beta1)), b2c = float(1.0 - double(beta2)), scale = *gscale, decay = *q.decay;
  for (int64_t i = c.begin + threadIdx.x; i < c.end; i += blockDim.x) {
    const float gi = __fmul_rn(q.g[i], scale);
    const float mi = __fadd_rn(q.m[i], __fmul_rn(__fsub_rn(gi, q.m[i]), b1c));
    const float vi = __fadd_rn(__fmul_rn(q.v[i], beta2), __fmul_rn(__fmul_rn(gi, gi), b2c));
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), bc2Sqrt), eps);
    q.m[i] = mi;
    q.v[i] = vi;
    q.p[i] = __fsub_rn(__fmul_rn(q.p[i], decay), __fmul_rn(stepSize, __fdiv_rn(mi, denom)));
  }
}

}  // namespace

void adamwGroup(const AdamWParam* params, const AdamWChunk* chunks, int64_t chunkCount, const float* lr, const float* t,
                const float* gscale, float beta1, float beta2, float eps, void* stream) {
  if (chunkCount == 0) return;
  adamwGroupKernel<<<unsigned(chunkCount), kAdamWThreads, 0, cudaStream_t(stream)>>>(params, chunks, lr, t, gscale, beta1,
                                                                                     beta2, eps);
}

}  // namespace kiln::cuda
