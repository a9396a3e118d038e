// cross_entropy_with_grad: the loss and its gradient in one launch per row (max and sum of
// exponentials in one online pass, then the gradient written), framed by a count of the valid
// labels and an ordered sum of the rows' losses.
#include <cuda_runtime.h>

#include "targets/cuda/kernels/block_reduce.cuh"
#include "targets/cuda/kernels/cuda_kernels.h"

namespace kiln::cuda {

namespace {

// workspace[rows] = rows whose label is not ignored; *badRow = the first label out of range.
__global__ void countLabelsKernel(const float* __restrict__ labels, int64_t rows, int64_t cols, int32_t ignoreIndex,
                                  float* __restrict__ workspace, int64_t* __restrict__ badRow) {
  __shared__ float shared[32];
  __shared__ unsigned long long firstBad;
  if (threadIdx.x == 0) firstBad = ~0ull;
  __syncthreads();
  float n = 0.f;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) {
    const int32_t l = int32_t(labels[r]);  // stored as f32, exact
    if (l == ignoreIndex) continue;
    if (l < 0 || l >= cols) atomicMin(&firstBad, (unsigned long long)r);
    else n += 1.f;
  }
  n = blockSum(n, shared);
  __syncthreads();
  if (threadIdx.x == 0) {
    workspace[rows] = n;
    *badRow = firstBad == ~0ull ? -1 : int64_t(firstBad);
  }
}

__global__ void crossEntropyRowsKernel(const float* __restrict__ logits, const float* __restrict__ labels,
                                       const float* __restrict__ g, float* __restrict__ dlogits,
                                       float* __restrict__ workspace, int64_t rows, int64_t cols, int32_t ignoreIndex,
                                       Reduction reduction) {
  extern __shared__ float shared[];
  const int64_t r = blockIdx.x, base = r * cols;
  const int32_t label = int32_t(labels[r]);
  float* d = dlogits ? dlogits + base : nullptr;  // null: the loss only
  if (label == ignoreIndex || label < 0 || label >= cols) {
    if (d)
      for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) d[j] = 0.f;
    if (threadIdx.x == 0) workspace[r] = 0.f;
    return;
  }
  const float* x = logits + base;
  // Online: each thread keeps its running maximum and the sum of exponentials below it.
  float mx = -INFINITY, sum = 0.f;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    const float v = x[j];
    if (v > mx) sum = sum * __expf(mx - v) + 1.f, mx = v;
    else sum += __expf(v - mx);
  }
  const float rowMax = blockMax(mx, shared);
  const float total = blockSum(mx == -INFINITY ? 0.f : sum * __expf(mx - rowMax), shared);
  if (d) {
    const float scale = reduction == Reduction::Mean ? g[0] / workspace[rows] : reduction == Reduction::Sum ? g[0] : g[r];
    const float k = scale / total;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) d[j] = __expf(x[j] - rowMax) * k - (j == label ? scale : 0.f);
  }
  if (threadIdx.x == 0) workspace[r] = rowMax + logf(total) - x[label];
}

__global__ void sumLossesKernel(const float* __restrict__ workspace, int64_t rows, Reduction reduction, float* __restrict__ loss) {
  __shared__ float shared[32];
  if (reduction == Reduction::None) {  // each row's loss (0 where ignored)
    for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) loss[r] = workspace[r];
    return;
  }
  const bool mean = reduction == Reduction::Mean;
  float s = 0.f;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) s += workspace[r];
  s = blockSum(s, shared);
  if (threadIdx.x == 0) {
    const float n = workspace[rows];
    *loss = mean ? (n > 0.f ? s / n : 0.f) : s;  // all ignored: 0, not 0/0
  }
}

}  // namespace

void crossEntropyWithGrad(const float* logits, const float* labels, const float* g, float* loss, float* dlogits,
                          float* workspace, int64_t* badRow, int64_t rows, int64_t cols, int32_t ignoreIndex,
                          Reduction reduction, void* stream) {
  auto s = cudaStream_t(stream);
  countLabelsKernel<<<1, 1024, 0, s>>>(labels, rows, cols, ignoreIndex, workspace, badRow);
  if (rows > 0 && cols > 0) {
    const RowLaunch l = rowLaunch(rows, cols);
    crossEntropyRowsKernel<<<unsigned(l.blocks), l.threads, l.sharedBytes, s>>>(logits, labels, g, dlogits, workspace, rows,
                                                                                cols, ignoreIndex, reduction);
  }
  sumLossesKernel<<<1, 1024, 0, s>>>(workspace, rows, reduction, loss);
}

}  // namespace kiln::cuda
