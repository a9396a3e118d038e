// The lowered optimizers against values pinned with PyTorch 1.13 (tests/tools/
// pin_optimizer_values.py): torch.optim.AdamW, torch.optim.SGD and clip_grad_norm_, 10 steps of
// fixed gradients from fixed starting values, learning rate from the schedule each step.
#include <cmath>
#include <map>

#include "compiler/optimizer/optimizer.h"
#include "eval/interpreter.h"
#include "test_helpers.h"

namespace kiln {
namespace {

const std::map<std::string, std::vector<double>> kPinned = {
    // w (2x3, row-major) then b (3) after 10 steps.
    {"adamw", {0.45267662603063946, -0.28471874866978286, 0.958984046987731, 1.956190598718776, -1.5006000772268369, 0.11804456223052731, 0.09380554092610824, 0.2510015287143622, -0.24509013681306963}},
    {"adamw_clip_cosine", {0.43603331285805286, -0.30450995428792693, 0.9563723930621739, 1.9713872341516911, -1.5054877465948817, 0.13853343255129127, 0.08280811578496229, 0.2739897412992326, -0.2216463260025375}},
    {"sgd", {0.43344128173657925, -0.34519821225513975, 0.8814421145702297, 1.8671045177330066, -1.6351345667362092, 0.0017002641945570846, 0.3235894801390268, 0.3984939608207155, -0.3090959906743613}},
    {"sgd_momentum_decay", {-0.23019444930037067, -0.8956829323300141, 0.4433816503359592, 1.625924898293362, -1.4378397915413452, 0.4581210243232543, 0.665916111385658, 1.8530248196128816, 0.9203501320025536}},
    {"sgd_nesterov_linear", {0.12842169516011673, -0.6127697418651072, 0.6897474096891387, 1.7865373659486483, -1.5772695688277454, 0.21312067086113282, -0.007778528080163686, 0.5683899715462527, 0.2058624302504411}},
    {"sgd_clip", {0.49348620029386775, -0.25947099028274556, 0.9880755066904259, 1.9865105307745363, -1.5138446681204172, 0.11222266510765251, 0.13056466126829563, 0.22730812801134806, -0.30105537220134826}},
};

OptimizerConfig configFor(const std::string& name) {
  OptimizerConfig c;
  if (name == "adamw") {
    c.lr = 0.01;
    c.weightDecay = 0.1;
  } else if (name == "adamw_clip_cosine") {
    c.lr = 0.02;
    c.beta1 = 0.8;
    c.beta2 = 0.99;
    c.eps = 1e-6;
    c.weightDecay = 0.01;
    c.clipNorm = 0.5;
    c.schedule = "cosine";
    c.warmupSteps = 3;
    c.totalSteps = 10;
    c.minLr = 0.001;
  } else {
    c.kind = "sgd";
    c.lr = 0.1;
    if (name == "sgd_momentum_decay") {
      c.momentum = 0.9;
      c.weightDecay = 0.01;
    } else if (name == "sgd_nesterov_linear") {
      c.lr = 0.05;
      c.momentum = 0.9;
      c.nesterov = true;
      c.schedule = "linear";
      c.warmupSteps = 2;
      c.totalSteps = 8;
    } else if (name == "sgd_clip") {
      c.clipNorm = 0.3;
    }
  }
  return c;
}

// A function whose gradients are its inputs, so the update arithmetic is tested alone.
Module gradientsAsInputs(DType dt) {
  std::string t =
      "state @w : DT[2,3] = zeros trainable\n"
      "state @b : DT[3] = zeros trainable\n"
      "func @grads(%gw: DT[2,3], %gb: DT[3]) -> (loss: DT[], grad.w: DT[2,3], grad.b: DT[3]) {\n"
      "  %loss = constant {value = [0.0]} : DT[]\n"
      "  return %loss, %gw, %gb\n}\n";
  std::string name(dtypeName(dt));
  for (size_t p; (p = t.find("DT")) != std::string::npos;) t.replace(p, 2, name);
  return test::parseValid(t);
}

std::vector<double> runTenSteps(const std::string& name, DType dt, std::vector<double>* lrs = nullptr,
                                bool fused = true) {
  Module m = gradientsAsInputs(dt);
  OptimizerConfig config = configFor(name);
  config.fused = fused;
  REQUIRE(lowerOptimizer(m, *m.functions[0], config).ok());
  auto diags = verifyModule(m);
  REQUIRE_MESSAGE(diags.empty(), (diags.empty() ? "" : diags[0].str()));
  auto st = ref::initialState(m);
  REQUIRE(st.ok());
  st->at("w") = ref::Tensor({dt, {2, 3}}, {0.5, -0.25, 1.0, 2.0, -1.5, 0.125});
  st->at("b") = ref::Tensor({dt, {3}}, {0.1, 0.2, -0.3});
  for (int t = 1; t <= 10; ++t) {
    ref::Tensor gw({dt, {2, 3}}), gb({dt, {3}});
    for (int i = 0; i < 6; ++i) gw[i] = std::sin(0.7 * t + 0.3 * i) * (1 + 0.1 * i);
    for (int i = 0; i < 3; ++i) gb[i] = std::cos(0.5 * t + i);
    gw.roundToType();
    gb.roundToType();
    auto outs = ref::run(m, *m.functions[0], {gw, gb}, *st);
    REQUIRE(outs.ok());
    if (lrs) lrs->push_back((*outs)[1][0]);
  }
  std::vector<double> out = st->at("w").data;
  out.insert(out.end(), st->at("b").data.begin(), st->at("b").data.end());
  return out;
}

}  // namespace

TEST_CASE("optimizers match PyTorch over 10 steps") {
  for (const auto& [name, want] : kPinned) {
    INFO(name);
    std::vector<double> got = runTenSteps(name, DType::F64);
    for (size_t i = 0; i < want.size(); ++i) CHECK(std::fabs(got[i] - want[i]) <= 1e-6 * std::max(1.0, std::fabs(want[i])));
    // In f32 the same arithmetic stays within f32 rounding of the f64 values.
    std::vector<double> got32 = runTenSteps(name, DType::F32);
    for (size_t i = 0; i < want.size(); ++i) CHECK(std::fabs(got32[i] - want[i]) <= 1e-5 * std::max(1.0, std::fabs(want[i])));
    // The unfused lowering (a chain of elementwise ops) computes the same.
    std::vector<double> unfused = runTenSteps(name, DType::F64, nullptr, false);
    for (size_t i = 0; i < want.size(); ++i) CHECK(std::fabs(unfused[i] - want[i]) <= 1e-6 * std::max(1.0, std::fabs(want[i])));
  }
}

TEST_CASE("learning rate schedules") {
  std::vector<double> lrs;
  runTenSteps("adamw_clip_cosine", DType::F64, &lrs);
  // Warmup 3 steps to 0.02, then cosine to 0.001 at step 10.
  const double want[] = {0.02 / 3, 0.04 / 3, 0.02,
                         0.001 + 0.019 * 0.5 * (1 + std::cos(M_PI * 1 / 7)),
                         0.001 + 0.019 * 0.5 * (1 + std::cos(M_PI * 2 / 7)),
                         0.001 + 0.019 * 0.5 * (1 + std::cos(M_PI * 3 / 7)),
                         0.001 + 0.019 * 0.5 * (1 + std::cos(M_PI * 4 / 7)),
                         0.001 + 0.019 * 0.5 * (1 + std::cos(M_PI * 5 / 7)),
                         0.001 + 0.019 * 0.5 * (1 + std::cos(M_PI * 6 / 7)), 0.001};
  for (int i = 0; i < 10; ++i) CHECK(lrs[size_t(i)] == doctest::Approx(want[i]).epsilon(1e-12));
  lrs.clear();
  runTenSteps("sgd_nesterov_linear", DType::F64, &lrs);
  const double linear[] = {0.025, 0.05, 0.05 * 5 / 6, 0.05 * 4 / 6, 0.05 * 3 / 6, 0.05 * 2 / 6, 0.05 / 6, 0, 0, 0};
  for (int i = 0; i < 10; ++i) CHECK(lrs[size_t(i)] == doctest::Approx(linear[i]).epsilon(1e-12));
}

TEST_CASE("optimizer configuration errors and decay exclusion") {
  OptimizerConfig c;
  c.kind = "adam";
  CHECK(validateOptimizerConfig(c).error().message == "optimizer: kind must be adamw or sgd, got 'adam'");
  c = {};
  c.schedule = "cosine";
  CHECK(validateOptimizerConfig(c).error().message == "optimizer: a cosine schedule needs total_steps > warmup");
  c = {};
  c.nesterov = true;
  CHECK_FALSE(validateOptimizerConfig(c).ok());
  StateVar bias{"h.0.attn.c_attn.bias", {DType::F32, {8}}, {}, true, {}, {}};
  StateVar weight{"h.0.attn.c_attn.weight", {DType::F32, {8, 8}}, {}, true, {}, {}};
  StateVar emb{"wte.weight", {DType::F32, {8, 8}}, {}, true, {}, {}};
  c = {};
  CHECK(excludedFromDecay(c, bias));
  CHECK_FALSE(excludedFromDecay(c, weight));
  c.noDecay = {"*.bias", "wte.*"};
  CHECK(excludedFromDecay(c, bias));
  CHECK(excludedFromDecay(c, emb));
  CHECK_FALSE(excludedFromDecay(c, weight));
  Module m = test::parseValid("func @f(%x: f32[]) -> (loss: f32[]) {\n  return %x\n}\n");
  CHECK(lowerOptimizer(m, *m.functions[0], {}).error().message == "@f has no gradient outputs: run autodiff first");
}

}  // namespace kiln
