#include "targets/cpu/attention_lowering.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "targets/cpu/cpu_rules.h"
#include "eval/kernels/fast_math.h"
#include "eval/kernels/kernels.h"
#include "eval/kernels/view.h"

namespace kiln {

namespace {

// A [BH, rows, cols] view whose rows are `rowStride` apart and whose batches are `batchStride`
// apart; `transposed` swaps the last two dims (a view of the transpose).
dnnl::memory::desc view(int64_t BH, int64_t rows, int64_t cols, int64_t batchStride, int64_t rowStride,
                        bool transposed = false) {
  if (transposed) return dnnl::memory::desc({BH, cols, rows}, dnnl::memory::data_type::f32, {batchStride, 1, rowStride});
  return dnnl::memory::desc({BH, rows, cols}, dnnl::memory::data_type::f32, {batchStride, rowStride, 1});
}

}  // namespace

void AttentionLowering::Matmul::run(const float* pa, const float* pb, float* pc, const dnnl::engine& eng,
                                    dnnl::stream& strm) const {
  dnnl::memory ma(a, eng, const_cast<float*>(pa)), mb(b, eng, const_cast<float*>(pb)), mc(c, eng, pc);
  prim.execute(strm, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
  strm.wait();
}

AttentionLowering::Block AttentionLowering::makeBlock(int64_t r0, int64_t rows, int64_t keys, bool accumulate,
                                                      const dnnl::engine& eng) const {
  Block blk{r0, rows, keys, {}, {}, {}, {}, {}, {}};
  if (keys == 0) return blk;  // nothing visible: the rows are zero
  const int64_t BH = B_ * H_;
  auto make = [&](Md a, Md b, Md c, bool sum) {
    dnnl::primitive_attr attr;
    if (sum) {
      dnnl::post_ops po;
      po.append_sum(1.0f);
      attr.set_post_ops(po);
    }
    Matmul m{a, b, c, {}};
    m.prim = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), attr, eng));
    return m;
  };
  const Md q = view(BH, rows, D_, T_ * D_, D_);            // the block's rows of q (and of dq)
  const Md p = view(BH, rows, keys, rows * keys, keys);    // the block's scores in the workspace
  const Md g = view(BH, rows, Dv_, T_ * Dv_, Dv_);         // its rows of the output (and of g)
  blk.qk = make(q, view(BH, keys, D_, S_ * D_, D_, true), p, false);
  if (!gradient_) {
    blk.pv = make(p, view(BH, keys, Dv_, S_ * Dv_, Dv_), g, false);
    return blk;
  }
  const Md pT = view(BH, rows, keys, rows * keys, keys, true);
  blk.dv = make(pT, g, view(BH, keys, Dv_, S_ * Dv_, Dv_), accumulate);
  blk.dp = make(g, view(BH, keys, Dv_, S_ * Dv_, Dv_, true), p, false);
  blk.dq = make(p, view(BH, keys, D_, S_ * D_, D_), q, false);
  blk.dk = make(pT, q, view(BH, keys, D_, S_ * D_, D_), accumulate);
  return blk;
}

AttentionLowering::AttentionLowering(const Op& op, const dnnl::engine& eng) {
  gradient_ = op.kind == OpKind::AttentionGrad;
  causal_ = op.attrs.getBool("causal");
  const Shape& q = op.operands[0]->type.shape;
  const Shape& k = op.operands[1]->type.shape;
  const Shape& v = op.operands[2]->type.shape;
  B_ = q[0], H_ = q[1], T_ = q[2], D_ = q[3], S_ = k[2], Dv_ = v[3];
  scale_ = op.attrs.getFloat("scale");
  if (scale_ == 0) scale_ = 1.0 / std::sqrt(double(D_));
  size_t maskIndex = gradient_ ? 4 : 3;
  if (op.operands.size() > maskIndex)
    maskStrides_ = kernels::broadcastStrides(op.operands[maskIndex]->type.shape, {B_, H_, T_, S_});
  const int64_t step = attentionBlockRows(T_);
  std::vector<std::pair<int64_t, int64_t>> spans;  // (first row, rows)
  for (int64_t r0 = 0; r0 < T_; r0 += step) spans.emplace_back(r0, std::min(step, T_ - r0));
  auto keysOf = [&](int64_t r0, int64_t rows) { return causal_ ? std::clamp(r0 + rows + S_ - T_, int64_t(0), S_) : S_; };
  // The gradient's dk and dv accumulate over blocks: the block seeing the most keys (the last
  // one) writes first, the others add into their prefix.
  std::reverse(spans.begin(), spans.end());
  for (size_t i = 0; i < spans.size(); ++i)
    blocks_.push_back(makeBlock(spans[i].first, spans[i].second, keysOf(spans[i].first, spans[i].second), i > 0, eng));
}

size_t AttentionLowering::scratchFloats() const {
  size_t most = 0;
  for (const Block& b : blocks_) most = std::max(most, size_t(b.rows * b.keys));
  return most * size_t(B_ * H_) * (gradient_ ? 2 : 1);
}

void AttentionLowering::probabilities(const Block& blk, const float* q, const float* k, const float* mask, float* p,
                                      const dnnl::engine& eng, dnnl::stream& strm) const {
  blk.qk.run(q + blk.r0 * D_, k, p, eng, strm);
  const int64_t n = B_ * H_ * blk.rows, keys = blk.keys;
  const float scale = float(scale_);
#pragma omp parallel for
  for (int64_t r = 0; r < n; ++r) {
    const int64_t t = blk.r0 + r % blk.rows, bh = r / blk.rows, b = bh / H_, h = bh % H_;
    float* row = p + r * keys;
    const int64_t end = causal_ ? std::clamp(t + (S_ - T_) + 1, int64_t(0), keys) : keys;
    if (mask) {
      const float* m = mask + b * maskStrides_[0] + h * maskStrides_[1] + t * maskStrides_[2];
      for (int64_t s = 0; s < end; ++s) row[s] = row[s] * scale + m[s * maskStrides_[3]];
    } else {
#pragma omp simd
      for (int64_t s = 0; s < end; ++s) row[s] *= scale;
    }
    const float mx = kernels::rowMax(row, end);
    if (std::isinf(mx) && mx < 0) {  // no visible key: a zero row
      std::fill(row, row + keys, 0.0f);
      continue;
    }
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t s = 0; s < end; ++s) sum += (row[s] = kernels::fastExp(row[s] - mx));
    const float inv = 1.0f / sum;
#pragma omp simd
    for (int64_t s = 0; s < end; ++s) row[s] *= inv;
    std::fill(row + end, row + keys, 0.0f);
  }
}

void AttentionLowering::run(const std::vector<const float*>& in, const std::vector<float*>& out, float* scratch,
                            const dnnl::engine& eng, dnnl::stream& strm) {
  const float* q = in[0];
  const float* k = in[1];
  const float* v = in[2];
  size_t maskIndex = gradient_ ? 4 : 3;
  const float* mask = in.size() > maskIndex ? in[maskIndex] : nullptr;
  const int64_t BH = B_ * H_;
  // Zero rows (blocks that see no key), and dk/dv where no block writes first.
  auto zeroRows = [&](float* base, int64_t r0, int64_t rows, int64_t len, int64_t width) {
    for (int64_t bh = 0; bh < BH; ++bh) std::fill_n(base + (bh * len + r0) * width, rows * width, 0.0f);
  };
  if (gradient_ && (blocks_.empty() || blocks_.front().keys < S_)) {
    zeroRows(out[1], 0, S_, S_, D_);
    zeroRows(out[2], 0, S_, S_, Dv_);
  }
  float* p = scratch;
  for (const Block& blk : blocks_) {
    if (blk.keys == 0) {
      zeroRows(out[0], blk.r0, blk.rows, T_, gradient_ ? D_ : Dv_);
      continue;
    }
    probabilities(blk, q, k, mask, p, eng, strm);
    if (!gradient_) {
      blk.pv.run(p, v, out[0] + blk.r0 * Dv_, eng, strm);
      continue;
    }
    const float* g = in[3] + blk.r0 * Dv_;
    float* dp = scratch + BH * blk.rows * blk.keys;
    blk.dv.run(p, g, out[2], eng, strm);
    blk.dp.run(g, v, dp, eng, strm);
    const int64_t n = BH * blk.rows, keys = blk.keys;
    const float scale = float(scale_);
#pragma omp parallel for
    for (int64_t r = 0; r < n; ++r) {  // ds = p (dp - sum(dp p)) * scale, in place in dp
      const float* pr = p + r * keys;
      float* d = dp + r * keys;
      float dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t s = 0; s < keys; ++s) dot += d[s] * pr[s];
#pragma omp simd
      for (int64_t s = 0; s < keys; ++s) d[s] = pr[s] * (d[s] - dot) * scale;
    }
    blk.dq.run(dp, k, out[0] + blk.r0 * D_, eng, strm);
    blk.dk.run(dp, q + blk.r0 * D_, out[1], eng, strm);
  }
}

}  // namespace kiln
