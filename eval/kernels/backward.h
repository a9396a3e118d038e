// Definitions of the templates declared in kernels.h; included by dispatch.cpp only.
#pragma once

// Reference kernels for the backward ops of the composites. Each states the math it computes;
// all are checked against central finite differences of the forward kernels (tests/unit).
#include <cmath>
#include <limits>

#include "eval/kernels/fast_math.h"
#include "eval/kernels/kernels.h"
#include "eval/kernels/scalar_math.h"

namespace kiln::kernels {

// d/dx gelu: tanh form 0.5(1+t) + 0.5x(1-t^2)c(1+3*0.044715x^2) with t = tanh(c(x+0.044715x^3));
// erf form Phi(x) + x phi(x).
template <class T>
void geluGrad(View<const T> x, View<const T> g, bool tanhApprox, View<T> dx) {
  const int64_t n = x.size();
  if (tanhApprox) {
#pragma omp parallel for if (n >= kParallelGrain)
    for (int64_t i = 0; i < n; ++i) dx[i] = scalarMath<FusedPrim::GeluGradTanh>(x[i], g[i]);
  } else {
#pragma omp parallel for if (n >= kParallelGrain)
    for (int64_t i = 0; i < n; ++i) dx[i] = scalarMath<FusedPrim::GeluGradErf>(x[i], g[i]);
  }
}

// softmax: dx = y * (g - sum(g * y)); log_softmax: dx = g - exp(y) * sum(g); sums along axis.
template <class T>
void softmaxGrad(View<const T> y, View<const T> g, int axis, bool logarithm, View<T> dx) {
  const Shape& s = y.type.shape;
  int64_t len = s[size_t(axis)], inner = 1;
  for (size_t d = size_t(axis) + 1; d < s.size(); ++d) inner *= s[d];
  int64_t outer = len * inner == 0 ? 0 : y.size() / (len * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      int64_t base = o * len * inner + in;
      double acc = 0;
      for (int64_t j = 0; j < len; ++j) {
        int64_t i = base + j * inner;
        acc += logarithm ? g[i] : g[i] * y[i];
      }
      for (int64_t j = 0; j < len; ++j) {
        int64_t i = base + j * inner;
        dx[i] = logarithm ? g[i] - std::exp(y[i]) * acc : y[i] * (g[i] - acc);
      }
    }
}

// Per row with xhat = (x - mean) * rstd: dbias = sum g, dgain = sum g * xhat,
// dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) with dxhat = g * gain, plus
// `addend` when given (the residual stream's gradient, added as dx is written).
template <class T>
void layerNormGrad(View<const T> x, View<const T> gain, View<const T> g, double eps, View<T> dx, View<T> dgain,
                   View<T> dbias, const T* addend) {
  const int64_t c = x.type.shape.back();
  const int64_t rows = c == 0 ? 0 : x.size() / c;
  // Rows in fixed chunks, in parallel; each chunk sums its own dgain/dbias, and the chunks are
  // added in order, so the result does not depend on the thread count.
  const int64_t chunkRows = 32, chunks = (rows + chunkRows - 1) / chunkRows;
  std::vector<Acc<T>> partG(static_cast<size_t>(chunks * c), 0), partB(static_cast<size_t>(chunks * c), 0);
#pragma omp parallel for if (x.size() >= kParallelGrain)
  for (int64_t ci = 0; ci < chunks; ++ci) {
    std::vector<Acc<T>> xhat(static_cast<size_t>(c));
    Acc<T>* pg = partG.data() + ci * c;
    Acc<T>* pb = partB.data() + ci * c;
    for (int64_t r = ci * chunkRows; r < std::min(rows, (ci + 1) * chunkRows); ++r) {
      const T* row = x.data + r * c;
      const T* gr = g.data + r * c;
      const auto [mean, rstd] = rowMoments(row, c, eps);
      Acc<T> meanD = 0, meanDX = 0;
#pragma omp simd reduction(+ : meanD, meanDX)
      for (int64_t j = 0; j < c; ++j) {
        xhat[size_t(j)] = (row[j] - mean) * rstd;
        Acc<T> d = gr[j] * gain[j];
        meanD += d;
        meanDX += d * xhat[size_t(j)];
        pg[j] += gr[j] * xhat[size_t(j)];
        pb[j] += gr[j];
      }
      meanD /= Acc<T>(c);
      meanDX /= Acc<T>(c);
      const T* add = addend ? addend + r * c : nullptr;
      if (add) {
#pragma omp simd
        for (int64_t j = 0; j < c; ++j)
          dx[r * c + j] = T(rstd * (gr[j] * gain[j] - meanD - xhat[size_t(j)] * meanDX) + add[j]);
      } else {
#pragma omp simd
        for (int64_t j = 0; j < c; ++j) dx[r * c + j] = T(rstd * (gr[j] * gain[j] - meanD - xhat[size_t(j)] * meanDX));
      }
    }
  }
  for (int64_t j = 0; j < c; ++j) {
    double sg = 0, sb = 0;
    for (int64_t ci = 0; ci < chunks; ++ci) sg += double(partG[size_t(ci * c + j)]), sb += double(partB[size_t(ci * c + j)]);
    dgain[j] = T(sg);
    dbias[j] = T(sb);
  }
}

// crossEntropy and crossEntropyGrad together: each row's exponentials are computed once, into
// dlogits, and give both the row's loss and its gradient.
template <class T>
std::string crossEntropyWithGrad(View<const T> logits, View<const T> labels, View<const T> g, int64_t ignoreIndex,
                                 const std::string& reduction, View<T> out, View<T> dlogits) {
  const int64_t c = logits.type.shape.back(), rows = labels.size();
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t label = int64_t(labels[r]);
    if (label != ignoreIndex && (label < 0 || label >= c))
      return "label " + std::to_string(label) + " at position " + std::to_string(r) + " is out of range [0, " +
             std::to_string(c) + ") and is not the ignore_index " + std::to_string(ignoreIndex);
    counted += label != ignoreIndex;
  }
  std::vector<double> losses(static_cast<size_t>(rows), 0.0);
#pragma omp parallel for if (logits.size() >= kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t label = int64_t(labels[r]);
    T* d = dlogits.data + r * c;
    if (label == ignoreIndex) {
      std::fill(d, d + c, T(0));
      continue;
    }
    const T* row = logits.data + r * c;
    const T mx = rowMax(row, c);
    Acc<T> sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < c; ++j) sum += (d[j] = expOf<T>(row[j] - mx));
    losses[size_t(r)] = double(mx) + std::log(double(sum)) - double(row[label]);
    double scale = reduction == "none" ? g[r] : reduction == "sum" ? g[0] : g[0] / double(counted);
    const T k = T(scale / double(sum));
#pragma omp simd
    for (int64_t j = 0; j < c; ++j) d[j] *= k;
    d[label] -= T(scale);
  }
  double total = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (int64_t(labels[r]) != ignoreIndex) total += losses[size_t(r)];
    if (reduction == "none") out[r] = T(losses[size_t(r)]);
  }
  if (reduction == "sum") out[0] = T(total);
  if (reduction == "mean") out[0] = T(counted ? total / double(counted) : 0.0);  // all ignored: 0, not 0/0
  return {};
}

// Per non-ignored row: (softmax(logits) - onehot(label)) * scale, where scale is g / count
// (mean), g (sum) or g[row] (none). Ignored rows get 0.
template <class T>
void crossEntropyGrad(View<const T> logits, View<const T> labels, View<const T> g, int64_t ignoreIndex,
                      const std::string& reduction, View<T> dlogits) {
  int64_t c = logits.type.shape.back();
  int64_t rows = labels.size();
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; ++r) counted += int64_t(labels[r]) != ignoreIndex;
  std::fill(dlogits.data, dlogits.data + dlogits.size(), T(0));
#pragma omp parallel for if (logits.size() >= kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t label = int64_t(labels[r]);
    if (label == ignoreIndex || label < 0 || label >= c) continue;
    double scale = reduction == "none" ? g[r] : reduction == "sum" ? g[0] : g[0] / double(counted);
    const T* row = logits.data + r * c;
    T* d = dlogits.data + r * c;
    const T mx = rowMax(row, c);
    Acc<T> sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < c; ++j) sum += (d[j] = expOf<T>(row[j] - mx));
    const T k = T(scale / double(sum));
#pragma omp simd
    for (int64_t j = 0; j < c; ++j) d[j] *= k;
    d[label] -= T(scale);
  }
}

// For each query row: p = softmax(s), s_j = scale q.k_j + mask (causal rows cut as forward);
// dv_j += p_j g; dp_j = g.v_j; ds_j = p_j (dp_j - sum_i p_i dp_i); dq += scale ds_j k_j;
// dk_j += scale ds_j q. The mask gets no gradient.
template <class T>
void attentionGrad(View<const T> q, View<const T> k, View<const T> v, View<const T> g, const View<const T>* mask,
                   bool causal, double scale, View<T> dq, View<T> dk, View<T> dv) {
  const int64_t B = q.type.shape[0], H = q.type.shape[1], Tq = q.type.shape[2], D = q.type.shape[3];
  const int64_t S = k.type.shape[2], Dv = v.type.shape[3];
  AttentionRows<T> rows(q, k, mask, causal, scale);
  for (View<T>* t : {&dq, &dk, &dv}) std::fill(t->data, t->data + t->size(), T(0));
  // Each (batch, head) owns its slices of dq, dk and dv: the blocks run in parallel.
#pragma omp parallel for if (B * H * Tq * S >= kParallelGrain)
  for (int64_t bh = 0; bh < B * H; ++bh) {
    const int64_t b = bh / H, h = bh % H;
    std::vector<double> p, dp(static_cast<size_t>(S));
    std::vector<Acc<T>> dkAcc(static_cast<size_t>(S * D), 0), dvAcc(static_cast<size_t>(S * Dv), 0), dqAcc(static_cast<size_t>(D));
    for (int64_t t = 0; t < Tq; ++t) {
      if (!rows.probabilities(b, h, t, p)) continue;  // no visible key: the output was 0, so is the gradient
      const int64_t qrow = bh * Tq + t, end = rows.visibleEnd(t);
      const T* qr = q.data + qrow * D;
      const T* gr = g.data + qrow * Dv;
      double pdp = 0;
      for (int64_t s = 0; s < end; ++s) {
        const T* vr = v.data + (bh * S + s) * Dv;
        Acc<T> acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t d = 0; d < Dv; ++d) acc += Acc<T>(gr[d]) * Acc<T>(vr[d]);
        dp[size_t(s)] = double(acc);
        pdp += p[size_t(s)] * acc;
      }
      std::fill(dqAcc.begin(), dqAcc.end(), Acc<T>(0));
      for (int64_t s = 0; s < end; ++s) {
        const Acc<T> ps = Acc<T>(p[size_t(s)]), ds = Acc<T>(p[size_t(s)] * (dp[size_t(s)] - pdp) * rows.scale());
        const T* kr = k.data + (bh * S + s) * D;
        Acc<T>* dks = dkAcc.data() + s * D;
        Acc<T>* dvs = dvAcc.data() + s * Dv;
        Acc<T>* dqa = dqAcc.data();
        for (int64_t d = 0; d < Dv; ++d) dvs[d] += ps * Acc<T>(gr[d]);
        for (int64_t d = 0; d < D; ++d) {
          dqa[d] += ds * Acc<T>(kr[d]);
          dks[d] += ds * Acc<T>(qr[d]);
        }
      }
      for (int64_t d = 0; d < D; ++d) dq[qrow * D + d] = T(dqAcc[size_t(d)]);
    }
    for (int64_t i = 0; i < S * D; ++i) dk[bh * S * D + i] = T(dkAcc[size_t(i)]);
    for (int64_t i = 0; i < S * Dv; ++i) dv[bh * S * Dv + i] = T(dvAcc[size_t(i)]);
  }
}

}  // namespace kiln::kernels
