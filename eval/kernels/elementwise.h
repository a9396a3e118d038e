// Definitions of the templates declared in kernels.h; included by dispatch.cpp only.
#pragma once

#include <cmath>
#include <limits>

#include "eval/kernels/kernels.h"

namespace kiln::kernels {

template <class T>
void select(View<const T> c, View<const T> a, View<const T> b, View<T> out) {
  const Shape& s = out.type.shape;
  IndexWalker w(s, {broadcastStrides(c.type.shape, s), broadcastStrides(a.type.shape, s),
                    broadcastStrides(b.type.shape, s)});
  for (int64_t i = 0; i < out.size(); ++i, w.next())
    out[i] = c[w.offset(0)] != 0 ? a[w.offset(1)] : b[w.offset(2)];
}

template <class T>
std::string divide(View<const T> a, View<const T> b, View<T> out) {
  if (isFloat(out.type.dtype)) {
    binaryMap(a, b, out, [](double x, double y) { return x / y; });
    return {};
  }
  bool byZero = false;
  binaryMap(a, b, out, [&](double x, double y) {
    if (y == 0) {
      byZero = true;
      return 0.0;
    }
    return std::trunc(x / y);
  });
  return byZero ? "integer division by zero" : "";
}

template <class T>
void reduce(View<const T> x, const std::vector<int64_t>& axes, ReduceKind kind, View<T> out) {
  int r = x.type.rank();
  std::vector<bool> reduced(size_t(r), false);
  for (int64_t a : axes) reduced[size_t(a < 0 ? a + r : a)] = true;
  // Output strides over the input's index space, 0 along reduced axes (keepdims or not).
  Shape kept;
  for (int d = 0; d < r; ++d) kept.push_back(reduced[size_t(d)] ? 1 : x.type.shape[size_t(d)]);
  std::vector<int64_t> outStrides = rowMajorStrides(kept);
  for (int d = 0; d < r; ++d)
    if (reduced[size_t(d)]) outStrides[size_t(d)] = 0;
  double init = kind == ReduceKind::Max ? -std::numeric_limits<double>::infinity() : 0.0;
  std::fill(out.data, out.data + out.size(), T(init));
  // Fast paths: the reduced axes are all leading (bias gradients) or all trailing (row sums).
  int firstKept = 0, lastKept = r - 1;
  while (firstKept < r && reduced[size_t(firstKept)]) ++firstKept;
  while (lastKept >= 0 && reduced[size_t(lastKept)]) --lastKept;
  bool contiguousKept = true;
  for (int d = firstKept; d <= lastKept; ++d) contiguousKept = contiguousKept && !reduced[size_t(d)];
  if (firstKept == r && kind != ReduceKind::Max && x.size() > 0) {
    // Everything summed (squared norms for gradient clipping): fixed chunks summed in parallel,
    // then added in order, so the result does not depend on the thread count.
    const int64_t n = x.size(), chunk = kParallelGrain, chunks = (n + chunk - 1) / chunk;
    std::vector<double> partial(static_cast<size_t>(chunks));
#pragma omp parallel for if (chunks > 1)
    for (int64_t ci = 0; ci < chunks; ++ci) {
      Acc<T> acc = 0;
      const int64_t end = std::min(n, (ci + 1) * chunk);
#pragma omp simd reduction(+ : acc)
      for (int64_t i = ci * chunk; i < end; ++i) acc += x[i];
      partial[size_t(ci)] = double(acc);
    }
    double total = 0;
    for (double p : partial) total += p;
    out[0] = T(total);
  } else if (contiguousKept && x.size() > 0 && (firstKept == 0 || lastKept == r - 1)) {
    int64_t inner = 1, outer = 1;
    for (int d = lastKept + 1; d < r; ++d) inner *= x.type.shape[size_t(d)];
    for (int d = 0; d < firstKept; ++d) outer *= x.type.shape[size_t(d)];
    const int64_t kept = out.size();
    auto combine = [kind](double acc, double v) {
      return kind == ReduceKind::Max ? ((v > acc || std::isnan(v)) ? v : acc) : acc + v;
    };
    if (firstKept == 0) {  // trailing axes reduced: one row per output element
#pragma omp parallel for if (x.size() >= kParallelGrain)
      for (int64_t o = 0; o < kept; ++o) {
        double acc = init;
        for (int64_t j = 0; j < inner; ++j) acc = combine(acc, double(x[o * inner + j]));
        out[o] = T(acc);
      }
    } else if (kind != ReduceKind::Max) {  // leading axes summed (bias gradients): vector adds of rows
      const int64_t chunk = 128, chunks = (kept + chunk - 1) / chunk;
#pragma omp parallel for if (x.size() >= kParallelGrain)
      for (int64_t ci = 0; ci < chunks; ++ci) {
        const int64_t j0 = ci * chunk, n = std::min(kept, j0 + chunk) - j0;
        Acc<T> acc[chunk] = {};
        for (int64_t o = 0; o < outer; ++o) {
          const T* row = x.data + o * kept + j0;
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) acc[j] += row[j];
        }
        for (int64_t j = 0; j < n; ++j) out[j0 + j] = T(acc[j]);
      }
    } else {  // leading axes reduced: add whole rows (contiguous), chunks of columns in parallel
      const int64_t chunk = 256, chunks = (kept + chunk - 1) / chunk;
#pragma omp parallel for if (x.size() >= kParallelGrain)
      for (int64_t ci = 0; ci < chunks; ++ci) {
        const int64_t j0 = ci * chunk, j1 = std::min(kept, j0 + chunk);
        std::vector<double> acc(static_cast<size_t>(j1 - j0), init);
        for (int64_t o = 0; o < outer; ++o) {
          const T* row = x.data + o * kept;
          for (int64_t j = j0; j < j1; ++j) acc[size_t(j - j0)] = combine(acc[size_t(j - j0)], double(row[j]));
        }
        for (int64_t j = j0; j < j1; ++j) out[j] = T(acc[size_t(j - j0)]);
      }
    }
  } else {
    IndexWalker w(x.type.shape, {outStrides});
  for (int64_t i = 0; i < x.size(); ++i, w.next()) {
    T& o = out[w.offset(0)];
    if (kind == ReduceKind::Max) o = (x[i] > o || std::isnan(double(x[i]))) ? x[i] : o;
    else o += x[i];
  }
  }
  if (kind == ReduceKind::Mean) {
    int64_t count = out.size() == 0 ? 0 : x.size() / std::max<int64_t>(out.size(), 1);
    for (int64_t i = 0; i < out.size(); ++i) out[i] = count ? T(double(out[i]) / double(count)) : T(std::nan(""));
  }
  if (kind == ReduceKind::Max && isInteger(out.type.dtype))
    for (int64_t i = 0; i < out.size(); ++i)
      if (std::isinf(double(out[i]))) out[i] = T(out.type.dtype == DType::I32 ? -2147483648.0 : -9.2e18);
}

// The constants of one AdamW step, and its arithmetic on a range of one parameter's elements
// (element i is read before it is written, so p1/m1/v1 may be p/m/v themselves).
template <class T>
struct AdamWStep {
  T stepSize, bc2Sqrt, b1c, b2, b2c, eps;
  AdamWStep(double lr, double t, double beta1, double beta2, double epsilon)
      : stepSize(T(lr / (1.0 - std::pow(beta1, t)))), bc2Sqrt(T(std::sqrt(1.0 - std::pow(beta2, t)))),
        b1c(T(1.0 - beta1)), b2(T(beta2)), b2c(T(1.0 - beta2)), eps(T(epsilon)) {}
  // The gradient is g * gscale (rounded to T, as a separate multiply would be).
  void apply(const T* p, const T* g, const T* m, const T* v, T gscale, T decay, T* p1, T* m1, T* v1, int64_t begin,
             int64_t end) const {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) {
      T gi = g[i] * gscale;
      T mi = m[i] + (gi - m[i]) * b1c;
      T vi = v[i] * b2 + gi * gi * b2c;
      T denom = std::sqrt(vi) / bc2Sqrt + eps;
      m1[i] = mi;
      v1[i] = vi;
      p1[i] = p[i] * decay - stepSize * (mi / denom);
    }
  }
};

template <class T>
void adamwUpdate(View<const T> p, View<const T> g, View<const T> m, View<const T> v, double lr, double decay, double t,
                 double beta1, double beta2, double eps, View<T> p1, View<T> m1, View<T> v1) {
  const AdamWStep<T> s(lr, t, beta1, beta2, eps);
  const int64_t n = p.size(), chunk = 4096;
#pragma omp parallel for if (n >= kParallelGrain)
  for (int64_t b = 0; b < n; b += chunk)
    s.apply(p.data, g.data, m.data, v.data, T(1), T(decay), p1.data, m1.data, v1.data, b, std::min(n, b + chunk));
}

// adamw_group: in = lr, t, gscale, then (p, g, m, v, decay) per parameter; outs = (p', m', v')
// per parameter. One parallel loop over equal chunks of all the parameters' elements.
template <class T>
void adamwGroup(const std::vector<View<const T>>& in, double beta1, double beta2, double eps, std::vector<View<T>>& outs) {
  const AdamWStep<T> s{double(in[0][0]), double(in[1][0]), beta1, beta2, eps};
  const T gscale = in[2][0];
  constexpr int64_t kChunk = 16384;
  struct Chunk {
    size_t param;
    int64_t begin, end;
  };
  std::vector<Chunk> chunks;
  for (size_t j = 0; 3 + 5 * j < in.size(); ++j)
    for (int64_t b = 0, n = in[3 + 5 * j].size(); b < n; b += kChunk) chunks.push_back({j, b, std::min(n, b + kChunk)});
#pragma omp parallel for schedule(static) if (chunks.size() > 1)
  for (size_t c = 0; c < chunks.size(); ++c) {
    const size_t j = chunks[c].param, at = 3 + 5 * j;
    s.apply(in[at].data, in[at + 1].data, in[at + 2].data, in[at + 3].data, gscale, in[at + 4][0], outs[3 * j].data,
            outs[3 * j + 1].data, outs[3 * j + 2].data, chunks[c].begin, chunks[c].end);
  }
}

}  // namespace kiln::kernels
