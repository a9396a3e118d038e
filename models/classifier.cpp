#include "models/classifier.h"

#include "models/bert.h"

namespace kiln {

void addClassifierParameters(Module& m, const TransformerConfig& c, const std::string& modelKind, int64_t classes, bool withBody) {
  int64_t seed = c.seed * 1000 + 900;
  auto normal = [&]() { return Initializer{InitKind::Normal, 0.0, c.initStd, ++seed}; };
  if (modelKind == "bert") {
    if (withBody) addBertParameters(m, c, BertHeads{.mlm = false, .pooler = true, .nsp = false});
    m.addState("classifier.weight", {c.dtype, {classes, c.dModel}}, normal(), true);
    m.addState("classifier.bias", {c.dtype, {classes}}, Initializer{InitKind::Zeros}, true);
  } else {
    if (withBody) addGptParameters(m, c);
    m.addState("score.weight", {c.dtype, {classes, c.dModel}}, normal(), true);
  }
}

std::vector<std::string> classifierHeadPrefixes() { return {"classifier.", "score.", "bert.pooler."}; }

bool isClassifierHead(const std::string& n) {
  for (const auto& prefix : classifierHeadPrefixes())
    if (n.rfind(prefix, 0) == 0) return true;
  return false;
}

Function& buildClassifier(Module& m, const TransformerConfig& c, const std::string& modelKind,
                          const std::string& name, const std::string& outputPrefix) {
  Function& f = m.addFunction(name);
  Builder b(m, f);
  const int64_t B = c.batch, T = c.context, C = c.dModel;
  Value* ids = b.param("input_ids", {DType::I32, {B, T}});
  Value* mask = b.param("attention_mask", {c.dtype, {B, T}});
  Value* labels = b.param("labels", {DType::I32, {B}});
  Value* logits;
  if (modelKind == "bert") {
    Value* h = bertEncoder(b, c, ids, b.full(0, {DType::I32, {B, T}}), mask);
    auto s = b.scope("classifier");
    b.setLocation(c.source("objective"));
    Value* first = b.reshape(b.slice(h, {0, 0, 0}, {B, 1, C}), {B, C});
    Value* pooled = b.tanh(b.add(b.matmul(first, b.readState("bert.pooler.dense.weight"), false, true),
                                 b.readState("bert.pooler.dense.bias")));
    logits = b.add(b.matmul(pooled, b.readState("classifier.weight"), false, true), b.readState("classifier.bias"));
  } else {
    Value* h = gptHidden(b, c, ids);  // [B, T, C]
    auto s = b.scope("score");
    b.setLocation(c.source("objective"));
    // The last real position: (number of 1s in the mask) - 1, picked by a one-hot sum.
    Value* last = b.sub(b.cast(b.reduceSum(mask, {1}), DType::I32), b.full(1, {DType::I32, {B}}));
    Value* pick = b.cast(b.compare(OpKind::Eq, b.iota({DType::I32, {1, T}}, 1), b.reshape(last, {B, 1})), c.dtype);
    Value* hLast = b.reduceSum(b.mul(h, b.reshape(pick, {B, T, 1})), {1});  // [B, C]
    logits = b.matmul(hLast, b.readState("score.weight"), false, true);
  }
  b.setLocation(c.source("objective"));
  {
    auto s = b.scope("loss");
    b.output(outputPrefix + "loss", b.crossEntropy(logits, labels, -100));
  }
  b.output(outputPrefix + "accuracy", accuracy(b, logits, labels, -100));
  if (!outputPrefix.empty()) b.output(outputPrefix + "logits", logits);  // evaluation: per-class metrics on the host
  return f;
}

}  // namespace kiln
