#include "ir/fused_expr.h"

#include <cctype>
#include <charconv>

#include "ir/attributes.h"

namespace kiln {

namespace {

struct PrimInfo {
  FusedPrim prim;
  std::string_view name;
  int arity;
};

constexpr PrimInfo kPrims[] = {
    {FusedPrim::Neg, "neg", 1},        {FusedPrim::Abs, "abs", 1},
    {FusedPrim::Exp, "exp", 1},        {FusedPrim::Log, "log", 1},
    {FusedPrim::Sqrt, "sqrt", 1},      {FusedPrim::Rsqrt, "rsqrt", 1},
    {FusedPrim::Tanh, "tanh", 1},      {FusedPrim::Sin, "sin", 1},
    {FusedPrim::Cos, "cos", 1},        {FusedPrim::Sigmoid, "sigmoid", 1},
    {FusedPrim::Relu, "relu", 1},      {FusedPrim::GeluTanh, "gelu_tanh", 1},
    {FusedPrim::GeluErf, "gelu_erf", 1}, {FusedPrim::Add, "add", 2},
    {FusedPrim::Sub, "sub", 2},        {FusedPrim::Mul, "mul", 2},
    {FusedPrim::Div, "div", 2},        {FusedPrim::Max, "max", 2},
    {FusedPrim::Min, "min", 2},        {FusedPrim::Pow, "pow", 2},
    {FusedPrim::GeluGradTanh, "gelu_grad_tanh", 2}, {FusedPrim::GeluGradErf, "gelu_grad_erf", 2},
};

const PrimInfo& info(FusedPrim p) {
  for (const auto& i : kPrims)
    if (i.prim == p) return i;
  KILN_ASSERT(false, "fused primitive without a table row");
  return kPrims[0];
}

}  // namespace

std::vector<FusedPrim> allFusedPrims() {
  std::vector<FusedPrim> out;
  for (const auto& i : kPrims) out.push_back(i.prim);
  return out;
}

namespace {

class ExprParser {
 public:
  ExprParser(std::string_view s, int numInputs) : s_(s), numInputs_(numInputs) {}

  Expected<FusedExpr> parse() {
    FusedExpr e;
    while (true) {
      skipSpace();
      if (pos_ == s_.size()) break;
      auto instr = parseInstr(int(e.instrs.size()));
      if (!instr) return instr.error();
      e.instrs.push_back(std::move(*instr));
      skipSpace();
      if (pos_ == s_.size()) break;
      if (s_[pos_] != ';') return fail("expected ';' between instructions");
      ++pos_;
    }
    if (e.instrs.empty()) return fail("a fused expression needs at least one instruction");
    return e;
  }

 private:
  Expected<FusedInstr> parseInstr(int index) {
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
    std::string_view name = s_.substr(start, pos_ - start);
    const PrimInfo* pi = nullptr;
    for (const auto& i : kPrims)
      if (i.name == name) pi = &i;
    if (!pi) return fail("unknown fused primitive '" + std::string(name) + "'");
    skipSpace();
    if (pos_ >= s_.size() || s_[pos_] != '(') return fail("expected '(' after " + std::string(name));
    ++pos_;
    FusedInstr instr{pi->prim, {}};
    while (true) {
      skipSpace();
      auto arg = parseArg(index);
      if (!arg) return arg.error();
      instr.args.push_back(*arg);
      skipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ')') {
        ++pos_;
        break;
      }
      return fail("expected ',' or ')'");
    }
    if (int(instr.args.size()) != pi->arity)
      return fail(std::string(name) + " takes " + std::to_string(pi->arity) + " argument(s), got " +
                  std::to_string(instr.args.size()));
    return instr;
  }

  Expected<FusedArg> parseArg(int index) {
    if (pos_ >= s_.size()) return fail("expected an argument");
    char c = s_[pos_];
    if (c == '$' || c == '%') {
      ++pos_;
      size_t start = pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      int v = -1;
      auto r = std::from_chars(s_.data() + start, s_.data() + pos_, v);
      if (r.ec != std::errc() || pos_ == start) return fail(std::string("expected a number after '") + c + "'");
      if (c == '$' && v >= numInputs_)
        return fail("$" + std::to_string(v) + " names a missing operand (the op has " + std::to_string(numInputs_) + ")");
      if (c == '%' && v >= index)
        return fail("%" + std::to_string(v) + " is used before it is defined (in instruction " + std::to_string(index) + ")");
      return FusedArg{c == '$' ? FusedArg::Input : FusedArg::Temp, v, 0.0};
    }
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.' ||
                                s_[pos_] == '-' || s_[pos_] == '+'))
      ++pos_;
    std::string num(s_.substr(start, pos_ - start));
    char* end = nullptr;
    double v = num.empty() ? 0.0 : std::strtod(num.c_str(), &end);
    if (num.empty() || end != num.c_str() + num.size()) return fail("expected $N, %N or a number, got '" + num + "'");
    return FusedArg{FusedArg::Constant, 0, v};
  }

  void skipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  Diagnostic fail(const std::string& msg) const {
    return makeError({}, "fused expression at character " + std::to_string(pos_ + 1) + ": " + msg);
  }

  std::string_view s_;
  int numInputs_;
  size_t pos_ = 0;
};

}  // namespace

int fusedPrimArity(FusedPrim p) { return info(p).arity; }
std::string_view fusedPrimName(FusedPrim p) { return info(p).name; }

Expected<FusedExpr> FusedExpr::parse(std::string_view text, int numInputs) { return ExprParser(text, numInputs).parse(); }

std::string FusedExpr::str() const {
  std::string s;
  for (size_t i = 0; i < instrs.size(); ++i) {
    if (i) s += "; ";
    s += fusedPrimName(instrs[i].prim);
    s += '(';
    for (size_t j = 0; j < instrs[i].args.size(); ++j) {
      const FusedArg& a = instrs[i].args[j];
      if (j) s += ", ";
      if (a.kind == FusedArg::Input) s += "$" + std::to_string(a.index);
      else if (a.kind == FusedArg::Temp) s += "%" + std::to_string(a.index);
      else s += formatDouble(a.value);
    }
    s += ')';
  }
  return s;
}

}  // namespace kiln
