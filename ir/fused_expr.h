// The body of a `fused` op: a straight-line program over the op's operands, evaluated per
// element of the (broadcast) result. Text form, one instruction per ';':
//   add($0, $1); gelu_tanh(%0); mul(%1, 0.5)
// `$i` is operand i, `%j` the result of instruction j, a number is a constant; the last
// instruction is the result. The fusion pass writes these, codegen and the kernels read them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ir/diagnostics.h"

namespace kiln {

enum class FusedPrim {
  // unary
  Neg, Abs, Exp, Log, Sqrt, Rsqrt, Tanh, Sin, Cos, Sigmoid, Relu, GeluTanh, GeluErf,
  // binary
  Add, Sub, Mul, Div, Max, Min, Pow, GeluGradTanh, GeluGradErf,
};

int fusedPrimArity(FusedPrim p);
// Every primitive, in the table's order (tests that cover them all).
std::vector<FusedPrim> allFusedPrims();
std::string_view fusedPrimName(FusedPrim p);

struct FusedArg {
  enum Kind { Input, Temp, Constant } kind;
  int index = 0;       // Input, Temp
  double value = 0.0;  // Constant
};

struct FusedInstr {
  FusedPrim prim;
  std::vector<FusedArg> args;
};

struct FusedExpr {
  std::vector<FusedInstr> instrs;

  // Parses and checks the text (operand indices below numInputs, temps defined before use).
  static Expected<FusedExpr> parse(std::string_view text, int numInputs);
  std::string str() const;
};

}  // namespace kiln
