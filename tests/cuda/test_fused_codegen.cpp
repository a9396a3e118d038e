// Generated CUDA C++ for fused ops compiles with NVRTC to an sm_90 cubin and compute_90 PTX,
// with no spills: on any machine with the CUDA toolkit (no GPU needed).
#include <doctest/doctest.h>

#include "targets/cpu/fused_kernel_plan.h"
#include "targets/cuda/fused_cuda_source.h"
#include "targets/cuda/nvrtc_compiler.h"
#include "tests/cuda/fused_cases.h"

namespace kiln {

namespace {

void checkCompiles(const std::vector<FusedKernelPlan>& plans, const std::string& what) {
  REQUIRE(!plans.empty());
  const std::string source = cuda::fusedKernelsSource(plans);
  auto code = cuda::compileDeviceCode(source, what + ".cu");
  REQUIRE_MESSAGE(code.ok(), (code.ok() ? "" : code.error().str()) << "\n" << source);
  CHECK(code->cubin.compare(0, 4, "\x7f" "ELF") == 0);
  CHECK(code->ptx.find(".target sm_90") != std::string::npos);
  for (const auto& p : plans) {
    CHECK_MESSAGE(code->ptx.find(".entry " + p.symbol + "(") != std::string::npos, p.symbol << " missing from the PTX");
    CHECK_MESSAGE(code->ptxasInfo.find(p.symbol) != std::string::npos, p.symbol << " missing from ptxas's report");
  }
  const auto spilled = cuda::kernelsWithSpills(code->ptxasInfo);
  CHECK_MESSAGE(spilled.empty(), what << ": " << spilled.size() << " kernels spill registers");
}

}  // namespace

TEST_CASE("cuda codegen: every primitive, broadcast pattern and fused_sum compiles to sm_90 cubin and PTX") {
  std::vector<FusedKernelPlan> plans;
  for (const auto& c : test::fusedCases())
    for (auto& p : planFusedKernels(c.module)) plans.push_back(std::move(p));
  MESSAGE(plans.size() << " fused kernels in one translation unit");
  checkCompiles(plans, "all_primitives");
}

TEST_CASE("cuda codegen: a GPT train step's fused ops compile") {
  const Module m = test::fusedGptStep();
  const auto plans = planFusedKernels(m);
  CHECK(plans.size() > 10);
  checkCompiles(plans, "gpt_train_step");
}

TEST_CASE("cuda codegen: ptxas's spill report is read per kernel") {
  const std::string report =
      "ptxas info    : Function properties for good\n    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
      "ptxas info    : Function properties for bad\n    8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads\n";
  CHECK(cuda::kernelsWithSpills(report) == std::vector<std::string>{"bad"});
}

TEST_CASE("cuda codegen: a source that does not compile is an error with NVRTC's log") {
  auto code = cuda::compileDeviceCode("extern \"C\" __global__ void k() { undefined_name; }", "broken.cu");
  REQUIRE_FALSE(code.ok());
  CHECK(code.error().message.find("broken.cu: generated CUDA code does not compile") != std::string::npos);
  CHECK(code.error().message.find("undefined_name") != std::string::npos);
}

}  // namespace kiln
