// The objectives' losses beyond language modelling, differentiated end to end against finite
// differences (f64, reference device): classification (GPT's last-token head, BERT's pooled
// [CLS]), cloze (the LM head read at the slot, over the verbalizer's words) and REINFORCE (the
// weighted log-likelihood of sampled tokens at a sampling temperature).
#include "gradcheck.h"
#include "models/bert.h"
#include "models/classifier.h"
#include "models/cloze.h"
#include "models/gpt.h"
#include "test_helpers.h"

namespace kiln {
namespace {

TransformerConfig tiny(int64_t vocab) {
  TransformerConfig c = test::smallGpt(vocab, 6, 8, 16, 3, DType::F64);
  c.layers = 1;
  c.initStd = 0.3;  // every path carries a visible gradient
  return c;
}

// Three rows: the second padded at its last two positions, the third without an example.
std::vector<ref::Tensor> labeledRows(const TransformerConfig& c, bool withSlot) {
  const int64_t B = c.batch, T = c.context;
  ref::Tensor ids({DType::I32, {B, T}}), mask({c.dtype, {B, T}}), slot({DType::I32, {B}}), labels({DType::I32, {B}}, {2, 0, -100});
  for (int64_t i = 0; i < B * T; ++i) {
    ids[i] = double((i * 5 + 2) % c.vocab);
    mask[i] = (i / T == 1 && i % T >= T - 2) ? 0 : 1;
  }
  for (int64_t r = 0; r < B; ++r) slot[r] = double(r == 1 ? T - 3 : T - 1);
  if (withSlot) return {ids, mask, slot, labels};
  return {ids, mask, labels};
}

// Every parameter reaches the loss and its gradient was compared.
void expectAllParameters(const Module& m, const test::ModelGradCheck& r) {
  CHECK(r.parameters == m.states.size());
  CHECK(r.checked > r.parameters);
  MESSAGE(r.checked << " elements of " << r.parameters << " parameters, worst relative error " << r.worst);
}

}  // namespace

TEST_CASE("classify loss: autodiff matches finite differences (gpt and bert heads)") {
  for (const char* kind : {"gpt", "bert"}) {
    CAPTURE(kind);
    TransformerConfig c = tiny(13);
    Module m;
    addClassifierParameters(m, c, kind, 3, true);
    buildClassifier(m, c, kind, "loss", "");
    auto r = test::checkModelGradients(m, labeledRows(c, false), 5);
    expectAllParameters(m, r);
  }
}

TEST_CASE("cloze loss: autodiff matches finite differences (gpt and bert)") {
  const std::vector<std::vector<int32_t>> words = {{3}, {5, 6}, {7}};
  for (const char* kind : {"gpt", "bert"}) {
    CAPTURE(kind);
    TransformerConfig c = tiny(13);
    Module m;
    if (std::string(kind) == "gpt") addGptParameters(m, c);
    else addBertParameters(m, c, BertHeads{true, false, false});
    buildCloze(m, c, kind, words, "loss", "");
    auto r = test::checkModelGradients(m, labeledRows(c, true), 5);
    expectAllParameters(m, r);
  }
}

TEST_CASE("REINFORCE loss at temperature 0.7: autodiff matches finite differences") {
  TransformerConfig c = tiny(11);
  Module m;
  addGptParameters(m, c);
  buildGptReinforceLoss(m, c, "loss", 0.7);
  const int64_t B = c.batch, T = c.context;
  ref::Tensor tokens({DType::I32, {B, T + 1}}), weights({c.dtype, {B, T}});
  for (int64_t i = 0; i < tokens.size(); ++i) tokens[i] = double((i * 7 + 3) % c.vocab);
  for (int64_t i = 0; i < weights.size(); ++i) weights[i] = i % T < 2 ? 0.0 : 0.5 - double(i % 5) * 0.3;  // prompt rows weigh 0
  auto r = test::checkModelGradients(m, {tokens, weights}, 8);
  expectAllParameters(m, r);
}

}  // namespace kiln
