// The cuda device (engine) against the reference device: every op of the IR (all_ops.kir, the
// cpu device's conformance module), and gpt-tiny's compiled train step for several steps, which
// from the second call on replays as a CUDA graph, resumed byte for byte from a snapshot. Memory
// plans here give every value its own place (the compiler's planner is not in the GPU-only
// build; the engine binds any valid plan).
#include <doctest/doctest.h>

#include <cmath>

#include "eval/interpreter.h"
#include "ir/parser.h"
#include "ir/views.h"
#include "targets/cpu/fused_kernel_plan.h"
#include "targets/cuda/cuda_engine.h"
#include "targets/cuda/fused_cuda_source.h"
#include "targets/cuda/nvrtc_compiler.h"
#include "tests/cuda/device_buffer.h"
#include "tests/cuda/fused_cases.h"

namespace kiln {

namespace {

// Every result in its own 256-byte-aligned block: valid for any module.
ArenaPlans separatePlans(const Module& m) {
  ArenaPlans plans;
  for (const auto& f : m.functions) {
    ArenaPlan& p = plans[f->name];
    for (const auto& op : f->ops)
      for (const auto& r : op->results) {
        p.offsets[r.get()] = p.arenaBytes;
        p.arenaBytes += (std::max<int64_t>(1, r->type.numElements()) * 4 + 255) / 256 * 256;
      }
  }
  return plans;
}

// The module's generated kernels, as the compile half makes them.
cuda::CudaCode generatedCode(const Module& m) {
  cuda::CudaCode code;
  const auto plans = planFusedKernels(m);
  if (plans.empty()) return code;
  auto compiled = cuda::compileDeviceCode(cuda::fusedKernelsSource(plans), "engine_test.cu");
  REQUIRE_MESSAGE(compiled.ok(), (compiled.ok() ? "" : compiled.error().str()));
  code.cubin = compiled->cubin;
  code.ptx = compiled->ptx;
  return code;
}

std::unique_ptr<Engine> cudaEngine(const Module& m, const cuda::CudaCode& code) {
  auto e = cuda::makeCudaEngine(m, code, separatePlans(m), planKernels(m));
  REQUIRE_MESSAGE(e.ok(), (e.ok() ? "" : e.error().str()));
  return e.take();
}

}  // namespace

TEST_CASE("cuda device conformance: every op of all_ops.kir against the reference") {
  auto m = parseModuleFile(KILN_ALL_OPS_KIR);
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().str()));
  const cuda::CudaCode code = generatedCode(*m);
  for (const auto& f : m->functions) {
    INFO("@" << f->name);
    auto gpu = cudaEngine(*m, code);
    ref::StateStore state = ref::initialState(*m).take();
    std::vector<ref::Tensor> inputs;
    for (const auto& p : f->params) inputs.emplace_back(p->type, std::vector<double>{2.0, -4.0});
    auto want = ref::run(*m, *f, inputs, state);
    auto got = gpu->call(f->name, inputs);
    REQUIRE(want.ok());
    REQUIRE_MESSAGE(got.ok(), (got.ok() ? "" : got.error().str()));
    for (size_t i = 0; i < want->size(); ++i) test::checkClose((*got)[i], (*want)[i], 1e-4, f->name + "." + f->outputNames[i]);
    test::checkClose(gpu->snapshot().at("counter"), state.at("counter"), 0, "counter");
  }
}

TEST_CASE("cuda device conformance: gpt-tiny's compiled train step, replayed as a graph, resumed byte for byte") {
  const Module m = test::fusedGptStep();
  const Function& f = *m.findFunction("train_step");
  const cuda::CudaCode code = generatedCode(m);
  auto gpu = cudaEngine(m, code);
  ref::StateStore state = ref::initialState(m).take();
  auto tokens = [&](int step) {
    ref::Tensor t(f.params[0]->type);
    for (int64_t i = 0; i < t.size(); ++i) t[i] = double((i * 5 + step * 3) % 512);
    return t;
  };
  ref::StateStore beforeLast;
  std::vector<ref::Tensor> last;
  for (int step = 0; step < 4; ++step) {
    if (step == 3) beforeLast = gpu->snapshot();
    auto got = gpu->call("train_step", {tokens(step)});
    auto want = ref::run(m, f, {tokens(step)}, state);
    REQUIRE_MESSAGE(got.ok(), (got.ok() ? "" : got.error().str()));
    REQUIRE(want.ok());
    test::checkClose((*got)[0], (*want)[0], 1e-4, "loss at step " + std::to_string(step));
    last = got.take();
  }
  const ref::StateStore after = gpu->snapshot();
  for (const auto& [name, t] : state) test::checkClose(after.at(name), t, 2e-3, name);
  // A fresh engine from the snapshot runs the last step eagerly: the same bits as the replay.
  auto resumed = cudaEngine(m, code);
  REQUIRE(resumed->restore(beforeLast).ok());
  auto again = resumed->call("train_step", {tokens(3)});
  REQUIRE(again.ok());
  for (size_t k = 0; k < last.size(); ++k) CHECK(float((*again)[k][0]) == float(last[k][0]));
  for (const auto& [name, t] : resumed->snapshot()) {
    int64_t differ = 0;
    for (int64_t i = 0; i < t.size(); ++i) differ += float(t[i]) != float(after.at(name)[i]);
    CHECK_MESSAGE(differ == 0, name << ": " << differ << " elements differ after the resumed step");
  }
}

}  // namespace kiln
