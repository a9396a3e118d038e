#include "ir/graphviz.h"

#include <unordered_map>

namespace kiln {

static std::string dotEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

void emitDot(const Function& f, std::ostream& os) {
  std::unordered_map<const Value*, std::string> source;  // value -> node id
  os << "digraph \"" << dotEscape(f.name) << "\" {\n  rankdir=TB;\n  node [fontname=\"monospace\"];\n";
  for (const auto& p : f.params) {
    std::string id = "p" + std::to_string(p->index);
    source[p.get()] = id;
    os << "  " << id << " [shape=box, style=rounded, label=\"%" << dotEscape(p->name) << "\\n"
       << p->type.str() << "\"];\n";
  }
  int n = 0;
  for (const auto& op : f.ops) {
    std::string id = "n" + std::to_string(n++);
    os << "  " << id << " [shape=box, label=\"" << dotEscape(std::string(mnemonic(op->kind))) ;
    if (!op->stateRef.empty()) os << " @" << dotEscape(op->stateRef);
    if (!op->name.empty()) os << "\\n" << dotEscape(op->name);
    os << "\"];\n";
    for (const Value* v : op->operands) {
      auto it = source.find(v);
      if (it != source.end()) os << "  " << it->second << " -> " << id << " [label=\"" << v->type.str() << "\"];\n";
    }
    for (const auto& r : op->results) source[r.get()] = id;
  }
  for (size_t i = 0; i < f.outputs.size(); ++i) {
    std::string id = "out" + std::to_string(i);
    os << "  " << id << " [shape=oval, label=\"" << dotEscape(f.outputNames[i]) << "\"];\n";
    auto it = source.find(f.outputs[i]);
    if (it != source.end())
      os << "  " << it->second << " -> " << id << " [label=\"" << f.outputs[i]->type.str() << "\"];\n";
  }
  os << "}\n";
}

}  // namespace kiln
