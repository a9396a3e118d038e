#include "ir/verifier.h"

#include <set>
#include <unordered_set>

#include "ir/shape_inference.h"

namespace kiln {

std::string checkTypeLimits(const TensorType& t) {
  if (t.rank() > kMaxRank)
    return "rank " + std::to_string(t.rank()) + " exceeds the maximum of " + std::to_string(kMaxRank);
  int64_t n = 1;
  for (int64_t d : t.shape) {
    if (d < 0 || d > kMaxDim) return "dimension " + std::to_string(d) + " is out of range [0, 2^40]";
    if (d != 0 && n > kMaxElements / d)
      return "type " + t.str() + " has more than 2^40 elements";
    n *= d;
  }
  return {};
}

std::string checkAttrs(OpKind kind, const Attrs& attrs) {
  const OpInfo& info = opInfo(kind);
  for (const auto& [name, value] : attrs.entries()) {
    const AttrSpec* spec = findAttrSpec(kind, name);
    if (!spec) {
      std::string allowed;
      for (const AttrSpec& s : info.attrs) allowed += (allowed.empty() ? "" : ", ") + s.name;
      return std::string(info.mnemonic) + " has no attribute '" + name + "'" +
             (allowed.empty() ? " (it takes none)" : " (allowed: " + allowed + ")");
    }
    AttrType t = attrType(value);
    bool ok = t == spec->type || (spec->numbers && t == AttrType::Ints);
    if (!ok)
      return "attribute '" + name + "' of " + std::string(info.mnemonic) + " must be " +
             (spec->numbers ? "a list of numbers" : attrTypeName(spec->type)) + ", got " +
             attrTypeName(t);
  }
  for (const AttrSpec& s : info.attrs)
    if (!s.defaultValue && !attrs.has(s.name))
      return std::string(info.mnemonic) + " needs attribute '" + s.name + "'";
  return {};
}

void fillDefaultAttrs(OpKind kind, Attrs& attrs) {
  for (const AttrSpec& s : opInfo(kind).attrs)
    if (s.defaultValue && !attrs.has(s.name)) attrs.set(s.name, *s.defaultValue);
}

Location diagLoc(const Op& op, const Function& f) {
  if (op.textLoc.known()) return op.textLoc;
  if (op.loc.known()) return op.loc;
  return f.textLoc;
}

namespace {

class Verifier {
 public:
  explicit Verifier(const Module& m) : m_(m) {}

  std::vector<Diagnostic> run() {
    std::set<std::string> stateNames;
    for (const StateVar& s : m_.states) {
      Location at = s.textLoc.known() ? s.textLoc : s.loc;
      if (!stateNames.insert(s.name).second) error(at, "state @" + s.name + " is defined twice");
      if (auto e = checkTypeLimits(s.type); !e.empty()) error(at, "state @" + s.name + ": " + e);
      if ((s.init.kind == InitKind::Normal || s.init.kind == InitKind::Uniform) && !isFloat(s.type.dtype))
        error(at, "state @" + s.name + ": random initializers need a floating point type");
      if (s.init.kind == InitKind::Normal && !(s.init.b >= 0))
        error(at, "state @" + s.name + ": normal std must be >= 0");
      if (s.init.kind == InitKind::Uniform && !(s.init.a <= s.init.b))
        error(at, "state @" + s.name + ": uniform needs low <= high");
      if (s.trainable && !isFloat(s.type.dtype))
        error(at, "state @" + s.name + ": only floating point state can be trainable");
    }
    std::set<std::string> fnNames;
    for (const auto& f : m_.functions) {
      if (!fnNames.insert(f->name).second) error(f->textLoc, "function @" + f->name + " is defined twice");
      verifyFunction(*f);
    }
    return std::move(diags_);
  }

 private:
  void error(Location loc, std::string msg) { diags_.push_back(makeError(std::move(loc), std::move(msg))); }

  void verifyFunction(const Function& f) {
    std::unordered_set<const Value*> defined;
    std::set<std::string> names;
    for (const auto& p : f.params) {
      if (auto e = checkTypeLimits(p->type); !e.empty()) error(f.textLoc, "parameter %" + p->name + ": " + e);
      if (!p->name.empty() && !names.insert(p->name).second)
        error(f.textLoc, "parameter %" + p->name + " is defined twice");
      defined.insert(p.get());
    }
    std::set<std::string> assigned;
    for (const auto& opPtr : f.ops) {
      const Op& op = *opPtr;
      Location at = diagLoc(op, f);
      const OpInfo& info = opInfo(op.kind);
      std::string mn(info.mnemonic);
      bool operandsOk = true;
      for (size_t i = 0; i < op.operands.size(); ++i)
        if (!op.operands[i] || !defined.count(op.operands[i])) {
          error(at, mn + " operand " + std::to_string(i) + " is not defined before its use");
          operandsOk = false;
        }
      int n = int(op.operands.size());
      if (n < info.minOperands || n > info.maxOperands) {
        std::string want = info.minOperands == info.maxOperands
                               ? std::to_string(info.minOperands)
                               : std::to_string(info.minOperands) + " to " + std::to_string(info.maxOperands);
        error(at, mn + " takes " + want + " operand(s), got " + std::to_string(n));
        operandsOk = false;
      }
      if (info.numResults >= 0 && int(op.results.size()) != info.numResults) {
        error(at, mn + " has " + std::to_string(info.numResults) + " result(s), got " +
                      std::to_string(op.results.size()));
        operandsOk = false;
      }
      if (auto e = checkAttrs(op.kind, op.attrs); !e.empty()) {
        error(at, e);
        operandsOk = false;
      }
      for (const auto& r : op.results)
        if (auto e = checkTypeLimits(r->type); !e.empty()) {
          error(at, mn + " result: " + e);
          operandsOk = false;
        }
      if (info.traits & kStateRef) verifyStateRef(op, at, assigned);
      if (operandsOk) {
        std::vector<TensorType> in, declared;
        for (const Value* v : op.operands) in.push_back(v->type);
        for (const auto& r : op.results) declared.push_back(r->type);
        InferResult inferred = inferResultTypes(op.kind, in, op.attrs, declared);
        if (!inferred.ok()) {
          error(at, mn + ": " + inferred.error);
        } else {
          for (size_t i = 0; i < declared.size() && i < inferred.types.size(); ++i)
            if (inferred.types[i] != declared[i])
              error(at, mn + " result " + std::to_string(i) + " should be " + inferred.types[i].str() +
                            ", but is declared " + declared[i].str());
          if (auto e = checkTypeLimits(inferred.types.empty() ? TensorType{} : inferred.types[0]);
              !e.empty())
            error(at, mn + " result: " + e);
        }
      }
      for (const auto& r : op.results) {
        if (!r->name.empty() && !names.insert(r->name).second)
          error(at, "value %" + r->name + " is defined twice");
        defined.insert(r.get());
      }
    }
    if (f.outputs.size() != f.outputNames.size()) error(f.textLoc, "function @" + f.name + ": output names and values differ in number");
    for (size_t i = 0; i < f.outputs.size(); ++i)
      if (!f.outputs[i] || !defined.count(f.outputs[i]))
        error(f.textLoc, "function @" + f.name + ": output " + std::to_string(i) + " is not defined");
  }

  void verifyStateRef(const Op& op, const Location& at, std::set<std::string>& assigned) {
    const StateVar* s = m_.findState(op.stateRef);
    if (!s) {
      error(at, std::string(mnemonic(op.kind)) + " refers to undefined state @" + op.stateRef);
      return;
    }
    if (op.kind == OpKind::StateRead && op.results.size() == 1 && op.results[0]->type != s->type)
      error(at, "state_read @" + s->name + " must have type " + s->type.str() + ", declared " +
                    op.results[0]->type.str());
    if (op.kind == OpKind::StateAssign) {
      if (op.operands.size() == 1 && op.operands[0] && op.operands[0]->type != s->type)
        error(at, "state_assign @" + s->name + " needs a value of type " + s->type.str() + ", got " +
                      op.operands[0]->type.str());
      if (!assigned.insert(s->name).second)
        error(at, "state @" + s->name + " is assigned more than once in one function");
    }
  }

  const Module& m_;
  std::vector<Diagnostic> diags_;
};

}  // namespace

std::vector<Diagnostic> verifyModule(const Module& m) { return Verifier(m).run(); }

}  // namespace kiln
