#include "runtime/cpu/attention_lowering.h"

#include "runtime/kernels/fast_math.h"

#include <cmath>
#include <limits>

#include "runtime/kernels/view.h"

namespace kiln {

namespace {

using dt = dnnl::memory::data_type;

dnnl::memory::desc md(dnnl::memory::dims dims, dnnl::memory::dims strides) {
  return dnnl::memory::desc(dims, dt::f32, strides);
}

dnnl::matmul make(const dnnl::memory::desc& a, const dnnl::memory::desc& b, const dnnl::memory::desc& c,
                  const dnnl::engine& eng) {
  return dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), eng));
}

}  // namespace

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
  const int64_t BH = B_ * H_;
  qMd_ = md({BH, T_, D_}, {T_ * D_, D_, 1});
  kT_ = md({BH, D_, S_}, {S_ * D_, 1, D_});
  scoresMd_ = md({BH, T_, S_}, {T_ * S_, S_, 1});
  vMd_ = md({BH, S_, Dv_}, {S_ * Dv_, Dv_, 1});
  outMd_ = md({BH, T_, Dv_}, {T_ * Dv_, Dv_, 1});
  qk_ = make(qMd_, kT_, scoresMd_, eng);
  if (!gradient_) {
    pv_ = make(scoresMd_, vMd_, outMd_, eng);
    return;
  }
  pT_ = md({BH, S_, T_}, {T_ * S_, 1, S_});
  gMd_ = outMd_;
  vT_ = md({BH, Dv_, S_}, {S_ * Dv_, 1, Dv_});
  dvMd_ = vMd_;
  kMd_ = md({BH, S_, D_}, {S_ * D_, D_, 1});
  dsT_ = pT_;
  dkMd_ = kMd_;
  dqMd_ = qMd_;
  dv_ = make(pT_, gMd_, dvMd_, eng);         // dv = p^T g
  dp_ = make(gMd_, vT_, scoresMd_, eng);     // dp = g v^T
  dq_ = make(scoresMd_, kMd_, dqMd_, eng);   // dq = ds k
  dk_ = make(dsT_, qMd_, dkMd_, eng);        // dk = ds^T q
}

void AttentionLowering::matmul(dnnl::matmul& prim, const Md& a, const Md& b, const Md& c, const float* pa,
                               const float* pb, float* pc, const dnnl::engine& eng, dnnl::stream& strm) {
  dnnl::memory ma(a, eng, const_cast<float*>(pa)), mb(b, eng, const_cast<float*>(pb)), mc(c, eng, pc);
  prim.execute(strm, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
  strm.wait();
}

void AttentionLowering::probabilities(const float* q, const float* k, const float* mask, const dnnl::engine& eng,
                                      dnnl::stream& strm) {
  matmul(qk_, qMd_, kT_, scoresMd_, q, k, scores_, eng, strm);
  const int64_t rows = B_ * H_ * T_;
  const float scale = float(scale_);
#pragma omp parallel for
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = r % T_, bh = r / T_, b = bh / H_, h = bh % H_;
    float* row = scores_ + r * S_;
    const int64_t end = causal_ ? std::min(S_, t + (S_ - T_) + 1) : S_;
    float mx = -std::numeric_limits<float>::infinity();
    if (mask) {
      const float* m = mask + b * maskStrides_[0] + h * maskStrides_[1] + t * maskStrides_[2];
      for (int64_t s = 0; s < end; ++s) row[s] = row[s] * scale + m[s * maskStrides_[3]];
    } else {
#pragma omp simd
      for (int64_t s = 0; s < end; ++s) row[s] *= scale;
    }
    for (int64_t s = 0; s < end; ++s) mx = std::max(mx, row[s]);
    if (std::isinf(mx) && mx < 0) {  // no visible key: a zero row
      std::fill(row, row + S_, 0.0f);
      continue;
    }
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t s = 0; s < end; ++s) sum += (row[s] = kernels::fastExp(row[s] - mx));
    const float inv = 1.0f / sum;
#pragma omp simd
    for (int64_t s = 0; s < end; ++s) row[s] *= inv;
    std::fill(row + end, row + S_, 0.0f);
  }
}

void AttentionLowering::run(const std::vector<const float*>& in, const std::vector<float*>& out, float* scratch,
                            const dnnl::engine& eng, dnnl::stream& strm) {
  scores_ = scratch;
  dscores_ = scratch + B_ * H_ * T_ * S_;
  const float* q = in[0];
  const float* k = in[1];
  const float* v = in[2];
  size_t maskIndex = gradient_ ? 4 : 3;
  const float* mask = in.size() > maskIndex ? in[maskIndex] : nullptr;
  probabilities(q, k, mask, eng, strm);
  if (!gradient_) {
    matmul(pv_, scoresMd_, vMd_, outMd_, scores_, v, out[0], eng, strm);
    return;
  }
  const float* g = in[3];
  matmul(dv_, pT_, gMd_, dvMd_, scores_, g, out[2], eng, strm);
  matmul(dp_, gMd_, vT_, scoresMd_, g, v, dscores_, eng, strm);
  const int64_t rows = B_ * H_ * T_;
  const float scale = float(scale_);
#pragma omp parallel for
  for (int64_t r = 0; r < rows; ++r) {  // ds = p (dp - sum(dp p)) * scale, in place in dscores_
    const float* p = scores_ + r * S_;
    float* d = dscores_ + r * S_;
    float dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int64_t s = 0; s < S_; ++s) dot += d[s] * p[s];
#pragma omp simd
    for (int64_t s = 0; s < S_; ++s) d[s] = p[s] * (d[s] - dot) * scale;
  }
  matmul(dq_, scoresMd_, kMd_, dqMd_, dscores_, k, out[0], eng, strm);
  matmul(dk_, dsT_, qMd_, dkMd_, dscores_, q, out[1], eng, strm);
}

}  // namespace kiln
