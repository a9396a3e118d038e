// Attention and its gradient on the cpu device, one block of query rows at a time: for rows
// [r0, r1) only the keys they may see (causal: s < r1 + S - T) take part, so a causal op does
// about half the work of the full [T, S] product, and the scores exist for one block at a time
// ([B*H, rows, keys] in the workspace) instead of [B*H, T, S]. Per block, oneDNN batched
// matmuls over B*H around a row softmax: scores = q k^T, out = p v; the gradient recomputes p
// and runs dv += p^T g, dp = g v^T, ds = p (dp - rowsum(dp p)), dq = ds k, dk += ds^T q (the
// accumulations as oneDNN sum post-ops; the block that sees every key writes first). Same
// semantics as the shared kernel (additive mask; rows with no visible key give 0).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <vector>

#include "ir/module.h"

namespace kiln {

class AttentionLowering {
 public:
  AttentionLowering(const Op& op, const dnnl::engine& eng);
  // Floats of workspace run() needs: one block's scores (and their gradient for attention_grad).
  size_t scratchFloats() const;
  // in: q, k, v [, mask] (forward) or q, k, v, g [, mask] (gradient); out: result(s). `scratch`
  // holds scratchFloats(); ops never run at once, so they share it.
  void run(const std::vector<const float*>& in, const std::vector<float*>& out, float* scratch,
           const dnnl::engine& eng, dnnl::stream& strm);

 private:
  using Md = dnnl::memory::desc;
  struct Matmul {
    Md a, b, c;
    dnnl::matmul prim;
    void run(const float* pa, const float* pb, float* pc, const dnnl::engine& eng, dnnl::stream& strm) const;
  };
  // One block of query rows [r0, r0 + rows) that sees keys [0, keys).
  struct Block {
    int64_t r0, rows, keys;
    Matmul qk, pv;              // forward (qk also recomputes p in the gradient)
    Matmul dv, dp, dq, dk;      // gradient
  };
  Block makeBlock(int64_t r0, int64_t rows, int64_t keys, bool accumulate, const dnnl::engine& eng) const;
  // p of the block's rows into `p` ([B*H, rows, keys]), from q and k.
  void probabilities(const Block& blk, const float* q, const float* k, const float* mask, float* p,
                     const dnnl::engine& eng, dnnl::stream& strm) const;

  bool gradient_, causal_;
  double scale_;
  int64_t B_, H_, T_, S_, D_, Dv_;
  std::vector<int64_t> maskStrides_;  // broadcast to [B, H, T, S], empty without a mask
  std::vector<Block> blocks_;         // in run order: the block that sees the most keys first
};

}  // namespace kiln
