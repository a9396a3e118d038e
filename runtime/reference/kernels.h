// Reference kernels: plain loops, f64 arithmetic, one function per op family. `out` arrives
// allocated with the op's result type; kernels that can fail on data (an index out of range)
// return a message, empty on success.
#pragma once

#include <string>
#include <vector>

#include "runtime/reference/tensor.h"

namespace kiln::ref {

// out[i] = f(x[i]); x and out have the same shape.
template <class F>
void unaryMap(const Tensor& x, Tensor& out, F f) {
  for (int64_t i = 0; i < out.size(); ++i) out[i] = f(x[i]);
}

// out = f(a, b) with numpy broadcasting of a and b to out's shape.
template <class F>
void binaryMap(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  const Shape& s = out.type.shape;
  IndexWalker w(s, {broadcastStrides(a.type.shape, s), broadcastStrides(b.type.shape, s)});
  for (int64_t i = 0; i < out.size(); ++i, w.next()) out[i] = f(a[w.offset(0)], b[w.offset(1)]);
}

void select(const Tensor& c, const Tensor& a, const Tensor& b, Tensor& out);
std::string divide(const Tensor& a, const Tensor& b, Tensor& out);  // integer division by 0 fails

enum class ReduceKind { Sum, Max, Mean };
void reduce(const Tensor& x, const std::vector<int64_t>& axes, ReduceKind kind, Tensor& out);

// Shape ops.
void transpose(const Tensor& x, const std::vector<int64_t>& perm, Tensor& out);
void broadcastTo(const Tensor& x, Tensor& out);
void slice(const Tensor& x, const std::vector<int64_t>& start, const std::vector<int64_t>& stride,
           Tensor& out);
void concat(const std::vector<const Tensor*>& xs, int axis, Tensor& out);
// interior: elements inserted between neighbours along each dim (empty: none).
void pad(const Tensor& x, const std::vector<int64_t>& low, const std::vector<int64_t>& interior, double value,
         Tensor& out);

// table [pre..., D, post...], indices [I...] -> out [pre..., I..., post...]
std::string gather(const Tensor& table, const Tensor& indices, int axis, Tensor& out);
// out = target, then out[pre, indices[j], post] += updates[pre, j, post]
std::string scatterAdd(const Tensor& target, const Tensor& indices, const Tensor& updates, int axis,
                       Tensor& out);

// a [batch..., M, K] (or [..., K, M] transposed) x b [batch..., K, N] -> out [batch..., M, N]
void matmul(const Tensor& a, const Tensor& b, bool transposeA, bool transposeB, Tensor& out);

void softmax(const Tensor& x, int axis, bool logarithm, Tensor& out);
// x [..., C], gain [C], bias [C]; normalizes over the last axis with the biased variance.
void layerNorm(const Tensor& x, const Tensor& gain, const Tensor& bias, double eps, Tensor& out);
// logits [N..., C], labels [N...]; mean (over non-ignored), sum, or per-position ("none").
std::string crossEntropy(const Tensor& logits, const Tensor& labels, int64_t ignoreIndex,
                         const std::string& reduction, Tensor& out);
// q [B,H,T,D], k [B,H,S,D], v [B,H,S,Dv], mask broadcastable to [B,H,T,S] (or null).
// Causal: query t sees keys s <= t + (S - T). A row with no visible key yields zeros.
void attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, bool causal,
               double scale, Tensor& out);
void dropout(const Tensor& x, uint64_t seed, double rate, Tensor& out);

// The attention probabilities of one query row (b, h, t), shared by attention and its
// gradient: p[s] = softmax_s(scale q.k_s + mask) over the visible keys, 0 elsewhere.
// Returns false when no key is visible (p is then all 0).
class AttentionRows {
 public:
  AttentionRows(const Tensor& q, const Tensor& k, const Tensor* mask, bool causal, double scale);
  bool probabilities(int64_t b, int64_t h, int64_t t, std::vector<double>& p) const;
  double scale() const { return scale_; }

 private:
  const Tensor& q_;
  const Tensor& k_;
  const Tensor* mask_;
  bool causal_;
  double scale_;
  std::vector<int64_t> maskStrides_;
};

// Backward kernels: g is the gradient of the loss with respect to the forward op's result.
void geluGrad(const Tensor& x, const Tensor& g, bool tanhApprox, Tensor& dx);
// y is the forward result (softmax or log_softmax).
void softmaxGrad(const Tensor& y, const Tensor& g, int axis, bool logarithm, Tensor& dx);
void layerNormGrad(const Tensor& x, const Tensor& gain, const Tensor& g, double eps, Tensor& dx, Tensor& dgain,
                   Tensor& dbias);
void crossEntropyGrad(const Tensor& logits, const Tensor& labels, const Tensor& g, int64_t ignoreIndex,
                      const std::string& reduction, Tensor& dlogits);
void attentionGrad(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g, const Tensor* mask,
                   bool causal, double scale, Tensor& dq, Tensor& dk, Tensor& dv);

double geluTanh(double x);
double geluErf(double x);

}  // namespace kiln::ref
