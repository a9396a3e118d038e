// The cpu device against the reference device: every op of all_ops.kir, and training steps of
// a GPT (forward, backward and AdamW together), with f32 tolerances.
#include <cmath>

#include "compiler/autodiff/autodiff.h"
#include "compiler/optimizer/optimizer.h"
#include "models/gpt.h"
#include "tests/unit/devices.h"
#include "conformance.h"
#include "test_helpers.h"

namespace kiln {


TEST_CASE("cpu device conformance: every op") {
  auto text = readFile(test::inputsDir() + "/all_ops.kir");
  REQUIRE(text.ok());
  Module m = test::parseValid(*text);
  for (const auto& f : m.functions) {
    auto refEngine = makeReferenceEngine(m);
    auto cpuEngine = testCpuEngine(m);
    REQUIRE(refEngine.ok());
    REQUIRE(cpuEngine.ok());
    std::vector<ref::Tensor> inputs;
    for (const auto& p : f->params) inputs.emplace_back(p->type, std::vector<double>{2.0, -4.0});
    auto want = (*refEngine)->call(f->name, inputs);
    auto got = (*cpuEngine)->call(f->name, inputs);
    REQUIRE(want.ok());
    REQUIRE_MESSAGE(got.ok(), (got.ok() ? "" : got.error().str()));
    for (size_t i = 0; i < want->size(); ++i) test::checkClose((*got)[i], (*want)[i], 1e-5, f->name + "." + f->outputNames[i]);
    test::checkClose((*cpuEngine)->snapshot().at("counter"), (*refEngine)->snapshot().at("counter"), 0, "counter");
  }
}

TEST_CASE("cpu device conformance: GPT training steps match the reference") {
  TransformerConfig c = test::smallGpt(37, 12, 16, 48, 3);  // odd sizes, not multiples of 16
  Module m = test::gptTrainStep(c, 1e-2);
  auto refEngine = makeReferenceEngine(m);
  auto cpuEngine = testCpuEngine(m);
  REQUIRE(refEngine.ok());
  REQUIRE(cpuEngine.ok());
  test::checkTrainingStepsMatch(**refEngine, **cpuEngine, c, 5);
}

}  // namespace kiln

#include "op_cases.h"

namespace kiln {

TEST_CASE("cpu device conformance: every differentiable op forward and backward on random shapes") {
  int cases = 0;
  for (int trial = 0; trial < 3; ++trial)
    for (const test::GradCase& c : test::allOpCases(trial)) {
      INFO("case " << c.label);
      test::checkCpuMatchesReference(test::caseModule(c, true), "f", c.inputs, 1e-4, c.label);
      ++cases;
    }
  MESSAGE(cases << " cases, forward and gradients, cpu (f32) against reference (f64)");
}

}  // namespace kiln

#include "targets/cpu/cpu_rules.h"
#include "eval/random.h"

namespace kiln {

TEST_CASE("cpu device conformance: attention in blocks of query rows, forward and backward") {
  // Longer than one block, not a multiple of it, more keys than queries (a causal row t sees
  // s <= t + S - T), and masks that hide whole rows, with and without causality.
  struct Shape6 { int64_t B, H, T, S, D, Dv; bool causal, masked; };
  const int64_t rows = attentionBlockRows(1 << 20);
  const Shape6 shapes[] = {
      {1, 2, 2 * rows + 22, 2 * rows + 22, 8, 5, true, false},
      {1, 1, rows + 6, 2 * rows + 5, 8, 8, true, false},
      {2, 1, 2 * rows + 5, 2 * rows + 5, 4, 6, true, true},
      {1, 2, rows + 36, rows + 13, 8, 8, false, true},
  };
  uint64_t seed = 1;
  auto random = [&](Shape s) {
    ref::Tensor t({DType::F64, std::move(s)});
    for (int64_t i = 0; i < t.size(); ++i) t[i] = 4 * counterUniform(seed, uint64_t(i)) - 2;
    ++seed;
    return t;
  };
  for (const Shape6& s : shapes) {
    ref::Tensor mask = random({s.T, s.S});
    for (int64_t i = 0; i < mask.size(); ++i)
      if (i / s.S == 3 || counterUniform(99, uint64_t(i)) < 0.25) mask[i] = -INFINITY;  // row 3 sees nothing
    test::GradCase c{"attention", {random({s.B, s.H, s.T, s.D}), random({s.B, s.H, s.S, s.D}), random({s.B, s.H, s.S, s.Dv})},
                     [&](Builder& b, const std::vector<Value*>& x) {
                       return b.attention(x[0], x[1], x[2], s.masked ? b.constant(mask.data, mask.type) : nullptr, s.causal, 0);
                     }};
    INFO("T " << s.T << " S " << s.S << " B " << s.B << std::string(s.causal ? " causal" : "") << std::string(s.masked ? " masked" : ""));
    test::checkCpuMatchesReference(test::caseModule(c, true), "f", c.inputs, 1e-4);
  }
}

}  // namespace kiln

namespace kiln {

TEST_CASE("cpu device conformance: matmuls with a packed right operand, and epilogues") {
  // Enough rows for the device to pack the right operand (batch folded into rows, transposed
  // operands, bias, residual and activation epilogues), and one just below the threshold.
  const int64_t rows = kPackedMatmulMinRows;
  // $T: rows per batch element (3 of them), $R: rows contracted, $K: rows of the transposed
  // product, $S: below the threshold.
  std::string text = R"(
func @f(%x: f32[3,$T,37], %w: f32[37,29], %wt: f32[29,37], %xt: f32[$R,$K], %g: f32[$R,29], %b: f32[29], %r: f32[3,$T,29], %small: f32[$S,37]) -> (y: f32[3,$T,29], yt: f32[3,$T,29], dw: f32[$K,29], yb: f32[3,$T,29], yr: f32[3,$T,29], ys: f32[$S,29], a1: f32[3,$T,29], a2: f32[3,$T,29], a3: f32[$S,29]) {
  %y = matmul %x, %w : f32[3,$T,29]
  %yt = matmul %x, %wt {transpose_b = true} : f32[3,$T,29]
  %dw = matmul %xt, %g {transpose_a = true} : f32[$K,29]
  %yb = matmul_bias %x, %w, %b : f32[3,$T,29]
  %yr = matmul_bias %x, %wt, %b, %r {transpose_b = true} : f32[3,$T,29]
  %ys = matmul %small, %w : f32[$S,29]
  %a1 = matmul_bias %x, %w, %b {activation = "gelu_tanh"} : f32[3,$T,29]
  %a2 = matmul_bias %x, %wt, %b {transpose_b = true, activation = "gelu_erf"} : f32[3,$T,29]
  %a3 = matmul_bias %small, %w, %b {activation = "relu"} : f32[$S,29]
  return %y, %yt, %dw, %yb, %yr, %ys, %a1, %a2, %a3
}
)";
  for (auto [key, value] : {std::pair{"$T", rows / 3 + 5}, {"$R", rows + 1}, {"$S", rows - 1}, {"$K", rows + 4}})
    for (size_t at; (at = text.find(key)) != std::string::npos;) text.replace(at, 2, std::to_string(value));
  Module m = test::parseValid(text);
  const Function& f = *m.functions[0];
  int packed = 0;
  for (const auto& op : f.ops) packed += packsMatmulOperand(*op);
  CHECK(packed == 7);
  std::vector<ref::Tensor> inputs;
  uint64_t seed = 7;
  for (const auto& p : f.params) {
    ref::Tensor t(p->type);
    for (int64_t i = 0; i < t.size(); ++i) t[i] = 2 * counterUniform(seed, uint64_t(i)) - 1;
    t.roundToType();
    inputs.push_back(std::move(t));
    ++seed;
  }
  test::checkCpuMatchesReference(m, "f", inputs, 1e-5);
}

}  // namespace kiln
