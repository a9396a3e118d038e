// The encoder-decoder: T5 span corruption and BART infilling batches (the target restores the
// window), and the whole model's gradient against finite differences (padding mask,
// cross-attention, causal decoder, tied head).
#include <cmath>

#include "compiler/autodiff/autodiff.h"
#include "gradcheck.h"
#include "models/seq2seq.h"
#include "runtime/data/denoising_batches.h"
#include "eval/interpreter.h"
#include "test_helpers.h"

namespace kiln {

TEST_CASE("denoising batches: t5 sentinels and bart masks hide spans the target restores") {
  std::vector<int32_t> stream(3000);
  for (size_t i = 0; i < stream.size(); ++i) stream[i] = int32_t(i % 200);  // consecutive ids
  DenoisingSettings s;
  s.batch = 8;
  s.context = 40;
  s.tokenizerVocab = 250;
  s.eos = 201;
  for (const char* noise : {"t5", "bart"}) {
    s.noise = noise;
    auto b = denoisingBatch(stream, s, 5, 3);
    REQUIRE(b.ok());
    const auto &ids = (*b)[0], &mask = (*b)[1], &dec = (*b)[2], &labels = (*b)[3];
    for (int64_t r = 0; r < s.batch; ++r) {
      std::vector<int32_t> in, target;
      for (int64_t t = 0; t < s.context; ++t) {
        if (mask[r * s.context + t] == 1) in.push_back(int32_t(ids[r * s.context + t]));
        if (labels[r * s.context + t] != -100) target.push_back(int32_t(labels[r * s.context + t]));
        if (t > 0 && labels[r * s.context + t - 1] != -100) CHECK(dec[r * s.context + t] == labels[r * s.context + t - 1]);
      }
      CHECK(dec[r * s.context] == s.eos);
      REQUIRE(in.back() == s.eos);
      REQUIRE(target.back() == s.eos);
      // Put the window back together: sentinels/masks in the input take the hidden spans.
      std::vector<int32_t> restored;
      if (std::string(noise) == "t5") {
        for (int32_t x : in) {
          if (x == s.eos) break;
          if (x < s.sentinel(0)) {
            restored.push_back(x);
            continue;
          }
          auto at = std::find(target.begin(), target.end(), x);
          REQUIRE(at != target.end());
          for (++at; at != target.end() && *at < s.sentinel(0) && *at != s.eos; ++at) restored.push_back(*at);
        }
      } else {
        restored.assign(target.begin(), target.end() - 1);
        CHECK(std::count(in.begin(), in.end(), s.mask()) >= 1);
      }
      for (size_t i = 1; i < restored.size(); ++i) CHECK(restored[i] == (restored[i - 1] + 1) % 200);
      CHECK(restored.size() >= size_t(s.context) / 2);
    }
  }
}

TEST_CASE("encoder-decoder: autodiff matches finite differences for every parameter") {
  TransformerConfig c = test::smallGpt(11, 5, 8, 12, 2, DType::F64);
  c.layers = 1;
  c.initStd = 0.3;
  Module m;
  addSeq2SeqParameters(m, c);
  buildSeq2Seq(m, c, "loss", "");
  ref::Tensor ids({DType::I32, {2, 5}}, {1, 2, 3, 4, 5, 6, 7, 8, 0, 0}), mask({DType::F64, {2, 5}}, {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}),
      dec({DType::I32, {2, 5}}, {9, 1, 2, 3, 4, 9, 5, 6, 0, 0}), labels({DType::I32, {2, 5}}, {1, 2, 3, 4, 9, 5, 6, 9, -100, -100});
  auto r = test::checkModelGradients(m, {ids, mask, dec, labels}, 4);
  CHECK(r.parameters == m.states.size());
  MESSAGE(r.checked << " elements of " << r.parameters << " parameters, worst relative error " << r.worst);
}

}  // namespace kiln
