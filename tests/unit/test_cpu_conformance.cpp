// The cpu device against the reference device: every op of all_ops.kir, and training steps of
// a GPT (forward, backward and AdamW together), with f32 tolerances.
#include <cmath>

#include "compiler/autodiff/autodiff.h"
#include "compiler/optimizer/optimizer.h"
#include "models/gpt.h"
#include "runtime/engine/engine.h"
#include "conformance.h"
#include "test_helpers.h"

namespace kiln {


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
    for (size_t i = 0; i < want->size(); ++i) test::checkClose((*got)[i], (*want)[i], 1e-5, f->name + "." + f->outputNames[i]);
    test::checkClose((*cpuEngine)->snapshot().at("counter"), (*refEngine)->snapshot().at("counter"), 0, "counter");
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
      for (size_t i = 0; i < want->size(); ++i) test::checkClose((*got)[i], (*want)[i], 1e-4, c.label + "." + f.outputNames[i]);
      ++cases;
    }
  MESSAGE(cases << " cases, forward and gradients, cpu (f32) against reference (f64)");
}

}  // namespace kiln
