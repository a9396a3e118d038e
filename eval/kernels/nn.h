// Definitions of the templates declared in kernels.h; included by dispatch.cpp only.
#pragma once

#include <cmath>
#include <limits>

#include "eval/kernels/kernels.h"
#include "eval/random.h"

namespace kiln::kernels {

template <class T>
void matmul(View<const T> a, View<const T> b, bool transposeA, bool transposeB, View<T> out) {
  const Shape& os = out.type.shape;
  int r = int(os.size());
  int64_t m = os[size_t(r - 2)], n = os[size_t(r - 1)];
  int64_t k = a.type.shape[size_t(a.type.rank() - (transposeA ? 2 : 1))];
  Shape batch(os.begin(), os.end() - 2);
  Shape aBatch(a.type.shape.begin(), a.type.shape.end() - 2);
  Shape bBatch(b.type.shape.begin(), b.type.shape.end() - 2);
  // Batch offsets of a and b, in whole matrices.
  std::vector<int64_t> aSt = broadcastStrides(aBatch, batch), bSt = broadcastStrides(bBatch, batch);
  IndexWalker w(batch, {aSt, bSt});
  int64_t batches = out.size() / std::max<int64_t>(m * n, 1);
  if (m * n == 0) return;
  std::fill(out.data, out.data + out.size(), T(0));
  std::vector<T> bRows(static_cast<size_t>(k * n));  // op(b) as row-major [k, n]
  for (int64_t bi = 0; bi < batches; ++bi, w.next()) {
    const T* A = a.data + w.offset(0) * m * k;
    const T* B = b.data + w.offset(1) * k * n;
    if (transposeB) {
      for (int64_t p = 0; p < k; ++p)
        for (int64_t j = 0; j < n; ++j) bRows[size_t(p * n + j)] = B[j * k + p];
      B = bRows.data();
    }
    T* C = out.data + bi * m * n;
    // i-p-j order: the inner loop runs along contiguous rows of op(b) and c.
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p) {
        double aip = A[transposeA ? p * m + i : i * k + p];
        const T* brow = B + p * n;
        T* crow = C + i * n;
        for (int64_t j = 0; j < n; ++j) crow[j] += aip * brow[j];
      }
  }
}

template <class T>
void softmax(View<const T> x, int axis, bool logarithm, View<T> out) {
  const Shape& s = x.type.shape;
  int64_t len = s[size_t(axis)];
  int64_t inner = 1;
  for (size_t d = size_t(axis) + 1; d < s.size(); ++d) inner *= s[d];
  int64_t outer = len * inner == 0 ? 0 : x.size() / (len * inner);
#pragma omp parallel for collapse(2) if (x.size() >= kParallelGrain)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      int64_t base = o * len * inner + in;
      T mx = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j < len; ++j) mx = std::max(mx, x[base + j * inner]);
      Acc<T> sum = 0;
      for (int64_t j = 0; j < len; ++j) sum += expOf<T>(x[base + j * inner] - mx);
      const T logSum = T(std::log(double(sum))), inv = T(1.0 / double(sum));
      for (int64_t j = 0; j < len; ++j) {
        T z = x[base + j * inner] - mx;
        out[base + j * inner] = logarithm ? z - logSum : expOf<T>(z) * inv;
      }
    }
}

template <class T>
void layerNorm(View<const T> x, View<const T> gain, View<const T> bias, double eps, View<T> out) {
  int64_t c = x.type.shape.back();
  int64_t rows = c == 0 ? 0 : x.size() / c;
#pragma omp parallel for if (x.size() >= kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = x.data + r * c;
    const auto [mean, rstd] = rowMoments(row, c, eps);
#pragma omp simd
    for (int64_t j = 0; j < c; ++j) out[r * c + j] = T((row[j] - mean) * rstd * gain[j] + bias[j]);
  }
}

// sum = x + y and out = layer_norm(sum), row by row: the sum is normalized while in cache.
template <class T>
void addLayerNorm(View<const T> x, View<const T> y, View<const T> gain, View<const T> bias, double eps, View<T> sum,
                  View<T> out) {
  int64_t c = x.type.shape.back();
  int64_t rows = c == 0 ? 0 : x.size() / c;
#pragma omp parallel for if (x.size() >= kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    T* row = sum.data + r * c;
#pragma omp simd
    for (int64_t j = 0; j < c; ++j) row[j] = x[r * c + j] + y[r * c + j];
    const auto [mean, rstd] = rowMoments<T>(row, c, eps);
#pragma omp simd
    for (int64_t j = 0; j < c; ++j) out[r * c + j] = T((row[j] - mean) * rstd * gain[j] + bias[j]);
  }
}

template <class T>
std::string crossEntropy(View<const T> logits, View<const T> labels, int64_t ignoreIndex,
                         const std::string& reduction, View<T> out) {
  int64_t c = logits.type.shape.back();
  int64_t rows = labels.size();
  for (int64_t r = 0; r < rows; ++r) {
    int64_t label = int64_t(labels[r]);
    if (label != ignoreIndex && (label < 0 || label >= c))
      return "label " + std::to_string(label) + " at position " + std::to_string(r) + " is out of range [0, " +
             std::to_string(c) + ") and is not the ignore_index " + std::to_string(ignoreIndex);
  }
  // Per-row losses in parallel, then a sequential sum: the same result on any thread count.
  std::vector<double> losses(static_cast<size_t>(rows), 0.0);
#pragma omp parallel for if (logits.size() >= kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t label = int64_t(labels[r]);
    if (label == ignoreIndex) continue;
    const T* row = logits.data + r * c;
    const T mx = rowMax(row, c);
    Acc<T> sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < c; ++j) sum += expOf<T>(row[j] - mx);
    losses[size_t(r)] = double(mx) + std::log(double(sum)) - double(row[label]);
  }
  double total = 0;
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (int64_t(labels[r]) != ignoreIndex) {
      total += losses[size_t(r)];
      ++counted;
    }
    if (reduction == "none") out[r] = T(losses[size_t(r)]);
  }
  if (reduction == "sum") out[0] = total;
  // All positions ignored: the mean is 0 (nothing to learn), not 0/0.
  if (reduction == "mean") out[0] = counted ? total / double(counted) : 0.0;
  return {};
}

template <class T>
AttentionRows<T>::AttentionRows(View<const T> q, View<const T> k, const View<const T>* mask, bool causal, double scale)
    : q_(q), k_(k), mask_(mask), causal_(causal), scale_(scale) {
  if (scale_ == 0) scale_ = 1.0 / std::sqrt(double(q.type.shape[3]));
  if (mask)
    maskStrides_ = broadcastStrides(mask->type.shape, {q.type.shape[0], q.type.shape[1], q.type.shape[2], k.type.shape[2]});
}

template <class T>
int64_t AttentionRows<T>::visibleEnd(int64_t t) const {
  const int64_t Tq = q_.type.shape[2], S = k_.type.shape[2];
  return causal_ ? std::min(S, t + (S - Tq) + 1) : S;
}

template <class T>
bool AttentionRows<T>::probabilities(int64_t b, int64_t h, int64_t t, std::vector<double>& p) const {
  const int64_t H = q_.type.shape[1], Tq = q_.type.shape[2], D = q_.type.shape[3], S = k_.type.shape[2];
  const T* qr = q_.data + ((b * H + h) * Tq + t) * D;
  p.assign(static_cast<size_t>(S), 0.0);
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t s = 0; s < S; ++s) {
    double sc = -std::numeric_limits<double>::infinity();
    if (!causal_ || s <= t + (S - Tq)) {
      const T* kr = k_.data + ((b * H + h) * S + s) * D;
      Acc<T> dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t d = 0; d < D; ++d) dot += Acc<T>(qr[d]) * Acc<T>(kr[d]);
      sc = double(dot) * scale_;
      if (mask_) {
        const auto& st = maskStrides_;
        sc += (*mask_)[b * st[0] + h * st[1] + t * st[2] + s * st[3]];
      }
    }
    p[size_t(s)] = sc;
    mx = std::max(mx, sc);
  }
  if (std::isinf(mx) && mx < 0) {
    std::fill(p.begin(), p.end(), 0.0);
    return false;
  }
  double sum = 0;
  for (double& x : p) sum += (x = std::exp(x - mx));
  for (double& x : p) x /= sum;
  return true;
}

template <class T>
void attention(View<const T> q, View<const T> k, View<const T> v, const View<const T>* mask, bool causal,
               double scale, View<T> out) {
  const int64_t B = q.type.shape[0], H = q.type.shape[1], Tq = q.type.shape[2];
  const int64_t S = k.type.shape[2], Dv = v.type.shape[3];
  AttentionRows<T> rows(q, k, mask, causal, scale);
#pragma omp parallel for if (B * H * Tq * S >= kParallelGrain)
  for (int64_t bh = 0; bh < B * H; ++bh) {
    const int64_t b = bh / H, h = bh % H;
    std::vector<double> p;
    std::vector<Acc<T>> o(static_cast<size_t>(Dv));
    for (int64_t t = 0; t < Tq; ++t) {
      T* dst = out.data + (bh * Tq + t) * Dv;
      std::fill(o.begin(), o.end(), Acc<T>(0));
      if (rows.probabilities(b, h, t, p)) {  // else no visible key: 0
        for (int64_t s = 0, end = rows.visibleEnd(t); s < end; ++s) {
          const T* vr = v.data + (bh * S + s) * Dv;
          const Acc<T> ps = Acc<T>(p[size_t(s)]);
          Acc<T>* od = o.data();
          for (int64_t d = 0; d < Dv; ++d) od[d] += ps * Acc<T>(vr[d]);
        }
      }
      for (int64_t d = 0; d < Dv; ++d) dst[d] = T(o[size_t(d)]);
    }
  }
}

template <class T>
void dropout(View<const T> x, uint64_t seed, double rate, View<T> out) {
  double keepScale = 1.0 / (1.0 - rate);
  for (int64_t i = 0; i < x.size(); ++i)
    out[i] = counterUniform(seed, uint64_t(i)) >= rate ? x[i] * keepScale : 0.0;
}

}  // namespace kiln::kernels
