// How the cuda device runs each op, checked on the host where no GPU runs it: each plan is
// executed here by a small emulation of what the GPU does with it (cuBLASLt's column-major
// strided-batched GEMM; the strided-copy and reduction kernels' index arithmetic) and compared
// with the reference interpreter.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "eval/interpreter.h"
#include "ir/parser.h"
#include "targets/cuda/op_lowering.h"

namespace kiln {

namespace {

// func @f(signature) -> (y) { %y = body; return %y }, the result's type from the body's.
std::string oneOp(const std::string& signature, const std::string& body) {
  return "func @f(" + signature + ") -> (y: " + body.substr(body.rfind(": ") + 2) + ") {\n  %y = " + body + "\n  return %y\n}\n";
}

Module parsed(const std::string& text) {
  auto m = parseModule(text, "lowering_test.kir");
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().str()));
  return m.take();
}

ref::Tensor randomTensor(const TensorType& t, std::mt19937& rng) {
  ref::Tensor x(t);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int64_t i = 0; i < x.size(); ++i) x[i] = float(u(rng));
  return x;
}

std::vector<ref::Tensor> reference(const Module& m, const std::vector<ref::Tensor>& in) {
  ref::StateStore st;
  auto out = ref::run(m, *m.findFunction("f"), in, st);
  REQUIRE_MESSAGE(out.ok(), (out.ok() ? "" : out.error().str()));
  return out.take();
}

const Op& lastOp(const Module& m) { return *m.findFunction("f")->ops.back(); }

// X[r, c] of a column-major operand of the plan (before op()), batch member `b`.
double at(const std::vector<float>& x, const cuda::LtMatrix& l, int64_t b, int64_t r, int64_t c) {
  return x[size_t(b * l.batchStride + c * l.ld + r)];
}

// D = op(A) op(B) (+ bias per row, + C) as cuBLASLt computes it for the plan, on the IR's
// operands (A: the IR's right operand, B: its left).
std::vector<float> emulateLt(const cuda::LtMatmul& p, const std::vector<float>& irA, const std::vector<float>& irB,
                             const std::vector<float>* bias, const std::vector<float>* residual) {
  const int64_t rows = p.c.rows, cols = p.c.cols, depth = p.a.transposed ? p.a.rows : p.a.cols;
  std::vector<float> d(size_t(p.batch * p.c.batchStride + rows * cols * (p.batch == 1)), 0.f);
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        double s = 0;
        for (int64_t k = 0; k < depth; ++k) {
          const double a = p.a.transposed ? at(irB, p.a, b, k, r) : at(irB, p.a, b, r, k);
          const double x = p.b.transposed ? at(irA, p.b, b, c, k) : at(irA, p.b, b, k, c);
          s += a * x;
        }
        if (p.epilogue != cuda::Epilogue::None) s += (*bias)[size_t(r)];
        if (p.epilogue == cuda::Epilogue::BiasRelu) s = std::max(0.0, s);
        if (p.epilogue == cuda::Epilogue::BiasGeluTanh) s = 0.5 * s * (1 + std::tanh(0.7978845608028654 * (s + 0.044715 * s * s * s)));
        const size_t i = size_t(b * p.c.batchStride + c * p.c.ld + r);
        if (p.residual) s += (*residual)[i];
        d[i] = float(s);
      }
  return d;
}

std::vector<float> floats(const ref::Tensor& t) { return std::vector<float>(t.data.begin(), t.data.end()); }

void checkMatmul(const std::string& signature, const std::string& body, bool expectFold = false) {
  CAPTURE(body);
  const Module m = parsed(oneOp(signature, body));
  const Op& op = lastOp(m);
  std::string why;
  auto plan = cuda::planLtMatmul(op, &why);
  REQUIRE_MESSAGE(plan.has_value(), why);
  if (expectFold) CHECK(plan->batch == 1);
  std::mt19937 rng(3);
  std::vector<ref::Tensor> in;
  for (const Value* v : op.operands) in.push_back(randomTensor(v->type, rng));
  const ref::Tensor want = reference(m, in)[0];
  std::vector<float> bias, residual;
  if (in.size() > 2) bias = floats(in[2]);
  if (in.size() > 3) residual = floats(in[3]);
  std::vector<float> got = emulateLt(*plan, floats(in[0]), floats(in[1]), in.size() > 2 ? &bias : nullptr, in.size() > 3 ? &residual : nullptr);
  REQUIRE(int64_t(got.size()) >= want.size());
  for (int64_t i = 0; i < want.size(); ++i) REQUIRE_MESSAGE(std::fabs(got[size_t(i)] - want[i]) < 1e-4, "element " << i);
}

// The strided-copy kernel's index arithmetic (kernels/tensor_ops.cu).
int64_t stridedOffset(int64_t i, const cuda::StridedShape& s) {
  int64_t off = 0;
  for (int d = s.rank - 1; d >= 0; --d) {
    off += (i % s.dims[d]) * s.strides[d];
    i /= s.dims[d];
  }
  return off;
}

void checkCopy(const std::string& signature, const std::string& body, int maxRank) {
  CAPTURE(body);
  const Module m = parsed(oneOp(signature, body));
  const Op& op = lastOp(m);
  const cuda::OpLowering l = cuda::lowerOp(op, false);
  REQUIRE(l.kind == cuda::StepKind::StridedCopy);
  CHECK(l.strided.rank <= maxRank);  // coalesced
  std::mt19937 rng(4);
  const ref::Tensor x = randomTensor(op.operands[0]->type, rng);
  const ref::Tensor want = reference(m, {x})[0];
  for (int64_t i = 0; i < want.size(); ++i) REQUIRE(x[l.base + stridedOffset(i, l.strided)] == want[i]);
}

}  // namespace

TEST_CASE("cuda lowering: matmuls become one cuBLASLt call with the operands swapped into column-major") {
  checkMatmul("%a: f32[5,7], %b: f32[7,3]", "matmul %a, %b : f32[5,3]");
  checkMatmul("%a: f32[7,5], %b: f32[7,3]", "matmul %a, %b {transpose_a = true} : f32[5,3]");
  checkMatmul("%a: f32[5,7], %b: f32[3,7]", "matmul %a, %b {transpose_b = true} : f32[5,3]");
  checkMatmul("%a: f32[7,5], %b: f32[3,7]", "matmul %a, %b {transpose_a = true, transpose_b = true} : f32[5,3]");
  // Activations times a weight: the batch folds into the rows.
  checkMatmul("%a: f32[2,4,6], %b: f32[6,3]", "matmul %a, %b : f32[2,4,3]", true);
  // q.k^T per head: a strided batch; a weight gradient a^T.b over a batch of one operand.
  checkMatmul("%q: f32[2,3,4,5], %k: f32[2,3,6,5]", "matmul %q, %k {transpose_b = true} : f32[2,3,4,6]");
  checkMatmul("%a: f32[2,3,4,5], %b: f32[5,6]", "matmul %a, %b : f32[2,3,4,6]", true);
  checkMatmul("%a: f32[4,5], %b: f32[3,5,6]", "matmul %a, %b : f32[3,4,6]");  // the left operand broadcast (stride 0)
  checkMatmul("%a: f32[2,4,5], %b: f32[2,4,6]", "matmul %a, %b {transpose_a = true} : f32[2,5,6]");
}

TEST_CASE("cuda lowering: matmul_bias epilogues (bias, relu, gelu_tanh) and the residual as beta = 1") {
  checkMatmul("%a: f32[6,8], %b: f32[8,5], %c: f32[5]", "matmul_bias %a, %b, %c : f32[6,5]");
  checkMatmul("%a: f32[6,8], %b: f32[8,5], %c: f32[5]", "matmul_bias %a, %b, %c {activation = \"relu\"} : f32[6,5]");
  checkMatmul("%a: f32[6,8], %b: f32[8,5], %c: f32[5]", "matmul_bias %a, %b, %c {activation = \"gelu_tanh\"} : f32[6,5]");
  checkMatmul("%a: f32[2,3,8], %b: f32[5,8], %c: f32[5], %r: f32[2,3,5]", "matmul_bias %a, %b, %c, %r {transpose_b = true} : f32[2,3,5]");
  const Module m = parsed(oneOp("%a: f32[6,8], %b: f32[8,5], %c: f32[5]", "matmul_bias %a, %b, %c {activation = \"gelu_erf\"} : f32[6,5]"));
  auto plan = cuda::planLtMatmul(lastOp(m));
  REQUIRE(plan.has_value());
  CHECK(plan->epilogue == cuda::Epilogue::Bias);  // cuBLASLt has no erf GELU: its own kernel after
  CHECK(plan->geluErfAfter);
}

TEST_CASE("cuda lowering: mixed precision (bf16 product operands, f32 results) stays on the GPU") {
  const Module m = parsed("func @f(%a: f32[6,8], %b: f32[8,5], %q: f32[1,2,4,8]) -> (y: f32[6,5], z: f32[1,2,4,8]) {\n"
                          "  %a16 = cast %a : bf16[6,8]\n  %b16 = cast %b : bf16[8,5]\n  %y = matmul %a16, %b16 : f32[6,5]\n"
                          "  %q16 = cast %q : bf16[1,2,4,8]\n  %z = attention %q16, %q16, %q16 {causal = true} : f32[1,2,4,8]\n"
                          "  %w = cast %y : f32[6,5]\n  return %y, %z\n}\n");
  const auto& ops = m.findFunction("f")->ops;
  CHECK(cuda::lowerOp(*ops[0], false).kind == cuda::StepKind::RoundBf16);
  const cuda::OpLowering mm = cuda::lowerOp(*ops[2], false);
  REQUIRE(mm.kind == cuda::StepKind::Matmul);
  CHECK(mm.matmul->bf16);
  const cuda::OpLowering at = cuda::lowerOp(*ops[4], false);
  CHECK(at.kind == cuda::StepKind::Attention);
  CHECK(at.widenBf16);
  // A bf16 value anywhere else runs on the host, widened there.
  const Module other = parsed("func @f(%a: f32[4]) -> (y: bf16[4]) {\n  %h = cast %a : bf16[4]\n  %y = neg %h : bf16[4]\n  return %y\n}\n");
  CHECK(cuda::lowerOp(*other.findFunction("f")->ops[1], false).kind == cuda::StepKind::Host);
}

TEST_CASE("cuda lowering: batch broadcast along some dims only is refused (the host runs it)") {
  const Module m = parsed(oneOp("%a: f32[2,1,4,5], %b: f32[1,3,5,6]", "matmul %a, %b : f32[2,3,4,6]"));
  std::string why;
  CHECK_FALSE(cuda::planLtMatmul(lastOp(m), &why).has_value());
  CHECK(why.find("broadcast") != std::string::npos);
  CHECK(cuda::lowerOp(lastOp(m), false).kind == cuda::StepKind::Host);
}

TEST_CASE("cuda lowering: transposes, strided slices and broadcasts as coalesced strided copies") {
  checkCopy("%x: f32[2,5,3,4]", "transpose %x {perm = [0, 2, 1, 3]} : f32[2,3,5,4]", 4);  // a head split
  checkCopy("%x: f32[6,7]", "transpose %x {perm = [1, 0]} : f32[7,6]", 2);
  checkCopy("%x: f32[2,3,4]", "transpose %x {perm = [0, 1, 2]} : f32[2,3,4]", 1);  // a plain copy
  checkCopy("%x: f32[6,8]", "slice %x {start = [1, 2], limit = [5, 8], stride = [2, 3]} : f32[2,2]", 2);
  checkCopy("%x: f32[6,8]", "slice %x {start = [0, 2], limit = [6, 5]} : f32[6,3]", 2);
  checkCopy("%x: f32[1,4]", "broadcast_to %x : f32[3,2,4]", 2);
}

TEST_CASE("cuda lowering: reduce_sum over any axes, gather and scatter_add shapes") {
  std::mt19937 rng(6);
  const std::pair<std::string, std::string> cases[] = {
      {"[0]", "f32[4,5]"}, {"[1]", "f32[3,5]"}, {"[2]", "f32[3,4]"}, {"[0, 2]", "f32[4]"}, {"[0, 1, 2]", "f32[]"}};
  for (const auto& [axes, type] : cases) {
    CAPTURE(axes);
    const Module m = parsed(oneOp("%x: f32[3,4,5]", "reduce_sum %x {axes = " + axes + "} : " + type));
    const cuda::OpLowering l = cuda::lowerOp(lastOp(m), false);
    REQUIRE(l.kind == cuda::StepKind::Reduce);
    const ref::Tensor x = randomTensor(lastOp(m).operands[0]->type, rng);
    const ref::Tensor want = reference(m, {x})[0];
    for (int64_t i = 0; i < want.size(); ++i) {
      double s = 0;
      for (int64_t r = 0; r < l.perOutput; ++r) s += x[stridedOffset(i, l.strided) + stridedOffset(r, l.reduced)];
      REQUIRE(std::fabs(s - want[i]) < 1e-5);
    }
  }
  const Module g = parsed(oneOp("%t: f32[3,10,4], %i: i32[6]", "gather %t, %i {axis = 1} : f32[3,6,4]"));
  const cuda::OpLowering l = cuda::lowerOp(lastOp(g), false);
  REQUIRE(l.kind == cuda::StepKind::Gather);
  CHECK(l.indexed.outer == 3);
  CHECK(l.indexed.dim == 10);
  CHECK(l.indexed.inner == 4);
  CHECK(l.indexed.count == 6);
}

TEST_CASE("cuda lowering: pad (edges, interior gaps) as the pad kernel indexes it") {
  std::mt19937 rng(9);
  for (const std::string& body : {std::string("pad %x {low = [1, 2], high = [0, 1], value = 7.0} : f32[4,8]"),
                                  std::string("pad %x {low = [0, 1], high = [1, 0], interior = [1, 0], value = -1.0} : f32[6,6]")}) {
    CAPTURE(body);
    const Module m = parsed(oneOp("%x: f32[3,5]", body));
    const cuda::OpLowering l = cuda::lowerOp(lastOp(m), false);
    REQUIRE(l.kind == cuda::StepKind::Pad);
    const ref::Tensor x = randomTensor(lastOp(m).operands[0]->type, rng);
    const ref::Tensor want = reference(m, {x})[0];
    for (int64_t i = 0; i < want.size(); ++i) {
      int64_t rem = i, src = 0;
      bool inside = true;
      for (int d = l.pad.rank - 1; d >= 0; --d) {
        const int64_t p = rem % l.pad.outDims[d] - l.pad.low[d];
        rem /= l.pad.outDims[d];
        if (p < 0 || p % l.pad.step[d] != 0 || p / l.pad.step[d] >= l.pad.inDims[d]) inside = false;
        else src += p / l.pad.step[d] * l.pad.inStrides[d];
      }
      REQUIRE((inside ? x[src] : lastOp(m).attrs.getFloat("value")) == want[i]);
    }
  }
}

TEST_CASE("cuda lowering: softmax along any axis as [outer, len, inner]") {
  const Module m = parsed(oneOp("%x: f32[2,3,4]", "softmax %x {axis = 1} : f32[2,3,4]"));
  const cuda::OpLowering l = cuda::lowerOp(lastOp(m), false);
  REQUIRE(l.kind == cuda::StepKind::Softmax);
  CHECK(l.outer == 2);
  CHECK(l.len == 3);
  CHECK(l.inner == 4);
}

TEST_CASE("cuda lowering: comparisons and select with broadcasting, as the elementwise kernel indexes them") {
  const Module m = parsed("func @f(%a: f32[3,1], %b: f32[1,4], %x: f32[3,4]) -> (y: f32[3,4]) {\n  %c = le %a, %b : bool[3,4]\n"
                          "  %y = select %c, %x, %b : f32[3,4]\n  return %y\n}\n");
  std::mt19937 rng(8);
  std::vector<ref::Tensor> in;
  for (const auto& p : m.findFunction("f")->params) in.push_back(randomTensor(p->type, rng));
  const ref::Tensor want = reference(m, in)[0];
  auto run = [](const cuda::OpLowering& l, const std::vector<const ref::Tensor*>& x, int64_t i) {
    int64_t off[3] = {0, 0, 0}, rem = i;
    for (int d = l.broadcast.rank - 1; d >= 0; --d) {
      for (int k = 0; k < 3; ++k) off[k] += (rem % l.broadcast.dims[d]) * l.broadcast.strides[k][d];
      rem /= l.broadcast.dims[d];
    }
    const double a = (*x[0])[off[0]], b = (*x[1])[off[1]], c = x.size() > 2 ? (*x[2])[off[2]] : 0;
    return l.code == cuda::ElementwiseCode::Le ? double(a <= b) : a != 0 ? b : c;
  };
  const auto& ops = m.findFunction("f")->ops;
  const cuda::OpLowering le = cuda::lowerOp(*ops[0], false), sel = cuda::lowerOp(*ops[1], false);
  REQUIRE(le.kind == cuda::StepKind::Elementwise);
  REQUIRE(sel.kind == cuda::StepKind::Elementwise);
  ref::Tensor mask(ops[0]->result()->type);
  for (int64_t i = 0; i < mask.size(); ++i) mask[i] = run(le, {&in[0], &in[1]}, i);
  for (int64_t i = 0; i < want.size(); ++i) REQUIRE(run(sel, {&mask, &in[2], &in[1]}, i) == want[i]);
}

TEST_CASE("cuda lowering: what has no kernel yet runs on the host and says why") {
  const Module m = parsed(oneOp("%x: i32[4,5]", "neg %x : i32[4,5]"));
  const cuda::OpLowering l = cuda::lowerOp(lastOp(m), false);
  CHECK(l.kind == cuda::StepKind::Host);
  CHECK(l.why.find("neg") != std::string::npos);
  CHECK(cuda::hostOps(m, {}).at("neg") == 1);
  // Constants are computed once and uploaded; views and state bindings cost nothing.
  const Module c = parsed("func @f(%x: f32[4]) -> (y: f32[4]) {\n  %c = constant {value = [1.0, 2.0, 3.0, 4.0]} : f32[4]\n  %y = add %x, %c : f32[4]\n  return %y\n}\n");
  CHECK(cuda::lowerOp(*c.findFunction("f")->ops.front(), false).kind == cuda::StepKind::Constant);
  // A fused op runs its generated kernel only where the compile half made one.
  const Module f = parsed(oneOp("%x: f32[4]", "fused %x {expr = \"neg($0)\"} : f32[4]"));
  CHECK(cuda::lowerOp(lastOp(f), true).kind == cuda::StepKind::Fused);
  CHECK(cuda::lowerOp(lastOp(f), false).kind == cuda::StepKind::Host);
}

}  // namespace kiln
