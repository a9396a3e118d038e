#include "targets/cuda/matmul_layout.h"

namespace kiln::cuda {

namespace {

int64_t product(const Shape& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i) p *= s[i];
  return p;
}

// The batch stride of an operand of `rank` whose batch dims (padded with 1s to the result's)
// are either all the result's or all 1: one matrix apart, or 0. nullopt: partly broadcast.
std::optional<int64_t> batchStride(const Shape& operand, const Shape& result, int64_t matrixElems) {
  const size_t batchDims = result.size() - 2, own = operand.size() - 2;
  bool whole = true, broadcast = true;
  for (size_t i = 0; i < batchDims; ++i) {
    const int64_t d = i + own >= batchDims ? operand[i + own - batchDims] : 1;
    whole &= d == result[i];
    broadcast &= d == 1;
  }
  if (broadcast) return 0;
  if (whole) return matrixElems;
  return std::nullopt;
}

}  // namespace

std::optional<LtMatmul> planLtMatmul(const Op& op, std::string* whyNot) {
  auto refuse = [&](const std::string& why) -> std::optional<LtMatmul> {
    if (whyNot) *whyNot = why;
    return std::nullopt;
  };
  if (op.kind != OpKind::Matmul && op.kind != OpKind::MatmulBias) return refuse("not a matmul");
  // Both product operands f32, or both bf16 (mixed precision); bias, residual and result f32.
  const DType in = op.operands[0]->type.dtype;
  if ((in != DType::F32 && in != DType::BF16) || op.operands[1]->type.dtype != in) return refuse("product operands other than f32 or bf16 pairs");
  for (size_t i = 2; i < op.operands.size(); ++i)
    if (op.operands[i]->type.dtype != DType::F32) return refuse("a bias or residual other than f32");
  if (op.result()->type.dtype != DType::F32) return refuse("a result other than f32");
  const bool ta = op.attrs.getBool("transpose_a"), tb = op.attrs.getBool("transpose_b");
  const Shape& as = op.operands[0]->type.shape;
  const Shape& bs = op.operands[1]->type.shape;
  const Shape& cs = op.result()->type.shape;
  if (as.size() < 2 || bs.size() < 2 || cs.size() < 2) return refuse("an operand of rank below 2");
  if (op.result()->type.numElements() == 0) return refuse("an empty result");
  LtMatmul p;
  p.bf16 = in == DType::BF16;
  p.n = cs.back();
  p.m = cs[cs.size() - 2];
  p.k = ta ? as[as.size() - 2] : as.back();
  if (p.k == 0) return refuse("an empty contraction");
  // One right operand for every batch member and a left one laid out as rows: fold the batch.
  const bool fold = bs.size() == 2 && !ta;
  if (fold) p.m = product(cs, 0, cs.size() - 1);
  else {
    p.batch = product(cs, 0, cs.size() - 2);
    auto sa = batchStride(as, cs, p.m * p.k), sb = batchStride(bs, cs, p.k * p.n);
    if (!sa || !sb) return refuse("a batch broadcast along some dims only");
    p.b.batchStride = *sa;
    p.a.batchStride = *sb;
    p.c.batchStride = p.m * p.n;
  }
  // cuBLASLt's A = the IR's B: op(A) must be B^T [N, K] column-major.
  p.a.transposed = tb;
  p.a.rows = tb ? p.k : p.n;
  p.a.cols = tb ? p.n : p.k;
  p.a.ld = p.a.rows;
  // cuBLASLt's B = the IR's A: op(B) must be A^T [K, M].
  p.b.transposed = ta;
  p.b.rows = ta ? p.m : p.k;
  p.b.cols = ta ? p.k : p.m;
  p.b.ld = p.b.rows;
  p.c.rows = p.n;
  p.c.cols = p.m;
  p.c.ld = p.n;
  if (op.kind == OpKind::MatmulBias) {
    const std::string& act = op.attrs.getStr("activation");
    p.epilogue = act == "relu" ? Epilogue::BiasRelu : act == "gelu_tanh" ? Epilogue::BiasGeluTanh : Epilogue::Bias;
    p.geluErfAfter = act == "gelu_erf";
    if (!act.empty() && act != "relu" && act != "gelu_tanh" && act != "gelu_erf") return refuse("activation '" + act + "'");
    p.residual = op.operands.size() > 3;
    if (op.operands[2]->type.numElements() != p.n) return refuse("a bias that is not one value per column");
  }
  return p;
}

}  // namespace kiln::cuda
