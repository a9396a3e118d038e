#include "tests/cuda/fused_cases.h"

#include <algorithm>
#include <cmath>

#include <doctest/doctest.h>

#include "ir/parser.h"
#include "ir/read_file.h"
#include "ir/verifier.h"
#include "eval/interpreter.h"

namespace kiln::test {

namespace {

// Result shape and two operands': whole, row bias, broadcast middle, scalar, long 1-D, rows.
struct ShapeCase {
  Shape out, a, b;
};
const ShapeCase kShapes[] = {
    {{37}, {37}, {37}}, {{5, 13}, {5, 13}, {13}}, {{3, 7, 5}, {3, 1, 5}, {7, 1}},
    {{6, 9}, {}, {6, 9}}, {{100003}, {100003}, {}}, {{3, 40000}, {1, 40000}, {3, 40000}},
};

}  // namespace

std::vector<FusedCase> fusedCases() {
  std::vector<FusedCase> cases;
  for (FusedPrim p : allFusedPrims())
    for (const ShapeCase& sc : kShapes) {
      FusedCase c;
      c.label = std::string(fusedPrimName(p)) + " on " + shapeStr(sc.out) + " from " + shapeStr(sc.a) + ", " + shapeStr(sc.b);
      Function& f = c.module.addFunction("f");
      Value* a = f.addParam("a", {DType::F32, sc.a});
      Value* b = f.addParam("b", {DType::F32, sc.b});
      std::string name(fusedPrimName(p));
      Attrs attrs;
      attrs.set("expr", fusedPrimArity(p) == 1 ? name + "($1); mul(%0, $0)" : name + "($0, $1); add(%0, 0.25)");
      f.addOutput("y", f.appendOp(OpKind::Fused, {a, b}, {{DType::F32, sc.out}}, attrs)->result());
      c.inputs = {{DType::F32, sc.a}, {DType::F32, sc.b}};
      c.positive = p == FusedPrim::Log || p == FusedPrim::Sqrt || p == FusedPrim::Rsqrt || p == FusedPrim::Pow;
      c.tol = p == FusedPrim::GeluGradTanh || p == FusedPrim::GeluGradErf ? 1e-4 : 2e-5;
      cases.push_back(std::move(c));
    }
  const std::pair<Shape, int64_t> sums[] = {{{3, 40000}, 1}, {{50001}, 0}, {{7, 5}, 0}, {{2, 3, 700}, 1}};
  for (const auto& [shape, axis] : sums) {
    FusedCase c;
    c.label = "fused_sum of " + shapeStr(shape) + " from axis " + std::to_string(axis);
    Function& f = c.module.addFunction("f");
    Value* a = f.addParam("a", {DType::F32, shape});
    Value* b = f.addParam("b", {DType::F32, {}});
    Attrs attrs;
    attrs.set("expr", "mul($0, $1); mul(%0, $0); exp(%1)");
    attrs.set("axis", axis);
    f.addOutput("y", f.appendOp(OpKind::FusedSum, {a, b}, {{DType::F32, Shape(shape.begin(), shape.begin() + axis)}}, attrs)->result());
    c.inputs = {{DType::F32, shape}, {DType::F32, {}}};
    c.tol = 2e-5;
    cases.push_back(std::move(c));
  }
  return cases;
}

Module fusedGptStep() {
  const std::string path = std::string(KILN_CUDA_TEST_INPUTS) + "/gpt_tiny_train_step.kir";
  auto text = readFile(path);
  REQUIRE_MESSAGE(text.ok(), (text.ok() ? "" : text.error().str()));
  auto m = parseModule(*text, path);
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().str()) << " (remake the file as its first lines say)");
  auto diags = verifyModule(*m);
  REQUIRE_MESSAGE(diags.empty(), (diags.empty() ? "" : diags[0].str()));
  return m.take();
}

ref::Tensor randomInput(const TensorType& type, bool positive, std::mt19937& rng) {
  std::uniform_real_distribution<double> pos(0.05, 4.0), any(-6.0, 6.0);
  ref::Tensor t(type);
  for (auto& v : t.data) v = double(float(positive ? pos(rng) : any(rng)));
  return t;
}

std::vector<ref::Tensor> referenceResults(const Module& m, const std::string& fn, const std::vector<ref::Tensor>& inputs) {
  const Function* f = m.findFunction(fn);
  REQUIRE(f != nullptr);
  ref::StateStore state;
  auto out = ref::run(m, *f, inputs, state);
  REQUIRE_MESSAGE(out.ok(), (out.ok() ? "" : out.error().str()));
  return out.take();
}

void checkClose(const ref::Tensor& got, const ref::Tensor& want, double tol, const std::string& what) {
  REQUIRE(got.size() == want.size());
  int64_t bad = 0;
  for (int64_t i = 0; i < got.size(); ++i) {
    const double a = got[i], b = want[i];
    const bool ok = (std::isnan(a) && std::isnan(b)) || a == b || std::fabs(a - b) <= tol * std::max(1.0, std::fabs(b));
    if (!ok && bad++ < 3) CHECK_MESSAGE(ok, what << "[" << i << "]: cuda " << a << " vs reference " << b);
  }
  CHECK_MESSAGE(bad == 0, what << ": " << bad << " of " << got.size() << " differ");
}

}  // namespace kiln::test
