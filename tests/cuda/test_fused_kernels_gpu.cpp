// Generated fused kernels on the GPU against the reference device: every primitive and
// broadcast pattern, fused_sum, and the fused ops of a GPT train step, from the cubin and (once)
// from the PTX through the driver's JIT.
#include <doctest/doctest.h>

#include <cmath>

#include "targets/cpu/fused_kernel_plan.h"
#include "targets/cuda/fused_cuda_source.h"
#include "targets/cuda/nvrtc_compiler.h"
#include "tests/cuda/device_buffer.h"
#include "tests/cuda/fused_cases.h"

namespace kiln {

namespace {

class LoadedCode {
 public:
  explicit LoadedCode(const std::string& image) {
    KILN_CUDA_REQUIRE(cudaLibraryLoadData(&lib_, image.c_str(), nullptr, nullptr, 0, nullptr, nullptr, 0));
  }
  ~LoadedCode() { cudaLibraryUnload(lib_); }
  cudaKernel_t kernel(const std::string& name) const {
    cudaKernel_t k = nullptr;
    KILN_CUDA_REQUIRE(cudaLibraryGetKernel(&k, lib_, name.c_str()));
    return k;
  }

 private:
  cudaLibrary_t lib_ = nullptr;
};

// Runs one fused op's kernel on `inputs`: its result as a host tensor of `type`.
ref::Tensor runFused(const LoadedCode& code, const FusedKernelPlan& plan, const std::vector<ref::Tensor>& inputs,
                     const TensorType& type) {
  std::vector<std::unique_ptr<test::DeviceBuffer<float>>> buffers;
  for (const auto& t : inputs) buffers.push_back(std::make_unique<test::DeviceBuffer<float>>(t));
  test::DeviceBuffer<float> out(static_cast<size_t>(type.numElements()));
  std::vector<float*> pointers;
  for (auto& b : buffers) pointers.push_back(b->get());
  pointers.push_back(out.get());
  std::vector<void*> args;
  for (auto& p : pointers) args.push_back(&p);
  const cuda::FusedLaunch l = cuda::fusedLaunch(plan);
  KILN_CUDA_REQUIRE(cudaLaunchKernel(reinterpret_cast<const void*>(code.kernel(plan.symbol)), dim3(unsigned(l.blocks)),
                                     dim3(unsigned(l.threads)), args.data(), 0, nullptr));
  return out.download(type);
}

}  // namespace

TEST_CASE("cuda fused kernels: every primitive, broadcast pattern and fused_sum against the reference") {
  auto cases = test::fusedCases();
  std::vector<FusedKernelPlan> plans;
  for (const auto& c : cases) plans.push_back(planFusedKernels(c.module).at(0));
  auto code = cuda::compileDeviceCode(cuda::fusedKernelsSource(plans), "cases.cu");
  REQUIRE_MESSAGE(code.ok(), (code.ok() ? "" : code.error().str()));
  const LoadedCode cubin(code->cubin), ptx(code->ptx);
  std::mt19937 rng(5);
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].label);
    std::vector<ref::Tensor> in;
    for (const auto& t : cases[i].inputs) in.push_back(test::randomInput(t, cases[i].positive, rng));
    const auto want = test::referenceResults(cases[i].module, "f", in);
    test::checkClose(runFused(cubin, plans[i], in, want[0].type), want[0], cases[i].tol, cases[i].label);
    if (i % 7 == 0) test::checkClose(runFused(ptx, plans[i], in, want[0].type), want[0], cases[i].tol, cases[i].label + " (PTX)");
  }
  MESSAGE(cases.size() << " generated kernels checked against the reference");
}

TEST_CASE("cuda fused kernels: a GPT train step's fused ops against the reference, op by op") {
  const Module m = test::fusedGptStep();
  const KernelPlans plans = planKernels(m);
  auto code = cuda::compileDeviceCode(cuda::fusedKernelsSource(planFusedKernels(m)), "gpt.cu");
  REQUIRE_MESSAGE(code.ok(), (code.ok() ? "" : code.error().str()));
  const LoadedCode cubin(code->cubin);
  std::mt19937 rng(6);
  int checked = 0;
  for (const auto& [op, plan] : plans) {
    // The op alone as a function of its operands, on the reference device.
    Module one;
    Function& f = one.addFunction("f");
    std::vector<Value*> params;
    std::vector<ref::Tensor> in;
    bool positive = plan.expr.find("log") != std::string::npos || plan.expr.find("sqrt") != std::string::npos ||
                    plan.expr.find("pow") != std::string::npos;
    for (size_t i = 0; i < op->operands.size(); ++i) {
      params.push_back(f.addParam("x" + std::to_string(i), op->operands[i]->type));
      in.push_back(test::randomInput(op->operands[i]->type, positive, rng));
    }
    f.addOutput("y", f.appendOp(op->kind, params, {op->result()->type}, op->attrs)->result());
    const auto want = test::referenceResults(one, "f", in);
    test::checkClose(runFused(cubin, plan, in, want[0].type), want[0], 1e-4, plan.expr);
    ++checked;
  }
  MESSAGE(checked << " fused ops of a GPT train step checked against the reference");
}

}  // namespace kiln
