// Optimizer lowering.
//
// Algorithm, at update t = step + 1 (the step counter is state, so the schedule is IR too):
//   lr_t    = schedule(t): warmup lr*t/warmup for t <= warmup, then constant, or cosine/linear
//             decay from lr to min_lr over (t - warmup) / (total - warmup), clamped to [0, 1]
//   norm    = sqrt(sum of squares of every gradient); with clipping every gradient is scaled
//             by min(1, clip / (norm + 1e-6)), as torch.nn.utils.clip_grad_norm_
//   AdamW   p <- p (1 - lr_t wd); m <- m + (1-b1)(g - m); v <- b2 v + (1-b2) g^2;
//           p <- p - lr_t / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)   (torch.optim.AdamW)
//           as one adamw_update op per parameter (fused, the default) or as elementwise ops
//   skip    with skipNonFinite, ok = norm <= the dtype's largest finite value (false for inf
//           and NaN), and every updated state is select(ok, new, old): a diverged step changes
//           nothing, the step counter included
//   SGD     d = g + wd p; buf <- momentum buf + d; d = nesterov ? d + momentum buf : buf;
//           p <- p - lr_t d                                                      (torch.optim.SGD)
// Invariants: every state update is a state_assign at the end of train_step (so all reads see
// the values from before the step); scalars are computed in the parameters' dtype.
#include "compiler/optimizer/optimizer.h"

#include <cmath>
#include <algorithm>
#include <cstdlib>
#include <limits>

#include "compiler/autodiff/autodiff.h"
#include "compiler/pass.h"
#include "ir/builder.h"

namespace kiln {

std::string firstMomentName(const std::string& param) { return "optimizer.m." + param; }
std::string secondMomentName(const std::string& param) { return "optimizer.v." + param; }
std::string momentumName(const std::string& param) { return "optimizer.momentum." + param; }

namespace {

bool globMatch(const char* pattern, const char* s) {
  if (*pattern == '\0') return *s == '\0';
  if (*pattern == '*') return globMatch(pattern + 1, s) || (*s && globMatch(pattern, s + 1));
  return *s && *pattern == *s && globMatch(pattern + 1, s + 1);
}

// lr_t for update number t (a scalar of the parameters' dtype).
Value* scheduledLr(Builder& b, const OptimizerConfig& c, Value* t, DType dt) {
  auto k = [&](double v) { return b.scalar(v, dt); };
  Value* peak = k(c.lr);
  Value* lr = peak;
  if (c.schedule != "constant") {
    double span = double(std::max<int64_t>(1, c.totalSteps - c.warmupSteps));
    Value* progress = b.div(b.sub(t, k(double(c.warmupSteps))), k(span));
    progress = b.min(b.max(progress, k(0.0)), k(1.0));
    Value* factor = c.schedule == "cosine"
                        ? b.mul(k(0.5), b.add(k(1.0), b.cos(b.mul(progress, k(M_PI)))))
                        : b.sub(k(1.0), progress);
    lr = b.add(k(c.minLr), b.mul(k(c.lr - c.minLr), factor));
  }
  if (c.warmupSteps > 0) {
    Value* warm = b.mul(peak, b.div(t, k(double(c.warmupSteps))));
    lr = b.select(b.compare(OpKind::Le, t, k(double(c.warmupSteps))), warm, lr);
  }
  return lr;
}

}  // namespace

Status validateOptimizerConfig(const OptimizerConfig& c) {
  auto bad = [](const std::string& m) { return Status(makeError({}, "optimizer: " + m)); };
  if (c.kind != "adamw" && c.kind != "sgd") return bad("kind must be adamw or sgd, got '" + c.kind + "'");
  if (!(c.lr > 0)) return bad("lr must be > 0");
  if (!(c.beta1 >= 0 && c.beta1 < 1) || !(c.beta2 >= 0 && c.beta2 < 1)) return bad("betas must be in [0, 1)");
  if (!(c.eps > 0)) return bad("eps must be > 0");
  if (!(c.momentum >= 0 && c.momentum < 1)) return bad("momentum must be in [0, 1)");
  if (c.nesterov && c.momentum == 0) return bad("nesterov needs momentum > 0");
  if (!(c.clipNorm >= 0)) return bad("clip_norm must be >= 0");
  if (c.schedule != "constant" && c.schedule != "cosine" && c.schedule != "linear")
    return bad("schedule must be constant, cosine or linear, got '" + c.schedule + "'");
  if (c.warmupSteps < 0) return bad("warmup must be >= 0");
  if (c.schedule != "constant" && c.totalSteps <= c.warmupSteps)
    return bad("a " + c.schedule + " schedule needs total_steps > warmup");
  if (!(c.minLr >= 0 && c.minLr <= c.lr)) return bad("min_lr must be in [0, lr]");
  return okStatus();
}

bool excludedFromDecay(const OptimizerConfig& c, const StateVar& param) {
  if (c.noDecay.empty()) return param.type.rank() < 2;
  for (const auto& p : c.noDecay)
    if (globMatch(p.c_str(), param.name.c_str())) return true;
  return false;
}

Status lowerOptimizer(Module& m, Function& f, const OptimizerConfig& config) {
  if (auto s = validateOptimizerConfig(config); !s) return s;
  OptimizerConfig c = config;
  if (c.weightDecay < 0) c.weightDecay = c.kind == "adamw" ? 0.01 : 0.0;
  Location at = f.textLoc.known() ? f.textLoc : f.loc;
  if (f.name != "train_step" && m.findFunction("train_step"))
    return makeError(at, "the module already has a @train_step");

  // Split the outputs into gradients and the rest.
  struct Param {
    std::string name;
    Value* grad;
  };
  std::vector<Param> params;
  std::vector<std::string> keptNames;
  std::vector<Value*> kept;
  for (size_t i = 0; i < f.outputs.size(); ++i) {
    const std::string& n = f.outputNames[i];
    if (n.rfind("grad.", 0) == 0) {
      std::string state = n.substr(5);
      const StateVar* s = m.findState(state);
      if (!s || !s->trainable) return makeError(at, "output '" + n + "' is not the gradient of a trainable state");
      if (s->type != f.outputs[i]->type) return makeError(at, "output '" + n + "' does not match the type of @" + state);
      params.push_back({state, f.outputs[i]});
    } else if (n.rfind("grad_input.", 0) != 0) {
      keptNames.push_back(n);
      kept.push_back(f.outputs[i]);
    }
  }
  if (params.empty()) return makeError(at, "@" + f.name + " has no gradient outputs: run autodiff first");
  DType dt = params[0].grad->type.dtype;
  if (m.findState(kStepState)) return makeError(at, "state @" + std::string(kStepState) + " already exists");
  m.addState(kStepState, {dt, {}}, Initializer{InitKind::Zeros}, false);

  Builder b(m, f);
  b.setName("optimizer");
  b.setLocation(c.source);
  auto k = [&](double v) { return b.scalar(v, dt); };
  Value* t0 = b.readState(kStepState);
  Value* t = b.add(t0, k(1.0));
  if (!c.skipNonFinite) b.assignState(kStepState, t);  // with the gate, below
  Value* lr = scheduledLr(b, c, t, dt);

  Value* sumSq = nullptr;
  for (const Param& p : params) {
    std::vector<int64_t> all;
    for (int i = 0; i < p.grad->type.rank(); ++i) all.push_back(i);
    Value* sq = b.reduceSum(b.mul(p.grad, p.grad), all);
    sumSq = sumSq ? b.add(sumSq, sq) : sq;
  }
  Value* norm = b.sqrt(sumSq);
  Value* coef = c.clipNorm > 0 ? b.min(b.div(k(c.clipNorm), b.add(norm, k(1e-6))), k(1.0)) : nullptr;
  // The state updates, through the skip gate when there is one.
  Value* finite = nullptr;
  if (c.skipNonFinite) {
    double largest = dt == DType::F64 ? std::numeric_limits<double>::max() : double(std::numeric_limits<float>::max());
    // The loss too, where it is a scalar output: norm + |loss| is finite only if both are.
    Value* watched = norm;
    for (size_t i = 0; i < kept.size(); ++i)
      if (keptNames[i] == "loss" && kept[i]->type.rank() == 0 && kept[i]->type.dtype == dt) watched = b.add(norm, b.abs(kept[i]));
    finite = b.compare(OpKind::Le, watched, k(largest));
  }
  auto assign = [&](const std::string& state, Value* updated, Value* old) {
    b.assignState(state, finite ? b.select(finite, updated, old) : updated);
  };
  if (finite) assign(kStepState, t, t0);

  for (const Param& p : params) {
    auto scope = b.scope(p.name);
    StateVar& s = *m.findState(p.name);
    Value* g = coef ? b.mul(p.grad, coef) : p.grad;
    Value* w = b.readState(p.name);
    bool decay = c.weightDecay != 0 && !excludedFromDecay(c, s);
    if (c.kind == "adamw") {
      TensorType ty = s.type;
      m.addState(firstMomentName(p.name), ty, Initializer{InitKind::Zeros}, false);
      m.addState(secondMomentName(p.name), ty, Initializer{InitKind::Zeros}, false);
      Value* m0 = b.readState(firstMomentName(p.name));
      Value* v0 = b.readState(secondMomentName(p.name));
      if (c.fused) {
        Attrs a;
        a.set("beta1", c.beta1);
        a.set("beta2", c.beta2);
        a.set("eps", c.eps);
        Value* decayFactor = decay ? b.sub(k(1.0), b.mul(lr, k(c.weightDecay))) : k(1.0);
        Op* u = b.create(OpKind::AdamWUpdate, {w, g, m0, v0, lr, decayFactor, t}, a);
        assign(firstMomentName(p.name), u->result(1), m0);
        assign(secondMomentName(p.name), u->result(2), v0);
        assign(p.name, u->result(0), w);
        continue;
      }
      Value* w0 = w;
      if (decay) w = b.mul(w, b.sub(k(1.0), b.mul(lr, k(c.weightDecay))));
      Value* m1 = b.add(m0, b.mul(b.sub(g, m0), k(1.0 - c.beta1)));
      Value* v1 = b.add(b.mul(v0, k(c.beta2)), b.mul(b.mul(g, g), k(1.0 - c.beta2)));
      Value* bc1 = b.sub(k(1.0), b.pow(k(c.beta1), t));
      Value* bc2 = b.sub(k(1.0), b.pow(k(c.beta2), t));
      Value* stepSize = b.div(lr, bc1);
      Value* denom = b.add(b.div(b.sqrt(v1), b.sqrt(bc2)), k(c.eps));
      w = b.sub(w, b.mul(stepSize, b.div(m1, denom)));
      assign(firstMomentName(p.name), m1, m0);
      assign(secondMomentName(p.name), v1, v0);
      assign(p.name, w, w0);
      continue;
    }
    Value* w0 = w;
    Value* d = decay ? b.add(g, b.mul(w, k(c.weightDecay))) : g;
    if (c.momentum > 0) {
      m.addState(momentumName(p.name), s.type, Initializer{InitKind::Zeros}, false);
      Value* buf0 = b.readState(momentumName(p.name));
      Value* buf = b.add(b.mul(buf0, k(c.momentum)), d);
      assign(momentumName(p.name), buf, buf0);
      d = c.nesterov ? b.add(d, b.mul(buf, k(c.momentum))) : buf;
    }
    assign(p.name, b.sub(w, b.mul(lr, d)), w0);
  }

  f.outputs = kept;
  f.outputNames = keptNames;
  f.addOutput("lr", lr);
  f.addOutput("grad_norm", norm);
  f.name = "train_step";
  return okStatus();
}

namespace {

class OptimizerPass : public Pass {
 public:
  explicit OptimizerPass(OptimizerConfig c) : config_(std::move(c)) {}
  std::string name() const override { return "optimizer"; }
  std::string description() const override { return "lower gradients into a train_step with in-place updates"; }

  Expected<bool> run(Module& m) override {
    for (auto& f : m.functions) {
      bool hasGrads = std::any_of(f->outputNames.begin(), f->outputNames.end(),
                                  [](const std::string& n) { return n.rfind("grad.", 0) == 0; });
      if (!hasGrads) continue;
      if (auto s = lowerOptimizer(m, *f, config_); !s) return s.error();
      return true;
    }
    return makeError({}, "optimizer: no function has gradient outputs (run autodiff first)");
  }

 private:
  OptimizerConfig config_;
};

Expected<double> number(const std::string& key, const std::string& v) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') return makeError({}, "optimizer option " + key + " needs a number, got '" + v + "'");
  return d;
}

}  // namespace

std::unique_ptr<Pass> createOptimizerPass(const OptimizerConfig& config) {
  return std::make_unique<OptimizerPass>(config);
}

Expected<std::unique_ptr<Pass>> createOptimizerPass(const PassOptions& options) {
  OptimizerConfig c;
  for (const auto& [key, value] : options) {
    if (key == "kind" || key == "schedule") {
      (key == "kind" ? c.kind : c.schedule) = value;
      continue;
    }
    if (key == "nesterov" || key == "fused" || key == "skip_non_finite") {
      if (value != "true" && value != "false") return makeError({}, "optimizer option " + key + " needs true or false");
      (key == "nesterov" ? c.nesterov : key == "fused" ? c.fused : c.skipNonFinite) = value == "true";
      continue;
    }
    if (key == "no_decay") {
      c.noDecay = splitOptionList(value);
      continue;
    }
    auto d = number(key, value);
    if (!d) return d.error();
    if (key == "lr") c.lr = *d;
    else if (key == "beta1") c.beta1 = *d;
    else if (key == "beta2") c.beta2 = *d;
    else if (key == "eps") c.eps = *d;
    else if (key == "weight_decay") c.weightDecay = *d;
    else if (key == "momentum") c.momentum = *d;
    else if (key == "clip_norm") c.clipNorm = *d;
    else if (key == "warmup") c.warmupSteps = int64_t(*d);
    else if (key == "total_steps") c.totalSteps = int64_t(*d);
    else if (key == "min_lr") c.minLr = *d;
    else
      return makeError({}, "pass 'optimizer' has no option '" + key +
                               "' (options: kind, lr, beta1, beta2, eps, weight_decay, momentum, nesterov, "
                               "clip_norm, schedule, warmup, total_steps, min_lr, no_decay, fused, skip_non_finite)");
  }
  if (auto s = validateOptimizerConfig(c); !s) return s.error();
  return std::unique_ptr<Pass>(std::make_unique<OptimizerPass>(std::move(c)));
}

}  // namespace kiln
