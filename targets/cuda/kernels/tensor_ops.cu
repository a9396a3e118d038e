// The data-movement and reduction ops of the IR on the GPU: strided copies (transpose, strided
// slice, broadcast_to), concat, gather and scatter_add along an axis, reduce_sum over any axes.
// Each computes what the reference does (eval/kernels/shape.h); sums are deterministic (each
// output summed by one thread in a fixed order: reductions in double as the reference sums,
// scatter_add's runs after a stable radix sort by destination).
#include <cuda_runtime.h>

#include <cub/device/device_radix_sort.cuh>

#include "targets/cuda/kernels/cuda_kernels.h"

namespace kiln::cuda {

namespace {

constexpr int kThreads = 256;

unsigned blocksFor(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return unsigned(b < 1 ? 1 : b > 65535 * 32 ? 65535 * 32 : b);
}

// Offset in the source of output element `i` (decoded over `dims`, each step `strides`).
__device__ int64_t stridedOffset(int64_t i, const StridedShape& s) {
  int64_t off = 0;
  for (int d = s.rank - 1; d >= 0; --d) {
    off += (i % s.dims[d]) * s.strides[d];
    i /= s.dims[d];
  }
  return off;
}

__global__ void stridedCopyKernel(const float* __restrict__ x, int64_t base, StridedShape s, float* __restrict__ out,
                                  int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = x[base + stridedOffset(i, s)];
}

__global__ void concatKernel(const float* __restrict__ x, float* __restrict__ out, int64_t outer, int64_t chunk,
                             int64_t outChunk, int64_t at) {
  const int64_t n = outer * chunk;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[(i / chunk) * outChunk + at + i % chunk] = x[i];
}

__device__ void noteBad(unsigned long long* firstBad, int64_t j) { atomicMin(firstBad, (unsigned long long)j); }

// out [outer, count, inner] = table [outer, dim, inner] at indices[count] (an index out of range
// gives 0 and is reported).
__global__ void gatherKernel(const float* __restrict__ table, const float* __restrict__ indices, float* __restrict__ out,
                             IndexedShape s, unsigned long long* firstBad) {
  const int64_t n = s.outer * s.count * s.inner;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = i % s.inner, j = (i / s.inner) % s.count, o = i / (s.inner * s.count);
    const float idx = indices[j];
    if (!(idx >= 0.f && idx < float(s.dim))) {
      noteBad(firstBad, j);
      out[i] = 0.f;
      continue;
    }
    out[i] = table[(o * s.dim + int64_t(idx)) * s.inner + k];
  }
}

// scatter_add's keys: each position's destination row (rows out of range sort last, as `dim`,
// and are reported), its position as the value.
__global__ void scatterKeysKernel(const float* __restrict__ indices, int32_t* __restrict__ keys, int32_t* __restrict__ positions,
                                  IndexedShape s, unsigned long long* firstBad) {
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < s.count; j += int64_t(gridDim.x) * blockDim.x) {
    const float idx = indices[j];
    const bool ok = idx >= 0.f && idx < float(s.dim);
    if (!ok) noteBad(firstBad, j);
    keys[j] = ok ? int32_t(idx) : int32_t(s.dim);
    positions[j] = int32_t(j);
  }
}

// After a stable sort by destination, positions writing one row are adjacent and in their
// original order: the thread of a run's first position adds the run's updates to its element in
// that order, which is the reference's order (out = target + u_j1 + u_j2 + ..., j ascending).
__global__ void scatterRunsKernel(const float* __restrict__ updates, const int32_t* __restrict__ keys,
                                  const int32_t* __restrict__ positions, float* __restrict__ out, IndexedShape s) {
  const int64_t n = s.outer * s.count * s.inner;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = i % s.inner, p = (i / s.inner) % s.count, o = i / (s.inner * s.count);
    const int32_t key = keys[p];
    if (key >= s.dim || (p > 0 && keys[p - 1] == key)) continue;
    float* dst = out + (o * s.dim + key) * s.inner + k;
    float acc = *dst;
    for (int64_t q = p; q < s.count && keys[q] == key; ++q) acc += updates[(o * s.count + positions[q]) * s.inner + k];
    *dst = acc;
  }
}

// out[i] = the sum (in double, as the reference sums), mean or maximum over the reduced dims, in
// row-major order of their indices.
__global__ void reduceKernel(const float* __restrict__ x, StridedShape kept, StridedShape reduced, float* __restrict__ out,
                             int64_t n, int64_t perOutput, ReduceMode mode) {
  const bool max = mode == ReduceMode::Max;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t base = stridedOffset(i, kept);
    double acc = max ? -INFINITY : 0.0;
    for (int64_t r = 0; r < perOutput; ++r) {
      const double v = x[base + stridedOffset(r, reduced)];
      acc = max ? (v > acc || v != v ? v : acc) : acc + v;
    }
    out[i] = float(mode == ReduceMode::Mean ? acc / double(perOutput) : acc);
  }
}

// out[i] = x at the position output index i came from, or `value` (padding, interior gaps).
__global__ void padKernel(const float* __restrict__ x, PadShape s, float value, float* __restrict__ out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = i, src = 0;
    bool inside = true;
    for (int d = s.rank - 1; d >= 0; --d) {
      const int64_t p = rem % s.outDims[d] - s.low[d];
      rem /= s.outDims[d];
      if (p < 0 || p % s.step[d] != 0 || p / s.step[d] >= s.inDims[d]) inside = false;
      else src += p / s.step[d] * s.inStrides[d];
    }
    out[i] = inside ? x[src] : value;
  }
}

// cast in f32 storage: integers truncate (NaN and out of range give 0), booleans are x != 0.
__global__ void castKernel(const float* __restrict__ x, float* __restrict__ out, int64_t n, CastTo to) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float v = x[i];
    if (to == CastTo::Bool) out[i] = v != 0.f ? 1.f : 0.f;
    else if (to == CastTo::Integer) out[i] = v != v || fabsf(v) >= 2147483648.f ? 0.f : truncf(v);
    else out[i] = v;
  }
}

__device__ float elementwiseOp(ElementwiseCode code, float a, float b, float c) {
  switch (code) {
    case ElementwiseCode::Eq: return a == b;
    case ElementwiseCode::Ne: return a != b;
    case ElementwiseCode::Lt: return a < b;
    case ElementwiseCode::Le: return a <= b;
    case ElementwiseCode::Gt: return a > b;
    case ElementwiseCode::Ge: return a >= b;
    case ElementwiseCode::Select: return a != 0.f ? b : c;
    case ElementwiseCode::Add: return a + b;
    case ElementwiseCode::Sub: return a - b;
    case ElementwiseCode::Mul: return a * b;
    case ElementwiseCode::Max: return fmaxf(a, b);
    case ElementwiseCode::Min: return fminf(a, b);
  }
  return 0.f;
}

__global__ void elementwiseKernel(ElementwiseCode code, const float* __restrict__ a, const float* __restrict__ b,
                                  const float* __restrict__ c, float* __restrict__ out, BroadcastShape s, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[3] = {0, 0, 0}, rem = i;
    for (int d = s.rank - 1; d >= 0; --d) {
      const int64_t x = rem % s.dims[d];
      rem /= s.dims[d];
      for (int k = 0; k < 3; ++k) off[k] += x * s.strides[k][d];
    }
    out[i] = elementwiseOp(code, a[off[0]], b ? b[off[1]] : 0.f, c ? c[off[2]] : 0.f);
  }
}

// f32 to bf16 rounding to nearest even (NaN kept quiet), as eval/kernels/bf16_storage.h does on the host.
__global__ void roundBf16Kernel(const float* __restrict__ x, uint16_t* __restrict__ out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const uint32_t u = __float_as_uint(x[i]);
    const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
    out[i] = nan ? uint16_t((u >> 16) | 0x40u) : uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  }
}

__global__ void widenBf16Kernel(const uint16_t* __restrict__ x, float* __restrict__ out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = __uint_as_float(uint32_t(x[i]) << 16);
}

__global__ void geluErfKernel(float* __restrict__ x, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    x[i] = 0.5f * x[i] * (1.f + erff(x[i] * 0.70710678118654752f));
}

}  // namespace

void roundBf16(const float* x, uint16_t* out, int64_t n, void* stream) {
  if (n > 0) roundBf16Kernel<<<blocksFor(n), kThreads, 0, cudaStream_t(stream)>>>(x, out, n);
}

void widenBf16(const uint16_t* x, float* out, int64_t n, void* stream) {
  if (n > 0) widenBf16Kernel<<<blocksFor(n), kThreads, 0, cudaStream_t(stream)>>>(x, out, n);
}

void geluErfInPlace(float* x, int64_t n, void* stream) {
  if (n > 0) geluErfKernel<<<blocksFor(n), kThreads, 0, cudaStream_t(stream)>>>(x, n);
}

void elementwise(ElementwiseCode code, const float* a, const float* b, const float* c, float* out, const BroadcastShape& shape,
                 int64_t n, void* stream) {
  if (n > 0) elementwiseKernel<<<blocksFor(n), kThreads, 0, cudaStream_t(stream)>>>(code, a, b, c, out, shape, n);
}

void stridedCopy(const float* x, int64_t base, const StridedShape& shape, float* out, int64_t n, void* stream) {
  if (n > 0) stridedCopyKernel<<<blocksFor(n), kThreads, 0, cudaStream_t(stream)>>>(x, base, shape, out, n);
}

void concatInto(const float* x, float* out, int64_t outer, int64_t chunk, int64_t outChunk, int64_t at, void* stream) {
  if (outer * chunk > 0)
    concatKernel<<<blocksFor(outer * chunk), kThreads, 0, cudaStream_t(stream)>>>(x, out, outer, chunk, outChunk, at);
}

void gather(const float* table, const float* indices, float* out, const IndexedShape& shape, unsigned long long* firstBad,
            void* stream) {
  const int64_t n = shape.outer * shape.count * shape.inner;
  if (n > 0) gatherKernel<<<blocksFor(n), kThreads, 0, cudaStream_t(stream)>>>(table, indices, out, shape, firstBad);
}

namespace {

size_t aligned(size_t bytes) { return (bytes + 255) / 256 * 256; }

int keyBits(int64_t dim) {
  int bits = 1;
  while (bits < 31 && (int64_t(1) << bits) <= dim) ++bits;  // keys run to dim (out of range) inclusive
  return bits;
}

size_t sortBytes(int64_t count, int64_t dim) {
  size_t bytes = 0;
  cub::DeviceRadixSort::SortPairs(nullptr, bytes, static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr),
                                  static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr), int(count), 0, keyBits(dim));
  return bytes;
}

}  // namespace

size_t scatterAddWorkspaceBytes(const IndexedShape& shape) {
  return 4 * aligned(size_t(shape.count) * 4) + aligned(sortBytes(shape.count, shape.dim));
}

void scatterAdd(const float* target, const float* indices, const float* updates, float* out, const IndexedShape& shape,
                unsigned long long* firstBad, void* workspace, void* stream) {
  auto s = cudaStream_t(stream);
  const int64_t total = shape.outer * shape.dim * shape.inner;
  if (out != target && total > 0) cudaMemcpyAsync(out, target, sizeof(float) * size_t(total), cudaMemcpyDeviceToDevice, s);
  if (shape.count == 0 || shape.outer * shape.inner == 0) return;
  char* w = static_cast<char*>(workspace);
  const size_t array = aligned(size_t(shape.count) * 4);
  auto* keys = reinterpret_cast<int32_t*>(w);
  auto* positions = reinterpret_cast<int32_t*>(w + array);
  auto* sortedKeys = reinterpret_cast<int32_t*>(w + 2 * array);
  auto* sortedPositions = reinterpret_cast<int32_t*>(w + 3 * array);
  size_t sortTemp = sortBytes(shape.count, shape.dim);
  scatterKeysKernel<<<blocksFor(shape.count), kThreads, 0, s>>>(indices, keys, positions, shape, firstBad);
  cub::DeviceRadixSort::SortPairs(w + 4 * array, sortTemp, keys, sortedKeys, positions, sortedPositions, int(shape.count), 0,
                                  keyBits(shape.dim), s);
  const int64_t n = shape.outer * shape.count * shape.inner;
  scatterRunsKernel<<<blocksFor(n), kThreads, 0, s>>>(updates, sortedKeys, sortedPositions, out, shape);
}

void reduce(const float* x, const StridedShape& kept, const StridedShape& reduced, float* out, int64_t n, int64_t perOutput,
            ReduceMode mode, void* stream) {
  if (n > 0) reduceKernel<<<blocksFor(n), kThreads, 0, cudaStream_t(stream)>>>(x, kept, reduced, out, n, perOutput, mode);
}

void pad(const float* x, const PadShape& shape, float value, float* out, int64_t n, void* stream) {
  if (n > 0) padKernel<<<blocksFor(n), kThreads, 0, cudaStream_t(stream)>>>(x, shape, value, out, n);
}

void cast(const float* x, float* out, int64_t n, CastTo to, void* stream) {
  if (n > 0) castKernel<<<blocksFor(n), kThreads, 0, cudaStream_t(stream)>>>(x, out, n, to);
}

}  // namespace kiln::cuda
