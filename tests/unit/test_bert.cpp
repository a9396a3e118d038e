// The BERT encoder with its MLM and NSP heads: the whole model's gradient against finite
// differences (padding mask, segments, post-LN, erf GELU, tied decoder, two losses), overfitting
// a fixed batch, and the in-graph accuracy.
#include <cmath>

#include "compiler/autodiff/autodiff.h"
#include "compiler/optimizer/optimizer.h"
#include "gradcheck.h"
#include "models/bert.h"
#include "eval/interpreter.h"
#include "test_helpers.h"

namespace kiln {
namespace {

TransformerConfig tinyBert(DType dt) {
  TransformerConfig c = test::smallGpt(13, 6, 8, 16, 2, dt);
  c.initStd = 0.3;  // large enough that every path carries a visible gradient
  c.layerNormEps = 1e-12;
  return c;
}

// Two rows: the second has two padding positions; masked positions carry labels.
std::vector<ref::Tensor> batch(const TransformerConfig& c) {
  const int64_t B = c.batch, T = c.context;
  ref::Tensor ids({DType::I32, {B, T}}), seg({DType::I32, {B, T}}), mask({c.dtype, {B, T}}), mlm({DType::I32, {B, T}}),
      nsp({DType::I32, {B}});
  for (int64_t i = 0; i < B * T; ++i) {
    int64_t t = i % T;
    ids[i] = double((i * 5 + 2) % 9);
    seg[i] = t >= T / 2 ? 1 : 0;
    mask[i] = (i / T == 1 && t >= T - 2) ? 0 : 1;
    mlm[i] = (t % 3 == 1) ? double((i * 3 + 1) % c.vocab) : -100;
  }
  nsp[0] = 1;
  nsp[1] = 0;
  return {ids, seg, mask, mlm, nsp};
}

}  // namespace

TEST_CASE("BERT (MLM + NSP): autodiff matches finite differences for every parameter") {
  TransformerConfig c = tinyBert(DType::F64);
  Module m;
  addBertParameters(m, c, BertHeads{});
  buildBertPretraining(m, c, true, "loss", "");
  auto r = test::checkModelGradients(m, batch(c), 6);
  CHECK(r.parameters == m.states.size());  // every parameter reaches the loss
  MESSAGE(r.checked << " elements of " << r.parameters << " parameters, worst relative error " << r.worst);
}

TEST_CASE("BERT (MLM + NSP) overfits a fixed batch: loss falls, both accuracies reach 1") {
  TransformerConfig c = tinyBert(DType::F32);
  c.initStd = 0.02;
  Module m;
  addBertParameters(m, c, BertHeads{});
  Function& f = buildBertPretraining(m, c, true, "loss", "");
  REQUIRE(differentiate(m, f).ok());
  OptimizerConfig opt;
  opt.lr = 1e-2;
  opt.weightDecay = 0.0;
  REQUIRE(lowerOptimizer(m, f, opt).ok());
  REQUIRE(verifyModule(m).empty());
  auto st = ref::initialState(m);
  REQUIRE(st.ok());
  std::vector<ref::Tensor> in = batch(c);
  double first = 0, last = 0, mlmAcc = 0, nspAcc = 0;
  for (int step = 0; step < 150; ++step) {
    auto outs = ref::run(m, f, in, *st);
    REQUIRE(outs.ok());
    (step == 0 ? first : last) = (*outs)[0][0];
    mlmAcc = (*outs)[1][0];
    nspAcc = (*outs)[2][0];
  }
  MESSAGE("loss " << first << " -> " << last << ", mlm accuracy " << mlmAcc << ", nsp accuracy " << nspAcc);
  CHECK(first == doctest::Approx(std::log(13.0) + std::log(2.0)).epsilon(0.05));
  CHECK(last < 0.1 * first);
  CHECK(mlmAcc == 1.0);
  CHECK(nspAcc == 1.0);
}

TEST_CASE("accuracy: argmax against labels, ignored rows left out") {
  Module m;
  Function& f = m.addFunction("f");
  Builder b(m, f);
  Value* logits = b.param("logits", {DType::F32, {4, 3}});
  Value* labels = b.param("labels", {DType::I32, {4}});
  b.output("acc", accuracy(b, logits, labels, -100));
  ref::Tensor l({DType::F32, {4, 3}}, {0, 2, 1, /**/ 5, 1, 1, /**/ 0, 0, 9, /**/ 3, 2, 1});
  ref::StateStore st;
  auto r = ref::run(m, f, {l, ref::Tensor({DType::I32, {4}}, {1, 1, 2, -100})}, st);
  REQUIRE(r.ok());
  CHECK((*r)[0][0] == doctest::Approx(2.0 / 3.0));
  auto none = ref::run(m, f, {l, ref::Tensor({DType::I32, {4}}, {-100, -100, -100, -100})}, st);
  REQUIRE(none.ok());
  CHECK((*none)[0][0] == 0.0);
}

}  // namespace kiln
