// softmax and log_softmax along any axis, and their gradients: a block per row, the row's
// elements `inner` apart (the tensor viewed as [outer, len, inner]); maxima and sums in the
// blocks' fixed order (block_reduce.cuh).
#include <cuda_runtime.h>

#include "targets/cuda/kernels/block_reduce.cuh"
#include "targets/cuda/kernels/cuda_kernels.h"

namespace kiln::cuda {

namespace {

__device__ int64_t rowBase(int64_t row, int64_t len, int64_t inner) { return (row / inner) * len * inner + row % inner; }

__global__ void softmaxKernel(const float* __restrict__ x, float* __restrict__ y, int64_t len, int64_t inner, bool logarithm) {
  __shared__ float shared[32];
  const int64_t base = rowBase(blockIdx.x, len, inner);
  float mx = -INFINITY;
  for (int64_t j = threadIdx.x; j < len; j += blockDim.x) mx = fmaxf(mx, x[base + j * inner]);
  mx = blockMax(mx, shared);
  float sum = 0.f;
  for (int64_t j = threadIdx.x; j < len; j += blockDim.x) sum += expf(x[base + j * inner] - mx);
  sum = blockSum(sum, shared);
  const float logSum = logf(sum);
  for (int64_t j = threadIdx.x; j < len; j += blockDim.x) {
    const float v = x[base + j * inner] - mx;
    y[base + j * inner] = logarithm ? v - logSum : expf(v) / sum;
  }
}

// softmax: dx = y (g - sum(g y)); log_softmax: dx = g - exp(y) sum(g).
__global__ void softmaxGradKernel(const float* __restrict__ y, const float* __restrict__ g, float* __restrict__ dx, int64_t len,
                                  int64_t inner, bool logarithm) {
  __shared__ float shared[32];
  const int64_t base = rowBase(blockIdx.x, len, inner);
  float acc = 0.f;
  for (int64_t j = threadIdx.x; j < len; j += blockDim.x) {
    const int64_t i = base + j * inner;
    acc += logarithm ? g[i] : g[i] * y[i];
  }
  acc = blockSum(acc, shared);
  for (int64_t j = threadIdx.x; j < len; j += blockDim.x) {
    const int64_t i = base + j * inner;
    dx[i] = logarithm ? g[i] - expf(y[i]) * acc : y[i] * (g[i] - acc);
  }
}

}  // namespace

void softmax(const float* x, float* y, int64_t outer, int64_t len, int64_t inner, bool logarithm, void* stream) {
  if (outer * inner == 0 || len == 0) return;
  const RowLaunch l = rowLaunch(outer * inner, len);
  softmaxKernel<<<unsigned(l.blocks), l.threads, 0, cudaStream_t(stream)>>>(x, y, len, inner, logarithm);
}

void softmaxGrad(const float* y, const float* g, float* dx, int64_t outer, int64_t len, int64_t inner, bool logarithm, void* stream) {
  if (outer * inner == 0 || len == 0) return;
  const RowLaunch l = rowLaunch(outer * inner, len);
  softmaxGradKernel<<<unsigned(l.blocks), l.threads, 0, cudaStream_t(stream)>>>(y, g, dx, len, inner, logarithm);
}

}  // namespace kiln::cuda
