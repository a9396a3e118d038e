// Activation recomputation (rematerialization) to fit a memory limit.
//
// Algorithm: a cost-based greedy over the scheduled graph, after XLA's rematerialization pass
// (an exact Checkmate-style choice needs an integer-program solver for every compile, and the
// greedy reaches per-layer checkpointing or better on transformer steps). Take the function's
// memory profile in its scheduled order: the bytes live across each op (every stored value from
// its defining op to its last use; views and state reads take no space of their own, as in
// the memory plan). At the peak op t, every value that lives across t without being used by t
// is a candidate: computing it again just before its first use after t frees its bytes at t.
// Its recompute chain is its defining op plus, recursively, the defining ops of operands that
// are no longer live at t (at most kMaxChain ops); an operand beyond that is kept alive
// instead, which costs its bytes at t. The candidate that frees the most bytes at t per unit of
// recompute cost (FLOPs, plus kFlopsPerByte for each byte an op reads or writes) is recomputed;
// then the profile is taken again. This repeats until the target's memory plan fits the limit,
// or fails, when no candidate frees anything, with the smallest planned peak it reached.
// Invariants: a clone is the same op (kind, attributes, location) on the same operand values,
// so it computes the same bits as the original: results are byte-identical with and without
// recomputation. Clones are named `<name>.remat`; no op is removed or reordered; only the named
// function changes, and only when its plan exceeds the limit.
#include "compiler/remat/rematerialize.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "ir/byte_size.h"
#include "ir/cost_model.h"
#include "ir/read_file.h"
#include "ir/views.h"

namespace kiln {

namespace {

constexpr size_t kMaxChain = 16;      // ops one recomputation may clone (views not counted)
constexpr double kFlopsPerByte = 10;  // a byte moved costs about this many FLOPs of a matmul

bool isClone(const Op& op) { return op.name.size() >= 6 && op.name.compare(op.name.size() - 6, 6, ".remat") == 0; }

// Ops that may be computed a second time: pure ones that are not state or the optimizer (and
// not clones, so the greedy cannot recompute the same value forever).
bool recomputable(const Op& op) {
  if (!hasTrait(op.kind, kPure) || op.kind == OpKind::StateRead || op.kind == OpKind::AdamWUpdate ||
      op.kind == OpKind::AdamWGroup)
    return false;
  return !isClone(op);
}

// The function's memory profile in its current order.
struct Profile {
  std::unordered_map<const Op*, size_t> position;
  std::unordered_map<const Value*, size_t> lastUse;      // of each value itself (n: to the end)
  std::unordered_map<const Value*, size_t> rootLastUse;  // of each stored value, through its views
  std::vector<int64_t> live;                             // bytes live across each op
  std::unordered_set<const Value*> stored;               // values with arena space of their own
  std::unordered_map<const Value*, int64_t> bytes;
  size_t peak = 0;
};

Profile takeProfile(const Function& f, int elementBytes) {
  Profile p;
  const size_t n = f.ops.size();
  const auto inState = inPlaceStateUpdates(f);
  for (size_t i = 0; i < n; ++i) {
    const Op& op = *f.ops[i];
    p.position[&op] = i;
    for (const Value* v : op.operands) {
      size_t at = op.kind == OpKind::StateAssign ? n : i;  // assignments commit at the end
      p.lastUse[v] = std::max(p.lastUse[v], at);
      size_t& root = p.rootLastUse[aliasOf(v)];
      root = std::max(root, at);
    }
    if (op.kind == OpKind::StateRead || isView(&op)) continue;
    for (const auto& r : op.results)
      if (!inState.count(r.get())) {
        p.stored.insert(r.get());
        const int64_t b = storedBytes(r->type, elementBytes);
        p.bytes[r.get()] = (b + 63) / 64 * 64;
      }
  }
  for (const Value* v : f.outputs) {
    p.lastUse[v] = n;
    p.rootLastUse[aliasOf(v)] = n;
  }
  std::vector<int64_t> delta(n + 1, 0);
  for (const Value* v : p.stored) {
    const size_t def = p.position.at(v->def);
    auto it = p.rootLastUse.find(v);
    const size_t last = it == p.rootLastUse.end() ? def : std::min(it->second, n - 1);
    delta[def] += p.bytes.at(v);
    delta[last + 1] -= p.bytes.at(v);
  }
  p.live.resize(n);
  int64_t running = 0;
  for (size_t i = 0; i < n; ++i) {
    running += delta[i];
    p.live[i] = running;
    if (running > p.live[p.peak]) p.peak = i;
  }
  return p;
}

// One way to free bytes at the peak: the ops to clone (in their order) and what it gains.
struct Candidate {
  std::vector<const Op*> chain;  // originals to clone, sorted by position
  int64_t freed = 0;             // net bytes freed at the peak
  double cost = 0;
  double flops = 0;
};

class ChainBuilder {
 public:
  ChainBuilder(const Function& f, const Profile& p) : f_(f), p_(p) {}

  // Recomputing every result of `def` used after the peak.
  std::optional<Candidate> build(const Op& def) {
    const size_t t = p_.peak;
    Candidate c;
    std::set<size_t> chain;  // positions
    std::unordered_set<const Value*> kept;  // operands kept alive past the peak instead
    size_t clonedOps = 0;
    // A value needed by a clone: fine if its storage is live at t anyway, else recomputed too,
    // else kept alive (its bytes count against the gain).
    std::function<void(const Op&)> add;
    auto need = [&](const Value* v) {
      const Value* root = aliasOf(v);
      if (!p_.stored.count(root) || p_.rootLastUse.at(root) >= t) return;  // state, or live at t
      // Views between the root and v are cloned with it (free: no space, no work).
      for (const Value* w = v; w != root; w = w->def->operands[0]) chain.insert(p_.position.at(w->def));
      if (chain.count(p_.position.at(root->def))) return;
      if (clonedOps < kMaxChain && recomputable(*root->def)) return add(*root->def);
      if (kept.insert(root).second) c.freed -= p_.bytes.at(root);
    };
    add = [&](const Op& op) {
      chain.insert(p_.position.at(&op));
      ++clonedOps;
      c.flops += opFlops(op);
      double moved = 0;
      for (const Value* v : op.operands) moved += double(typeBytes(v->type));
      for (const auto& r : op.results) moved += double(typeBytes(r->type));
      c.cost += opFlops(op) + kFlopsPerByte * moved;
      for (const Value* v : op.operands) need(v);
    };
    for (const auto& r : def.results) {
      if (!p_.stored.count(r.get())) return std::nullopt;
      auto last = p_.rootLastUse.find(r.get());
      if (last == p_.rootLastUse.end()) continue;
      if (last->second >= f_.ops.size()) return std::nullopt;  // an output or assigned state
      if (last->second > t) c.freed += p_.bytes.at(r.get());
    }
    add(def);
    // Views of the results made before the peak and used after it are cloned on the clone.
    for (size_t i = p_.position.at(&def) + 1; i < t; ++i) {
      const Op& op = *f_.ops[i];
      if (!isView(&op) || aliasOf(op.result())->def != &def) continue;
      auto last = p_.lastUse.find(op.result());
      if (last == p_.lastUse.end() || last->second <= t) continue;
      for (const Value* w = op.result(); w->def != &def; w = w->def->operands[0]) chain.insert(p_.position.at(w->def));
    }
    if (c.freed <= 0) return std::nullopt;
    for (size_t i : chain) c.chain.push_back(f_.ops[i].get());
    return c;
  }

 private:
  const Function& f_;
  const Profile& p_;
};

// Whether op `t` reads `v`'s storage.
bool usedBy(const Op& t, const Value* root) {
  for (const Value* v : t.operands)
    if (aliasOf(v) == root) return true;
  return false;
}

std::optional<Candidate> bestCandidate(const Function& f, const Profile& p) {
  const size_t t = p.peak;
  const Op& atPeak = *f.ops[t];
  ChainBuilder builder(f, p);
  std::optional<Candidate> best;
  for (size_t d = 0; d < t; ++d) {
    const Op* def = f.ops[d].get();
    if (!recomputable(*def)) continue;
    bool livesAcross = false;
    for (const auto& r : def->results)
      if (auto last = p.rootLastUse.find(r.get()); p.stored.count(r.get()) && last != p.rootLastUse.end())
        livesAcross |= last->second > t;
    if (!livesAcross) continue;
    bool busy = false;
    for (const auto& r : def->results) busy |= usedBy(atPeak, r.get());
    if (busy) continue;
    auto c = builder.build(*def);
    if (!c) continue;
    auto score = [](const Candidate& x) { return double(x.freed) / std::max(x.cost, 1.0); };
    if (!best || score(*c) > score(*best)) best = std::move(c);  // the earliest of equals
  }
  return best;
}

// Clones the chain before the first use after the peak of what it recomputes, and points
// every use from there on at the clones. Returns the ops added (views not counted).
int recompute(Function& f, const Profile& p, const Candidate& c) {
  const size_t t = p.peak;
  std::unordered_map<const Value*, Value*> clones;
  for (const Op* op : c.chain)
    for (const auto& r : op->results) clones[r.get()] = nullptr;
  size_t at = f.ops.size();
  for (size_t i = t + 1; i < f.ops.size() && at == f.ops.size(); ++i)
    for (const Value* v : f.ops[i]->operands)
      if (clones.count(v)) at = i;
  int added = 0;
  for (const Op* op : c.chain) {
    std::vector<Value*> operands;
    for (Value* v : op->operands) operands.push_back(clones.count(v) && clones[v] ? clones[v] : v);
    std::vector<TensorType> types;
    for (const auto& r : op->results) types.push_back(r->type);
    Op* clone = f.insertOp(at++, op->kind, operands, types, op->attrs);
    clone->name = (op->name.empty() ? std::string(mnemonic(op->kind)) : op->name) + ".remat";
    clone->loc = op->loc;
    clone->stateRef = op->stateRef;
    for (size_t r = 0; r < op->results.size(); ++r) clones[op->result(int(r))] = clone->result(int(r));
    added += !isView(op);
  }
  for (size_t i = at; i < f.ops.size(); ++i)
    for (Value*& v : f.ops[i]->operands)
      if (auto it = clones.find(v); it != clones.end() && it->second) v = it->second;
  return added;
}

std::string mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / (1 << 20));
  return buf;
}

class Rematerialize : public Pass {
 public:
  explicit Rematerialize(RematConfig config) : config_(std::move(config)) {
    if (!config_.plan) {
      const int eb = config_.elementBytes;
      config_.plan = [eb](const Module& m, const Function& f) { return planMemory(m, f, eb); };
    }
  }
  std::string name() const override { return "remat"; }
  std::string description() const override { return "recompute activations in the backward pass to fit a memory limit"; }

  Expected<bool> run(Module& m) override {
    Function* f = m.findFunction(config_.function);
    if (!f) return makeError(config_.source, "remat: no function @" + config_.function + " to fit into " + config_.limitName);
    RematReport report;
    report.limitBytes = config_.limitBytes;
    const MemoryPlan before = config_.plan(m, *f);
    report.peakBefore = report.peakAfter = before.totalBytes();
    if (config_.report) *config_.report = report;
    if (report.peakBefore <= config_.limitBytes) return false;
    const int64_t fixed = before.totalBytes() - before.arenaBytes;  // state and workspace
    if (fixed >= config_.limitBytes)
      return makeError(config_.source, limitText() + " cannot be met: parameters, optimizer state and workspace alone take " +
                                           formatBytes(fixed) + ", before any activation (" + config_.function + " plans " +
                                           formatBytes(report.peakBefore) + ")");
    int64_t smallest = report.peakBefore;
    const size_t maxRounds = 4 * f->ops.size();
    for (size_t round = 0; round < maxRounds; ++round) {
      const Profile profile = takeProfile(*f, config_.elementBytes);
      auto c = bestCandidate(*f, profile);
      if (!c) break;
      report.ops += recompute(*f, profile, *c);
      report.flops += c->flops;
      report.peakAfter = config_.plan(m, *f).totalBytes();
      smallest = std::min(smallest, report.peakAfter);
      if (config_.report) *config_.report = report;
      if (report.peakAfter <= config_.limitBytes) return true;
    }
    return makeError(config_.source, limitText() + " cannot be met: recomputing activations brings the planned peak of " +
                                         config_.function + " from " + formatBytes(report.peakBefore) + " down to " +
                                         formatBytes(smallest) + " at the least" +
                                         (fixed > 0 ? " (" + formatBytes(fixed) + " of it parameters, optimizer state and workspace)" : "") +
                                         "; raise the limit to at least " +
                                         formatBytes(smallest) + " or make the batch smaller");
  }

 private:
  std::string limitText() const { return config_.limitName + " (" + formatBytes(config_.limitBytes) + ")"; }
  RematConfig config_;
};

}  // namespace

std::string RematReport::summary() const {
  char buf[200];
  if (ops == 0)
    std::snprintf(buf, sizeof buf, "recomputation: none, the planned peak fits the limit (%s)", mib(limitBytes).c_str());
  else
    std::snprintf(buf, sizeof buf, "recomputation: %d ops, +%.3g GFLOP per step; planned peak %s without it, %s with it", ops,
                  flops / 1e9, mib(peakBefore).c_str(), mib(peakAfter).c_str());
  return buf;
}

std::unique_ptr<Pass> createRematerialize(RematConfig config) { return std::make_unique<Rematerialize>(std::move(config)); }

Expected<std::unique_ptr<Pass>> createRematerializePass(const PassOptions& options) {
  RematConfig config;
  for (const auto& [key, value] : options) {
    if (key == "limit") {
      auto bytes = parseByteSize(value);
      if (!bytes) return makeError({}, "remat{limit=...}: " + bytes.error().message);
      config.limitBytes = *bytes;
    } else if (key == "function") {
      config.function = value;
    } else if (key == "element_bytes") {
      if (value != "0" && value != "2" && value != "4" && value != "8")
        return makeError({}, "remat{element_bytes=...} takes 0, 2, 4 or 8, got '" + value + "'");
      config.elementBytes = std::stoi(value);
    } else {
      return makeError({}, "pass 'remat' takes limit, function and element_bytes, got '" + key + "'");
    }
  }
  if (config.limitBytes == 0) return makeError({}, "pass 'remat' needs limit=SIZE (e.g. remat{limit=6GiB})");
  config.limitName = "remat{limit=" + options.at("limit") + "}";
  return createRematerialize(std::move(config));
}

}  // namespace kiln
