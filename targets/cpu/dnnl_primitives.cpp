#include "targets/cpu/dnnl_primitives.h"

#include <algorithm>

#include "targets/cpu/cpu_rules.h"

namespace kiln {

namespace {


dnnl::memory::dims logicalStrides(const Shape& stored, int rank, bool transposed) {
  Shape padded(size_t(rank) - stored.size(), 1);
  padded.insert(padded.end(), stored.begin(), stored.end());
  dnnl::memory::dims st(static_cast<size_t>(rank));
  int64_t acc = 1;
  for (int i = rank; i-- > 0;) {
    st[size_t(i)] = acc;
    acc *= padded[size_t(i)];
  }
  if (transposed) std::swap(st[size_t(rank - 1)], st[size_t(rank - 2)]);
  return st;
}

dnnl::memory::dims logicalDims(const Shape& stored, int rank, bool transposed) {
  dnnl::memory::dims d(size_t(rank) - stored.size(), 1);
  d.insert(d.end(), stored.begin(), stored.end());
  if (transposed) std::swap(d[size_t(rank - 1)], d[size_t(rank - 2)]);
  return d;
}

}  // namespace

// The primitive of a matmul or matmul_bias. With one right operand for a whole batch and a
// contiguous left one, the batch folds into the rows (one 2-D product); when the device packs
// the right operand, oneDNN picks its layout (format `any`) and a reorder fills it each call.
MatmulPrimitive makeMatmul(const Op& op, const dnnl::engine& eng) {
  using dt = dnnl::memory::data_type;
  // bf16 values are stored as bf16 (mixed precision), all others as f32; other dtypes would
  // need their own primitives: the shared kernel runs those.
  auto stored = [](const Value* v) { return v->type.dtype == DType::BF16 ? dt::bf16 : dt::f32; };
  const dt in = stored(op.operands[0]);
  if (stored(op.operands[1]) != in || op.result()->type.dtype == DType::BF16)
    throw dnnl::error(dnnl_unimplemented, "mixed operand types");
  bool ta = op.attrs.getBool("transpose_a"), tb = op.attrs.getBool("transpose_b");
  const Shape& os = op.result()->type.shape;
  const Shape& as = op.operands[0]->type.shape;
  const bool packs = packsMatmulOperand(op);
  const bool flat = packs && !ta && os.size() > 2 && as.size() == os.size();
  const int r = flat ? 2 : int(os.size());
  const int64_t N = os.back();
  int64_t M = 1;
  for (size_t i = 0; i + 1 < os.size(); ++i) M *= os[i];
  Shape a2 = flat ? Shape{M, as.back()} : as, c2 = flat ? Shape{M, N} : os;
  Shape b2 = op.operands[1]->type.shape;
  if (flat) b2 = Shape(b2.end() - 2, b2.end());
  MatmulPrimitive mp;
  mp.a = dnnl::memory::desc(logicalDims(a2, r, ta), in, logicalStrides(a2, r, ta));
  mp.b = dnnl::memory::desc(logicalDims(b2, r, tb), in, logicalStrides(b2, r, tb));
  mp.c = dnnl::memory::desc(dnnl::memory::dims(c2.begin(), c2.end()), dt::f32, logicalStrides(c2, r, false));
  dnnl::primitive_attr attr;
  if (op.kind == OpKind::MatmulBias) {
    // bias [N] as [1, ..., 1, N]; the residual as a binary-add post-op on the result.
    Shape biasDims(size_t(r), 1);
    biasDims.back() = N;
    mp.bias = dnnl::memory::desc(dnnl::memory::dims(biasDims.begin(), biasDims.end()), dt::f32, logicalStrides(biasDims, r, false));
    mp.hasBias = true;
    if (op.operands.size() > 3) {
      mp.residual = mp.c;
      mp.hasResidual = true;
      dnnl::post_ops po;
      po.append_binary(dnnl::algorithm::binary_add, mp.residual);
      attr.set_post_ops(po);
    }
    if (const std::string& act = op.attrs.getStr("activation"); !act.empty()) {
      dnnl::post_ops po;
      po.append_eltwise(1.0f,
                        act == "relu"        ? dnnl::algorithm::eltwise_relu
                        : act == "gelu_tanh" ? dnnl::algorithm::eltwise_gelu_tanh
                                             : dnnl::algorithm::eltwise_gelu_erf,
                        0.0f, 0.0f);
      attr.set_post_ops(po);
    }
  }
  const dnnl::memory::desc weights = packs ? dnnl::memory::desc(logicalDims(b2, r, tb), in, dnnl::memory::format_tag::any) : mp.b;
  dnnl::matmul::desc desc = mp.hasBias ? dnnl::matmul::desc(mp.a, weights, mp.bias, mp.c) : dnnl::matmul::desc(mp.a, weights, mp.c);
  dnnl::matmul::primitive_desc pd(desc, attr, eng);
  mp.prim = dnnl::matmul(pd);
  if (packs && pd.weights_desc() != mp.b) {
    mp.packs = true;
    mp.packed = pd.weights_desc();
    mp.pack = dnnl::reorder(dnnl::reorder::primitive_desc(eng, mp.b, eng, mp.packed));
  }
  return mp;
}

void runMatmul(const MatmulPrimitive& p, const std::vector<float*>& operands, float* result, float* packBuffer,
               const dnnl::engine& eng, dnnl::stream& strm) {
  dnnl::memory a(p.a, eng, operands[0]), b(p.b, eng, operands[1]), c(p.c, eng, result);
  if (p.packs) {
    dnnl::memory packed(p.packed, eng, packBuffer);
    p.pack.execute(strm, b, packed);
    b = packed;
  }
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}};
  if (p.hasBias) args.emplace(DNNL_ARG_BIAS, dnnl::memory(p.bias, eng, operands[2]));
  if (p.hasResidual) args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, dnnl::memory(p.residual, eng, operands[3]));
  p.prim.execute(strm, args);
  strm.wait();
}

std::optional<SoftmaxPrimitive> makeSoftmax(const Op& op, const dnnl::engine& eng) {
  const bool backward = op.kind == OpKind::SoftmaxGrad || op.kind == OpKind::LogSoftmaxGrad;
  const bool log = op.kind == OpKind::LogSoftmax || op.kind == OpKind::LogSoftmaxGrad;
  if (!backward && op.kind != OpKind::Softmax && !log) return std::nullopt;
  const TensorType& t = op.result()->type;
  if (!isFloat(t.dtype) || t.dtype == DType::BF16 || t.rank() == 0 || t.numElements() == 0) return std::nullopt;  // stored as f32
  int axis = int(op.attrs.getInt("axis"));
  if (axis < 0) axis += t.rank();
  SoftmaxPrimitive p;
  p.backward = backward;
  p.md = dnnl::memory::desc(dnnl::memory::dims(t.shape.begin(), t.shape.end()), dnnl::memory::data_type::f32,
                            logicalStrides(t.shape, t.rank(), false));
  const auto alg = log ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate;
  dnnl::softmax_v2_forward::primitive_desc fwd({dnnl::prop_kind::forward_training, alg, p.md, p.md, axis}, eng);
  if (backward)
    p.prim = dnnl::softmax_v2_backward(dnnl::softmax_v2_backward::primitive_desc({alg, p.md, p.md, p.md, axis}, eng, fwd));
  else
    p.prim = dnnl::softmax_v2_forward(fwd);
  return p;
}

void runSoftmax(const SoftmaxPrimitive& p, const std::vector<float*>& operands, float* result, const dnnl::engine& eng,
                dnnl::stream& strm) {
  dnnl::memory out(p.md, eng, result);
  if (p.backward)
    p.prim.execute(strm, {{DNNL_ARG_DST, dnnl::memory(p.md, eng, operands[0])},
                          {DNNL_ARG_DIFF_DST, dnnl::memory(p.md, eng, operands[1])},
                          {DNNL_ARG_DIFF_SRC, out}});
  else
    p.prim.execute(strm, {{DNNL_ARG_SRC, dnnl::memory(p.md, eng, operands[0])}, {DNNL_ARG_DST, out}});
  strm.wait();
}

}  // namespace kiln
