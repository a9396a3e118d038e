#include "models/cloze.h"

#include "models/bert.h"

namespace kiln {

Function& buildCloze(Module& m, const TransformerConfig& c, const std::string& modelKind,
                     const std::vector<std::vector<int32_t>>& words, const std::string& name, const std::string& outputPrefix) {
  Function& f = m.addFunction(name);
  Builder b(m, f);
  const int64_t B = c.batch, T = c.context, K = int64_t(words.size());
  Value* ids = b.param("input_ids", {DType::I32, {B, T}});
  Value* mask = b.param("attention_mask", {c.dtype, {B, T}});
  Value* slot = b.param("slot", {DType::I32, {B}});
  Value* labels = b.param("labels", {DType::I32, {B}});
  bool encoder = modelKind == "bert";
  Value* h = encoder ? bertEncoder(b, c, ids, b.full(0, {DType::I32, {B, T}}), mask) : gptHidden(b, c, ids);
  b.setLocation(c.source("objective"));
  auto s = b.scope("cloze");
  // The slot's hidden state, by a one-hot sum over positions: [B, C].
  Value* pick = b.cast(b.compare(OpKind::Eq, b.iota({DType::I32, {1, T}}, 1), b.reshape(slot, {B, 1})), c.dtype);
  Value* x = b.reduceSum(b.mul(h, b.reshape(pick, {B, T, 1})), {1});
  Value* vocabLogits;
  if (encoder) {
    Value* t = b.add(b.matmul(x, b.readState("cls.predictions.transform.dense.weight"), false, true),
                     b.readState("cls.predictions.transform.dense.bias"));
    t = c.activation == "relu" ? b.relu(t) : b.gelu(t, "erf");
    t = b.layerNorm(t, b.readState("cls.predictions.transform.LayerNorm.weight"),
                    b.readState("cls.predictions.transform.LayerNorm.bias"), c.layerNormEps);
    vocabLogits = b.add(b.matmul(t, b.readState("bert.embeddings.word_embeddings.weight"), false, true),
                        b.readState("cls.predictions.bias"));
  } else {
    vocabLogits = b.matmul(x, b.readState("wte.weight"), false, true);
  }
  // log p(word) for every verbalizer word, then log sum over each label's words: [B, K].
  std::vector<double> flat, membership;
  for (const auto& ws : words) flat.insert(flat.end(), ws.begin(), ws.end());
  const int64_t N = int64_t(flat.size());
  membership.assign(size_t(N * K), 0.0);
  int64_t at = 0;
  for (int64_t k = 0; k < K; ++k)
    for (size_t w = 0; w < words[size_t(k)].size(); ++w) membership[size_t((at++) * K + k)] = 1.0;
  Value* logp = b.logSoftmax(vocabLogits, -1);
  Value* wordLogp = b.gather(logp, b.constant(flat, {DType::I32, {N}}), 1);  // [B, N]
  Value* scores = b.log(b.matmul(b.exp(wordLogp), b.constant(membership, {c.dtype, {N, K}})));
  {
    auto ls = b.scope("loss");
    b.output(outputPrefix + "loss", b.crossEntropy(scores, labels, -100));
  }
  b.output(outputPrefix + "accuracy", accuracy(b, scores, labels, -100));
  if (!outputPrefix.empty()) b.output(outputPrefix + "logits", scores);
  return f;
}

}  // namespace kiln
