// Matmuls through cuBLASLt, loaded when the cuda device starts (dlopen): a trainer links no
// CUDA library it would need on a machine without one, and says in one line when it is missing.
// Each planned matmul (matmul_layout.h) gets its descriptors and algorithm once; a call then
// costs one cublasLtMatmul on the device's stream (and can be captured in a CUDA graph).
#pragma once

#include <memory>
#include <string>

#include "ir/diagnostics.h"
#include "targets/cuda/matmul_layout.h"

namespace kiln::cuda {

class CublasLt {
 public:
  // The library and a handle; `workspaceBytes` of device scratch for its kernels.
  static Expected<std::unique_ptr<CublasLt>> open(size_t workspaceBytes = size_t(32) << 20);
  ~CublasLt();
  CublasLt(const CublasLt&) = delete;
  CublasLt& operator=(const CublasLt&) = delete;

  struct Library;   // the entry points, resolved with dlsym
  struct Prepared;  // descriptors + the algorithm cuBLASLt's heuristic chose
  Expected<std::shared_ptr<const Prepared>> prepare(const LtMatmul& plan);
  // result = act(a.b + bias) (+ residual): the IR's operands (a and b f32, or bf16 where the plan
  // says so); bias and residual may be null when the plan has none.
  Status run(const Prepared& p, const void* a, const void* b, const float* bias, const float* residual, float* result,
             void* stream) const;
  std::string version() const;

 private:
  CublasLt() = default;
  std::unique_ptr<Library> lib_;
  void* handle_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspaceBytes_ = 0;
};

}  // namespace kiln::cuda
