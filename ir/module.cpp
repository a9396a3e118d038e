#include "ir/module.h"

#include <algorithm>

namespace kiln {

std::string Initializer::str() const {
  switch (kind) {
    case InitKind::Zeros: return "zeros";
    case InitKind::Ones: return "ones";
    case InitKind::Full: return "full(value = " + formatDouble(a) + ")";
    case InitKind::Normal:
      return "normal(mean = " + formatDouble(a) + ", std = " + formatDouble(b) +
             ", seed = " + std::to_string(seed) + ")";
    case InitKind::Uniform:
      return "uniform(low = " + formatDouble(a) + ", high = " + formatDouble(b) +
             ", seed = " + std::to_string(seed) + ")";
  }
  return "?";
}

Value* Function::addParam(std::string pname, TensorType type) {
  auto v = std::make_unique<Value>();
  v->type = std::move(type);
  v->name = std::move(pname);
  v->index = int(params.size());
  params.push_back(std::move(v));
  return params.back().get();
}

static std::unique_ptr<Op> makeOp(OpKind kind, std::vector<Value*> operands,
                                  std::vector<TensorType> resultTypes, Attrs attrs) {
  auto op = std::make_unique<Op>();
  op->kind = kind;
  op->operands = std::move(operands);
  op->attrs = std::move(attrs);
  for (size_t i = 0; i < resultTypes.size(); ++i) {
    auto v = std::make_unique<Value>();
    v->type = std::move(resultTypes[i]);
    v->def = op.get();
    v->index = int(i);
    op->results.push_back(std::move(v));
  }
  return op;
}

Op* Function::appendOp(OpKind kind, std::vector<Value*> operands,
                       std::vector<TensorType> resultTypes, Attrs attrs) {
  ops.push_back(makeOp(kind, std::move(operands), std::move(resultTypes), std::move(attrs)));
  return ops.back().get();
}

Op* Function::insertOp(size_t pos, OpKind kind, std::vector<Value*> operands,
                       std::vector<TensorType> resultTypes, Attrs attrs) {
  auto it = ops.insert(ops.begin() + std::ptrdiff_t(pos),
                       makeOp(kind, std::move(operands), std::move(resultTypes), std::move(attrs)));
  return it->get();
}

void Function::addOutput(std::string outName, Value* v) {
  outputNames.push_back(std::move(outName));
  outputs.push_back(v);
}

void Function::replaceAllUses(Value* from, Value* to) {
  for (auto& op : ops)
    for (Value*& v : op->operands)
      if (v == from) v = to;
  for (Value*& v : outputs)
    if (v == from) v = to;
}

StateVar* Module::findState(const std::string& n) {
  for (auto& s : states)
    if (s.name == n) return &s;
  return nullptr;
}
const StateVar* Module::findState(const std::string& n) const {
  return const_cast<Module*>(this)->findState(n);
}
Function* Module::findFunction(const std::string& n) {
  for (auto& f : functions)
    if (f->name == n) return f.get();
  return nullptr;
}
const Function* Module::findFunction(const std::string& n) const {
  return const_cast<Module*>(this)->findFunction(n);
}

StateVar& Module::addState(std::string n, TensorType type, Initializer init, bool trainable) {
  StateVar s;
  s.name = std::move(n);
  s.type = std::move(type);
  s.init = init;
  s.trainable = trainable;
  states.push_back(std::move(s));
  return states.back();
}

Function& Module::addFunction(std::string n) {
  functions.push_back(std::make_unique<Function>());
  functions.back()->name = std::move(n);
  return *functions.back();
}

}  // namespace kiln
