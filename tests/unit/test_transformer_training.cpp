// The whole-model checks: the gradient of a 2-layer Transformer (causal attention, layer norms,
// GELU FFN, tied embedding, cross-entropy) against finite differences, and overfitting a fixed
// batch with the lowered AdamW train_step, all on the reference device.
#include <cmath>

#include "compiler/autodiff/autodiff.h"
#include "compiler/optimizer/optimizer.h"
#include "gradcheck.h"
#include "models/gpt.h"
#include "eval/interpreter.h"
#include "test_helpers.h"

namespace kiln {
namespace {

TransformerConfig tinyGpt(DType dt) {
  TransformerConfig c = test::smallGpt(11, 6, 8, 16, 2, dt);
  c.initStd = 0.3;  // large enough that every path carries a visible gradient
  return c;
}

ref::Tensor tokenBatch(const TransformerConfig& c) {
  ref::Tensor t({DType::I32, {c.batch, c.context + 1}});
  for (int64_t i = 0; i < t.size(); ++i) t[i] = double((i * 7 + 3) % c.vocab);
  return t;
}

}  // namespace

TEST_CASE("2-layer Transformer: autodiff matches finite differences for every parameter") {
  TransformerConfig c = tinyGpt(DType::F64);
  Module m;
  buildGptLoss(m, c);
  auto r = test::checkModelGradients(m, {tokenBatch(c)}, 12);
  CHECK(r.parameters == m.states.size());  // every parameter reaches the loss
  MESSAGE(r.checked << " elements of " << r.parameters << " parameters, worst relative error " << r.worst);
}

TEST_CASE("GPT options (relu, post-LN, sinusoidal positions): autodiff matches finite differences") {
  TransformerConfig c = tinyGpt(DType::F64);
  c.activation = "relu";
  c.preNorm = false;
  c.learnedPositions = false;
  Module m;
  buildGptLoss(m, c);
  CHECK(m.findState("wpe.weight") == nullptr);  // sinusoidal positions are not parameters
  CHECK(m.findState("ln_f.weight") == nullptr);  // post-LN ends on a layer's own norm
  bool relu = false;
  for (const auto& op : m.functions[0]->ops) relu = relu || op->kind == OpKind::Relu;
  CHECK(relu);
  auto r = test::checkModelGradients(m, {tokenBatch(c)}, 12);
  CHECK(r.parameters == m.states.size());
  MESSAGE(r.checked << " elements of " << r.parameters << " parameters, worst relative error " << r.worst);
}

TEST_CASE("2-layer Transformer overfits a fixed batch with AdamW in 200 steps") {
  TransformerConfig c = tinyGpt(DType::F32);
  c.initStd = 0.02;
  Module m;
  Function& f = buildGptLoss(m, c);
  REQUIRE(differentiate(m, f).ok());
  OptimizerConfig opt;
  opt.lr = 1e-2;
  opt.weightDecay = 0.0;
  opt.clipNorm = 1.0;
  REQUIRE(lowerOptimizer(m, f, opt).ok());
  REQUIRE(verifyModule(m).empty());
  auto st = ref::initialState(m);
  REQUIRE(st.ok());
  ref::Tensor tokens = tokenBatch(c);
  double first = 0, last = 0;
  for (int step = 0; step < 200; ++step) {
    auto outs = ref::run(m, f, {tokens}, *st);
    REQUIRE(outs.ok());
    (step == 0 ? first : last) = (*outs)[0][0];
  }
  MESSAGE("loss " << first << " -> " << last);
  CHECK(first == doctest::Approx(std::log(11.0)).epsilon(0.02));
  CHECK(last < 0.1 * first);
  CHECK(st->at("optimizer.step")[0] == 200);
}

}  // namespace kiln

namespace kiln {

TEST_CASE("sample_step with its KV cache gives the full forward pass's logits, position by position") {
  TransformerConfig c = test::smallGpt(13, 5, 8, 16, 1, DType::F64);
  c.initStd = 0.3;
  Module m;
  addGptParameters(m, c);
  Function& full = m.addFunction("full");
  {
    Builder b(m, full);
    Value* ids = b.param("ids", {DType::I32, {1, c.context}});
    b.output("logits", gptLogits(b, c, ids));
  }
  buildGptSampleStep(m, c);
  REQUIRE(verifyModule(m).empty());
  auto st = ref::initialState(m);
  REQUIRE(st.ok());
  std::vector<double> tokens = {3, 1, 4, 1, 5};
  auto fullOut = ref::run(m, full, {ref::Tensor({DType::I32, {1, c.context}}, tokens)}, *st);
  REQUIRE(fullOut.ok());
  for (int64_t pos = 0; pos < c.context; ++pos) {
    auto step = ref::run(m, *m.findFunction("sample_step"),
                         {ref::Tensor({DType::I32, {1}}, {tokens[size_t(pos)]}), ref::Tensor({DType::I32, {}}, {double(pos)})},
                         *st);
    REQUIRE(step.ok());
    for (int64_t v = 0; v < c.vocab; ++v)
      CHECK((*step)[0][v] == doctest::Approx((*fullOut)[0][pos * c.vocab + v]).epsilon(1e-12));
  }
}

}  // namespace kiln
