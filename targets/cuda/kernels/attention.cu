// attention and attention_grad without the [T, S] matrix: one warp per query row (forward, dq)
// or key row (dk, dv), scores computed as they are needed with an online softmax. The lanes
// hold the head dimension (up to 32 x kMaxPerLane). Deterministic: dk and dv are summed by the
// warp that owns their key row, no atomics. A first, simple form: correctness before speed.
#include <cuda_runtime.h>

#include "targets/cuda/kernels/block_reduce.cuh"
#include "targets/cuda/kernels/cuda_kernels.h"

namespace kiln::cuda {

namespace {

constexpr int kMaxPerLane = kAttentionMaxHeadDim / 32;

struct Row {
  int64_t bh, t;  // (batch * heads + head), query position
};

__device__ inline float maskAt(const AttentionShape& a, int64_t bh, int64_t t, int64_t s) {
  if (!a.mask) return 0.f;
  const int64_t b = bh / a.H, h = bh % a.H;
  return a.mask[b * a.maskStride[0] + h * a.maskStride[1] + t * a.maskStride[2] + s * a.maskStride[3]];
}

// One past the last key that query t sees.
__device__ inline int64_t visibleEnd(const AttentionShape& a, int64_t t) {
  return a.causal ? min(a.S, t + (a.S - a.T) + 1) : a.S;
}

// The lane's share of a row of `n` (<= 32 * kMaxPerLane) values.
__device__ inline void loadRow(const float* row, int64_t n, float (&r)[kMaxPerLane]) {
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    const int64_t d = lane + 32 * i;
    r[i] = d < n ? row[d] : 0.f;
  }
}

__device__ inline float dotRow(const float (&a)[kMaxPerLane], const float* row, int64_t n) {
  const int lane = threadIdx.x & 31;
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    const int64_t d = lane + 32 * i;
    if (d < n) s += a[i] * row[d];
  }
  return warpSum(s);
}

// The score of query row (bh, t) against key s: scaled dot plus mask; -inf when masked.
__device__ inline float score(const AttentionShape& a, const float (&q)[kMaxPerLane], int64_t bh, int64_t t, int64_t s,
                              const float* k) {
  return dotRow(q, k + (bh * a.S + s) * a.D, a.D) * a.scale + maskAt(a, bh, t, s);
}

__global__ void attentionForwardKernel(const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
                                       float* __restrict__ out, AttentionShape a) {
  const int64_t row = int64_t(blockIdx.x) * (blockDim.x / 32) + (threadIdx.x >> 5);
  if (row >= a.B * a.H * a.T) return;  // whole warps leave together
  const int64_t bh = row / a.T, t = row % a.T;
  float qr[kMaxPerLane], o[kMaxPerLane] = {};
  loadRow(q + row * a.D, a.D, qr);
  float m = -INFINITY, l = 0.f;
  for (int64_t s = 0, end = visibleEnd(a, t); s < end; ++s) {
    const float sc = score(a, qr, bh, t, s, k);
    if (sc == -INFINITY) continue;  // the same on every lane
    float vr[kMaxPerLane];
    loadRow(v + (bh * a.S + s) * a.Dv, a.Dv, vr);
    if (sc > m) {
      const float c = __expf(m - sc);  // 0 for the first visible key
      l = l * c + 1.f;
#pragma unroll
      for (int i = 0; i < kMaxPerLane; ++i) o[i] = o[i] * c + vr[i];
      m = sc;
    } else {
      const float p = __expf(sc - m);
      l += p;
#pragma unroll
      for (int i = 0; i < kMaxPerLane; ++i) o[i] += p * vr[i];
    }
  }
  const float inv = l > 0.f ? 1.f / l : 0.f;  // no visible key: 0, as the reference
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    const int64_t d = lane + 32 * i;
    if (d < a.Dv) out[row * a.Dv + d] = o[i] * inv;
  }
}

// Per query row: its softmax's max and sum, the row's sum of p * dp, and dq.
__global__ void attentionGradRowsKernel(const float* __restrict__ q, const float* __restrict__ k,
                                        const float* __restrict__ v, const float* __restrict__ g, float* __restrict__ dq,
                                        float* __restrict__ rowStats, AttentionShape a) {
  const int64_t row = int64_t(blockIdx.x) * (blockDim.x / 32) + (threadIdx.x >> 5);
  if (row >= a.B * a.H * a.T) return;
  const int64_t bh = row / a.T, t = row % a.T, end = visibleEnd(a, t);
  float qr[kMaxPerLane], gr[kMaxPerLane], dqr[kMaxPerLane] = {};
  loadRow(q + row * a.D, a.D, qr);
  loadRow(g + row * a.Dv, a.Dv, gr);
  float m = -INFINITY, l = 0.f;
  for (int64_t s = 0; s < end; ++s) {
    const float sc = score(a, qr, bh, t, s, k);
    if (sc == -INFINITY) continue;
    if (sc > m) l = l * __expf(m - sc) + 1.f, m = sc;
    else l += __expf(sc - m);
  }
  float pdp = 0.f;
  if (l > 0.f) {
    const float inv = 1.f / l;
    for (int64_t s = 0; s < end; ++s) {
      const float sc = score(a, qr, bh, t, s, k);
      if (sc == -INFINITY) continue;
      pdp += __expf(sc - m) * inv * dotRow(gr, v + (bh * a.S + s) * a.Dv, a.Dv);
    }
    for (int64_t s = 0; s < end; ++s) {
      const float sc = score(a, qr, bh, t, s, k);
      if (sc == -INFINITY) continue;
      const float p = __expf(sc - m) * inv;
      const float ds = p * (dotRow(gr, v + (bh * a.S + s) * a.Dv, a.Dv) - pdp) * a.scale;
      float kr[kMaxPerLane];
      loadRow(k + (bh * a.S + s) * a.D, a.D, kr);
#pragma unroll
      for (int i = 0; i < kMaxPerLane; ++i) dqr[i] += ds * kr[i];
    }
  }
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    const int64_t d = lane + 32 * i;
    if (d < a.D) dq[row * a.D + d] = dqr[i];
  }
  if (lane == 0) rowStats[3 * row] = m, rowStats[3 * row + 1] = l, rowStats[3 * row + 2] = pdp;
}

// Per key row: dk and dv over the queries that see it, from the rows' statistics.
__global__ void attentionGradKeysKernel(const float* __restrict__ q, const float* __restrict__ k,
                                        const float* __restrict__ v, const float* __restrict__ g, float* __restrict__ dk,
                                        float* __restrict__ dv, const float* __restrict__ rowStats, AttentionShape a) {
  const int64_t key = int64_t(blockIdx.x) * (blockDim.x / 32) + (threadIdx.x >> 5);
  if (key >= a.B * a.H * a.S) return;
  const int64_t bh = key / a.S, s = key % a.S;
  float kr[kMaxPerLane], vr[kMaxPerLane], dkr[kMaxPerLane] = {}, dvr[kMaxPerLane] = {};
  loadRow(k + key * a.D, a.D, kr);
  loadRow(v + key * a.Dv, a.Dv, vr);
  // Causal: query t sees key s when s <= t + (S - T).
  const int64_t first = a.causal ? max(int64_t(0), s - (a.S - a.T)) : 0;
  for (int64_t t = first; t < a.T; ++t) {
    const int64_t row = bh * a.T + t;
    const float m = rowStats[3 * row], l = rowStats[3 * row + 1], pdp = rowStats[3 * row + 2];
    if (!(l > 0.f)) continue;
    const float sc = dotRow(kr, q + row * a.D, a.D) * a.scale + maskAt(a, bh, t, s);
    if (sc == -INFINITY) continue;
    const float p = __expf(sc - m) / l;
    const float ds = p * (dotRow(vr, g + row * a.Dv, a.Dv) - pdp) * a.scale;
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int i = 0; i < kMaxPerLane; ++i) {
      const int64_t d = lane + 32 * i;
      if (d < a.D) dkr[i] += ds * q[row * a.D + d];
      if (d < a.Dv) dvr[i] += p * g[row * a.Dv + d];
    }
  }
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    const int64_t d = lane + 32 * i;
    if (d < a.D) dk[key * a.D + d] = dkr[i];
    if (d < a.Dv) dv[key * a.Dv + d] = dvr[i];
  }
}

}  // namespace

void attention(const float* q, const float* k, const float* v, float* out, const AttentionShape& shape, void* stream) {
  const int64_t rows = shape.B * shape.H * shape.T;
  if (rows == 0) return;
  const WarpRowsLaunch l = warpRowsLaunch(rows);
  attentionForwardKernel<<<unsigned(l.blocks), l.threads, 0, cudaStream_t(stream)>>>(q, k, v, out, shape);
}

void attentionGrad(const float* q, const float* k, const float* v, const float* g, float* dq, float* dk, float* dv,
                   float* workspace, const AttentionShape& shape, void* stream) {
  auto s = cudaStream_t(stream);
  const int64_t rows = shape.B * shape.H * shape.T, keys = shape.B * shape.H * shape.S;
  if (rows > 0) {
    const WarpRowsLaunch l = warpRowsLaunch(rows);
    attentionGradRowsKernel<<<unsigned(l.blocks), l.threads, 0, s>>>(q, k, v, g, dq, workspace, shape);
  }
  if (keys > 0) {
    const WarpRowsLaunch l = warpRowsLaunch(keys);
    attentionGradKeysKernel<<<unsigned(l.blocks), l.threads, 0, s>>>(q, k, v, g, dk, dv, workspace, shape);
  }
}

}  // namespace kiln::cuda
