#include "targets/cuda/cublaslt.h"

#include <cublasLt.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <tuple>

namespace kiln::cuda {

// The entry points used, resolved from the shared library (types from the toolkit's header).
struct CublasLt::Library {
  void* so = nullptr;
#define KILN_LT_FN(name) decltype(&::name) name = nullptr;
#define KILN_LT_FUNCTIONS                                                                          \
  KILN_LT_FN(cublasLtCreate) KILN_LT_FN(cublasLtDestroy) KILN_LT_FN(cublasLtGetVersion)            \
  KILN_LT_FN(cublasLtMatmulDescCreate) KILN_LT_FN(cublasLtMatmulDescDestroy)                       \
  KILN_LT_FN(cublasLtMatmulDescSetAttribute) KILN_LT_FN(cublasLtMatrixLayoutCreate)                \
  KILN_LT_FN(cublasLtMatrixLayoutDestroy) KILN_LT_FN(cublasLtMatrixLayoutSetAttribute)             \
  KILN_LT_FN(cublasLtMatmulPreferenceCreate) KILN_LT_FN(cublasLtMatmulPreferenceDestroy)           \
  KILN_LT_FN(cublasLtMatmulPreferenceSetAttribute) KILN_LT_FN(cublasLtMatmulAlgoGetHeuristic)      \
  KILN_LT_FN(cublasLtMatmul) KILN_LT_FN(cublasLtGetStatusString)
  KILN_LT_FUNCTIONS
#undef KILN_LT_FN
  ~Library() {
    if (so) dlclose(so);
  }
};

struct CublasLt::Prepared {
  const Library* lib = nullptr;
  LtMatmul plan;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  ~Prepared() {
    if (!lib) return;
    for (auto* l : {a, b, c})
      if (l) lib->cublasLtMatrixLayoutDestroy(l);
    if (desc) lib->cublasLtMatmulDescDestroy(desc);
  }
};

namespace {

Status ltStatus(const CublasLt::Library* lib, cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return okStatus();
  return makeError({}, std::string("cuBLASLt ") + what + ": " + (lib->cublasLtGetStatusString ? lib->cublasLtGetStatusString(s) : "error " + std::to_string(int(s))));
}

}  // namespace

Expected<std::unique_ptr<CublasLt>> CublasLt::open(size_t workspaceBytes) {
  auto lt = std::unique_ptr<CublasLt>(new CublasLt());
  lt->lib_ = std::make_unique<Library>();
  Library& L = *lt->lib_;
  for (const char* name : {"libcublasLt.so.13", "libcublasLt.so"})
    if ((L.so = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
  if (!L.so)
    return makeError({}, "the cuda device needs cuBLASLt (libcublasLt.so.13, from the CUDA toolkit 13), which this machine "
                         "lacks or the loader cannot find (LD_LIBRARY_PATH)");
#define KILN_LT_FN(name)                                                                            \
  L.name = reinterpret_cast<decltype(L.name)>(dlsym(L.so, #name));                                 \
  if (!L.name) return makeError({}, std::string("libcublasLt has no ") + #name + " (a cuBLASLt older than CUDA 13's?)");
  KILN_LT_FUNCTIONS
#undef KILN_LT_FN
  cublasLtHandle_t h = nullptr;
  if (auto s = ltStatus(&L, L.cublasLtCreate(&h), "create"); !s) return s.error();
  lt->handle_ = h;
  lt->workspaceBytes_ = workspaceBytes;
  if (cudaMalloc(&lt->workspace_, workspaceBytes) != cudaSuccess)
    return makeError({}, "cannot allocate cuBLASLt's " + std::to_string(workspaceBytes >> 20) + " MiB workspace on the GPU");
  return lt;
}

CublasLt::~CublasLt() {
  if (workspace_) cudaFree(workspace_);
  if (handle_ && lib_) lib_->cublasLtDestroy(static_cast<cublasLtHandle_t>(handle_));
}

std::string CublasLt::version() const {
  const size_t v = lib_->cublasLtGetVersion();
  return "cuBLASLt " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

Expected<std::shared_ptr<const CublasLt::Prepared>> CublasLt::prepare(const LtMatmul& plan) {
  const Library& L = *lib_;
  auto p = std::make_shared<Prepared>();
  p->lib = &L;
  p->plan = plan;
  auto check = [&](cublasStatus_t s, const char* what) { return ltStatus(&L, s, what); };
  if (auto s = check(L.cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), "matmul descriptor"); !s) return s.error();
  const cublasOperation_t ta = plan.a.transposed ? CUBLAS_OP_T : CUBLAS_OP_N, tb = plan.b.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  L.cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta);
  L.cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb);
  if (plan.epilogue != Epilogue::None) {
    const cublasLtEpilogue_t e = plan.epilogue == Epilogue::BiasRelu       ? CUBLASLT_EPILOGUE_RELU_BIAS
                                 : plan.epilogue == Epilogue::BiasGeluTanh ? CUBLASLT_EPILOGUE_GELU_BIAS
                                                                           : CUBLASLT_EPILOGUE_BIAS;
    L.cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &e, sizeof e);
    const cudaDataType_t biasType = CUDA_R_32F;  // f32 even when the product reads bf16
    L.cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &biasType, sizeof biasType);
  }
  auto layout = [&](const LtMatrix& x, cublasLtMatrixLayout_t* out, cudaDataType_t type) -> Status {
    if (auto s = check(L.cublasLtMatrixLayoutCreate(out, type, uint64_t(x.rows), uint64_t(x.cols), x.ld), "layout"); !s) return s;
    if (plan.batch > 1) {
      const int32_t count = int32_t(plan.batch);
      L.cublasLtMatrixLayoutSetAttribute(*out, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count);
      L.cublasLtMatrixLayoutSetAttribute(*out, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &x.batchStride, sizeof x.batchStride);
    }
    return okStatus();
  };
  const cudaDataType_t in = plan.bf16 ? CUDA_R_16BF : CUDA_R_32F;
  for (auto [x, out, type] : {std::tuple{&plan.a, &p->a, in}, {&plan.b, &p->b, in}, {&plan.c, &p->c, CUDA_R_32F}})
    if (auto s = layout(*x, out, type); !s) return s.error();
  cublasLtMatmulPreference_t pref = nullptr;
  if (auto s = check(L.cublasLtMatmulPreferenceCreate(&pref), "preference"); !s) return s.error();
  L.cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspaceBytes_, sizeof workspaceBytes_);
  cublasLtMatmulHeuristicResult_t found{};
  int count = 0;
  const cublasStatus_t h = L.cublasLtMatmulAlgoGetHeuristic(static_cast<cublasLtHandle_t>(handle_), p->desc, p->a, p->b, p->c,
                                                            p->c, pref, 1, &found, &count);
  L.cublasLtMatmulPreferenceDestroy(pref);
  if (h != CUBLAS_STATUS_SUCCESS || count == 0)
    return makeError({}, "cuBLASLt has no algorithm for a " + std::to_string(plan.m) + "x" + std::to_string(plan.k) + " by " +
                             std::to_string(plan.k) + "x" + std::to_string(plan.n) + (plan.bf16 ? " bf16" : " f32") + " matmul (batch " +
                             std::to_string(plan.batch) + ")");
  p->algo = found.algo;
  return std::shared_ptr<const Prepared>(std::move(p));
}

Status CublasLt::run(const Prepared& p, const void* a, const void* b, const float* bias, const float* residual, float* result,
                     void* stream) const {
  const Library& L = *lib_;
  if (p.plan.epilogue != Epilogue::None)
    L.cublasLtMatmulDescSetAttribute(p.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias);
  const float one = 1.f, zero = 0.f;
  const float* c = p.plan.residual ? residual : result;
  // Storage swapped: cuBLASLt's A is the IR's right operand, its B the left one.
  return ltStatus(&L,
                  L.cublasLtMatmul(static_cast<cublasLtHandle_t>(handle_), p.desc, &one, b, p.a, a, p.b,
                                   p.plan.residual ? &one : &zero, c, p.c, result, p.c, &p.algo, workspace_, workspaceBytes_,
                                   static_cast<cudaStream_t>(stream)),
                  "matmul");
}

}  // namespace kiln::cuda
