// The cpu device: every value in one arena laid out by the memory plan (f32 storage for every
// dtype but bf16, which mixed precision stores natively for oneDNN's bf16 matmuls; integers are
// exact below 2^24). Matmuls and softmax as oneDNN primitives and attention
// in query blocks, fused ops as generated kernels, every other op through the shared f32
// kernels; all of it resolved once, when a function is first called, into a list of steps. State lives in device buffers;
// state_read results alias them and assignments commit when the call returns, except the
// optimizer results the memory plan places in their state's own buffer (updated in place).
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <set>
#include <unordered_map>

#include "ir/adamw_operands.h"
#include "ir/arena_plan.h"
#include "ir/cost_model.h"
#include "ir/views.h"
#include "targets/cpu/attention_lowering.h"
#include "eval/kernels/bf16_storage.h"
#include "targets/cpu/dnnl_primitives.h"
#include "targets/cpu/fused_kernel_plan.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/op_profile.h"
#include "runtime/parallel/collectives.h"
#include "targets/cpu/cpu_device.h"
#include "eval/kernels/dispatch.h"
#include "eval/kernels/elementwise.h"

namespace kiln {

namespace {

using kernels::View;

// Scratch memory outside the arena, shared by a module's functions (which never run at the same
// time) and grown to the largest need: one block of attention scores, one packed matmul operand.
struct Workspace {
  std::vector<float> scores, packed, widened;
  static float* atLeast(std::vector<float>& v, size_t floats) {
    if (v.size() < floats) v.assign(floats, 0.0f);
    return v.data();
  }
};

// A fused op bound to its generated kernels.
struct FusedCall {
  FusedKernelPlan plan;
  void* block = nullptr;
  void* tail = nullptr;
};

// One op, prepared once when its function is first called: what runs it (a oneDNN primitive,
// an attention lowering, a generated kernel, the shared kernel, or a binding) and the slots of
// its operands and results in the function's pointer table. Nothing is looked up per op per
// call: the call walks these steps and indexes the table.
struct Step {
  enum class Kind { Assign, View, StateRead, AllReduce, ShardedAdamW, Matmul, Softmax, Fused, Attention, RoundBf16, WidenBf16, Kernel };
  const Op* op = nullptr;
  Kind kind = Kind::Kernel;
  std::vector<size_t> in, out;  // slots of operands and results
  int64_t viewOffset = 0;       // View: elements into the operand
  bool bf16 = false;            // View: of a bf16 value (2-byte elements); Attention, Kernel: touches one
  std::vector<float>* state = nullptr;  // StateRead, Assign: the state's buffer
  std::vector<std::pair<size_t, std::vector<float>*>> inState;  // results placed in their state's buffer
  size_t prepared = 0;                  // Matmul, Softmax, Fused, Attention: index of its primitive
  std::vector<float*> args;             // scratch for the operand pointers of a call
  int reduction = -1;                   // AllReduce: its index among the function's all_reduce ops
  std::vector<int> waits;               // the reductions whose results this step reads first
};

class CpuFunction {
 public:
  // `state` is the engine's state by name; its entries (and so the vectors) outlive this function.
  CpuFunction(const Function& f, const ArenaPlan& plan, const dnnl::engine& eng, const KernelLibrary* kernels,
              const KernelPlans& kernelPlans, std::map<std::string, std::vector<float>>& state)
      : f_(f), arenaBytes_(plan.arenaBytes) {
    std::unordered_map<const Value*, size_t> slotOf;  // only while preparing
    std::unordered_map<size_t, int> reducedBy;         // slot -> the all_reduce whose result it views
    auto slot = [&](const Value* v) { return slotOf.emplace(v, slotOf.size()).first->second; };
    for (const auto& p : f.params) params_.push_back(slot(p.get()));
    for (const auto& op : f.ops)
      for (const auto& r : op->results) slot(r.get());
    ptr_.assign(slotOf.size(), nullptr);
    for (const auto& [v, offset] : plan.offsets) placed_.emplace_back(slot(v), offset / 4);
    for (const Value* v : f.outputs) outputs_.push_back(slot(v));
    for (const auto& opPtr : f.ops) {
      const Op& op = *opPtr;
      Step st;
      st.op = &op;
      for (const Value* v : op.operands) st.in.push_back(slot(v));
      for (const auto& r : op.results) {
        st.out.push_back(slot(r.get()));
        if (auto in = plan.inState.find(r.get()); in != plan.inState.end())
          st.inState.emplace_back(st.out.back(), &state.at(in->second));
      }
      st.args.resize(st.in.size());
      prepare(st, eng, kernels, kernelPlans, state);
      trackReductions(st, reducedBy);
      steps_.push_back(std::move(st));
    }
  }

  // The functions of a module never run at the same time, so they share one arena (sized for
  // the largest plan); each call binds this function's values into it.
  Status call(const std::vector<ref::Tensor>& inputs, const dnnl::engine& eng, dnnl::stream& strm,
              std::vector<ref::Tensor>& outputs, OpProfile* profile, float* arena, Workspace& work) {
    if (arena != boundArena_) {
      for (const auto& [s, offset] : placed_) ptr_[s] = arena + offset;
      boundArena_ = arena;
    }
    std::vector<std::vector<float>> inputBuffers(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      inputBuffers[i].assign(inputs[i].data.begin(), inputs[i].data.end());
      if (storedAsBf16(f_.params[i].get())) {  // stored as bf16 (in the buffer's first half)
        const std::vector<float> values = inputBuffers[i];
        roundToBf16(values.data(), reinterpret_cast<uint16_t*>(inputBuffers[i].data()), int64_t(values.size()));
      }
      ptr_[params_[i]] = inputBuffers[i].data();
    }
    assigns_.clear();
    Collectives& ranks = processCollectives();
    const bool reducing = reductions_ > 0 && ranks.size() > 1;
    if (reducing) requests_.assign(size_t(reductions_), -1);
    for (Step& st : steps_) {
      if (reducing)
        for (int r : st.waits) awaitReduction(ranks, r, profile);
      auto t0 = profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      Status s = run(st, eng, strm, work);
      if (!s) return s;
      if (profile) profile->add(*st.op, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      if (reducing) {
        if (st.kind == Step::Kind::AllReduce) {
          requests_[size_t(st.reduction)] = ranks.startAllReduce(ptr_[st.out[0]], st.op->result()->type.numElements(),
                                                                 st.op->attrs.getStr("reduce") == "mean");
          if (blockingReductions()) awaitReduction(ranks, st.reduction, profile);
        }
        ranks.progress();
      }
    }
    if (reducing)
      for (int r = 0; r < reductions_; ++r) awaitReduction(ranks, r, profile);  // the outputs read them
    return finish(outputs);
  }

  int64_t arenaBytes() const { return arenaBytes_; }

 private:
  // An all_reduce is started where it stands and waited for where a step first reads its result
  // (through the slices and reshapes that view it): the ops between overlap the communication.
  void trackReductions(Step& st, std::unordered_map<size_t, int>& reducedBy) {
    if (st.kind == Step::Kind::AllReduce) {
      st.reduction = reductions_++;
      reducedBy[st.out[0]] = st.reduction;
      return;
    }
    for (size_t in : st.in)
      if (auto r = reducedBy.find(in); r != reducedBy.end()) {
        if (st.kind == Step::Kind::View) reducedBy[st.out[0]] = r->second;
        else if (std::find(st.waits.begin(), st.waits.end(), r->second) == st.waits.end()) st.waits.push_back(r->second);
      }
    if (st.kind == Step::Kind::View) st.waits.clear();
  }

  // KILN_BLOCKING_ALLREDUCE=1 waits for each reduction where it starts: the communication's
  // whole time, which the profile then shows as waiting (to measure how much overlap hides).
  static bool blockingReductions() {
    static const bool blocking = [] {
      const char* v = std::getenv("KILN_BLOCKING_ALLREDUCE");
      return v && std::string(v) == "1";
    }();
    return blocking;
  }

  void awaitReduction(Collectives& ranks, int r, OpProfile* profile) {
    int64_t& request = requests_[size_t(r)];
    if (request < 0) return;
    auto t0 = std::chrono::steady_clock::now();
    ranks.wait(request);
    request = -1;
    if (profile) profile->addWait(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }

  void prepare(Step& st, const dnnl::engine& eng, const KernelLibrary* kernels, const KernelPlans& kernelPlans,
               std::map<std::string, std::vector<float>>& state) {
    const Op& op = *st.op;
    using K = Step::Kind;
    if (op.kind == OpKind::StateAssign || op.kind == OpKind::StateRead) {
      st.kind = op.kind == OpKind::StateAssign ? K::Assign : K::StateRead;
      st.state = &state.at(op.stateRef);
      return;
    }
    for (const Value* v : op.operands) st.bf16 |= storedAsBf16(v);
    for (const auto& r : op.results) st.bf16 |= storedAsBf16(r.get());
    if (op.kind == OpKind::Cast && storedAsBf16(op.result()) && op.operands[0]->type.dtype == DType::F32) {
      st.kind = K::RoundBf16;
      return;
    }
    if (op.kind == OpKind::Cast && storedAsBf16(op.operands[0]) && op.result()->type.dtype == DType::F32) {
      st.kind = K::WidenBf16;
      return;
    }
    if ((op.kind == OpKind::AdamWUpdate || op.kind == OpKind::AdamWGroup) && op.attrs.getBool("shard") &&
        processCollectives().size() > 1) {
      st.kind = K::ShardedAdamW;  // this rank's shard of each parameter, then gathered
      return;
    }
    if (op.kind == OpKind::AllReduce) {  // in place: the result is the operand's storage
      KILN_ASSERT(!st.bf16, "all_reduce of a bf16 value on the cpu device");
      st.kind = K::AllReduce;
      return;
    }
    if (isView(&op)) {
      st.kind = K::View;
      st.viewOffset = op.kind == OpKind::Slice ? sliceOffset(op) : 0;
      return;
    }
    if (op.kind == OpKind::Matmul || op.kind == OpKind::MatmulBias) {
      try {
        MatmulPrimitive mp = makeMatmul(op, eng);
        if (mp.packs) packFloats_ = std::max(packFloats_, mp.packed.get_size() / sizeof(float));
        st.kind = K::Matmul;
        st.prepared = matmuls_.size();
        matmuls_.push_back(std::move(mp));
        return;
      } catch (const dnnl::error&) {
        // Shapes oneDNN does not take (e.g. an empty dimension) run on the shared kernel.
      }
    }
    try {
      if (auto sm = makeSoftmax(op, eng)) {
        st.kind = K::Softmax;
        st.prepared = softmaxes_.size();
        softmaxes_.push_back(std::move(*sm));
        return;
      }
    } catch (const dnnl::error&) {
    }
    auto planned = kernelPlans.find(&op);  // as the compiler planned it (cpu.kernel_plans)
    if (kernels && planned != kernelPlans.end() && op.operands.size() <= 8 && !st.bf16) {
      FusedCall c{planned->second};
      c.block = kernels->lookup(c.plan.symbol);
      c.tail = c.plan.tailRows ? kernels->lookup(c.plan.tailSymbol()) : nullptr;
      if (c.block && (c.tail || !c.plan.tailRows)) {
        st.kind = K::Fused;
        st.prepared = fused_.size();
        fused_.push_back(std::move(c));
        return;
      }
    }
    if ((op.kind == OpKind::Attention || op.kind == OpKind::AttentionGrad) && op.result()->type.numElements() > 0) {
      st.kind = K::Attention;
      st.prepared = attention_.size();
      attention_.push_back(std::make_unique<AttentionLowering>(op, eng));
      attentionScratch_ = std::max(attentionScratch_, attention_.back()->scratchFloats());
      if (st.bf16) {  // computes in f32 on the bf16 inputs, widened into the workspace
        size_t floats = 0;
        for (const Value* v : op.operands) floats += storedAsBf16(v) ? size_t(v->type.numElements()) : 0;
        widenFloats_ = std::max(widenFloats_, floats);
      }
      return;
    }
    st.kind = K::Kernel;
  }

  void operandPointers(Step& st) {
    for (size_t i = 0; i < st.in.size(); ++i) st.args[i] = ptr_[st.in[i]];
  }

  Status run(Step& st, const dnnl::engine& eng, dnnl::stream& strm, Workspace& work) {
    const Op& op = *st.op;
    using K = Step::Kind;
    switch (st.kind) {
      case K::Assign:
        assigns_.emplace_back(st.state, st.in[0]);
        return okStatus();
      case K::View:  // the plan keeps its operand alive
        ptr_[st.out[0]] = st.bf16 ? reinterpret_cast<float*>(reinterpret_cast<uint16_t*>(ptr_[st.in[0]]) + st.viewOffset)
                                  : ptr_[st.in[0]] + st.viewOffset;
        return okStatus();
      case K::StateRead:
        ptr_[st.out[0]] = st.state->data();  // alias: assignments commit at the end
        return okStatus();
      case K::AllReduce:  // reduced in place; call() starts it on more than one rank
        ptr_[st.out[0]] = ptr_[st.in[0]];
        return okStatus();
      default:
        break;
    }
    for (const auto& [s, buffer] : st.inState) ptr_[s] = buffer->data();  // updated in place
    switch (st.kind) {
      case K::Matmul: {
        const MatmulPrimitive& mp = matmuls_[st.prepared];
        float* packed = mp.packs ? Workspace::atLeast(work.packed, packFloats_) : nullptr;
        operandPointers(st);
        runMatmul(mp, st.args, ptr_[st.out[0]], packed, eng, strm);
        return okStatus();
      }
      case K::Softmax:
        operandPointers(st);
        runSoftmax(softmaxes_[st.prepared], st.args, ptr_[st.out[0]], eng, strm);
        return okStatus();
      case K::Fused:
        runFused(st, fused_[st.prepared]);
        return okStatus();
      case K::RoundBf16:
        roundToBf16(ptr_[st.in[0]], reinterpret_cast<uint16_t*>(ptr_[st.out[0]]), op.result()->type.numElements());
        return okStatus();
      case K::WidenBf16:
        widenBf16(reinterpret_cast<const uint16_t*>(ptr_[st.in[0]]), ptr_[st.out[0]], op.result()->type.numElements());
        return okStatus();
      case K::ShardedAdamW:
        return runShardedAdamW(st);
      case K::Attention: {
        std::vector<const float*> in(st.in.size());
        float* widened = st.bf16 ? Workspace::atLeast(work.widened, widenFloats_) : nullptr;
        for (size_t i = 0; i < st.in.size(); ++i) {
          in[i] = ptr_[st.in[i]];
          if (!storedAsBf16(op.operands[i])) continue;
          const int64_t n = op.operands[i]->type.numElements();
          widenBf16(reinterpret_cast<const uint16_t*>(in[i]), widened, n);
          in[i] = widened;
          widened += n;
        }
        std::vector<float*> out(st.out.size());
        for (size_t i = 0; i < st.out.size(); ++i) out[i] = ptr_[st.out[i]];
        attention_[st.prepared]->run(in, out, Workspace::atLeast(work.scores, attentionScratch_), eng, strm);
        return okStatus();
      }
      case K::Kernel: {
        // The shared kernels compute in f32: bf16 operands are widened into temporaries and bf16
        // results rounded back (the fallback where oneDNN has no bf16 matmul, and any other op).
        std::vector<std::vector<float>> temps;
        auto temp = [&](const Value* v) { return temps.emplace_back(size_t(v->type.numElements())).data(); };
        std::vector<View<const float>> in;
        for (size_t i = 0; i < st.in.size(); ++i) {
          const float* p = ptr_[st.in[i]];
          if (st.bf16 && storedAsBf16(op.operands[i])) {
            float* w = temp(op.operands[i]);
            widenBf16(reinterpret_cast<const uint16_t*>(p), w, op.operands[i]->type.numElements());
            p = w;
          }
          in.emplace_back(op.operands[i]->type, p);
        }
        std::vector<View<float>> out;
        for (size_t i = 0; i < st.out.size(); ++i)
          out.emplace_back(op.results[i]->type, st.bf16 && storedAsBf16(op.result(int(i))) ? temp(op.result(int(i))) : ptr_[st.out[i]]);
        std::string err = kernels::runKernel<float>(op, in, out);
        if (!err.empty()) return makeError(op.textLoc.known() ? op.textLoc : op.loc, std::string(mnemonic(op.kind)) + ": " + err);
        for (size_t i = 0; i < st.out.size(); ++i)
          if (st.bf16 && storedAsBf16(op.result(int(i))))
            roundToBf16(out[i].data, reinterpret_cast<uint16_t*>(ptr_[st.out[i]]), op.result(int(i))->type.numElements());
        return okStatus();
      }
      case K::Assign:
      case K::View:
      case K::StateRead:
      case K::AllReduce:
        break;
    }
    return okStatus();
  }

  // ZeRO-1: the shared AdamW kernel on this rank's shard [lo, hi) of every parameter and
  // gradient, with the moments' buffers holding only that shard (the engine stores them so; the
  // new moments are placed in them), then every parameter gathered whole.
  Status runShardedAdamW(Step& st) {
    const Op& op = *st.op;
    Collectives& ranks = processCollectives();
    const bool group = op.kind == OpKind::AdamWGroup;
    const size_t params = adamwParameters(op);
    std::vector<View<const float>> in;
    std::vector<View<float>> out;
    auto slice = [](int64_t lo, int64_t hi) { return TensorType{DType::F32, {hi - lo}}; };
    auto scalar = [&](size_t i) { in.emplace_back(op.operands[i]->type, ptr_[st.in[i]]); };
    if (group)
      for (size_t i = 0; i < 3; ++i) scalar(i);  // lr, t, gscale
    for (size_t j = 0; j < params; ++j) {
      const size_t at = adamwOperand(op, j, AdamWOperand::P);  // p, g, m, v, then decay (group) or lr, decay, t
      const int64_t n = op.operands[at]->type.numElements();
      auto [lo, hi] = shardOf(n, ranks.rank(), ranks.size());
      in.emplace_back(slice(lo, hi), ptr_[st.in[at]] + lo);
      in.emplace_back(slice(lo, hi), ptr_[st.in[at + 1]] + lo);
      in.emplace_back(slice(lo, hi), ptr_[st.in[at + 2]]);  // this rank's moments only
      in.emplace_back(slice(lo, hi), ptr_[st.in[at + 3]]);
      for (size_t i = at + 4; i < (group ? at + 5 : size_t(7)); ++i) scalar(i);
      for (size_t k = 0; k < 3; ++k) {
        const size_t slot = st.out[3 * j + k];
        const bool inPlace = std::any_of(st.inState.begin(), st.inState.end(), [&](const auto& e) { return e.first == slot; });
        if (k > 0 && !inPlace)
          return makeError(op.loc, "adamw: a sharded moment is not updated in place (a damaged executable)");
        out.emplace_back(slice(lo, hi), ptr_[slot] + (k == 0 ? lo : 0));
      }
    }
    if (group) kernels::adamwGroup<float>(in, op.attrs.getFloat("beta1"), op.attrs.getFloat("beta2"), op.attrs.getFloat("eps"), out);
    else
      kernels::adamwUpdate<float>(in[0], in[1], in[2], in[3], double(in[4][0]), double(in[5][0]), double(in[6][0]),
                                  op.attrs.getFloat("beta1"), op.attrs.getFloat("beta2"), op.attrs.getFloat("eps"), out[0], out[1], out[2]);
    for (size_t j = 0; j < params; ++j)
      ranks.allGather(ptr_[st.out[3 * j]], op.operands[adamwOperand(op, j, AdamWOperand::P)]->type.numElements());
    return okStatus();
  }

  // Blocks of rows in parallel; each call gets pointers to its rows of the spanning operands.
  void runFused(Step& st, const FusedCall& c) {
    const FusedKernelPlan& p = c.plan;
    if (p.sums) return runFusedSum(st, c);
    const int n = int(st.in.size());
    std::vector<float*> base(size_t(n) + 1);
    for (int i = 0; i < n; ++i) base[size_t(i)] = ptr_[st.in[size_t(i)]];
    base[size_t(n)] = ptr_[st.out[0]];
    const int64_t blocks = p.numBlocks() + (p.tailRows ? 1 : 0);
#pragma omp parallel for if (blocks > 1)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      float* args[9];
      const int64_t row = blk * p.blockRows;
      for (int i = 0; i < n; ++i) {
        const auto& o = p.operands[size_t(i)];
        args[i] = base[size_t(i)] + (o.spansRows ? row * o.rowElems : 0);
      }
      args[n] = base[size_t(n)] + row * p.rowElems;
      callFusedKernel(blk < p.numBlocks() ? c.block : c.tail, args, n + 1);
    }
  }

  // Chunks of every row in parallel, each summed into its own float; then each row's chunks are
  // added in order (in double).
  void runFusedSum(Step& st, const FusedCall& c) {
    const FusedKernelPlan& p = c.plan;
    const int n = int(st.in.size());
    const int64_t per = p.chunksPerRow(), full = p.rowElems / p.blockRows, total = p.rows * per;
    std::vector<float*> base(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) base[size_t(i)] = ptr_[st.in[size_t(i)]];
    std::vector<float> partial(static_cast<size_t>(total), 0.0f);
#pragma omp parallel for if (total > 1)
    for (int64_t k = 0; k < total; ++k) {
      const int64_t row = k / per, chunk = k % per;
      float* args[9];
      for (int i = 0; i < n; ++i) {
        const auto& o = p.operands[size_t(i)];
        args[i] = base[size_t(i)] + (o.spansRows ? row * p.rowElems + chunk * p.blockRows : 0);
      }
      args[n] = &partial[size_t(k)];
      callFusedKernel(chunk < full ? c.block : c.tail, args, n + 1);
    }
    float* out = ptr_[st.out[0]];
    for (int64_t row = 0; row < p.rows; ++row) {
      double sum = 0;
      for (int64_t chunk = 0; chunk < per; ++chunk) sum += partial[size_t(row * per + chunk)];
      out[row] = float(sum);
    }
  }

  Status finish(std::vector<ref::Tensor>& outputs) {
    outputs.clear();
    for (size_t k = 0; k < outputs_.size(); ++k) {
      ref::Tensor t(f_.outputs[k]->type);
      const float* p = ptr_[outputs_[k]];
      std::vector<float> widened;
      if (storedAsBf16(f_.outputs[k])) {
        widened.resize(size_t(t.size()));
        widenBf16(reinterpret_cast<const uint16_t*>(p), widened.data(), t.size());
        p = widened.data();
      }
      for (int64_t i = 0; i < t.size(); ++i) t[i] = p[i];
      t.roundToType();
      outputs.push_back(std::move(t));
    }
    // Commit assignments; copy out first, since a new value may alias another state's buffer.
    std::vector<std::pair<std::vector<float>*, std::vector<float>>> staged;
    for (const auto& [buffer, s] : assigns_) {
      const float* p = ptr_[s];
      if (p == buffer->data()) continue;  // updated in place
      staged.emplace_back(buffer, std::vector<float>(p, p + int64_t(buffer->size())));
    }
    for (auto& [buffer, values] : staged) *buffer = std::move(values);
    return okStatus();
  }

  const Function& f_;
  int64_t arenaBytes_;
  std::vector<Step> steps_;
  std::vector<float*> ptr_;                             // by slot: where each value is now
  std::vector<size_t> params_, outputs_;                // slots of the inputs and outputs
  std::vector<std::pair<size_t, int64_t>> placed_;      // slot, float offset in the arena
  std::vector<std::pair<std::vector<float>*, size_t>> assigns_;  // this call's: state <- slot
  float* boundArena_ = nullptr;
  std::vector<MatmulPrimitive> matmuls_;
  std::vector<SoftmaxPrimitive> softmaxes_;
  std::vector<FusedCall> fused_;
  std::vector<std::unique_ptr<AttentionLowering>> attention_;
  size_t attentionScratch_ = 0;  // floats of Workspace::scores this function's attention ops need
  size_t packFloats_ = 0;        // ... and of Workspace::packed for its packed matmul operands
  size_t widenFloats_ = 0;       // ... and of Workspace::widened for the bf16 inputs of its attention
  int reductions_ = 0;           // all_reduce ops
  std::vector<int64_t> requests_;  // by all_reduce: the started request (-1: none pending)
};

class CpuEngine : public Engine {
 public:
  CpuEngine(const Module& m, std::shared_ptr<const KernelLibrary> kernels, ArenaPlans plans, KernelPlans kernelPlans)
      : m_(m), kernels_(std::move(kernels)), plans_(std::move(plans)), kernelPlans_(std::move(kernelPlans)),
        eng_(dnnl::engine::kind::cpu, 0), strm_(eng_), sharded_(shardedMoments(m)) {}
  std::string device() const override {
    return "cpu (f32, oneDNN matmuls, " + (kernels_ ? kernels_->describe() : std::string("portable fused kernels")) +
           ", one planned arena)";
  }

  Expected<std::vector<ref::Tensor>> call(const std::string& fn, const std::vector<ref::Tensor>& inputs) override {
    const Function* f = m_.findFunction(fn);
    if (!f) return makeError({}, "no function @" + fn);
    // Prepared on first use: primitives and the arena of a function never called cost nothing.
    auto it = functions_.find(fn);
    if (it == functions_.end()) {
      auto plan = plans_.find(fn);
      if (plan == plans_.end()) return makeError({}, "no arena plan for @" + fn + " (a damaged executable)");
      it = functions_.emplace(fn, std::make_unique<CpuFunction>(*f, plan->second, eng_, kernels_.get(), kernelPlans_, state_)).first;
      size_t need = size_t(it->second->arenaBytes() / 4 + 16);
      if (need > arena_.size()) arena_.assign(need, 0.0f);  // functions rebind to the new arena
    }
    if (auto s = checkCallInputs(*f, inputs); !s) return s.error();
    std::vector<ref::Tensor> outs;
    if (auto s = it->second->call(inputs, eng_, strm_, outs, profiling_ ? &profile_ : nullptr, arena_.data(), work_); !s)
      return s.error();
    return outs;
  }

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
    const auto& v = state_.at(name);
    if (sharded_.count(name)) {  // this rank's shard, gathered whole from every rank
      Collectives& ranks = processCollectives();
      std::vector<float> whole(size_t(t.size()));
      const int64_t lo = shardOf(t.size(), ranks.rank(), ranks.size()).first;
      std::copy(v.begin(), v.end(), whole.begin() + lo);
      ranks.allGather(whole.data(), t.size());
      for (int64_t i = 0; i < t.size(); ++i) t[i] = whole[size_t(i)];
      return t;
    }
    for (int64_t i = 0; i < t.size(); ++i) t[i] = v[size_t(i)];
    return t;
  }

  std::vector<std::string> shardedStates() const override { return {sharded_.begin(), sharded_.end()}; }  // name order

  Status restore(const ref::StateStore& st) override {
    for (const auto& [name, t] : st) setStateTensor(name, t);
    return okStatus();
  }
  void setStateTensor(const std::string& name, const ref::Tensor& value) override {
    if (sharded_.count(name)) {  // keeps this rank's shard only
      Collectives& ranks = processCollectives();
      auto [lo, hi] = shardOf(value.size(), ranks.rank(), ranks.size());
      state_[name].assign(value.data.begin() + lo, value.data.begin() + hi);
      return;
    }
    state_[name].assign(value.data.begin(), value.data.end());
  }

 private:
  // With more than one rank: the moments of AdamW updates marked `shard` (ZeRO-1), which each
  // rank keeps a shard of.
  static std::set<std::string> shardedMoments(const Module& m) {
    std::set<std::string> names;
    if (processCollectives().size() == 1) return names;
    for (const auto& f : m.functions)
      for (const auto& op : f->ops) {
        if ((op->kind != OpKind::AdamWUpdate && op->kind != OpKind::AdamWGroup) || !op->attrs.getBool("shard")) continue;
        for (size_t j = 0; j < adamwParameters(*op); ++j)
          for (AdamWOperand which : {AdamWOperand::M, AdamWOperand::V}) {
            const Value* moment = op->operands[adamwOperand(*op, j, which)];
            if (moment->def && moment->def->kind == OpKind::StateRead) names.insert(moment->def->stateRef);
          }
      }
    return names;
  }


  const Module& m_;
  std::shared_ptr<const KernelLibrary> kernels_;
  ArenaPlans plans_;
  KernelPlans kernelPlans_;
  bool profiling_ = false;
  OpProfile profile_;
  dnnl::engine eng_;
  dnnl::stream strm_;
  std::map<std::string, std::vector<float>> state_;
  std::map<std::string, std::unique_ptr<CpuFunction>> functions_;
  std::vector<float> arena_;
  Workspace work_;
  std::set<std::string> sharded_;  // states this rank holds a shard of
};

}  // namespace

Expected<std::unique_ptr<Engine>> makeCpuEngine(const Module& m, std::shared_ptr<const KernelLibrary> kernels,
                                                ArenaPlans plans, KernelPlans kernelPlans) {
  auto e = std::make_unique<CpuEngine>(m, std::move(kernels), std::move(plans), std::move(kernelPlans));
  // One variable at a time, so the f64 initial values never exist for the whole state at once.
  for (const StateVar& s : m.states) {
    if (s.type.numElements() > ref::kMaxReferenceElements)
      return makeError(s.loc, "state @" + s.name + " (" + s.type.str() + ") is too large to initialize");
    e->setStateTensor(s.name, ref::initialValue(s));
  }
  return std::unique_ptr<Engine>(std::move(e));
}

}  // namespace kiln
