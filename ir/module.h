// The IR: a Module holds named state and named functions; a Function is an SSA dataflow graph
// of Ops over statically shaped tensors. Ops are kept in a valid topological order (the text
// order); passes that add or remove ops keep it so.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/attributes.h"
#include "ir/diagnostics.h"
#include "ir/op_kind.h"
#include "ir/types.h"

namespace kiln {

struct Op;

// An SSA value: a function parameter or the result of an op.
struct Value {
  TensorType type;
  std::string name;     // text name without '%'; may be empty (the printer numbers it)
  Op* def = nullptr;    // defining op, or null for a parameter
  int index = 0;        // result index in def, or parameter index
};

struct Op {
  OpKind kind;
  std::vector<Value*> operands;
  std::vector<std::unique_ptr<Value>> results;
  Attrs attrs;
  std::string stateRef;  // state variable name for kStateRef ops
  std::string name;      // model path, e.g. "gpt.h3.attn.qkv"
  Location loc;          // where in the user's input this op comes from
  Location textLoc;      // where the op stood in a parsed IR file (not printed)

  Value* result(int i = 0) const { return results[size_t(i)].get(); }
};

enum class InitKind { Zeros, Ones, Full, Normal, Uniform };

// How a state variable starts. Random initializers are counter-based (see
// eval/random.h): element i depends only on (seed, i), on every machine.
struct Initializer {
  InitKind kind = InitKind::Zeros;
  double a = 0.0;     // full: value; normal: mean; uniform: low
  double b = 0.0;     // normal: std; uniform: high
  int64_t seed = 0;   // normal, uniform
  std::string str() const;
};

struct StateVar {
  std::string name;
  TensorType type;
  Initializer init;
  bool trainable = false;
  Location loc;
  Location textLoc;
};

class Function {
 public:
  std::string name;
  std::vector<std::unique_ptr<Value>> params;
  std::vector<std::unique_ptr<Op>> ops;
  std::vector<Value*> outputs;
  std::vector<std::string> outputNames;
  Location loc;
  Location textLoc;

  Value* addParam(std::string name, TensorType type);
  // Appends an op with the given result types; no type checking (see Builder for that).
  Op* appendOp(OpKind kind, std::vector<Value*> operands, std::vector<TensorType> resultTypes,
               Attrs attrs = {});
  // Inserts before position `pos` in ops.
  Op* insertOp(size_t pos, OpKind kind, std::vector<Value*> operands,
               std::vector<TensorType> resultTypes, Attrs attrs = {});
  void addOutput(std::string outName, Value* v);

  // Rewrites every use of `from` (operands and outputs) to `to`.
  void replaceAllUses(Value* from, Value* to);
  // Removes the ops for which `dead` is true; their results must be unused.
  template <class Pred>
  size_t eraseOpsIf(Pred dead) {
    size_t before = ops.size();
    std::erase_if(ops, [&](const std::unique_ptr<Op>& op) { return dead(*op); });
    return before - ops.size();
  }
};

class Module {
 public:
  std::vector<StateVar> states;
  std::vector<std::unique_ptr<Function>> functions;

  StateVar* findState(const std::string& name);
  const StateVar* findState(const std::string& name) const;
  Function* findFunction(const std::string& name);
  const Function* findFunction(const std::string& name) const;
  StateVar& addState(std::string name, TensorType type, Initializer init, bool trainable);
  Function& addFunction(std::string name);
};

}  // namespace kiln
