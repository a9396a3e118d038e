// Generated fused kernels (MLIR -> LLVM, JIT and ahead of time) on the cpu device against the
// reference device in f64: every primitive, broadcast patterns, odd sizes and block tails; and
// whole GPT training steps with the fusion pass against the unfused reference.
#include <cmath>
#include <random>

#include "compiler/autodiff/autodiff.h"
#include "targets/cpu/mlir_codegen.h"
#include "compiler/optimizer/optimizer.h"
#include "compiler/pass.h"
#include "frontends/spec/compile_spec.h"
#include "ir/fused_expr.h"
#include "tests/unit/devices.h"
#include "conformance.h"
#include "test_helpers.h"

namespace kiln {

namespace {

// Result shape and the shape of each of two operands: whole, row bias, broadcast middle, scalar,
// 1-D with a block tail, rows with a block tail, rows longer than a block.
struct ShapeCase {
  Shape out, a, b;
};
const ShapeCase kShapes[] = {
    {{37}, {37}, {37}},
    {{5, 13}, {5, 13}, {13}},
    {{3, 7, 5}, {3, 1, 5}, {7, 1}},
    {{6, 9}, {}, {6, 9}},
    {{100003}, {100003}, {}},
    {{70, 1000}, {70, 1000}, {70, 1}},
    {{3, 40000}, {1, 40000}, {3, 40000}},
};

// Inputs where every primitive is defined: positive for log/sqrt/rsqrt/pow, a range of signs
// (and the GELU tails) elsewhere.
double sample(std::mt19937& rng, FusedPrim p) {
  std::uniform_real_distribution<double> pos(0.05, 4.0), any(-6.0, 6.0);
  bool positive = p == FusedPrim::Log || p == FusedPrim::Sqrt || p == FusedPrim::Rsqrt || p == FusedPrim::Pow;
  return positive ? pos(rng) : any(rng);
}

ref::Tensor randomTensor(const Shape& s, FusedPrim p, std::mt19937& rng) {
  ref::Tensor t({DType::F32, s});
  for (int64_t i = 0; i < t.size(); ++i) t[i] = double(float(sample(rng, p)));
  return t;
}

// f(a, b) = prim over one or two operands, followed by a second instruction so chains are
// covered too: mul(%0, $0) for unary, add(%0, 0.25) for binary.
Module primitiveModule(FusedPrim p, const ShapeCase& sc) {
  Module m;
  Function& f = m.addFunction("f");
  Value* a = f.addParam("a", {DType::F32, sc.a});
  Value* b = f.addParam("b", {DType::F32, sc.b});
  std::string name(fusedPrimName(p));
  std::string expr = fusedPrimArity(p) == 1 ? name + "($1); mul(%0, $0)" : name + "($0, $1); add(%0, 0.25)";
  Attrs attrs;
  attrs.set("expr", expr);
  Op* op = f.appendOp(OpKind::Fused, {a, b}, {{DType::F32, sc.out}}, attrs);
  f.addOutput("y", op->result());
  return m;
}

}  // namespace

TEST_CASE("fused kernels: every primitive and broadcast pattern, generated code against the reference") {
  std::mt19937 rng(7);
  int cases = 0;
  for (FusedPrim p : allFusedPrims())
    for (const ShapeCase& sc : kShapes) {
      // The big shapes once per primitive family is enough; keep the JIT count small.
      if (sc.out.size() == 1 && sc.out[0] > 1000 && p != FusedPrim::GeluTanh && p != FusedPrim::Exp && p != FusedPrim::Max) continue;
      INFO(fusedPrimName(p) << " on " << shapeStr(sc.out));
      Module m = primitiveModule(p, sc);
      auto diags = verifyModule(m);
      REQUIRE_MESSAGE(diags.empty(), (diags.empty() ? "" : diags[0].str()));
      auto plans = planFusedKernels(m);
      REQUIRE(plans.size() == 1);
      auto jit = jitFusedKernels(plans);
      REQUIRE_MESSAGE(jit.ok(), (jit.ok() ? "" : jit.error().str()));
      CHECK((*jit)->lookup(plans[0].symbol) != nullptr);
      if (plans[0].tailRows) CHECK((*jit)->lookup(plans[0].tailSymbol()) != nullptr);
      auto refEngine = makeReferenceEngine(m);
      auto cpuEngine = testCpuEngine(m, *jit);
      REQUIRE(refEngine.ok());
      REQUIRE(cpuEngine.ok());
      std::vector<ref::Tensor> in = {randomTensor(sc.a, p, rng), randomTensor(sc.b, p, rng)};
      auto want = (*refEngine)->call("f", in);
      auto got = (*cpuEngine)->call("f", in);
      REQUIRE(want.ok());
      REQUIRE(got.ok());
      // f32 polynomial approximations (exp, log, tanh, erf, sin, cos): a few ulp, amplified by
      // the chained instruction; GELU's derivative cancels (1 + tanh) in f32 in its tail.
      bool geluGrad = p == FusedPrim::GeluGradTanh || p == FusedPrim::GeluGradErf;
      test::checkClose((*got)[0], (*want)[0], geluGrad ? 1e-4 : 2e-5, std::string(fusedPrimName(p)));
      ++cases;
    }
  MESSAGE(cases << " generated kernels checked against the reference");
}

TEST_CASE("fused_sum kernels: chunks, tails, single-value operands, generated code against the reference") {
  // (program shape, summed from axis): chunks with a tail, a whole reduction over several
  // chunks, exact chunks, one small chunk; the second operand is a single value.
  const std::pair<Shape, int64_t> cases[] = {{{3, 40000}, 1}, {{50001}, 0}, {{4, 16384}, 1}, {{7, 5}, 0}, {{2, 3, 700}, 1}};
  std::mt19937 rng(11);
  for (const auto& [shape, axis] : cases) {
    INFO(shapeStr(shape) << " from axis " << axis);
    Module m;
    Function& f = m.addFunction("f");
    Value* a = f.addParam("a", {DType::F32, shape});
    Value* b = f.addParam("b", {DType::F32, {}});
    Attrs attrs;
    attrs.set("expr", "mul($0, $1); mul(%0, $0); exp(%1)");
    attrs.set("axis", axis);
    Op* op = f.appendOp(OpKind::FusedSum, {a, b}, {{DType::F32, Shape(shape.begin(), shape.begin() + axis)}}, attrs);
    f.addOutput("y", op->result());
    REQUIRE(verifyModule(m).empty());
    auto plans = planFusedKernels(m);
    REQUIRE(plans.size() == 1);
    CHECK(plans[0].sums);
    auto jit = jitFusedKernels(plans);
    REQUIRE_MESSAGE(jit.ok(), (jit.ok() ? "" : jit.error().str()));
    CHECK((*jit)->lookup(plans[0].symbol) != nullptr);
    if (plans[0].tailRows) CHECK((*jit)->lookup(plans[0].tailSymbol()) != nullptr);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    ref::Tensor x({DType::F32, shape}), scale({DType::F32, {}});
    for (int64_t i = 0; i < x.size(); ++i) x[i] = double(float(u(rng)));
    scale[0] = 0.75;
    // f32 exp and f32 sums of up to 50001 positive terms (in chunks, then in f64).
    test::checkCpuMatchesReference(m, "f", {x, scale}, 2e-5, "fused_sum", *jit);
  }
}

TEST_CASE("fused kernels: ahead-of-time object linked into a shared object and loaded from memory") {
  ShapeCase sc{{70, 1000}, {70, 1000}, {1000}};
  Module m = primitiveModule(FusedPrim::GeluGradTanh, sc);
  REQUIRE(verifyModule(m).empty());
  auto plans = planFusedKernels(m);
  auto object = emitFusedKernelObject(plans);
  REQUIRE_MESSAGE(object.ok(), (object.ok() ? "" : object.error().str()));
  CHECK(object->compare(0, 4, "\x7f" "ELF") == 0);
  auto so = linkSharedObject(*object);
  REQUIRE_MESSAGE(so.ok(), (so.ok() ? "" : so.error().str()));
  auto lib = loadKernelLibrary(*so, "test");
  REQUIRE_MESSAGE(lib.ok(), (lib.ok() ? "" : lib.error().str()));
  REQUIRE((*lib)->lookup(plans[0].symbol) != nullptr);
  REQUIRE((*lib)->lookup(plans[0].tailSymbol()) != nullptr);
  std::mt19937 rng(3);
  std::vector<ref::Tensor> in = {randomTensor(sc.a, FusedPrim::GeluGradTanh, rng), randomTensor(sc.b, FusedPrim::GeluGradTanh, rng)};
  auto want = (*makeReferenceEngine(m))->call("f", in);
  auto got = (*testCpuEngine(m, *lib))->call("f", in);
  REQUIRE(want.ok());
  REQUIRE(got.ok());
  test::checkClose((*got)[0], (*want)[0], 1e-4, "aot gelu_grad_tanh");

  // Damaged bytes are an error, not a crash.
  auto bad = loadKernelLibrary("not an ELF file", "damaged");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("damaged: cannot load its generated kernels") != std::string::npos);
}

TEST_CASE("fused kernels: GPT training steps with every fusion pass and generated kernels match the unfused reference") {
  TransformerConfig c = test::smallGpt(37, 12, 16, 48, 3);  // odd sizes, not multiples of 16
  auto build = [&](bool fuse) {
    Module m = test::gptTrainStep(c, 1e-2);
    if (fuse) {
      for (const std::string& name : standardPipeline(*findTarget("cpu"))) {  // every pass after the optimizer
        if (name == "autodiff" || name == "optimizer") continue;
        auto pass = createPass(name);
        REQUIRE(pass.ok());
        REQUIRE((*pass)->run(m).ok());
      }
      REQUIRE(verifyModule(m).empty());
    }
    return m;
  };
  Module unfused = build(false), fused = build(true);
  int fusedOps = 0, epilogues = 0, concats = 0;
  for (const auto& op : fused.functions[0]->ops) {
    fusedOps += op->kind == OpKind::Fused;
    epilogues += op->kind == OpKind::MatmulBias;
    concats += op->kind == OpKind::Concat;
  }
  CHECK(fusedOps > 10);
  CHECK(epilogues == 8);  // per layer: q/k/v, attention output, MLP in and out
  CHECK(concats == 2);    // the q/k/v gradient of each layer
  auto jit = jitFusedKernels(planFusedKernels(fused));
  REQUIRE(jit.ok());
  auto refEngine = makeReferenceEngine(unfused);
  auto cpuEngine = testCpuEngine(fused, *jit);
  REQUIRE(refEngine.ok());
  REQUIRE(cpuEngine.ok());
  test::checkTrainingStepsMatch(**refEngine, **cpuEngine, c, 4);
}

}  // namespace kiln
