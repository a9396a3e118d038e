// The cpu device: every value in one arena laid out by the memory plan (f32 storage for every
// dtype; integers are exact below 2^24). Matmuls and softmax as oneDNN primitives and attention
// in query blocks (created once, when a function is first prepared), fused ops as generated
// kernels, every other op through the shared f32 kernels. State lives in device buffers;
// state_read results alias them and assignments commit when the call returns, except the
// optimizer results the memory plan places in their state's own buffer (updated in place).
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "ir/arena_plan.h"
#include "ir/cost_model.h"
#include "ir/views.h"
#include "targets/cpu/attention_lowering.h"
#include "targets/cpu/dnnl_primitives.h"
#include "targets/cpu/fused_kernel_plan.h"
#include "runtime/engine/engine.h"
#include "targets/cpu/cpu_device.h"
#include "eval/kernels/dispatch.h"

namespace kiln {

namespace {

using kernels::View;

// "fused(add+gelu_tanh)" for fused ops, so the profile says what they compute.
std::string kindKey(const Op& op) {
  if (op.kind != OpKind::Fused) return std::string(mnemonic(op.kind));
  const std::string& e = op.attrs.getStr("expr");
  std::string key = "fused(";
  for (size_t start = 0, open; (open = e.find('(', start)) != std::string::npos;) {
    size_t from = e.find_first_not_of("; ", start);
    if (key.back() != '(') key += '+';
    key += e.substr(from, open - from);
    start = e.find(';', open);
    if (start == std::string::npos) break;
  }
  return key + ")";
}

// Seconds, calls and FLOPs per key (op kind, or component: the op name up to its layer,
// h.N.attn...).
struct Profile {
  struct Row {
    double seconds = 0;
    int64_t calls = 0;
    double flops = 0;
  };
  std::map<std::string, Row> byKind, byComponent;
  void add(const Op& op, double secs) {
    std::string comp = op.name.empty() ? "(unnamed)" : op.name;
    // Fold "h.3.attn.c_attn.grad" into "h.*.attn.c_attn": per layer totals add up per component.
    if (comp.rfind("h.", 0) == 0) {
      size_t dot = comp.find('.', 2);
      if (dot != std::string::npos) comp = "h.*" + comp.substr(dot);
    }
    if (comp.size() > 5 && comp.compare(comp.size() - 5, 5, ".grad") == 0) comp = comp.substr(0, comp.size() - 5) + " (backward)";
    const double flops = opFlops(op);
    for (Row* r : {&byKind[kindKey(op)], &byComponent[comp]}) {
      r->seconds += secs;
      ++r->calls;
      r->flops += flops;
    }
  }
};

// Scratch memory outside the arena, shared by a module's functions (which never run at the same
// time) and grown to the largest need: one block of attention scores, one packed matmul operand.
struct Workspace {
  std::vector<float> scores, packed;
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

class CpuFunction {
 public:
  CpuFunction(const Function& f, ArenaPlan plan, const dnnl::engine& eng, const KernelLibrary* kernels)
      : f_(f), plan_(std::move(plan)) {
    for (const auto& op : f.ops) {
      if (op->kind == OpKind::Reshape || isContiguousSlice(*op))
        views_[op.get()] = op->kind == OpKind::Slice ? sliceOffset(*op) : 0;
      for (const auto& r : op->results)
        if (auto in = plan_.inState.find(r.get()); in != plan_.inState.end()) inState_[op.get()].emplace_back(r.get(), in->second);
    }
    for (const auto& op : f.ops) {
      if (!kernels || !hasFusedKernelPlan(*op) || op->operands.size() > 8 || op->result()->type.numElements() == 0)
        continue;
      FusedCall c{planFusedKernel(*op)};
      c.block = kernels->lookup(c.plan.symbol);
      c.tail = c.plan.tailRows ? kernels->lookup(c.plan.tailSymbol()) : nullptr;
      if (c.block && (c.tail || !c.plan.tailRows)) fused_.emplace(op.get(), std::move(c));
    }
    for (const auto& op : f.ops)
      if ((op->kind == OpKind::Attention || op->kind == OpKind::AttentionGrad) && op->result()->type.numElements() > 0)
        attentionScratch_ = std::max(
            attentionScratch_, attention_.emplace(op.get(), std::make_unique<AttentionLowering>(*op, eng)).first->second->scratchFloats());
    for (const auto& op : f.ops) {
      if (op->kind != OpKind::Matmul && op->kind != OpKind::MatmulBias) continue;
      try {
        MatmulPrimitive mp = makeMatmul(*op, eng);
        if (mp.packs) packFloats_ = std::max(packFloats_, mp.packed.get_size() / sizeof(float));
        matmuls_.emplace(op.get(), std::move(mp));
      } catch (const dnnl::error&) {
        // Shapes oneDNN does not take (e.g. an empty dimension) run on the shared kernel.
      }
    }
    for (const auto& op : f.ops) {
      try {
        if (auto sm = makeSoftmax(*op, eng)) softmaxes_.emplace(op.get(), std::move(*sm));
      } catch (const dnnl::error&) {
      }
    }
  }

  // The functions of a module never run at the same time, so they share one arena (sized for
  // the largest plan); each call binds this function's values into it.
  Status call(const std::vector<ref::Tensor>& inputs, std::map<std::string, std::vector<float>>& state,
              const dnnl::engine& eng, dnnl::stream& strm, std::vector<ref::Tensor>& outputs, Profile* profile,
              float* arena, Workspace& work) {
    if (arena != boundArena_) {
      for (const auto& [v, offset] : plan_.offsets) where_[v] = arena + offset / 4;
      boundArena_ = arena;
    }
    std::vector<std::vector<float>> inputBuffers(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      inputBuffers[i].assign(inputs[i].data.begin(), inputs[i].data.end());
      where_[f_.params[i].get()] = inputBuffers[i].data();
    }
    Assigns assigns;
    for (const auto& opPtr : f_.ops) {
      const Op& op = *opPtr;
      auto t0 = profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      Status s = runOp(op, state, eng, strm, assigns, work);
      if (!s) return s;
      if (profile) profile->add(op, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return finish(state, outputs, assigns);
  }

  const ArenaPlan& plan() const { return plan_; }

 private:
  using Assigns = std::vector<std::pair<std::string, const Value*>>;

  Status runOp(const Op& op, std::map<std::string, std::vector<float>>& state, const dnnl::engine& eng,
               dnnl::stream& strm, Assigns& assigns, Workspace& work) {
    {
      if (op.kind == OpKind::StateAssign) {
        assigns.emplace_back(op.stateRef, op.operands[0]);
        return okStatus();
      }
      if (auto view = views_.find(&op); view != views_.end()) {  // the plan keeps its operand alive
        where_[op.result()] = where_.at(op.operands[0]) + view->second;
        return okStatus();
      }
      if (op.kind == OpKind::StateRead) {
        where_[op.result()] = state.at(op.stateRef).data();  // alias: assignments commit at the end
        return okStatus();
      }
      if (auto in = inState_.find(&op); in != inState_.end())  // results the plan puts in their state's own buffer
        for (const auto& [v, name] : in->second) where_[v] = state.at(name).data();
      auto mm = matmuls_.find(&op);
      if (mm != matmuls_.end()) {
        float* packed = mm->second.packs ? Workspace::atLeast(work.packed, packFloats_) : nullptr;
        runMatmul(mm->second, operandPointers(op), where_.at(op.result()), packed, eng, strm);
        return okStatus();
      }
      auto sm = softmaxes_.find(&op);
      if (sm != softmaxes_.end()) {
        runSoftmax(sm->second, operandPointers(op), where_.at(op.result()), eng, strm);
        return okStatus();
      }
      auto fc = fused_.find(&op);
      if (fc != fused_.end()) {
        runFused(op, fc->second);
        return okStatus();
      }
      auto att = attention_.find(&op);
      if (att != attention_.end()) {
        std::vector<const float*> in;
        for (const Value* v : op.operands) in.push_back(where_.at(v));
        std::vector<float*> out;
        for (const auto& r : op.results) out.push_back(where_.at(r.get()));
        att->second->run(in, out, Workspace::atLeast(work.scores, attentionScratch_), eng, strm);
        return okStatus();
      }
      std::vector<View<const float>> in;
      for (const Value* v : op.operands) in.emplace_back(v->type, where_.at(v));
      std::vector<View<float>> out;
      for (const auto& r : op.results) out.emplace_back(r->type, where_.at(r.get()));
      std::string err = kernels::runKernel<float>(op, in, out);
      if (!err.empty()) return makeError(op.textLoc.known() ? op.textLoc : op.loc, std::string(mnemonic(op.kind)) + ": " + err);
    }
    return okStatus();
  }

  std::vector<float*> operandPointers(const Op& op) const {
    std::vector<float*> out;
    for (const Value* v : op.operands) out.push_back(where_.at(v));
    return out;
  }

  // Blocks of rows in parallel; each call gets pointers to its rows of the spanning operands.
  void runFused(const Op& op, const FusedCall& c) {
    const FusedKernelPlan& p = c.plan;
    if (p.sums) return runFusedSum(op, c);
    const int n = int(op.operands.size());
    std::vector<float*> base(size_t(n) + 1);
    for (int i = 0; i < n; ++i) base[size_t(i)] = where_.at(op.operands[size_t(i)]);
    base[size_t(n)] = where_.at(op.result());
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
  void runFusedSum(const Op& op, const FusedCall& c) {
    const FusedKernelPlan& p = c.plan;
    const int n = int(op.operands.size());
    const int64_t per = p.chunksPerRow(), full = p.rowElems / p.blockRows, total = p.rows * per;
    std::vector<float*> base(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) base[size_t(i)] = where_.at(op.operands[size_t(i)]);
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
    float* out = where_.at(op.result());
    for (int64_t row = 0; row < p.rows; ++row) {
      double sum = 0;
      for (int64_t chunk = 0; chunk < per; ++chunk) sum += partial[size_t(row * per + chunk)];
      out[row] = float(sum);
    }
  }

  Status finish(std::map<std::string, std::vector<float>>& state, std::vector<ref::Tensor>& outputs,
                const Assigns& assigns) {
    outputs.clear();
    for (const Value* v : f_.outputs) {
      ref::Tensor t(v->type);
      const float* p = where_.at(v);
      for (int64_t i = 0; i < t.size(); ++i) t[i] = p[i];
      t.roundToType();
      outputs.push_back(std::move(t));
    }
    // Commit assignments; copy out first, since a new value may alias another state's buffer.
    std::vector<std::pair<std::string, std::vector<float>>> staged;
    for (const auto& [name, v] : assigns) {
      const float* p = where_.at(v);
      if (p == state.at(name).data()) continue;  // updated in place
      staged.emplace_back(name, std::vector<float>(p, p + v->type.numElements()));
    }
    for (auto& [name, values] : staged) state[name] = std::move(values);
    return okStatus();
  }

  const Function& f_;
  ArenaPlan plan_;
  float* boundArena_ = nullptr;
  std::unordered_map<const Value*, float*> where_;
  std::unordered_map<const Op*, int64_t> views_;  // reshapes and contiguous slices: elements into the operand
  std::unordered_map<const Op*, std::vector<std::pair<const Value*, std::string>>> inState_;  // results -> state
  std::unordered_map<const Op*, MatmulPrimitive> matmuls_;
  std::unordered_map<const Op*, SoftmaxPrimitive> softmaxes_;
  std::unordered_map<const Op*, FusedCall> fused_;
  std::unordered_map<const Op*, std::unique_ptr<AttentionLowering>> attention_;
  size_t attentionScratch_ = 0;  // floats of Workspace::scores this function's attention ops need
  size_t packFloats_ = 0;        // ... and of Workspace::packed for its packed matmul operands
};

class CpuEngine : public Engine {
 public:
  CpuEngine(const Module& m, std::shared_ptr<const KernelLibrary> kernels, ArenaPlans plans)
      : m_(m), kernels_(std::move(kernels)), plans_(std::move(plans)), eng_(dnnl::engine::kind::cpu, 0), strm_(eng_) {}
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
      it = functions_.emplace(fn, std::make_unique<CpuFunction>(*f, plan->second, eng_, kernels_.get())).first;
      size_t need = size_t(it->second->plan().arenaBytes / 4 + 16);
      if (need > arena_.size()) arena_.assign(need, 0.0f);  // functions rebind to the new arena
    }
    if (inputs.size() != f->params.size())
      return makeError({}, "@" + fn + " takes " + std::to_string(f->params.size()) + " input(s), got " + std::to_string(inputs.size()));
    for (size_t i = 0; i < inputs.size(); ++i)
      if (inputs[i].type != f->params[i]->type)
        return makeError({}, "input %" + f->params[i]->name + " must be " + f->params[i]->type.str() + ", got " + inputs[i].type.str());
    std::vector<ref::Tensor> outs;
    if (auto s = it->second->call(inputs, state_, eng_, strm_, outs, profiling_ ? &profile_ : nullptr, arena_.data(), work_); !s)
      return s.error();
    return outs;
  }

  void setProfiling(bool on) override { profiling_ = on; }
  std::vector<ProfileEntry> profileByKind() const override { return sorted(profile_.byKind); }
  std::vector<ProfileEntry> profileByComponent() const override { return sorted(profile_.byComponent); }

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
    for (int64_t i = 0; i < t.size(); ++i) t[i] = v[size_t(i)];
    return t;
  }

  Status restore(const ref::StateStore& st) override {
    for (const auto& [name, t] : st) setStateTensor(name, t);
    return okStatus();
  }
  void setStateTensor(const std::string& name, const ref::Tensor& value) override {
    state_[name].assign(value.data.begin(), value.data.end());
  }

 private:
  static std::vector<ProfileEntry> sorted(const std::map<std::string, Profile::Row>& m) {
    std::vector<ProfileEntry> out;
    for (const auto& [k, v] : m) out.push_back({k, v.seconds, v.calls, v.flops});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.seconds > b.seconds; });
    return out;
  }

  const Module& m_;
  std::shared_ptr<const KernelLibrary> kernels_;
  ArenaPlans plans_;
  bool profiling_ = false;
  Profile profile_;
  dnnl::engine eng_;
  dnnl::stream strm_;
  std::map<std::string, std::vector<float>> state_;
  std::map<std::string, std::unique_ptr<CpuFunction>> functions_;
  std::vector<float> arena_;
  Workspace work_;
};

}  // namespace

Expected<std::unique_ptr<Engine>> makeCpuEngine(const Module& m, std::shared_ptr<const KernelLibrary> kernels,
                                                ArenaPlans plans) {
  auto e = std::make_unique<CpuEngine>(m, std::move(kernels), std::move(plans));
  // One variable at a time, so the f64 initial values never exist for the whole state at once.
  for (const StateVar& s : m.states) {
    if (s.type.numElements() > ref::kMaxReferenceElements)
      return makeError(s.loc, "state @" + s.name + " (" + s.type.str() + ") is too large to initialize");
    e->setStateTensor(s.name, ref::initialValue(s));
  }
  return std::unique_ptr<Engine>(std::move(e));
}

}  // namespace kiln
