// Scheduling for low peak memory.
//
// Algorithm: the ops of each function form a DAG (an edge from the op defining a value to each
// op using it; Boost.Graph adjacency_list). List scheduling over that DAG in the original order,
// except that a ready op which frees more bytes than it allocates (its operands' last use) runs
// first, the one freeing most first; state_assign runs as soon as it is ready. The new order is
// kept only if the memory plan's arena comes out smaller than with the original order. Every
// edge is checked to point forward in the result.
// Invariants: the result is a topological order of the same ops (results are bit-identical:
// ops are pure and state assignments commit at return); names and locations are untouched.
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/topological_sort.hpp>

#include <unordered_map>

#include "compiler/memory_plan.h"
#include "compiler/pass.h"

namespace kiln {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;

class Schedule : public Pass {
 public:
  std::string name() const override { return "schedule"; }
  std::string description() const override { return "order ops for low peak memory"; }

  Expected<bool> run(Module& m) override {
    bool changed = false;
    for (auto& f : m.functions) changed |= runOn(m, *f);
    return changed;
  }

 private:
  static bool runOn(const Module& m, Function& f) {
    const size_t n = f.ops.size();
    if (n < 2) return false;
    std::unordered_map<const Value*, size_t> definer;
    for (size_t i = 0; i < n; ++i)
      for (const auto& r : f.ops[i]->results) definer[r.get()] = i;
    Graph g(n);
    // Remaining uses of each value, to know which op frees it.
    std::unordered_map<const Value*, int> usesLeft;
    for (size_t i = 0; i < n; ++i)
      for (const Value* v : f.ops[i]->operands) {
        ++usesLeft[v];
        auto d = definer.find(v);
        if (d != definer.end()) boost::add_edge(d->second, i, g);
      }
    for (const Value* v : f.outputs) ++usesLeft[v];  // outputs never free
    std::vector<int> waiting(n);
    for (size_t i = 0; i < n; ++i) waiting[i] = int(boost::in_degree(i, g));
    std::vector<size_t> ready, order;
    for (size_t i = 0; i < n; ++i)
      if (waiting[i] == 0) ready.push_back(i);
    while (!ready.empty()) {
      size_t best = 0;
      int64_t bestGain = 0;
      for (size_t k = 0; k < ready.size(); ++k) {
        const Op& op = *f.ops[ready[k]];
        int64_t gain = op.kind == OpKind::StateAssign ? INT64_MAX : 0;
        if (op.kind != OpKind::StateAssign) {
          for (const auto& r : op.results) gain -= typeBytes(r->type);
          std::unordered_map<const Value*, int> here;
          for (const Value* v : op.operands) ++here[v];
          for (const auto& [v, count] : here)
            if (usesLeft[v] == count && v->def) gain += typeBytes(v->type);
        }
        // A freeing op jumps the queue; otherwise the earliest op in the original order.
        bool better = gain > 0 ? gain > bestGain || (gain == bestGain && ready[k] < ready[best])
                               : bestGain <= 0 && ready[k] < ready[best];
        if (better) {
          bestGain = std::max<int64_t>(gain, 0);
          best = k;
        }
      }
      size_t i = ready[best];
      ready.erase(ready.begin() + std::ptrdiff_t(best));
      order.push_back(i);
      for (const Value* v : f.ops[i]->operands) --usesLeft[v];
      for (auto [e, end] = boost::out_edges(i, g); e != end; ++e)
        if (--waiting[boost::target(*e, g)] == 0) ready.push_back(boost::target(*e, g));
    }
    KILN_ASSERT(order.size() == n, "schedule: the op graph has a cycle");
    std::vector<size_t> position(n);
    for (size_t k = 0; k < n; ++k) position[order[k]] = k;
    for (auto [e, end] = boost::edges(g); e != end; ++e)
      KILN_ASSERT(position[boost::source(*e, g)] < position[boost::target(*e, g)], "schedule: not a topological order");
    bool changed = false;
    for (size_t k = 0; k < n; ++k) changed |= order[k] != k;
    if (!changed) return false;
    int64_t before = planMemory(m, f).arenaBytes;
    std::vector<std::unique_ptr<Op>> original = std::move(f.ops);
    f.ops.clear();
    for (size_t k = 0; k < n; ++k) f.ops.push_back(std::move(original[order[k]]));
    if (planMemory(m, f).arenaBytes < before) return true;
    for (size_t k = 0; k < n; ++k) original[order[k]] = std::move(f.ops[k]);  // no better: keep the original
    f.ops = std::move(original);
    return false;
  }
};

}  // namespace

std::unique_ptr<Pass> createSchedule() { return std::make_unique<Schedule>(); }

}  // namespace kiln
