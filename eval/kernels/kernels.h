// Kernels for every op, written once over the element type T: the reference device runs them
// in f64 (results then rounded to each dtype), the cpu device in f32. Plain loops, one function
// per op family; accumulations are in f64. `out` arrives allocated with the op's result type;
// kernels that can fail on data (an index out of range) return a message, empty on success.
#pragma once

#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>
#include <string>
#include <vector>

#include "eval/kernels/fast_math.h"
#include "eval/kernels/view.h"

namespace kiln::kernels {

// The accumulator of dot products: f32 on the cpu device (vectorized), f64 on the reference.
template <class T>
using Acc = std::conditional_t<std::is_same_v<T, float>, float, double>;

// Loops over this many elements or more run on all cores (OpenMP). Every parallel loop writes
// disjoint outputs, so results do not depend on the thread count.
inline constexpr int64_t kParallelGrain = 1 << 14;

// out[i] = f(x[i]); x and out have the same shape.
template <class T, class F>
void unaryMap(View<const T> x, View<T> out, F f) {
  const int64_t n = out.size();
#pragma omp parallel for simd if (n >= kParallelGrain)
  for (int64_t i = 0; i < n; ++i) out[i] = f(x[i]);
}

// out = f(a, b) with numpy broadcasting of a and b to out's shape.
template <class T, class F>
void binaryMap(View<const T> a, View<const T> b, View<T> out, F f) {
  const Shape& s = out.type.shape;
  const int64_t n = out.size(), na = a.size(), nb = b.size();
  if (n > 0 && repeatsWhole(a.type.shape, s) && repeatsWhole(b.type.shape, s)) {  // the common cases, fast
    if (na == n && nb == n) {
#pragma omp parallel for simd if (n >= kParallelGrain)
      for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
    } else if (na == n || nb == n) {  // one side repeats whole: rows of its length, no division
      const int64_t len = na == n ? nb : na, rows = n / len;
#pragma omp parallel for if (n >= kParallelGrain)
      for (int64_t r = 0; r < rows; ++r) {
        const T* full = (na == n ? a.data : b.data) + r * len;
        const T* rep = na == n ? b.data : a.data;
        T* o = out.data + r * len;
        if (na == n)
          for (int64_t j = 0; j < len; ++j) o[j] = f(full[j], rep[j]);
        else
          for (int64_t j = 0; j < len; ++j) o[j] = f(rep[j], full[j]);
      }
    } else {
#pragma omp parallel for if (n >= kParallelGrain)
      for (int64_t i = 0; i < n; ++i) out[i] = f(a[i % na], b[i % nb]);
    }
    return;
  }
  IndexWalker w(s, {broadcastStrides(a.type.shape, s), broadcastStrides(b.type.shape, s)});
  for (int64_t i = 0; i < n; ++i, w.next()) out[i] = f(a[w.offset(0)], b[w.offset(1)]);
}

template <class T>
void select(View<const T> c, View<const T> a, View<const T> b, View<T> out);
template <class T>
std::string divide(View<const T> a, View<const T> b, View<T> out);  // integer division by 0 fails

enum class ReduceKind { Sum, Max, Mean };
template <class T>
void reduce(View<const T> x, const std::vector<int64_t>& axes, ReduceKind kind, View<T> out);

// Shape ops.
template <class T>
void transpose(View<const T> x, const std::vector<int64_t>& perm, View<T> out);
template <class T>
void broadcastTo(View<const T> x, View<T> out);
template <class T>
void slice(View<const T> x, const std::vector<int64_t>& start, const std::vector<int64_t>& stride,
           View<T> out);
template <class T>
void concat(const std::vector<View<const T>>& xs, int axis, View<T> out);
// interior: elements inserted between neighbours along each dim (empty: none).
template <class T>
void pad(View<const T> x, const std::vector<int64_t>& low, const std::vector<int64_t>& interior, double value,
         View<T> out);

// table [pre..., D, post...], indices [I...] -> out [pre..., I..., post...]
template <class T>
std::string gather(View<const T> table, View<const T> indices, int axis, View<T> out);
// out = target, then out[pre, indices[j], post] += updates[pre, j, post]
template <class T>
std::string scatterAdd(View<const T> target, View<const T> indices, View<const T> updates, int axis,
                       View<T> out);

// a [batch..., M, K] (or [..., K, M] transposed) x b [batch..., K, N] -> out [batch..., M, N]
template <class T>
void matmul(View<const T> a, View<const T> b, bool transposeA, bool transposeB, View<T> out);

template <class T>
void softmax(View<const T> x, int axis, bool logarithm, View<T> out);
// x [..., C], gain [C], bias [C]; normalizes over the last axis with the biased variance.
template <class T>
void layerNorm(View<const T> x, View<const T> gain, View<const T> bias, double eps, View<T> out);
// sum = x + y, out = layer_norm(sum)
template <class T>
void addLayerNorm(View<const T> x, View<const T> y, View<const T> gain, View<const T> bias, double eps, View<T> sum,
                  View<T> out);
// logits [N..., C], labels [N...]; mean (over non-ignored), sum, or per-position ("none").
template <class T>
std::string crossEntropy(View<const T> logits, View<const T> labels, int64_t ignoreIndex,
                         const std::string& reduction, View<T> out);
// q [B,H,T,D], k [B,H,S,D], v [B,H,S,Dv], mask broadcastable to [B,H,T,S] (or null).
// Causal: query t sees keys s <= t + (S - T). A row with no visible key yields zeros.
template <class T>
void attention(View<const T> q, View<const T> k, View<const T> v, const View<const T>* mask, bool causal,
               double scale, View<T> out);
template <class T>
void dropout(View<const T> x, uint64_t seed, double rate, View<T> out);

// The attention probabilities of one query row (b, h, t), shared by attention and its
// gradient: p[s] = softmax_s(scale q.k_s + mask) over the visible keys, 0 elsewhere.
// Returns false when no key is visible (p is then all 0).
template <class T>
class AttentionRows {
 public:
  AttentionRows(View<const T> q, View<const T> k, const View<const T>* mask, bool causal, double scale);
  bool probabilities(int64_t b, int64_t h, int64_t t, std::vector<double>& p) const;
  // One past the last key query t can see (causal attention sees no later keys).
  int64_t visibleEnd(int64_t t) const;
  double scale() const { return scale_; }

 private:
  View<const T> q_;
  View<const T> k_;
  const View<const T>* mask_;
  bool causal_;
  double scale_;
  std::vector<int64_t> maskStrides_;
};

// Backward kernels: g is the gradient of the loss with respect to the forward op's result.
template <class T>
void geluGrad(View<const T> x, View<const T> g, bool tanhApprox, View<T> dx);
// y is the forward result (softmax or log_softmax).
template <class T>
void softmaxGrad(View<const T> y, View<const T> g, int axis, bool logarithm, View<T> dx);
template <class T>
void layerNormGrad(View<const T> x, View<const T> gain, View<const T> g, double eps, View<T> dx, View<T> dgain,
                   View<T> dbias, const T* addend);  // addend: added to dx, or null
// Both: out as crossEntropy, dlogits as crossEntropyGrad, reading each row of logits once.
template <class T>
std::string crossEntropyWithGrad(View<const T> logits, View<const T> labels, View<const T> g, int64_t ignoreIndex,
                                 const std::string& reduction, View<T> out, View<T> dlogits);
template <class T>
void crossEntropyGrad(View<const T> logits, View<const T> labels, View<const T> g, int64_t ignoreIndex,
                      const std::string& reduction, View<T> dlogits);
template <class T>
void attentionGrad(View<const T> q, View<const T> k, View<const T> v, View<const T> g, const View<const T>* mask,
                   bool causal, double scale, View<T> dq, View<T> dk, View<T> dv);

// One AdamW step per element, in the order of torch.optim.AdamW: p' = p*decay - lr/(1-b1^t) *
// m' / (sqrt(v')/sqrt(1-b2^t) + eps), m' = m + (g-m)(1-b1), v' = b2 v + (1-b2) g^2.
template <class T>
void adamwUpdate(View<const T> p, View<const T> g, View<const T> m, View<const T> v, double lr, double decay, double t,
                 double beta1, double beta2, double eps, View<T> p1, View<T> m1, View<T> v1);

// The largest of n contiguous elements, -inf for none; NaNs are passed over as by
// std::max(mx, x). A max reduction, so the loop vectorizes on the cpu device.
template <class T>
T rowMax(const T* row, int64_t n) {
  T mx = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : mx)
  for (int64_t j = 0; j < n; ++j) mx = row[j] > mx ? row[j] : mx;
  return mx;
}

// Mean and 1/sqrt(variance + eps) (biased variance) of one row, in the accumulator type so the
// loops vectorize on the cpu device; shared by layer norm and its gradient.
template <class T>
std::pair<Acc<T>, Acc<T>> rowMoments(const T* row, int64_t c, double eps) {
  Acc<T> mean = 0, var = 0;
#pragma omp simd reduction(+ : mean)
  for (int64_t j = 0; j < c; ++j) mean += row[j];
  mean /= Acc<T>(c);
#pragma omp simd reduction(+ : var)
  for (int64_t j = 0; j < c; ++j) var += (row[j] - mean) * (row[j] - mean);
  var /= Acc<T>(c);
  return {mean, Acc<T>(1.0 / std::sqrt(double(var) + eps))};
}

// GELU in the element type (f32 math on the cpu device, f64 on the reference).
template <class T>
T geluTanh(T x) {
  const T c = T(0.7978845608028654);  // sqrt(2/pi)
  T u = c * (x + T(0.044715) * x * x * x);
  if constexpr (std::is_same_v<T, float>) {
    // tanh u = 1 - 2 / (1 + e^(2u)): exp vectorizes, tanh does not (saturates correctly at +-1).
    return T(0.5) * x * (T(2) - T(2) / (T(1) + fastExp(T(2) * u)));
  } else {
    return T(0.5) * x * (T(1) + std::tanh(u));
  }
}
template <class T>
T geluErf(T x) {
  return T(0.5) * x * (T(1) + std::erf(x / std::sqrt(T(2))));
}

}  // namespace kiln::kernels
