// The fused-kernel plans the compiler stores (cpu.kernel_plans) and the device loads: they read
// back as planned, and a damaged section is refused with its line, never run.
#include "compiler/autodiff/autodiff.h"
#include "compiler/optimizer/optimizer.h"
#include "compiler/pass.h"
#include "compiler/target.h"
#include "frontends/spec/compile_spec.h"
#include "targets/cpu/fused_kernel_plan.h"
#include "test_helpers.h"

namespace kiln {

namespace {

// A GPT training step through the cpu pipeline: fused and fused_sum ops of many shapes.
Module fusedGptStep() {
  TransformerConfig c = test::smallGpt(37, 12, 16, 48, 3);
  Module m = test::gptTrainStep(c);
  for (const std::string& name : standardPipeline(*findTarget("cpu"))) {
    if (name == "autodiff" || name == "optimizer") continue;
    auto pass = createPass(name, findTarget("cpu")->passOptions(name));
    REQUIRE(pass.ok());
    REQUIRE((*pass)->run(m).ok());
  }
  return m;
}

std::string errorOf(const Module& m, const std::string& text) {
  auto p = parseKernelPlans(m, text, "t [cpu.kernel_plans]");
  return p ? "ok" : p.error().str();
}

// The text with the first line holding `what` changed by `edit`.
std::string edited(std::string text, const std::string& what, const std::string& with) {
  size_t at = text.find(what);
  REQUIRE(at != std::string::npos);
  return text.replace(at, what.size(), with);
}

}  // namespace

TEST_CASE("kernel plans: stored and loaded as planned, every damage refused with its line") {
  Module m = fusedGptStep();
  KernelPlans planned = planKernels(m);
  int sums = 0;
  for (const auto& [op, p] : planned) sums += p.sums;
  REQUIRE(planned.size() > 10);
  REQUIRE(sums > 0);
  const std::string text = formatKernelPlans(m, planned);
  auto loaded = parseKernelPlans(m, text, "t");
  REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.error().str()));
  REQUIRE(loaded->size() == planned.size());
  for (const auto& [op, p] : planned) {
    const FusedKernelPlan& q = loaded->at(op);
    CHECK(q.symbol == p.symbol);
    CHECK(q.expr == p.expr);
    CHECK(q.shape == p.shape);
    CHECK(q.rows == p.rows);
    CHECK(q.rowElems == p.rowElems);
    CHECK(q.blockRows == p.blockRows);
    CHECK(q.tailRows == p.tailRows);
    CHECK(q.sums == p.sums);
    REQUIRE(q.operands.size() == p.operands.size());
    for (size_t i = 0; i < p.operands.size(); ++i) {
      CHECK(q.operands[i].shape == p.operands[i].shape);
      CHECK(q.operands[i].spansRows == p.operands[i].spansRows);
      CHECK(q.operands[i].rowElems == p.operands[i].rowElems);
    }
  }

  CHECK(errorOf(m, "kiln-kernel-plans 2\n") ==
        "t [cpu.kernel_plans]:1:1: error: damaged or mismatched executable: kernel plans must start with 'kiln-kernel-plans 1'");
  // Truncated: the ops after the cut have no plan.
  CHECK(errorOf(m, text.substr(0, text.find('\n', text.size() / 2) + 1)).find("damaged executable: no kernel plan for @train_step") !=
        std::string::npos);
  // One line's fields changed: each is found and its line named.
  const size_t line2 = text.find('\n') + 1;
  const std::string first = text.substr(line2, text.find('\n', line2) - line2);
  auto firstWith = [&](const std::string& from, const std::string& to) { return edited(text, first, edited(first, from, to)); };
  CHECK(errorOf(m, firstWith("@train_step", "@nope")) == "t [cpu.kernel_plans]:2:1: error: damaged executable: kernel plan: no function @nope");
  CHECK(errorOf(m, firstWith(" op=", " op=9999")).find(":2:1: error: damaged executable: kernel plan: @train_step has no fused op at op=9999") !=
        std::string::npos);
  CHECK(errorOf(m, firstWith(" block=", " block=x")).find(":2:1: error: damaged executable: kernel plan: unreadable fields") !=
        std::string::npos);
  CHECK(errorOf(m, firstWith(" tail=", " tail=9999")).find("its block and tail do not divide its rows") != std::string::npos);
  CHECK(errorOf(m, firstWith(" shape=", " shape=7")).find(":2:1: error: damaged executable: kernel plan: the plan of @train_step") !=
        std::string::npos);
  CHECK(errorOf(m, firstWith("operands=", "operands=r:999,")).find("does not fit the op") != std::string::npos);
  CHECK(errorOf(m, text + first + "\n").find("is planned twice") != std::string::npos);
}

}  // namespace kiln
