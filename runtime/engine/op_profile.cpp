#include "runtime/engine/op_profile.h"

#include <algorithm>

#include "ir/cost_model.h"

namespace kiln {

std::string profileKindKey(const Op& op) {
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

void OpProfile::addWait(double secs) {
  for (Row* r : {&byKind["all_reduce (waiting)"], &byComponent["data_parallel (waiting)"]}) {
    r->seconds += secs;
    ++r->calls;
  }
}

void OpProfile::add(const Op& op, double secs) {
  std::string comp = op.name.empty() ? "(unnamed)" : op.name;
  // Fold "h.3.attn.c_attn.grad" into "h.*.attn.c_attn": per layer totals add up per component.
  if (comp.rfind("h.", 0) == 0) {
    size_t dot = comp.find('.', 2);
    if (dot != std::string::npos) comp = "h.*" + comp.substr(dot);
  }
  if (comp.size() > 5 && comp.compare(comp.size() - 5, 5, ".grad") == 0) comp = comp.substr(0, comp.size() - 5) + " (backward)";
  const double flops = opFlops(op);
  for (Row* r : {&byKind[profileKindKey(op)], &byComponent[comp]}) {
    r->seconds += secs;
    ++r->calls;
    r->flops += flops;
  }
}

std::vector<Engine::ProfileEntry> OpProfile::entries(const std::map<std::string, Row>& m) {
  std::vector<Engine::ProfileEntry> out;
  for (const auto& [k, v] : m) out.push_back({k, v.seconds, v.calls, v.flops});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.seconds > b.seconds; });
  return out;
}

}  // namespace kiln
