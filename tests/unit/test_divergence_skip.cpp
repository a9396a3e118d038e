// train.on_divergence = "skip": a step whose gradient norm (or loss) is inf or NaN leaves every
// state as it was (parameters, moments, the step counter), on the reference and the cpu device,
// so the run after a skipped step is the run without it.
#include <cmath>
#include <limits>

#include "compiler/optimizer/optimizer.h"
#include "devices.h"
#include "test_helpers.h"

namespace kiln {
namespace {

Module lowered(const std::string& kind, bool fused) {
  Module m = test::parseValid(
      "state @w : f32[2,3] = zeros trainable\n"
      "state @b : f32[3] = zeros trainable\n"
      "func @grads(%loss: f32[], %gw: f32[2,3], %gb: f32[3]) -> (loss: f32[], grad.w: f32[2,3], grad.b: f32[3]) {\n"
      "  return %loss, %gw, %gb\n}\n");
  OptimizerConfig c;
  c.kind = kind;
  c.lr = 0.05;
  c.momentum = kind == "sgd" ? 0.9 : 0.0;
  c.clipNorm = 1.0;
  c.fused = fused;
  c.skipNonFinite = true;
  REQUIRE(lowerOptimizer(m, *m.functions[0], c).ok());
  auto diags = verifyModule(m);
  REQUIRE_MESSAGE(diags.empty(), (diags.empty() ? "" : diags[0].str()));
  return m;
}

std::vector<ref::Tensor> inputs(int t, double poison = 0, int poisonAt = -1) {
  ref::Tensor loss({DType::F32, {}}, {1.0 + t}), gw({DType::F32, {2, 3}}), gb({DType::F32, {3}});
  for (int i = 0; i < 6; ++i) gw[i] = std::sin(0.7 * t + 0.3 * i);
  for (int i = 0; i < 3; ++i) gb[i] = std::cos(0.5 * t + i);
  if (poisonAt == 0) loss[0] = poison;
  if (poisonAt == 1) gw[4] = poison;
  gw.roundToType();
  gb.roundToType();
  return {loss, gw, gb};
}

// Runs steps 1..6 with step 3 poisoned (or not at all when poisonAt < 0, skipping step 3).
ref::StateStore run(Engine& e, double poison, int poisonAt) {
  for (int t = 1; t <= 6; ++t) {
    if (t == 3 && poisonAt < 0) continue;
    auto before = e.snapshot();
    auto outs = e.call("train_step", t == 3 ? inputs(t, poison, poisonAt) : inputs(t));
    REQUIRE(outs.ok());
    if (t == 3) {
      auto after = e.snapshot();
      for (const auto& [name, value] : before) CHECK_MESSAGE(after.at(name).data == value.data, name);
    }
  }
  return e.snapshot();
}

}  // namespace

TEST_CASE("a diverged step is skipped whole under skip_non_finite, on every device") {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  for (auto [kind, fused] : {std::pair{"adamw", true}, std::pair{"adamw", false}, std::pair{"sgd", false}}) {
    Module m = lowered(kind, fused);
    for (bool cpu : {false, true}) {
      auto expected = cpu ? testCpuEngine(m) : makeReferenceEngine(m);
      REQUIRE(expected.ok());
      ref::StateStore without = run(**expected, 0, -1);
      for (auto [poison, at] : {std::pair{nan, 1}, std::pair{inf, 1}, std::pair{inf, 0}, std::pair{nan, 0}}) {
        CAPTURE(kind);
        CAPTURE(fused);
        CAPTURE(cpu);
        CAPTURE(at);
        auto e = cpu ? testCpuEngine(m) : makeReferenceEngine(m);
        REQUIRE(e.ok());
        ref::StateStore with = run(**e, poison, at);
        for (const auto& [name, value] : without) CHECK_MESSAGE(with.at(name).data == value.data, name);
      }
    }
  }
}

TEST_CASE("without skip_non_finite the optimizer has no gate") {
  Module m = test::parseValid(
      "state @w : f32[3] = zeros trainable\n"
      "func @grads(%gw: f32[3]) -> (loss: f32[], grad.w: f32[3]) {\n"
      "  %l = constant {value = [0.0]} : f32[]\n  return %l, %gw\n}\n");
  REQUIRE(lowerOptimizer(m, *m.functions[0], {}).ok());
  for (const auto& op : m.functions[0]->ops) CHECK(op->kind != OpKind::Select);
}

}  // namespace kiln
