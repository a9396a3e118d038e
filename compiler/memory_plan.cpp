// Memory planning.
//
// Algorithm: every op result gets an interval [its op's index, the index of its last use]
// (function outputs and values assigned to state live to the end). Walking the ops in order, values whose interval ended are
// freed and each new value takes the first free gap that fits (first fit over a sorted list of
// live blocks), else the end of the arena. Offsets are 64-byte aligned. The arena size is the
// highest end any block reached; per category, the same walk measures the peak bytes of values
// that are gradients (made by autodiff: names ending ".grad") versus other activations.
// A reshape, a contiguous slice or an all_reduce is a view: its result lies in its operand's block (see
// aliasOf, viewOffset), whose interval is extended to the last use of every view of it. A state
// read (and any view of one) takes no arena space: it is the state's own buffer.
#include "compiler/memory_plan.h"

#include <algorithm>
#include <cstdio>
#include <unordered_map>

#include "ir/adamw_operands.h"

namespace kiln {

int64_t MemoryPlan::totalBytes() const {
  int64_t total = arenaBytes;
  for (const auto& [k, v] : categories)
    if (k == "parameters" || k == "optimizer state" || k == "other state" || k == "workspace") total += v;
  return total;
}

std::string MemoryPlan::summary() const {
  std::string out;
  auto line = [&](const std::string& name, int64_t bytes) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "  %-18s %12.2f MiB\n", name.c_str(), double(bytes) / (1 << 20));
    out += buf;
  };
  for (const char* k : {"parameters", "optimizer state", "other state"})
    if (categories.count(k)) line(k, categories.at(k));
  line("activation arena", arenaBytes);
  for (const char* k : {"activations (peak)", "gradients (peak)"})
    if (categories.count(k)) line(std::string("  of which ") + k, categories.at(k));
  if (categories.count("workspace")) line("workspace", categories.at("workspace"));
  line("total planned", totalBytes());
  return out;
}

std::string MemoryPlan::json() const {
  std::string out = "{";
  auto field = [&](const std::string& name, int64_t bytes) {
    out += (out.size() > 1 ? ", \"" : "\"") + name + "\": " + std::to_string(bytes);
  };
  for (const auto& [name, bytes] : categories) field(name, bytes);
  field("activation arena", arenaBytes);
  field("total planned", totalBytes());
  return out + "}";
}

std::map<const Value*, std::string> inPlaceStateUpdates(const Function& f) {
  const size_t end = f.ops.size();
  std::map<std::string, std::vector<const Value*>> assigned;  // state -> values assigned to it
  std::map<std::string, size_t> lastRead;                      // state -> last read of its old value
  auto readState = [&](const Value* v) -> const std::string* {
    const Value* root = aliasOf(v);
    return root->def && root->def->kind == OpKind::StateRead ? &root->def->stateRef : nullptr;
  };
  for (size_t i = 0; i < end; ++i) {
    const Op& op = *f.ops[i];
    if (op.kind == OpKind::StateAssign) assigned[op.stateRef].push_back(op.operands[0]);
    for (const Value* v : op.operands)
      if (const std::string* s = readState(v)) {
        size_t& at = lastRead[*s];
        at = std::max(at, op.kind == OpKind::StateAssign ? end : i);
      }
  }
  for (const Value* v : f.outputs)
    if (const std::string* s = readState(v)) lastRead[*s] = end;
  std::map<const Value*, std::string> inState;
  for (size_t i = 0; i < end; ++i) {
    const Op& op = *f.ops[i];
    if (op.kind != OpKind::AdamWUpdate && op.kind != OpKind::AdamWGroup) continue;
    // p' <- p, m' <- m, v' <- v.
    static constexpr AdamWOperand kOperandOf[3] = {AdamWOperand::P, AdamWOperand::M, AdamWOperand::V};
    for (size_t r = 0; r < op.results.size(); ++r) {
      size_t j = r / 3, k = r % 3;
      size_t operand = adamwOperand(op, j, kOperandOf[k]);
      const Value* old = op.operands[operand];
      const std::string* s = readState(old);
      if (!s || old->type != op.result(int(r))->type) continue;
      auto a = assigned.find(*s);
      if (a == assigned.end() || a->second.size() != 1 || a->second[0] != op.result(int(r))) continue;
      if (lastRead.at(*s) <= i) inState.emplace(op.result(int(r)), *s);
    }
  }
  return inState;
}

MemoryPlan planMemory(const Module& m, const Function& f, int elementBytes, const WorkspaceRule& workspaceRule) {
  auto bytesOf = [&](const TensorType& t) { return storedBytes(t, elementBytes); };
  MemoryPlan plan;
  plan.inState = inPlaceStateUpdates(f);
  for (const StateVar& s : m.states) {
    std::string cat = s.trainable ? "parameters" : s.name.rfind("optimizer.", 0) == 0 ? "optimizer state" : "other state";
    plan.categories[cat] += bytesOf(s.type);
  }
  std::unordered_map<const Value*, size_t> lastUse;
  for (size_t i = 0; i < f.ops.size(); ++i)
    for (const Value* v : f.ops[i]->operands) lastUse[v] = i;
  // Outputs, and values committed to state (state_assign takes effect when the call returns),
  // live to the end.
  for (const Value* v : f.outputs) lastUse[v] = f.ops.size();
  for (const auto& op : f.ops)
    if (op->kind == OpKind::StateAssign) lastUse[op->operands[0]] = f.ops.size();
  for (const auto& op : f.ops)
    if (isView(op.get()))
      if (auto it = lastUse.find(op->result()); it != lastUse.end()) {
        size_t& root = lastUse[aliasOf(op->result())];
        root = std::max(root, it->second);
      }
  struct Block {
    int64_t offset, size;
    const Value* value;
    bool gradient;
  };
  std::vector<Block> live;  // sorted by offset
  int64_t gradBytes = 0, actBytes = 0, peakGrad = 0, peakAct = 0;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const Op& op = *f.ops[i];
    bool gradient = op.name.size() >= 5 && op.name.compare(op.name.size() - 5, 5, ".grad") == 0;
    if (isView(&op)) {
      const Value* r = op.result();
      if (auto at = plan.offsets.find(aliasOf(r)); at != plan.offsets.end())
        plan.offsets[r] = at->second + viewOffset(r) * storedElementBytes(r->type.dtype, elementBytes);
      continue;
    }
    // A state read is the state's own buffer (devices bind it there): no arena space.
    if (op.kind == OpKind::StateRead) continue;
    for (const auto& r : op.results) {
      if (plan.inState.count(r.get())) continue;
      int64_t size = (bytesOf(r->type) + 63) / 64 * 64;
      int64_t at = 0;
      auto pos = live.begin();
      for (; pos != live.end(); ++pos) {
        if (pos->offset - at >= size) break;
        at = std::max(at, pos->offset + pos->size);
      }
      live.insert(pos, Block{at, size, r.get(), gradient});
      plan.offsets[r.get()] = at;
      plan.arenaBytes = std::max(plan.arenaBytes, at + size);
      (gradient ? gradBytes : actBytes) += size;
    }
    peakGrad = std::max(peakGrad, gradBytes);
    peakAct = std::max(peakAct, actBytes);
    // Free what dies here (values used last by this op, and results nobody uses).
    std::erase_if(live, [&](const Block& b) {
      auto it = lastUse.find(b.value);
      bool dead = it == lastUse.end() ? b.value->def == &op : it->second == i;
      if (dead) (b.gradient ? gradBytes : actBytes) -= b.size;
      return dead;
    });
  }
  const int64_t workspace = workspaceRule ? workspaceRule(f, elementBytes > 0 ? elementBytes : 4) : 0;
  if (workspace > 0) plan.categories["workspace"] = workspace;
  plan.categories["activations (peak)"] = peakAct;
  plan.categories["gradients (peak)"] = peakGrad;
  return plan;
}

ArenaPlans planArenas(const Module& m, int elementBytes) {
  ArenaPlans plans;
  for (const auto& f : m.functions) {
    MemoryPlan p = planMemory(m, *f, elementBytes);
    plans[f->name] = ArenaPlan{p.arenaBytes, std::move(p.offsets), std::move(p.inState)};
  }
  return plans;
}

}  // namespace kiln
