#include "tools/kiln/run_inputs.h"

#include <cmath>
#include <map>

#include "ir/lexer.h"
#include "ir/parser.h"
#include "eval/random.h"

namespace kiln {

Expected<std::vector<ref::Tensor>> readRunInputs(const Function& f, const std::string& path) {
  auto text = readFile(path);
  if (!text) return text.error();
  auto toks = lex(*text, path);
  if (!toks) return toks.error();
  std::map<std::string, ref::Tensor> given;
  const std::vector<Token>& t = *toks;
  size_t i = 0;
  auto at = [&](size_t k) { return Location{path, t[k].line, t[k].col}; };
  while (t[i].kind != Tok::End) {
    if (t[i].kind != Tok::ValueRef) return makeError(at(i), "expected '%name = [values]'");
    size_t nameTok = i;
    const Value* param = nullptr;
    for (const auto& p : f.params)
      if (p->name == t[i].text) param = p.get();
    if (!param) return makeError(at(i), "@" + f.name + " has no parameter %" + t[i].text);
    if (given.count(t[i].text)) return makeError(at(i), "%" + t[i].text + " is given twice");
    ++i;
    if (t[i].kind != Tok::Equal) return makeError(at(i), "expected '=' after %" + t[nameTok].text);
    ++i;
    std::vector<double> values;
    int depth = 0;
    do {
      const Token& tk = t[i];
      if (tk.kind == Tok::LBracket) ++depth;
      else if (tk.kind == Tok::RBracket) --depth;
      else if (tk.kind == Tok::Integer || tk.kind == Tok::Float) {
        char* end = nullptr;
        values.push_back(std::strtod(tk.text.c_str(), &end));
      } else if (tk.kind == Tok::Ident && (tk.text == "true" || tk.text == "false")) {
        values.push_back(tk.text == "true" ? 1.0 : 0.0);
      } else if (tk.kind == Tok::Ident && (tk.text == "inf" || tk.text == "nan")) {
        values.push_back(tk.text == "inf" ? INFINITY : NAN);
      } else if (tk.kind != Tok::Comma) {
        return makeError(at(i), "unexpected " + std::string(tokName(tk.kind)) + " in the values of %" + t[nameTok].text);
      }
      ++i;
    } while (depth > 0 && t[i].kind != Tok::End);
    if (depth != 0) return makeError(at(i), "unbalanced brackets in the values of %" + t[nameTok].text);
    if (int64_t(values.size()) != param->type.numElements())
      return makeError(at(nameTok), "%" + param->name + " is " + param->type.str() + " and needs " +
                                        std::to_string(param->type.numElements()) + " values, got " +
                                        std::to_string(values.size()));
    ref::Tensor tensor(param->type, values);
    tensor.roundToType();
    given[param->name] = std::move(tensor);
  }
  std::vector<ref::Tensor> inputs;
  for (const auto& p : f.params) {
    auto it = given.find(p->name);
    if (it == given.end()) return makeError(Location{path, 0, 0}, "no values for parameter %" + p->name);
    inputs.push_back(it->second);
  }
  return inputs;
}

std::vector<ref::Tensor> drawRunInputs(const Function& f, uint64_t seed, int64_t intRange) {
  std::vector<ref::Tensor> inputs;
  for (const auto& p : f.params) {
    ref::Tensor t(p->type);
    uint64_t stream = mixBits(seed ^ mixBits(uint64_t(p->index) + 1));
    for (int64_t i = 0; i < t.size(); ++i) {
      if (isFloat(p->type.dtype)) t[i] = counterNormal(stream, uint64_t(i));
      else if (p->type.dtype == DType::Bool) t[i] = counterUniform(stream, uint64_t(i)) < 0.5 ? 0 : 1;
      else t[i] = std::floor(counterUniform(stream, uint64_t(i)) * double(intRange));
    }
    t.roundToType();
    inputs.push_back(std::move(t));
  }
  return inputs;
}

}  // namespace kiln
