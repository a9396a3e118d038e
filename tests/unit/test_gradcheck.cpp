// Autodiff against central finite differences, in f64 on the reference device, for every
// differentiable op over random shapes including broadcasting and reduction cases.
#include <cmath>
#include <map>

#include "compiler/autodiff/autodiff.h"
#include "gradcheck.h"
#include "eval/random.h"
#include "op_cases.h"
#include "test_helpers.h"

namespace kiln {
namespace {

using test::GradCase;

const std::map<OpKind, const char*> kNotDifferentiable = {
    {OpKind::Constant, "no operands"},
    {OpKind::Iota, "no operands"},
    {OpKind::RandomUniform, "integer seed operand"},
    {OpKind::RandomNormal, "integer seed operand"},
    {OpKind::Eq, "bool result"},
    {OpKind::Ne, "bool result"},
    {OpKind::Lt, "bool result"},
    {OpKind::Le, "bool result"},
    {OpKind::Gt, "bool result"},
    {OpKind::Ge, "bool result"},
    {OpKind::StateRead, "a source; its gradient is the state's gradient output"},
    {OpKind::StateAssign, "no result"},
    {OpKind::GeluGrad, "backward op: second order is not supported"},
    {OpKind::SoftmaxGrad, "backward op: second order is not supported"},
    {OpKind::LogSoftmaxGrad, "backward op: second order is not supported"},
    {OpKind::LayerNormGrad, "backward op: second order is not supported"},
    {OpKind::CrossEntropyGrad, "backward op: second order is not supported"},
    {OpKind::AttentionGrad, "backward op: second order is not supported"},
    {OpKind::AdamWUpdate, "an optimizer update, made after autodiff"},
    {OpKind::AdamWGroup, "optimizer updates, made by fusion after autodiff"},
    {OpKind::AllReduce, "gradient averaging, made by data-parallel after autodiff"},
    {OpKind::Fused, "made by fusion, after autodiff"},
    {OpKind::FusedSum, "made by fusion, after autodiff"},
    {OpKind::MatmulBias, "made by fusion, after autodiff"},
    {OpKind::AddLayerNorm, "made by fusion, after autodiff"},
    {OpKind::CrossEntropyWithGrad, "made by fusion, after autodiff"},
};

}  // namespace

TEST_CASE("every differentiable op passes the finite-difference check") {
  std::set<OpKind> covered;
  std::map<std::string, double> worst;
  for (int trial = 0; trial < 3; ++trial) {
    for (const GradCase& c : test::allOpCases(trial)) {
      auto r = test::checkGradients(c);
      CHECK(r.checkedElements > 0);
      covered.insert(r.forwardKinds.begin(), r.forwardKinds.end());
      worst[c.label] = r.worstRelativeError;
    }
  }
  for (OpKind k : kAllOpKinds)
    if (!kNotDifferentiable.count(k))
      CHECK_MESSAGE(covered.count(k), "op '" << mnemonic(k) << "' has no finite-difference check");
  double overall = 0;
  for (auto& [label, e] : worst) overall = std::max(overall, e);
  MESSAGE("worst relative error over " << worst.size() << " cases: " << overall);
}

TEST_CASE("autodiff errors are located and explained") {
  Module m = test::parseValid(
      "func @f(%x: f32[2], %i: i32[2]) -> (loss: f32[2], other: f32[]) {\n"
      "  %s = reduce_sum %x {axes = [0]} : f32[]\n"
      "  return %x, %s\n}\n");
  auto s = differentiate(m, *m.functions[0], {});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().str() == "test.kir:1:1: error: the loss of @f must be a floating point scalar, got f32[2]");
  AutodiffOptions o;
  o.lossOutput = "other";
  s = differentiate(m, *m.functions[0], o);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message == "the loss of @f does not depend on any trainable state or requested input");
  o.wrtInputs = {"i"};
  s = differentiate(m, *m.functions[0], o);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message == "cannot differentiate with respect to %i of type i32[2]");
}

}  // namespace kiln
