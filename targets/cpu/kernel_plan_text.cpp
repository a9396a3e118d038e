// The stored form of the fused-kernel plans (fused_kernel_plan.h): written by the cpu target's
// compile half, read and checked by its device.
#include <sstream>

#include "ir/numbers.h"
#include "targets/cpu/fused_kernel_plan.h"

namespace kiln {

namespace {

constexpr const char* kHeader = "kiln-kernel-plans 1";

std::string dims(const Shape& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

std::optional<Shape> parseDims(const std::string& text) {
  Shape s;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('x', start);
    auto d = parseInt64(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (!d || *d < 1) return std::nullopt;
    s.push_back(*d);
    if (end == std::string::npos) return s;
    start = end + 1;
  }
  return std::nullopt;
}

int64_t product(const Shape& s, size_t from = 0) {
  int64_t n = 1;
  for (size_t i = from; i < s.size(); ++i) n *= s[i];
  return n;
}

// "key=value" -> value, or nullopt when the word is not that key.
std::optional<std::string> field(const std::string& word, const std::string& key) {
  if (word.rfind(key + "=", 0) != 0) return std::nullopt;
  return word.substr(key.size() + 1);
}

// Why `p` cannot run `op` safely, or "" when it can: every buffer a kernel touches must be the
// size the plan says.
std::string mismatch(const Op& op, const FusedKernelPlan& p) {
  if (p.operands.size() != op.operands.size())
    return "it has " + std::to_string(p.operands.size()) + " operands, the op " + std::to_string(op.operands.size());
  if (p.blockRows < 1 || p.tailRows != (p.sums ? p.rowElems : p.rows) % p.blockRows ||
      p.blockRows > (p.sums ? p.rowElems : p.rows))
    return "its block and tail do not divide its rows";
  if (p.sums) {
    if (p.rows != std::max<int64_t>(op.result()->type.numElements(), 1) || p.rows * p.rowElems != wholeElements(op))
      return "its rows do not cover the op's result and operands";
    for (size_t i = 0; i < p.operands.size(); ++i) {
      const auto& o = p.operands[i];
      if (o.shape.size() != 1 || o.shape[0] != (o.spansRows ? p.blockRows : 1) ||
          op.operands[i]->type.numElements() != (o.spansRows ? p.rows * p.rowElems : 1))
        return "operand " + std::to_string(i) + " does not match";
    }
    return "";
  }
  if (product(p.shape) != op.result()->type.numElements()) return "its shape " + dims(p.shape) + " is not the result's size";
  for (size_t i = 0; i < p.operands.size(); ++i) {
    const auto& o = p.operands[i];
    bool ok = o.shape.size() == p.shape.size() && product(o.shape) == op.operands[i]->type.numElements() &&
              o.spansRows == (o.shape[0] == p.shape[0]);
    for (size_t d = 0; ok && d < o.shape.size(); ++d) ok = o.shape[d] == p.shape[d] || o.shape[d] == 1;
    if (!ok) return "operand " + std::to_string(i) + " (" + dims(o.shape) + ") does not match";
  }
  return "";
}

}  // namespace

std::string formatKernelPlans(const Module& m, const KernelPlans& plans) {
  std::string out = std::string(kHeader) + "\n";
  for (const auto& f : m.functions)
    for (size_t i = 0; i < f->ops.size(); ++i) {
      auto it = plans.find(f->ops[i].get());
      if (it == plans.end()) continue;
      const FusedKernelPlan& p = it->second;
      out += "@" + f->name + " op=" + std::to_string(i) + " " + p.symbol + " sums=" + (p.sums ? "1" : "0") + " shape=" + dims(p.shape) +
             " block=" + std::to_string(p.blockRows) + " tail=" + std::to_string(p.tailRows) + " operands=";
      for (size_t i = 0; i < p.operands.size(); ++i)
        out += (i ? "," : "") + std::string(p.operands[i].spansRows ? "r:" : "b:") + dims(p.operands[i].shape);
      out += "\n";
    }
  return out;
}

Expected<KernelPlans> parseKernelPlans(const Module& m, const std::string& text, const std::string& origin) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kHeader)
    return makeError(Location{origin, 1, 1}, "damaged or mismatched executable: kernel plans must start with '" + std::string(kHeader) + "'");
  KernelPlans plans;
  for (int lineNo = 2; std::getline(in, line); ++lineNo) {
    auto bad = [&](const std::string& why) { return makeError(Location{origin, lineNo, 1}, "damaged executable: kernel plan: " + why); };
    std::istringstream words(line);
    std::string fn, result, symbol, sums, shape, block, tail, operands, extra;
    if (!(words >> fn >> result >> symbol >> sums >> shape >> block >> tail >> operands) || (words >> extra))
      return bad("expected '@fn op=N symbol sums= shape= block= tail= operands=', got '" + line + "'");
    const Function* f = fn.size() > 1 && fn[0] == '@' ? m.findFunction(fn.substr(1)) : nullptr;
    if (!f) return bad("no function " + fn);
    auto index = field(result, "op");
    auto at = index ? parseInt64(*index) : std::nullopt;
    const Op* op = at && *at >= 0 && size_t(*at) < f->ops.size() ? f->ops[size_t(*at)].get() : nullptr;
    if (!op || op->results.size() != 1 || !hasFusedKernelPlan(*op) || op->result()->type.numElements() == 0)
      return bad(fn + " has no fused op at " + result);
    if (plans.count(op)) return bad(fn + " " + result + " is planned twice");
    FusedKernelPlan p;
    p.symbol = symbol;
    p.expr = op->attrs.getStr("expr");
    auto s = field(sums, "sums");
    auto sh = field(shape, "shape");
    auto bl = field(block, "block");
    auto tl = field(tail, "tail");
    auto ops = field(operands, "operands");
    std::optional<Shape> dimsOk = sh ? parseDims(*sh) : std::nullopt;
    auto blockRows = bl ? parseInt64(*bl) : std::nullopt;
    auto tailRows = tl ? parseInt64(*tl) : std::nullopt;
    if (!s || (*s != "0" && *s != "1") || !dimsOk || !blockRows || !tailRows || !ops || symbol.rfind("kiln_fused_", 0) != 0)
      return bad("unreadable fields in '" + line + "'");
    p.sums = *s == "1";
    p.shape = *dimsOk;
    p.blockRows = *blockRows;
    p.tailRows = *tailRows;
    if (p.sums) {
      p.rows = std::max<int64_t>(op->result()->type.numElements(), 1);
      p.rowElems = p.shape[0];
    } else {
      p.rows = p.shape[0];
      p.rowElems = product(p.shape, 1);
    }
    std::istringstream list(*ops);
    for (std::string o; std::getline(list, o, ',');) {
      auto od = o.size() > 2 && (o[0] == 'r' || o[0] == 'b') && o[1] == ':' ? parseDims(o.substr(2)) : std::nullopt;
      if (!od) return bad("unreadable operand '" + o + "'");
      const bool spans = o[0] == 'r';
      p.operands.push_back({*od, spans, p.sums ? (spans ? p.rowElems : 0) : product(*od, 1)});
    }
    if (std::string why = mismatch(*op, p); !why.empty()) return bad("the plan of " + fn + " " + result + " does not fit the op: " + why);
    plans.emplace(op, std::move(p));
  }
  for (const auto& f : m.functions)
    for (const auto& op : f->ops)
      if (hasFusedKernelPlan(*op) && op->result()->type.numElements() > 0 && !plans.count(op.get()))
        return makeError(Location{origin, 0, 0}, "damaged executable: no kernel plan for @" + f->name + " %" + op->result()->name +
                                                     " (truncated?)");
  return plans;
}

}  // namespace kiln
