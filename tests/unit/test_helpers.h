// Shared helpers for the unit tests.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "compiler/autodiff/autodiff.h"
#include "compiler/optimizer/optimizer.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "models/gpt.h"

namespace kiln::test {

// Parses and verifies IR text, failing the test with the diagnostics otherwise.
inline Module parseValid(const std::string& text, const std::string& file = "test.kir") {
  auto m = parseModule(text, file);
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().str()));
  auto diags = verifyModule(*m);
  std::string all;
  for (const auto& d : diags) all += d.str() + "\n";
  REQUIRE_MESSAGE(diags.empty(), all);
  return m.take();
}

// The first verifier or parser error for `text`, or "" when it is valid.
inline std::string firstError(const std::string& text) {
  auto m = parseModule(text, "t.kir");
  if (!m) return m.error().str();
  auto diags = verifyModule(*m);
  return diags.empty() ? "" : diags[0].str();
}

inline std::string inputsDir() { return KILN_TEST_INPUTS_DIR; }

// A 2-layer, 2-head GPT small enough for the reference device.
inline TransformerConfig smallGpt(int64_t vocab, int64_t context, int64_t dModel, int64_t dFF, int64_t batch,
                          DType dtype = DType::F32) {
  TransformerConfig c;
  c.vocab = vocab;
  c.context = context;
  c.layers = 2;
  c.heads = 2;
  c.dModel = dModel;
  c.dFF = dFF;
  c.batch = batch;
  c.dtype = dtype;
  return c;
}

// A GPT train_step: the loss of `c` differentiated and AdamW (global-norm clip 1.0) folded in.
inline Module gptTrainStep(const TransformerConfig& c, double lr = OptimizerConfig{}.lr) {
  Module m;
  Function& f = buildGptLoss(m, c);
  REQUIRE(differentiate(m, f).ok());
  OptimizerConfig opt;
  opt.lr = lr;
  opt.clipNorm = 1.0;
  REQUIRE(lowerOptimizer(m, f, opt).ok());
  return m;
}

}  // namespace kiln::test
