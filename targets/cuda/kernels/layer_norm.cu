// layer_norm, add_layer_norm and layer_norm_grad: one block per row (two-pass moments, as the
// reference), and the gain/bias gradients summed over rows in slices then in order.
#include <cuda_runtime.h>

#include "targets/cuda/kernels/block_reduce.cuh"
#include "targets/cuda/kernels/cuda_kernels.h"

namespace kiln::cuda {

namespace {

// The row's mean and 1/sqrt(var + eps), two passes over it (the values stay in L1).
__device__ inline float2 rowMoments(const float* row, int64_t cols, float eps, float* shared) {
  float s = 0.f;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) s += row[j];
  const float mean = blockSum(s, shared) / float(cols);
  float q = 0.f;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    const float d = row[j] - mean;
    q += d * d;
  }
  const float var = blockSum(q, shared) / float(cols);
  return make_float2(mean, rsqrtf(var + eps));
}

__global__ void layerNormKernel(const float* __restrict__ x, const float* __restrict__ residual,
                                const float* __restrict__ gain, const float* __restrict__ bias, float* __restrict__ sum,
                                float* __restrict__ y, int64_t cols, float eps) {
  extern __shared__ float shared[];
  const int64_t base = int64_t(blockIdx.x) * cols;
  const float* row = x + base;
  if (residual) {  // add_layer_norm: the sum is written, then normalized from there
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) sum[base + j] = x[base + j] + residual[base + j];
    __syncthreads();
    row = sum + base;
  }
  const float2 mr = rowMoments(row, cols, eps, shared);
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) y[base + j] = (row[j] - mr.x) * mr.y * gain[j] + bias[j];
}

// dx per row; each row's mean and rstd are kept for the column sums.
__global__ void layerNormGradRowsKernel(const float* __restrict__ x, const float* __restrict__ gain,
                                        const float* __restrict__ g, const float* __restrict__ addend,
                                        float* __restrict__ dx, float* __restrict__ moments, int64_t cols, float eps) {
  extern __shared__ float shared[];
  const int64_t base = int64_t(blockIdx.x) * cols;
  const float2 mr = rowMoments(x + base, cols, eps, shared);
  float sd = 0.f, sdx = 0.f;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    const float xhat = (x[base + j] - mr.x) * mr.y, d = g[base + j] * gain[j];
    sd += d;
    sdx += d * xhat;
  }
  const float meanD = blockSum(sd, shared) / float(cols);
  const float meanDX = blockSum(sdx, shared) / float(cols);
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    const float xhat = (x[base + j] - mr.x) * mr.y;
    float v = mr.y * (g[base + j] * gain[j] - meanD - xhat * meanDX);
    dx[base + j] = addend ? v + addend[base + j] : v;
  }
  if (threadIdx.x == 0) moments[2 * blockIdx.x] = mr.x, moments[2 * blockIdx.x + 1] = mr.y;
}

// Block (32 columns x 8 row lanes) over one slice of rows: partial sums of g * xhat and g.
__global__ void layerNormGradColumnsKernel(const float* __restrict__ x, const float* __restrict__ g,
                                           const float* __restrict__ moments, float* __restrict__ partGain,
                                           float* __restrict__ partBias, int64_t rows, int64_t cols, int64_t rowsPerSplit) {
  __shared__ float sg[8][33], sb[8][33];
  const int64_t col = int64_t(blockIdx.x) * 32 + threadIdx.x;
  const int64_t begin = int64_t(blockIdx.y) * rowsPerSplit, end = min(rows, begin + rowsPerSplit);
  float accG = 0.f, accB = 0.f;
  if (col < cols)
    for (int64_t r = begin + threadIdx.y; r < end; r += blockDim.y) {
      const float xhat = (x[r * cols + col] - moments[2 * r]) * moments[2 * r + 1], gr = g[r * cols + col];
      accG += gr * xhat;
      accB += gr;
    }
  sg[threadIdx.y][threadIdx.x] = accG;
  sb[threadIdx.y][threadIdx.x] = accB;
  __syncthreads();
  if (threadIdx.y == 0 && col < cols) {
    float a = 0.f, b = 0.f;
    for (int k = 0; k < int(blockDim.y); ++k) a += sg[k][threadIdx.x], b += sb[k][threadIdx.x];
    partGain[int64_t(blockIdx.y) * cols + col] = a;
    partBias[int64_t(blockIdx.y) * cols + col] = b;
  }
}

__global__ void sumSplitsKernel(const float* __restrict__ partGain, const float* __restrict__ partBias,
                                float* __restrict__ dgain, float* __restrict__ dbias, int64_t splits, int64_t cols) {
  const int64_t col = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (col >= cols) return;
  float a = 0.f, b = 0.f;
  for (int64_t s = 0; s < splits; ++s) a += partGain[s * cols + col], b += partBias[s * cols + col];
  dgain[col] = a;
  dbias[col] = b;
}

}  // namespace

void layerNorm(const float* x, const float* residual, const float* gain, const float* bias, float* sum, float* y,
               int64_t rows, int64_t cols, float eps, void* stream) {
  if (rows == 0 || cols == 0) return;
  const RowLaunch l = rowLaunch(rows, cols);
  layerNormKernel<<<unsigned(l.blocks), l.threads, l.sharedBytes, cudaStream_t(stream)>>>(x, residual, gain, bias, sum, y,
                                                                                            cols, eps);
}

void layerNormGrad(const float* x, const float* gain, const float* g, const float* addend, float* dx, float* dgain,
                   float* dbias, float* workspace, int64_t rows, int64_t cols, float eps, void* stream) {
  if (cols == 0) return;
  auto s = cudaStream_t(stream);
  const ColumnSumLaunch c = columnSumLaunch(rows, cols);
  float* moments = workspace;
  float* partGain = moments + 2 * rows;
  float* partBias = partGain + c.splits * cols;
  if (rows > 0) {
    const RowLaunch l = rowLaunch(rows, cols);
    layerNormGradRowsKernel<<<unsigned(l.blocks), l.threads, l.sharedBytes, s>>>(x, gain, g, addend, dx, moments, cols, eps);
    layerNormGradColumnsKernel<<<dim3(unsigned(c.columnTiles), unsigned(c.splits)), dim3(c.tileCols, c.sliceRows), 0, s>>>(
        x, g, moments, partGain, partBias, rows, cols, c.rowsPerSplit);
  } else {
    cudaMemsetAsync(partGain, 0, sizeof(float) * 2 * c.splits * cols, s);
  }
  sumSplitsKernel<<<unsigned((cols + 255) / 256), 256, 0, s>>>(partGain, partBias, dgain, dbias, c.splits, cols);
}

std::string lastLaunchError() {
  cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? std::string() : std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

}  // namespace kiln::cuda
