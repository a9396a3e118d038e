// The cpu device against the reference device: every op of all_ops.kir, and training steps of
// a GPT (forward, backward and AdamW together), with f32 tolerances.
#include <cmath>

#include "compiler/autodiff/autodiff.h"
#include "compiler/optimizer/optimizer.h"
#include "models/gpt.h"
#include "runtime/engine/engine.h"
#include "test_helpers.h"

namespace kiln {

namespace {

void checkClose(const ref::Tensor& got, const ref::Tensor& want, double tol, const std::string& what) {
  REQUIRE(got.type == want.type);
  for (int64_t i = 0; i < got.size(); ++i) {
    double a = got[i], b = want[i];
    bool ok = (std::isnan(a) && std::isnan(b)) || a == b || std::fabs(a - b) <= tol * std::max(1.0, std::fabs(b));
    CHECK_MESSAGE(ok, what << "[" << i << "]: cpu " << a << " vs reference " << b);
  }
}

}  // namespace

TEST_CASE("cpu device conformance: every op") {
  auto text = readFile(test::inputsDir() + "/all_ops.kir");
  REQUIRE(text.ok());
  Module m = test::parseValid(*text);
  for (const auto& f : m.functions) {
    auto refEngine = makeReferenceEngine(m);
    auto cpuEngine = makeCpuEngine(m);
    REQUIRE(refEngine.ok());
    REQUIRE(cpuEngine.ok());
    std::vector<ref::Tensor> inputs;
    for (const auto& p : f->params) inputs.emplace_back(p->type, std::vector<double>{2.0, -4.0});
    auto want = (*refEngine)->call(f->name, inputs);
    auto got = (*cpuEngine)->call(f->name, inputs);
    REQUIRE(want.ok());
    REQUIRE_MESSAGE(got.ok(), (got.ok() ? "" : got.error().str()));
    for (size_t i = 0; i < want->size(); ++i) checkClose((*got)[i], (*want)[i], 1e-5, f->name + "." + f->outputNames[i]);
    checkClose((*cpuEngine)->snapshot().at("counter"), (*refEngine)->snapshot().at("counter"), 0, "counter");
  }
}

TEST_CASE("cpu device conformance: GPT training steps match the reference") {
  GptConfig c = test::smallGpt(37, 12, 16, 48, 3);  // odd sizes, not multiples of 16
  Module m;
  Function& f = buildGptLoss(m, c);
  REQUIRE(differentiate(m, f).ok());
  OptimizerConfig opt;
  opt.lr = 1e-2;
  opt.clipNorm = 1.0;
  REQUIRE(lowerOptimizer(m, f, opt).ok());
  auto refEngine = makeReferenceEngine(m);
  auto cpuEngine = makeCpuEngine(m);
  REQUIRE(refEngine.ok());
  REQUIRE(cpuEngine.ok());
  for (int step = 0; step < 5; ++step) {
    ref::Tensor tokens({DType::I32, {c.batch, c.context + 1}});
    for (int64_t i = 0; i < tokens.size(); ++i) tokens[i] = double((i * 5 + step * 3) % c.vocab);
    auto want = (*refEngine)->call("train_step", {tokens});
    auto got = (*cpuEngine)->call("train_step", {tokens});
    REQUIRE(want.ok());
    REQUIRE(got.ok());
    checkClose((*got)[0], (*want)[0], 1e-4, "loss at step " + std::to_string(step));
  }
  ref::StateStore a = (*cpuEngine)->snapshot(), b = (*refEngine)->snapshot();
  for (const auto& [name, t] : b) checkClose(a.at(name), t, 2e-3, name);
}

}  // namespace kiln

#include "op_cases.h"

namespace kiln {

TEST_CASE("cpu device conformance: every differentiable op forward and backward on random shapes") {
  int cases = 0;
  for (int trial = 0; trial < 3; ++trial)
    for (const test::GradCase& c : test::allOpCases(trial)) {
      INFO("case " << c.label);
      Module m = test::caseModule(c, true);
      auto refEngine = makeReferenceEngine(m);
      auto cpuEngine = makeCpuEngine(m);
      REQUIRE(refEngine.ok());
      REQUIRE(cpuEngine.ok());
      auto want = (*refEngine)->call("f", c.inputs);
      auto got = (*cpuEngine)->call("f", c.inputs);
      REQUIRE(want.ok());
      REQUIRE_MESSAGE(got.ok(), (got.ok() ? "" : got.error().str()));
      const Function& f = *m.functions[0];
      for (size_t i = 0; i < want->size(); ++i) checkClose((*got)[i], (*want)[i], 1e-4, c.label + "." + f.outputNames[i]);
      ++cases;
    }
  MESSAGE(cases << " cases, forward and gradients, cpu (f32) against reference (f64)");
}

}  // namespace kiln
