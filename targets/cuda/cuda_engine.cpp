// The cuda device's engine: every value in one GPU arena laid out by the compiler's memory plan
// (f32 storage for every dtype, integers exact below 2^24, as on the cpu device), state in its
// own GPU buffers, each op resolved once into a step (op_lowering.h) and enqueued on one stream.
// From a function's second call on, when none of its steps runs on the host, the whole call is
// captured once and replayed as a CUDA graph: the host then costs one launch per step, not one
// per op. Results and checkpoints come back through host copies.
#include "targets/cuda/cuda_engine.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "eval/kernels/bf16_storage.h"
#include "eval/kernels/dispatch.h"
#include "ir/adamw_operands.h"
#include "ir/views.h"
#include "runtime/engine/op_profile.h"
#include "targets/cuda/cuda_check.h"
#include "targets/cuda/op_lowering.h"

namespace kiln::cuda {

namespace {

using kernels::View;

// A step: how its op runs and the slots of its operands and results in the pointer table.
struct Step {
  const Op* op = nullptr;
  OpLowering how;
  std::vector<size_t> in, out;
  std::vector<std::pair<size_t, DeviceMemory*>> inState;  // results placed in their state's buffer
  DeviceMemory* state = nullptr;                          // StateRead, Assign
  std::shared_ptr<const CublasLt::Prepared> matmul;
  cudaKernel_t kernel = nullptr;                          // Fused
  FusedLaunch launch;
  DeviceMemory constant;                                  // Constant: its value, uploaded once
  DeviceMemory adamw;                                     // AdamWGroup: params + chunks on the device
  std::vector<AdamWParam> adamwParams;                    // ... as last uploaded
  int64_t adamwChunks = 0;
};

}  // namespace

struct CudaContext {
  cudaStream_t stream = nullptr;
  std::unique_ptr<CublasLt> lt;
  cudaLibrary_t library = nullptr;  // the generated kernels
  std::string codeKind;             // "sm_90 cubin" or "compute_90 PTX (JIT)"
  ~CudaContext() {
    if (library) cudaLibraryUnload(library);
    if (stream) cudaStreamDestroy(stream);
  }
};

namespace {

class CudaFunction {
 public:
  CudaFunction(const Function& f, const ArenaPlan& plan) : f_(f), plan_(plan) {}

  Status prepare(CudaContext& cx, const KernelPlans& kernelPlans, std::map<std::string, DeviceMemory>& state) {
    std::unordered_map<const Value*, size_t> slotOf;
    auto slot = [&](const Value* v) { return slotOf.emplace(v, slotOf.size()).first->second; };
    for (const auto& p : f_.params) params_.push_back(slot(p.get()));
    for (const auto& op : f_.ops)
      for (const auto& r : op->results) slot(r.get());
    ptr_.assign(slotOf.size(), nullptr);
    for (const auto& [v, offset] : plan_.offsets) placed_.emplace_back(slot(v), offset / 4);
    for (const Value* v : f_.outputs) outputs_.push_back(slot(v));
    inputs_.resize(f_.params.size());
    staging_.resize(f_.params.size());
    for (size_t i = 0; i < f_.params.size(); ++i) {
      const size_t bytes = size_t(f_.params[i]->type.numElements()) * 4;
      if (auto s = inputs_[i].reserve(bytes, "the inputs of @" + f_.name); !s) return s;
      if (auto s = staging_[i].reserve(bytes); !s) return s;
    }
    for (const auto& opPtr : f_.ops) {
      const Op& op = *opPtr;
      auto planned = kernelPlans.find(&op);
      Step st;
      st.op = &op;
      st.how = lowerOp(op, planned != kernelPlans.end() && cx.library);
      for (const Value* v : op.operands) st.in.push_back(slot(v));
      for (const auto& r : op.results) {
        st.out.push_back(slot(r.get()));
        if (auto in = plan_.inState.find(r.get()); in != plan_.inState.end()) st.inState.emplace_back(st.out.back(), &state.at(in->second));
      }
      if (auto s = prepareStep(st, cx, planned == kernelPlans.end() ? nullptr : &planned->second, state); !s) return s;
      hostSteps_ += st.how.kind == StepKind::Host;
      steps_.push_back(std::move(st));
    }
    return okStatus();
  }

  int64_t arenaBytes() const { return plan_.arenaBytes; }

  // With `profile`, the call runs eagerly and waits for each step to time it.
  Status call(CudaContext& cx, const std::vector<ref::Tensor>& inputs, float* arena, Scratch& scratch,
              std::vector<ref::Tensor>& outputs, OpProfile* profile) {
    if (arena != boundArena_) {
      for (const auto& [s, offset] : placed_) ptr_[s] = arena + offset;
      boundArena_ = arena;
      dropGraph();
    }
    // Inputs into their fixed buffers (outside the graph, which reads them there): converted into
    // page-locked staging (free again: the previous call ended with the stream idle) and copied
    // by DMA ahead of the step on the same stream.
    for (size_t i = 0; i < inputs.size(); ++i) {
      float* staged = staging_[i].floats();
      for (int64_t k = 0; k < inputs[i].size(); ++k) staged[k] = float(inputs[i][k]);
      KILN_CUDA_TRY(cudaMemcpyAsync(inputs_[i].get(), staged, size_t(inputs[i].size()) * 4, cudaMemcpyHostToDevice, cx.stream),
                    "copying the inputs of @" + f_.name + " to the GPU");
      ptr_[params_[i]] = inputs_[i].floats();
    }
    assigns_.clear();
    if (graph_ && graphGeneration_ != scratch.generation) dropGraph();  // its scratch moved
    if (profile) {
      if (auto s = runSteps(cx, scratch, profile); !s) return s;
    } else if (graph_) {
      KILN_CUDA_TRY(cudaGraphLaunch(graph_, cx.stream), "replaying @" + f_.name);
      rebindViews();  // the host's view of where each value is (the graph's steps set them when captured)
    } else if (++calls_ >= 2 && hostSteps_ == 0 && graphsEnabled() && !graphRefused_) {
      if (Status captured = capture(cx, scratch); !captured) {
        // Nothing ran while capturing: say why once, and run this call and the next eagerly.
        graphRefused_ = true;
        cudaGetLastError();
        std::fprintf(stderr, "cuda: @%s runs without a CUDA graph: %s\n", f_.name.c_str(), captured.error().str().c_str());
        if (auto s = runSteps(cx, scratch); !s) return s;
      } else
        KILN_CUDA_TRY(cudaGraphLaunch(graph_, cx.stream), "replaying @" + f_.name);
    } else {
      if (auto s = runSteps(cx, scratch); !s) return s;
    }
    return finish(cx, scratch, outputs);
  }

  ~CudaFunction() { dropGraph(); }

 private:
  static bool graphsEnabled() {
    static const bool on = [] {
      const char* v = std::getenv("KILN_CUDA_GRAPHS");
      return !(v && std::string(v) == "0");
    }();
    return on;
  }

  void dropGraph() {
    if (graph_) cudaGraphExecDestroy(graph_);
    graph_ = nullptr;
  }

  // One call's steps recorded into a graph (nothing runs while capturing).
  Status capture(CudaContext& cx, Scratch& scratch) {
    KILN_CUDA_TRY(cudaStreamBeginCapture(cx.stream, cudaStreamCaptureModeThreadLocal), "capturing @" + f_.name);
    graphGeneration_ = scratch.generation;
    Status run = runSteps(cx, scratch);
    cudaGraph_t g = nullptr;
    cudaError_t end = cudaStreamEndCapture(cx.stream, &g);
    if (!run) {
      if (g) cudaGraphDestroy(g);
      return run;
    }
    KILN_CUDA_TRY(end, "capturing @" + f_.name);
    cudaError_t inst = cudaGraphInstantiate(&graph_, g, 0);
    cudaGraphDestroy(g);
    if (inst != cudaSuccess) graph_ = nullptr;
    KILN_CUDA_TRY(inst, "instantiating the graph of @" + f_.name);
    return okStatus();
  }

  // Views and state reads: pointer bindings only, which a replay must redo on the host.
  void rebindViews() {
    for (Step& st : steps_) bind(st);
  }

  bool bind(Step& st) {
    switch (st.how.kind) {
      case StepKind::Assign:
        assigns_.emplace_back(st.state, st.in[0]);
        return true;
      case StepKind::View: {
        const int64_t offset = st.op->kind == OpKind::Slice ? sliceOffset(*st.op) : 0;
        ptr_[st.out[0]] = storedAsBf16(st.op->result())  // two bytes an element
                              ? reinterpret_cast<float*>(reinterpret_cast<uint16_t*>(ptr_[st.in[0]]) + offset)
                              : ptr_[st.in[0]] + offset;
        return true;
      }
      case StepKind::StateRead:
        ptr_[st.out[0]] = st.state->floats();
        return true;
      case StepKind::AllReduce:  // one process: the value as it is
        ptr_[st.out[0]] = ptr_[st.in[0]];
        return true;
      case StepKind::Constant:
        ptr_[st.out[0]] = st.constant.floats();
        return true;
      default:
        for (const auto& [s, buffer] : st.inState) ptr_[s] = buffer->floats();  // updated in place
        return false;
    }
  }

  Status runSteps(CudaContext& cx, Scratch& scratch, OpProfile* profile = nullptr) {
    KILN_CUDA_TRY(cudaMemsetAsync(scratch.flags.get(), 0xff, scratch.flags.bytes(), cx.stream), "clearing the error flags");
    if (profile) KILN_CUDA_TRY(cudaStreamSynchronize(cx.stream), "before profiling @" + f_.name);
    for (Step& st : steps_) {
      if (bind(st)) continue;
      const auto t0 = std::chrono::steady_clock::now();
      if (auto s = runStep(st, cx, scratch); !s) return where(*st.op, s.error().str());
      if (cudaError_t e = cudaGetLastError(); e != cudaSuccess)
        return where(*st.op, std::string("launch failed: ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
      if (profile) {
        if (cudaError_t e = cudaStreamSynchronize(cx.stream); e != cudaSuccess) return where(*st.op, cudaGetErrorString(e));
        profile->add(*st.op, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
    }
    return okStatus();
  }

  static Reduction reductionOf(const Op& op) {
    const std::string& r = op.attrs.getStr("reduction");
    return r == "sum" ? Reduction::Sum : r == "none" ? Reduction::None : Reduction::Mean;
  }

  static Status outOfScratch() { return makeError({}, "out of GPU memory for a kernel's scratch"); }

  static Status where(const Op& op, const std::string& what) {
    return makeError(op.textLoc.known() ? op.textLoc : op.loc, std::string(mnemonic(op.kind)) + " on the GPU: " + what);
  }

  float* in(const Step& st, size_t i) const { return ptr_[st.in[i]]; }
  float* out(const Step& st, size_t i) const { return ptr_[st.out[i]]; }

  Status prepareStep(Step& st, CudaContext& cx, const FusedKernelPlan* fused, std::map<std::string, DeviceMemory>& state) {
    const Op& op = *st.op;
    switch (st.how.kind) {
      case StepKind::Assign:
      case StepKind::StateRead:
        st.state = &state.at(op.stateRef);
        return okStatus();
      case StepKind::Constant: {
        ref::Tensor t(op.result()->type);
        std::vector<float> v(size_t(t.size()));
        std::vector<View<const float>> none;
        std::vector<View<float>> outs{View<float>(op.result()->type, v.data())};
        if (std::string err = kernels::runKernel<float>(op, none, outs); !err.empty()) return where(op, err);
        if (auto s = st.constant.reserve(v.size() * 4, "a constant"); !s) return s;
        KILN_CUDA_TRY(cudaMemcpy(st.constant.get(), v.data(), v.size() * 4, cudaMemcpyHostToDevice), "uploading a constant");
        return okStatus();
      }
      case StepKind::Matmul: {
        auto p = cx.lt->prepare(*st.how.matmul);
        if (!p) return where(op, p.error().str());
        st.matmul = *p;
        return okStatus();
      }
      case StepKind::Fused: {
        KILN_CUDA_TRY(cudaLibraryGetKernel(&st.kernel, cx.library, fused->symbol.c_str()),
                      "the generated kernel " + fused->symbol + " (a damaged executable)");
        st.launch = fusedLaunch(*fused);
        return okStatus();
      }
      case StepKind::AdamWGroup: {
        std::vector<int64_t> sizes;
        for (size_t j = 0; j < adamwParameters(op); ++j)
          sizes.push_back(op.operands[adamwOperand(op, j, AdamWOperand::P)]->type.numElements());
        const std::vector<AdamWChunk> chunks = adamwChunks(sizes);
        st.adamwChunks = int64_t(chunks.size());
        const size_t paramBytes = sizes.size() * sizeof(AdamWParam);
        if (auto s = st.adamw.reserve(paramBytes + chunks.size() * sizeof(AdamWChunk), "the optimizer's launch table"); !s) return s;
        KILN_CUDA_TRY(cudaMemcpy(static_cast<char*>(st.adamw.get()) + paramBytes, chunks.data(), chunks.size() * sizeof(AdamWChunk),
                                 cudaMemcpyHostToDevice),
                      "uploading the optimizer's chunks");
        return okStatus();
      }
      default:
        return okStatus();
    }
  }

  Status runStep(Step& st, CudaContext& cx, Scratch& scratch) {
    const Op& op = *st.op;
    const OpLowering& h = st.how;
    void* s = cx.stream;
    switch (h.kind) {
      case StepKind::Matmul: {
        const bool bias = op.kind == OpKind::MatmulBias;
        if (auto r = cx.lt->run(*st.matmul, in(st, 0), in(st, 1), bias ? in(st, 2) : nullptr, op.operands.size() > 3 ? in(st, 3) : nullptr,
                                out(st, 0), s);
            !r)
          return r;
        if (h.matmul->geluErfAfter) geluErfInPlace(out(st, 0), op.result()->type.numElements(), s);
        return okStatus();
      }
      case StepKind::Fused: {
        std::vector<float*> pointers;
        for (size_t i = 0; i < st.in.size(); ++i) pointers.push_back(in(st, i));
        pointers.push_back(out(st, 0));
        std::vector<void*> args;
        for (float*& p : pointers) args.push_back(&p);
        KILN_CUDA_TRY(cudaLaunchKernel(reinterpret_cast<const void*>(st.kernel), dim3(unsigned(st.launch.blocks)),
                                       dim3(unsigned(st.launch.threads)), args.data(), 0, cx.stream),
                      "launching " + op.attrs.getStr("expr"));
        return okStatus();
      }
      case StepKind::LayerNorm:
        layerNorm(in(st, 0), nullptr, in(st, 1), in(st, 2), nullptr, out(st, 0), h.rows, h.cols, float(op.attrs.getFloat("eps")), s);
        return okStatus();
      case StepKind::AddLayerNorm:
        layerNorm(in(st, 0), in(st, 1), in(st, 2), in(st, 3), out(st, 0), out(st, 1), h.rows, h.cols, float(op.attrs.getFloat("eps")), s);
        return okStatus();
      case StepKind::LayerNormGrad: {
        float* work = scratch.floats(columnSumLaunch(h.rows, h.cols).workspaceFloats);
        if (!work) return outOfScratch();
        layerNormGrad(in(st, 0), in(st, 1), in(st, 2), op.operands.size() > 3 ? in(st, 3) : nullptr, out(st, 0), out(st, 1), out(st, 2),
                      work, h.rows, h.cols, float(op.attrs.getFloat("eps")), s);
        return okStatus();
      }
      case StepKind::CrossEntropyWithGrad: {
        float* work = scratch.floats(size_t(h.rows) + 2);
        if (!work) return outOfScratch();
        crossEntropyWithGrad(in(st, 0), in(st, 1), in(st, 2), out(st, 0), out(st, 1), work, scratch.badRow(), h.rows, h.cols,
                             int32_t(op.attrs.getInt("ignore_index")),
                             reductionOf(op), s);
        return okStatus();
      }
      case StepKind::Attention:
      case StepKind::AttentionGrad: {
        AttentionShape a = h.attention;
        const size_t maskAt = h.kind == StepKind::Attention ? 3 : 4;
        if (op.operands.size() > maskAt) a.mask = in(st, maskAt);
        // Scratch: attention_grad's row statistics, then the bf16 operands widened to f32 (the
        // kernels compute in f32 on the rounded values, as the reference does).
        const size_t stats = h.kind == StepKind::AttentionGrad ? size_t(3 * a.B * a.H * a.T) : 0;
        size_t widened = 0;
        for (const Value* v : op.operands) widened += storedAsBf16(v) ? size_t(v->type.numElements()) : 0;
        float* work = scratch.floats(std::max<size_t>(1, stats + widened));
        if (!work) return outOfScratch();
        std::vector<const float*> x(st.in.size());
        float* next = work + stats;
        for (size_t i = 0; i < st.in.size(); ++i) {
          x[i] = in(st, i);
          if (!storedAsBf16(op.operands[i])) continue;
          const int64_t n = op.operands[i]->type.numElements();
          widenBf16(reinterpret_cast<const uint16_t*>(x[i]), next, n, s);
          x[i] = next;
          next += n;
        }
        if (h.kind == StepKind::Attention) attention(x[0], x[1], x[2], out(st, 0), a, s);
        else attentionGrad(x[0], x[1], x[2], x[3], out(st, 0), out(st, 1), out(st, 2), work, a, s);
        return okStatus();
      }
      case StepKind::RoundBf16:
        roundBf16(in(st, 0), reinterpret_cast<uint16_t*>(out(st, 0)), op.result()->type.numElements(), s);
        return okStatus();
      case StepKind::WidenBf16:
        widenBf16(reinterpret_cast<const uint16_t*>(in(st, 0)), out(st, 0), op.result()->type.numElements(), s);
        return okStatus();
      case StepKind::AdamWGroup:
        return runAdamW(st, cx);
      case StepKind::StridedCopy:
        stridedCopy(in(st, 0), h.base, h.strided, out(st, 0), op.result()->type.numElements(), s);
        return okStatus();
      case StepKind::Concat: {
        const Shape& os = op.result()->type.shape;
        int64_t outer = 1, inner = 1;
        for (int d = 0; d < h.concatAxis; ++d) outer *= os[size_t(d)];
        for (size_t d = size_t(h.concatAxis) + 1; d < os.size(); ++d) inner *= os[d];
        int64_t at = 0;
        for (size_t i = 0; i < st.in.size(); ++i) {
          const int64_t chunk = op.operands[i]->type.shape[size_t(h.concatAxis)] * inner;
          concatInto(in(st, i), out(st, 0), outer, chunk, os[size_t(h.concatAxis)] * inner, at, s);
          at += chunk;
        }
        return okStatus();
      }
      case StepKind::Gather:
        gather(in(st, 0), in(st, 1), out(st, 0), h.indexed, scratch.badIndex(), s);
        return okStatus();
      case StepKind::ScatterAdd: {
        float* work = scratch.floats(scatterAddWorkspaceBytes(h.indexed) / 4 + 1);
        if (!work) return outOfScratch();
        scatterAdd(in(st, 0), in(st, 1), in(st, 2), out(st, 0), h.indexed, scratch.badIndex(), work, s);
        return okStatus();
      }
      case StepKind::Reduce:
        reduce(in(st, 0), h.strided, h.reduced, out(st, 0), op.result()->type.numElements(), h.perOutput, h.reduceMode, s);
        return okStatus();
      case StepKind::Pad:
        pad(in(st, 0), h.pad, float(op.attrs.getFloat("value")), out(st, 0), op.result()->type.numElements(), s);
        return okStatus();
      case StepKind::Cast:
        cast(in(st, 0), out(st, 0), op.result()->type.numElements(), h.castTo, s);
        return okStatus();
      case StepKind::CrossEntropy:
      case StepKind::CrossEntropyGrad: {
        float* work = scratch.floats(2 * size_t(h.rows) + 3);  // rows + 2, then the unwanted loss (a row each at most)
        if (!work) return outOfScratch();
        const bool loss = h.kind == StepKind::CrossEntropy;
        // The loss alone writes no gradient; the gradient alone leaves its loss in the scratch.
        crossEntropyWithGrad(in(st, 0), in(st, 1), loss ? nullptr : in(st, 2), loss ? out(st, 0) : work + h.rows + 2,
                             loss ? nullptr : out(st, 0), work, scratch.badRow(), h.rows, h.cols, int32_t(op.attrs.getInt("ignore_index")),
                             reductionOf(op), s);
        return okStatus();
      }
      case StepKind::Softmax:
        softmax(in(st, 0), out(st, 0), h.outer, h.len, h.inner, op.kind == OpKind::LogSoftmax, s);
        return okStatus();
      case StepKind::SoftmaxGrad:
        softmaxGrad(in(st, 0), in(st, 1), out(st, 0), h.outer, h.len, h.inner, op.kind == OpKind::LogSoftmaxGrad, s);
        return okStatus();
      case StepKind::Elementwise:
        elementwise(h.code, in(st, 0), st.in.size() > 1 ? in(st, 1) : nullptr, st.in.size() > 2 ? in(st, 2) : nullptr, out(st, 0),
                    h.broadcast, op.result()->type.numElements(), s);
        return okStatus();
      case StepKind::Host:
        return runOnHost(st, cx);
      default:
        return okStatus();
    }
  }

  // Each parameter's p, m, v updated in place in their result buffers (copied there first when
  // the plan put a result elsewhere); the launch table is uploaded when its pointers change.
  Status runAdamW(Step& st, CudaContext& cx) {
    const Op& op = *st.op;
    const size_t n = adamwParameters(op);
    std::vector<AdamWParam> params(n);
    for (size_t j = 0; j < n; ++j) {
      float* result[3];
      for (size_t k = 0; k < 3; ++k) {
        const size_t from = adamwOperand(op, j, k == 0 ? AdamWOperand::P : k == 1 ? AdamWOperand::M : AdamWOperand::V);
        result[k] = out(st, 3 * j + k);
        if (result[k] != in(st, from))
          KILN_CUDA_TRY(cudaMemcpyAsync(result[k], in(st, from), size_t(op.operands[from]->type.numElements()) * 4,
                                        cudaMemcpyDeviceToDevice, cx.stream),
                        "adamw_group");
      }
      params[j] = AdamWParam{result[0], result[1], result[2], in(st, adamwOperand(op, j, AdamWOperand::G)),
                             in(st, adamwOperand(op, j, AdamWOperand::P) + 4)};
    }
    const bool same = st.adamwParams.size() == n && std::memcmp(st.adamwParams.data(), params.data(), n * sizeof(AdamWParam)) == 0;
    if (!same) {
      cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
      cudaStreamIsCapturing(cx.stream, &capturing);
      if (capturing != cudaStreamCaptureStatusNone) return makeError({}, "the optimizer's buffers moved while capturing a graph");
      KILN_CUDA_TRY(cudaMemcpy(st.adamw.get(), params.data(), n * sizeof(AdamWParam), cudaMemcpyHostToDevice), "the optimizer's launch table");
      st.adamwParams = params;
    }
    const auto* table = static_cast<const AdamWParam*>(st.adamw.get());
    const auto* chunks = reinterpret_cast<const AdamWChunk*>(static_cast<const char*>(st.adamw.get()) + n * sizeof(AdamWParam));
    adamwGroup(table, chunks, st.adamwChunks, in(st, 0), in(st, 1), in(st, 2), float(op.attrs.getFloat("beta1")),
               float(op.attrs.getFloat("beta2")), float(op.attrs.getFloat("eps")), cx.stream);
    return okStatus();
  }

  // The shared f32 kernel on the host: operands copied out, results copied back (the stream
  // waits; such a function is never captured).
  Status runOnHost(Step& st, CudaContext& cx) {
    const Op& op = *st.op;
    KILN_CUDA_TRY(cudaStreamSynchronize(cx.stream), "before " + std::string(mnemonic(op.kind)) + " on the host");
    std::vector<std::vector<float>> ins(st.in.size()), outs(st.out.size());
    std::vector<View<const float>> inViews;
    std::vector<View<float>> outViews;
    for (size_t i = 0; i < st.in.size(); ++i) {
      const Value* v = op.operands[i];
      ins[i].resize(size_t(v->type.numElements()));
      if (auto r = download(in(st, i), v, ins[i].data()); !r) return r;
      inViews.emplace_back(v->type, ins[i].data());
    }
    for (size_t i = 0; i < st.out.size(); ++i) {
      outs[i].resize(size_t(op.result(int(i))->type.numElements()));
      outViews.emplace_back(op.result(int(i))->type, outs[i].data());
    }
    if (std::string err = kernels::runKernel<float>(op, inViews, outViews); !err.empty()) return makeError({}, err);
    std::vector<std::vector<uint16_t>> narrow(st.out.size());
    for (size_t i = 0; i < st.out.size(); ++i) {
      const void* from = outs[i].data();
      size_t bytes = outs[i].size() * 4;
      if (storedAsBf16(op.result(int(i)))) {
        narrow[i].resize(outs[i].size());
        kiln::roundToBf16(outs[i].data(), narrow[i].data(), int64_t(narrow[i].size()));
        from = narrow[i].data(), bytes /= 2;
      }
      KILN_CUDA_TRY(cudaMemcpyAsync(out(st, i), from, bytes, cudaMemcpyHostToDevice, cx.stream), "copying a result to the GPU");
    }
    KILN_CUDA_TRY(cudaStreamSynchronize(cx.stream), "copying the results of " + std::string(mnemonic(op.kind)) + " to the GPU");
    return okStatus();
  }

  // A value's elements to the host as f32 (bf16 storage widened).
  static Status download(const float* from, const Value* v, float* to) {
    const size_t n = size_t(v->type.numElements());
    if (!storedAsBf16(v)) {
      KILN_CUDA_TRY(cudaMemcpy(to, from, n * 4, cudaMemcpyDeviceToHost), "copying a value to the host");
      return okStatus();
    }
    std::vector<uint16_t> narrow(n);
    KILN_CUDA_TRY(cudaMemcpy(narrow.data(), from, n * 2, cudaMemcpyDeviceToHost), "copying a value to the host");
    kiln::widenBf16(narrow.data(), to, int64_t(n));
    return okStatus();
  }

  Status finish(CudaContext& cx, Scratch& scratch, std::vector<ref::Tensor>& outputs) {
    KILN_CUDA_TRY(cudaStreamSynchronize(cx.stream), "running @" + f_.name + " on the GPU");
    if (auto s = scratch.checkFlags(f_); !s) return s;
    outputs.clear();
    for (size_t k = 0; k < outputs_.size(); ++k) {
      ref::Tensor t(f_.outputs[k]->type);
      std::vector<float> host(size_t(t.size()));
      if (auto r = download(ptr_[outputs_[k]], f_.outputs[k], host.data()); !r) return r;
      for (int64_t i = 0; i < t.size(); ++i) t[i] = host[size_t(i)];
      t.roundToType();
      outputs.push_back(std::move(t));
    }
    // Commit assignments; staged first, since a new value may alias another state's buffer.
    std::vector<std::pair<DeviceMemory*, DeviceMemory>> staged;
    for (const auto& [buffer, s] : assigns_) {
      if (ptr_[s] == buffer->floats()) continue;  // updated in place
      DeviceMemory copy;
      if (auto r = copy.reserve(buffer->bytes(), "committing a state"); !r) return r;
      KILN_CUDA_TRY(cudaMemcpyAsync(copy.get(), ptr_[s], buffer->bytes(), cudaMemcpyDeviceToDevice, cx.stream), "committing a state");
      staged.emplace_back(buffer, std::move(copy));
    }
    for (auto& [buffer, copy] : staged)
      KILN_CUDA_TRY(cudaMemcpyAsync(buffer->get(), copy.get(), buffer->bytes(), cudaMemcpyDeviceToDevice, cx.stream), "committing a state");
    KILN_CUDA_TRY(cudaStreamSynchronize(cx.stream), "committing the state of @" + f_.name);
    return okStatus();
  }

  const Function& f_;
  ArenaPlan plan_;
  std::vector<Step> steps_;
  std::vector<float*> ptr_;
  std::vector<size_t> params_, outputs_;
  std::vector<std::pair<size_t, int64_t>> placed_;
  std::vector<DeviceMemory> inputs_;
  std::vector<PinnedMemory> staging_;
  std::vector<std::pair<DeviceMemory*, size_t>> assigns_;
  float* boundArena_ = nullptr;
  int hostSteps_ = 0;
  int64_t calls_ = 0;
  cudaGraphExec_t graph_ = nullptr;
  uint64_t graphGeneration_ = 0;
  bool graphRefused_ = false;  // capturing failed once: eager from then on
};

class CudaEngine : public Engine {
 public:
  CudaEngine(const Module& m, std::unique_ptr<CudaContext> cx, ArenaPlans plans, KernelPlans kernelPlans)
      : m_(m), cx_(std::move(cx)), plans_(std::move(plans)), kernelPlans_(std::move(kernelPlans)) {}

  std::string device() const override {
    return "cuda (f32, " + cx_->lt->version() + " matmuls, generated kernels from " + cx_->codeKind + ", one planned arena)";
  }

  Status init() {
    if (auto s = scratch_.flags.reserve(64, "the error flags"); !s) return s;
    for (const StateVar& s : m_.states) {
      if (auto r = state_[s.name].reserve(size_t(s.type.numElements()) * 4, "state @" + s.name); !r) return r;
      if (s.type.numElements() > ref::kMaxReferenceElements)
        return makeError(s.loc, "state @" + s.name + " (" + s.type.str() + ") is too large to initialize");
      setStateTensor(s.name, ref::initialValue(s));
    }
    return okStatus();
  }

  Expected<std::vector<ref::Tensor>> call(const std::string& fn, const std::vector<ref::Tensor>& inputs) override {
    const Function* f = m_.findFunction(fn);
    if (!f) return makeError({}, "no function @" + fn);
    auto it = functions_.find(fn);
    if (it == functions_.end()) {
      auto plan = plans_.find(fn);
      if (plan == plans_.end()) return makeError({}, "no arena plan for @" + fn + " (a damaged executable)");
      auto cf = std::make_unique<CudaFunction>(*f, plan->second);
      if (auto s = cf->prepare(*cx_, kernelPlans_, state_); !s) return s.error();
      if (auto s = arena_.reserve(size_t(cf->arenaBytes()) + 64, "the arena of @" + fn); !s) return s.error();
      it = functions_.emplace(fn, std::move(cf)).first;
    }
    if (auto s = checkCallInputs(*f, inputs); !s) return s.error();
    std::vector<ref::Tensor> outs;
    if (auto s = it->second->call(*cx_, inputs, arena_.floats(), scratch_, outs, profiling_ ? &profile_ : nullptr); !s) return s.error();
    return outs;
  }

  // Each step timed on its own (the stream drained after it), without the graph: where the time
  // goes, at some cost to the total.
  void setProfiling(bool on) override { profiling_ = on; }
  std::vector<ProfileEntry> profileByKind() const override { return profile_.entries(profile_.byKind); }
  std::vector<ProfileEntry> profileByComponent() const override { return profile_.entries(profile_.byComponent); }

  ref::StateStore snapshot() const override {
    ref::StateStore st;
    for (const StateVar& s : m_.states) st[s.name] = stateTensor(s.name);
    return st;
  }

  ref::Tensor stateTensor(const std::string& name) const override {
    const StateVar* s = m_.findState(name);
    KILN_ASSERT(s, "no state @" + name);
    ref::Tensor t(s->type);
    std::vector<float> host(size_t(t.size()));
    cudaStreamSynchronize(cx_->stream);
    const cudaError_t e = cudaMemcpy(host.data(), state_.at(name).get(), host.size() * 4, cudaMemcpyDeviceToHost);
    KILN_ASSERT(e == cudaSuccess, std::string("copying state @") + name + " from the GPU: " + cudaGetErrorString(e));
    for (int64_t i = 0; i < t.size(); ++i) t[i] = host[size_t(i)];
    return t;
  }

  void setStateTensor(const std::string& name, const ref::Tensor& value) override {
    std::vector<float> host(value.data.begin(), value.data.end());
    cudaError_t e = cudaMemcpyAsync(state_.at(name).get(), host.data(), host.size() * 4, cudaMemcpyHostToDevice, cx_->stream);
    if (e == cudaSuccess) e = cudaStreamSynchronize(cx_->stream);  // `host` is freed on return
    KILN_ASSERT(e == cudaSuccess, std::string("copying state @") + name + " to the GPU: " + cudaGetErrorString(e));
  }

  Status restore(const ref::StateStore& st) override {
    for (const auto& [name, t] : st) setStateTensor(name, t);
    return okStatus();
  }

 private:
  const Module& m_;
  std::unique_ptr<CudaContext> cx_;
  ArenaPlans plans_;
  KernelPlans kernelPlans_;
  std::map<std::string, DeviceMemory> state_;
  std::map<std::string, std::unique_ptr<CudaFunction>> functions_;  // after state_: their steps point into it
  DeviceMemory arena_;
  Scratch scratch_;
  bool profiling_ = false;
  OpProfile profile_;
};

}  // namespace

float* Scratch::floats(size_t n) {
  if (n * 4 > work.bytes()) {
    // Grown only before the first capture of a function that needs more (prepare runs every
    // op once eagerly first), so a replayed graph never sees a freed buffer.
    cudaDeviceSynchronize();
    ++generation;
    if (!work.reserve(n * 4, "kernel scratch")) return nullptr;
  }
  return work.floats();
}

unsigned long long* Scratch::badIndex() { return static_cast<unsigned long long*>(flags.get()); }
int64_t* Scratch::badRow() { return reinterpret_cast<int64_t*>(static_cast<char*>(flags.get()) + 8); }

Status Scratch::checkFlags(const Function& f) {
  int64_t host[2] = {0, 0};
  KILN_CUDA_TRY(cudaMemcpy(host, flags.get(), sizeof host, cudaMemcpyDeviceToHost), "reading the error flags");
  if (uint64_t(host[0]) != ~uint64_t(0))
    return makeError({}, "@" + f.name + ": an index at position " + std::to_string(host[0]) + " of a gather or scatter_add is out of range");
  if (host[1] >= 0)
    return makeError({}, "@" + f.name + ": the label of row " + std::to_string(host[1]) + " is out of range for the cross-entropy");
  return okStatus();
}

Expected<std::unique_ptr<Engine>> makeCudaEngine(const Module& m, const CudaCode& code, ArenaPlans plans, KernelPlans kernelPlans) {
  auto cx = std::make_unique<CudaContext>();
  // A blocking stream: the few synchronous copies (constants, launch tables, checkpoints) on the
  // default stream are ordered with its kernels.
  KILN_CUDA_TRY(cudaStreamCreate(&cx->stream), "creating a CUDA stream");
  auto lt = CublasLt::open();
  if (!lt) return lt.error();
  cx->lt = lt.take();
  if (!code.cubin.empty() || !code.ptx.empty()) {
    // The cubin where this GPU runs sm_90 code; else the PTX, which the driver compiles for it.
    if (!code.cubin.empty() &&
        cudaLibraryLoadData(&cx->library, code.cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0) == cudaSuccess)
      cx->codeKind = "sm_90 cubin";
    else {
      cudaGetLastError();
      KILN_CUDA_TRY(cudaLibraryLoadData(&cx->library, code.ptx.c_str(), nullptr, nullptr, 0, nullptr, nullptr, 0),
                    "loading the generated kernels (PTX) on this GPU");
      cx->codeKind = "compute_90 PTX, compiled by the driver";
    }
  } else cx->codeKind = "none (no fused ops)";
  auto e = std::make_unique<CudaEngine>(m, std::move(cx), std::move(plans), std::move(kernelPlans));
  if (auto s = e->init(); !s) return s.error();
  return std::unique_ptr<Engine>(std::move(e));
}

}  // namespace kiln::cuda
