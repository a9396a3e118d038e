#include "ir/printer.h"

#include <set>
#include <sstream>
#include <unordered_map>

namespace kiln {

std::string quoteString(const std::string& s) { return formatAttr(Attr(s)); }

namespace {

// Display names for the values of one function: a value's own name when it is unique,
// otherwise the next free number.
class ValueNames {
 public:
  explicit ValueNames(const Function& f) {
    for (const auto& p : f.params) assign(p.get());
    for (const auto& op : f.ops)
      for (const auto& r : op->results) assign(r.get());
  }
  std::string operator()(const Value* v) const {
    auto it = names_.find(v);
    return it == names_.end() ? "%<undefined>" : "%" + it->second;
  }

 private:
  void assign(const Value* v) {
    std::string n = v->name;
    if (n.empty() || used_.count(n)) {
      do n = std::to_string(next_++);
      while (used_.count(n));
    }
    used_.insert(n);
    names_[v] = n;
  }
  std::unordered_map<const Value*, std::string> names_;
  std::set<std::string> used_;
  int next_ = 0;
};

void printLoc(const Location& loc, std::ostream& os) {
  if (!loc.known() || loc.line < 1) return;  // a file without a position says nothing useful
  os << " loc(" << quoteString(loc.file) << ":" << loc.line << ":" << loc.col << ")";
}

void printAttrs(const Op& op, std::ostream& os) {
  bool first = true;
  for (const auto& [name, value] : op.attrs.entries()) {
    const AttrSpec* spec = findAttrSpec(op.kind, name);
    if (spec && spec->defaultValue && *spec->defaultValue == value) continue;
    os << (first ? " {" : ", ") << name << " = " << formatAttr(value);
    first = false;
  }
  if (!first) os << "}";
}

void printOp(const Op& op, const ValueNames& names, std::ostream& os) {
  os << "  ";
  for (size_t i = 0; i < op.results.size(); ++i) os << (i ? ", " : "") << names(op.result(int(i)));
  if (!op.results.empty()) os << " = ";
  os << mnemonic(op.kind);
  bool first = true;
  if (hasTrait(op.kind, kStateRef)) {
    os << " @" << op.stateRef;
    first = false;
  }
  for (const Value* v : op.operands) {
    os << (first ? " " : ", ") << names(v);
    first = false;
  }
  printAttrs(op, os);
  for (size_t i = 0; i < op.results.size(); ++i) os << (i ? ", " : " : ") << op.result(int(i))->type.str();
  if (!op.name.empty()) os << " " << quoteString(op.name);
  printLoc(op.loc, os);
  os << "\n";
}

}  // namespace

void printFunction(const Module&, const Function& f, std::ostream& os) {
  ValueNames names(f);
  os << "func @" << f.name << "(";
  for (size_t i = 0; i < f.params.size(); ++i)
    os << (i ? ", " : "") << names(f.params[i].get()) << ": " << f.params[i]->type.str();
  os << ") -> (";
  for (size_t i = 0; i < f.outputs.size(); ++i)
    os << (i ? ", " : "") << f.outputNames[i] << ": " << f.outputs[i]->type.str();
  os << ")";
  printLoc(f.loc, os);
  os << " {\n";
  for (const auto& op : f.ops) printOp(*op, names, os);
  os << "  return";
  for (size_t i = 0; i < f.outputs.size(); ++i) os << (i ? ", " : " ") << names(f.outputs[i]);
  os << "\n}\n";
}

void printModule(const Module& m, std::ostream& os) {
  for (const StateVar& s : m.states) {
    os << "state @" << s.name << " : " << s.type.str() << " = " << s.init.str();
    if (s.trainable) os << " trainable";
    printLoc(s.loc, os);
    os << "\n";
  }
  for (size_t i = 0; i < m.functions.size(); ++i) {
    if (i || !m.states.empty()) os << "\n";
    printFunction(m, *m.functions[i], os);
  }
}

std::string printModule(const Module& m) {
  std::ostringstream os;
  printModule(m, os);
  return os.str();
}

}  // namespace kiln
