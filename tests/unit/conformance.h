// Shared checks of the cpu device against the reference device.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "models/gpt.h"
#include "tests/unit/devices.h"

namespace kiln::test {

// Every element within `tol`, relative to max(1, |reference|) (nan matches nan); reports the
// first few differences and their count.
inline void checkClose(const ref::Tensor& got, const ref::Tensor& want, double tol, const std::string& what) {
  REQUIRE(got.type == want.type);
  int64_t bad = 0;
  for (int64_t i = 0; i < got.size(); ++i) {
    double a = got[i], b = want[i];
    bool ok = (std::isnan(a) && std::isnan(b)) || a == b || std::fabs(a - b) <= tol * std::max(1.0, std::fabs(b));
    if (!ok && bad++ < 3) CHECK_MESSAGE(ok, what << "[" << i << "]: cpu " << a << " vs reference " << b);
  }
  CHECK_MESSAGE(bad == 0, what << ": " << bad << " of " << got.size() << " elements differ");
}

// Calls `fn` of `m` with `inputs` on the reference device and on the cpu device (with generated
// `kernels` when given) and checks every output within `tol`; labels name outputs `prefix.name`.
inline void checkCpuMatchesReference(const Module& m, const std::string& fn, const std::vector<ref::Tensor>& inputs,
                                     double tol, const std::string& prefix = "",
                                     std::shared_ptr<const KernelLibrary> kernels = nullptr) {
  auto refEngine = makeReferenceEngine(m);
  auto cpuEngine = testCpuEngine(m, std::move(kernels));
  REQUIRE(refEngine.ok());
  REQUIRE(cpuEngine.ok());
  auto want = (*refEngine)->call(fn, inputs);
  auto got = (*cpuEngine)->call(fn, inputs);
  REQUIRE(want.ok());
  REQUIRE_MESSAGE(got.ok(), (got.ok() ? "" : got.error().str()));
  const Function& f = *m.findFunction(fn);
  for (size_t i = 0; i < want->size(); ++i)
    checkClose((*got)[i], (*want)[i], tol, (prefix.empty() ? "" : prefix + ".") + f.outputNames[i]);
}

// `steps` GPT train_steps on both engines with the same token batches: the losses agree to
// 1e-4 at every step and every state (parameters, moments) to 2e-3 at the end.
inline void checkTrainingStepsMatch(Engine& reference, Engine& cpu, const TransformerConfig& c, int steps) {
  for (int step = 0; step < steps; ++step) {
    ref::Tensor tokens({DType::I32, {c.batch, c.context + 1}});
    for (int64_t i = 0; i < tokens.size(); ++i) tokens[i] = double((i * 5 + step * 3) % c.vocab);
    auto want = reference.call("train_step", {tokens});
    auto got = cpu.call("train_step", {tokens});
    REQUIRE(want.ok());
    REQUIRE_MESSAGE(got.ok(), (got.ok() ? "" : got.error().str()));
    checkClose((*got)[0], (*want)[0], 1e-4, "loss at step " + std::to_string(step));
  }
  ref::StateStore a = cpu.snapshot(), b = reference.snapshot();
  for (const auto& [name, t] : b) checkClose(a.at(name), t, 2e-3, name);
}

}  // namespace kiln::test
