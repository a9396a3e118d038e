#include "gradcheck.h"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include "compiler/autodiff/autodiff.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "eval/interpreter.h"
#include "eval/random.h"

namespace kiln::test {

double relativeError(double a, double b, double floor) {
  return std::fabs(a - b) / std::max({std::fabs(a), std::fabs(b), floor});
}

namespace {

double runLoss(const Module& m, const std::vector<ref::Tensor>& inputs) {
  ref::StateStore st;
  auto outs = ref::run(m, *m.functions[0], inputs, st);
  REQUIRE_MESSAGE(outs.ok(), (outs.ok() ? "" : outs.error().str()));
  return (*outs)[0][0];
}

}  // namespace

Module caseModule(const GradCase& c, bool gradients) {
  Module m;
  Function& f = m.addFunction("f");
  Builder b(m, f);
  std::vector<Value*> params;
  for (size_t i = 0; i < c.inputs.size(); ++i) params.push_back(b.param("x" + std::to_string(i), c.inputs[i].type));
  Value* y = c.forward(b, params);
  uint64_t seed = std::hash<std::string>{}(c.label);
  std::vector<double> w(size_t(y->type.numElements()));
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.5 + counterUniform(seed, i);
  std::vector<int64_t> all;
  for (int i = 0; i < y->type.rank(); ++i) all.push_back(i);
  Value* weighted = b.mul(y, b.constant(w, y->type));
  b.output("loss", all.empty() ? weighted : b.reduceSum(weighted, all));
  REQUIRE(verifyModule(m).empty());
  if (!gradients) return m;
  // Differentiate a reparsed copy: the gradient IR also goes through print and parse.
  auto copy = parseModule(printModule(m), "gradcheck.kir");
  REQUIRE(copy.ok());
  AutodiffOptions opts;
  for (size_t i = 0; i < c.inputs.size(); ++i)
    if (isFloat(c.inputs[i].type.dtype)) opts.wrtInputs.push_back("x" + std::to_string(i));
  auto status = differentiate(*copy, *copy->functions[0], opts);
  REQUIRE_MESSAGE(status.ok(), (status.ok() ? "" : status.error().str()));
  auto diags = verifyModule(*copy);
  REQUIRE_MESSAGE(diags.empty(), (diags.empty() ? "" : diags[0].str()));
  return copy.take();
}

GradCheckResult checkGradients(const GradCase& c, double h, size_t maxElements) {
  INFO("case " << c.label);
  GradCheckResult result;
  Module m = caseModule(c, false);
  for (const auto& op : m.functions[0]->ops) result.forwardKinds.insert(op->kind);
  Module g = caseModule(c, true);
  ref::StateStore st;
  auto outs = ref::run(g, *g.functions[0], c.inputs, st);
  REQUIRE_MESSAGE(outs.ok(), (outs.ok() ? "" : outs.error().str()));

  size_t out = 1;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (!isFloat(c.inputs[i].type.dtype)) continue;
    const ref::Tensor& grad = (*outs)[out++];
    int64_t n = c.inputs[i].size();
    int64_t stride = maxElements && size_t(n) > maxElements ? n / int64_t(maxElements) : 1;
    for (int64_t j = 0; j < n; j += stride) {
      double step = h * std::max(1.0, std::fabs(c.inputs[i][j]));
      auto at = [&](double k) {
        std::vector<ref::Tensor> moved = c.inputs;
        moved[i][j] += k * step;
        return runLoss(m, moved);
      };
      // Fourth-order central difference: truncation error O(h^4), so h can be large enough
      // to keep rounding noise far below the tolerance.
      double fd = (at(-2) - 8 * at(-1) + 8 * at(1) - at(2)) / (12 * step);
      double err = relativeError(grad[j], fd);
      result.worstRelativeError = std::max(result.worstRelativeError, err);
      ++result.checkedElements;
      CHECK_MESSAGE(err < 1e-6, "input " << i << " element " << j << ": autodiff " << grad[j]
                                          << " vs finite difference " << fd);
    }
  }
  return result;
}

ModelGradCheck checkModelGradients(const Module& m, const std::vector<ref::Tensor>& inputs, int64_t samples,
                                   double tolerance) {
  auto g = parseModule(printModule(m), "model.kir");
  REQUIRE(g.ok());
  REQUIRE(differentiate(*g, *g->functions[0]).ok());
  REQUIRE(verifyModule(*g).empty());
  auto init = ref::initialState(m);
  REQUIRE(init.ok());
  ref::StateStore st = *init;
  auto outs = ref::run(*g, *g->functions[0], inputs, st);
  REQUIRE(outs.ok());
  const Function& gf = *g->functions[0];
  ModelGradCheck r;
  for (size_t o = 0; o < gf.outputs.size(); ++o) {
    if (gf.outputNames[o].rfind("grad.", 0) != 0) continue;
    const std::string name = gf.outputNames[o].substr(5);
    const ref::Tensor& grad = (*outs)[o];
    ++r.parameters;
    for (int64_t j = 0; j < grad.size(); j += std::max<int64_t>(1, grad.size() / samples)) {
      const double h = 1e-4;
      auto lossAt = [&](double k) {
        ref::StateStore moved = *init;
        moved[name][j] += k * h;
        auto l = ref::run(m, *m.functions[0], inputs, moved);
        REQUIRE(l.ok());
        return (*l)[0][0];
      };
      double fd = (lossAt(-2) - 8 * lossAt(-1) + 8 * lossAt(1) - lossAt(2)) / (12 * h);
      double err = relativeError(grad[j], fd);
      r.worst = std::max(r.worst, err);
      ++r.checked;
      CHECK_MESSAGE(err < tolerance, name << "[" << j << "]: autodiff " << grad[j] << " vs " << fd);
    }
  }
  return r;
}

}  // namespace kiln::test
