// The cuda device against the reference device: the cpu device's conformance suite (every op of
// all_ops.kir, every differentiable op forward and backward on random shapes, GPT training
// steps), each module given the sections the cuda target's own compile half writes for it.
// Where no GPU answers (or the build has no CUDA) each case says it is skipped, and CTest
// reports it so (tests/CMakeLists.txt: SKIP_REGULAR_EXPRESSION).
#include <sstream>

#include "compiler/target.h"
#include "conformance.h"
#include "op_cases.h"
#include "runtime/engine/device_registry.h"
#include "test_helpers.h"

namespace kiln {

namespace {

// A module with the sections the cuda target writes for it, kept together (the engine reads
// both for as long as it lives).
struct CudaModule {
  Module module;
  std::map<std::string, std::string> sections;
};

// The cuda engine of `cm`, or why there is none: an empty pointer and `skip` set when no GPU
// is here (any other failure fails the case).
std::unique_ptr<Engine> cudaEngineOf(CudaModule& cm, std::string& skip) {
  const Target* target = findTarget("cuda");
  REQUIRE(target != nullptr);
  std::ostringstream log;
  if (auto s = target->emit(cm.module, cm.sections, log, true); !s) {
    skip = s.error().str();  // a build without CUDA: the absent target says so
    REQUIRE_MESSAGE(skip.find("without the CUDA toolkit") != std::string::npos, skip);
    return nullptr;
  }
  auto e = makeEngine("cuda", DeviceInputs{cm.module, cm.sections, "cuda conformance"});
  if (!e) {
    skip = e.error().str();
    REQUIRE_MESSAGE(skip.find("no CUDA GPU") != std::string::npos, skip);
    return nullptr;
  }
  return e.take();
}

#define KILN_CUDA_ENGINE_OR_SKIP(engine, cm)                       \
  std::string skip_;                                               \
  auto engine = cudaEngineOf(cm, skip_);                           \
  if (!engine) {                                                   \
    MESSAGE("cuda device conformance skipped: " << skip_);         \
    return;                                                        \
  }

}  // namespace

TEST_CASE("cuda device conformance: every op") {
  auto text = readFile(test::inputsDir() + "/all_ops.kir");
  REQUIRE(text.ok());
  CudaModule cm{test::parseValid(*text), {}};
  for (const auto& f : cm.module.functions) {
    INFO("@" << f->name);
    auto refEngine = makeReferenceEngine(cm.module);
    REQUIRE(refEngine.ok());
    KILN_CUDA_ENGINE_OR_SKIP(gpu, cm);
    std::vector<ref::Tensor> inputs;
    for (const auto& p : f->params) inputs.emplace_back(p->type, std::vector<double>{2.0, -4.0});
    auto want = (*refEngine)->call(f->name, inputs);
    auto got = gpu->call(f->name, inputs);
    REQUIRE(want.ok());
    REQUIRE_MESSAGE(got.ok(), (got.ok() ? "" : got.error().str()));
    for (size_t i = 0; i < want->size(); ++i) test::checkClose((*got)[i], (*want)[i], 1e-4, f->name + "." + f->outputNames[i]);
    test::checkClose(gpu->snapshot().at("counter"), (*refEngine)->snapshot().at("counter"), 0, "counter");
  }
}

TEST_CASE("cuda device conformance: every differentiable op forward and backward on random shapes") {
  int cases = 0;
  for (int trial = 0; trial < 3; ++trial)
    for (const test::GradCase& c : test::allOpCases(trial)) {
      INFO("case " << c.label);
      CudaModule cm{test::caseModule(c, true), {}};
      auto refEngine = makeReferenceEngine(cm.module);
      REQUIRE(refEngine.ok());
      KILN_CUDA_ENGINE_OR_SKIP(gpu, cm);
      auto want = (*refEngine)->call("f", c.inputs);
      auto got = gpu->call("f", c.inputs);
      REQUIRE(want.ok());
      REQUIRE_MESSAGE(got.ok(), (got.ok() ? "" : got.error().str()));
      const Function& f = *cm.module.findFunction("f");
      for (size_t i = 0; i < want->size(); ++i) test::checkClose((*got)[i], (*want)[i], 1e-4, c.label + "." + f.outputNames[i]);
      ++cases;
    }
  MESSAGE(cases << " cases, forward and gradients, cuda (f32) against reference (f64)");
}

TEST_CASE("cuda device conformance: GPT training steps match the reference") {
  TransformerConfig c = test::smallGpt(37, 12, 16, 48, 3);  // odd sizes, not multiples of 16
  CudaModule cm{test::gptTrainStep(c, 1e-2), {}};
  auto refEngine = makeReferenceEngine(cm.module);
  REQUIRE(refEngine.ok());
  KILN_CUDA_ENGINE_OR_SKIP(gpu, cm);
  test::checkTrainingStepsMatch(**refEngine, *gpu, c, 5);
}

}  // namespace kiln
