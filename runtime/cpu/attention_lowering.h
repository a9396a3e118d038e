// Attention and its gradient on the cpu device as oneDNN batched matmuls around row-wise
// softmax loops: scores = q k^T (one [B*H, T, S] buffer per op, kept between matmuls), then
// out = p v; the gradient recomputes p and runs dv = p^T g, dp = g v^T, ds = p (dp - rowsum(dp p)),
// dq = ds k, dk = ds^T q. Same semantics as the shared kernel (causal: query t sees keys
// s <= t + S - T; additive mask; rows with no visible key give 0).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <vector>

#include "ir/module.h"

namespace kiln {

class AttentionLowering {
 public:
  AttentionLowering(const Op& op, const dnnl::engine& eng);
  // Floats of scratch run() needs (the scores, and their gradient for attention_grad).
  size_t scratchFloats() const { return size_t(B_ * H_ * T_ * S_) * (gradient_ ? 2 : 1); }
  // in: q, k, v [, mask] (forward) or q, k, v, g [, mask] (gradient); out: result(s). `scratch`
  // holds scratchFloats(); ops never run at once, so they share it.
  void run(const std::vector<const float*>& in, const std::vector<float*>& out, float* scratch,
           const dnnl::engine& eng, dnnl::stream& strm);

 private:
  using Md = dnnl::memory::desc;
  // probabilities of every row into scores_ (in place), from q and k.
  void probabilities(const float* q, const float* k, const float* mask, const dnnl::engine& eng, dnnl::stream& strm);
  void matmul(dnnl::matmul& prim, const Md& a, const Md& b, const Md& c, const float* pa, const float* pb, float* pc,
              const dnnl::engine& eng, dnnl::stream& strm);

  bool gradient_, causal_;
  double scale_;
  int64_t B_, H_, T_, S_, D_, Dv_;
  std::vector<int64_t> maskStrides_;  // broadcast to [B, H, T, S], empty without a mask
  float* scores_ = nullptr;  // [B*H, T, S] inside the scratch
  float* dscores_ = nullptr;
  // Descriptors: q [BH,T,D], k^T [BH,D,S], scores [BH,T,S], v [BH,S,Dv], out [BH,T,Dv], and the
  // transposed views the gradient needs.
  Md qMd_, kT_, scoresMd_, vMd_, outMd_, pT_, gMd_, vT_, dvMd_, kMd_, dsT_, dkMd_, dqMd_;
  dnnl::matmul qk_, pv_, dv_, dp_, dq_, dk_;
};

}  // namespace kiln
