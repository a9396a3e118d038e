// The masked-LM data pipeline: layout of [CLS] A [SEP] B [SEP], the 15% / 80-10-10 masking
// statistics, next-sentence pairs, and determinism in (seed, step).
#include <doctest/doctest.h>

#include "runtime/data/mlm_batches.h"

namespace kiln {

namespace {

std::vector<int32_t> countingStream(int n) {
  std::vector<int32_t> s(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) s[size_t(i)] = i % 97;  // consecutive ids: continuation is visible
  return s;
}

}  // namespace

TEST_CASE("mlm batches: layout, masking rates, next-sentence pairs, determinism") {
  MlmSettings s;
  s.batch = 64;
  s.context = 21;  // [CLS] 9 [SEP] 9 [SEP]
  s.tokenizerVocab = 100;
  s.specials = EncoderSpecials::after(100);
  std::vector<int32_t> stream = countingStream(5000);
  int64_t chosen = 0, maskedTok = 0, keptTok = 0, candidates = 0, isNext = 0, rows = 0;
  for (uint64_t step = 0; step < 20; ++step) {
    auto b = mlmBatch(stream, s, 7, step);
    REQUIRE(b.ok());
    REQUIRE(b->size() == 5);
    const auto &ids = (*b)[0], &seg = (*b)[1], &mask = (*b)[2], &labels = (*b)[3], &nsp = (*b)[4];
    for (int64_t r = 0; r < s.batch; ++r, ++rows) {
      auto at = [&](int64_t t) { return r * s.context + t; };
      CHECK(ids[at(0)] == s.specials.cls);
      CHECK(ids[at(10)] == s.specials.sep);
      CHECK(ids[at(20)] == s.specials.sep);
      CHECK(seg[at(10)] == 0);
      CHECK(seg[at(11)] == 1);
      for (int64_t t = 0; t < s.context; ++t) {
        CHECK(mask[at(t)] == 1);
        bool special = t == 0 || t == 10 || t == 20;
        if (special) {
          CHECK(labels[at(t)] == -100);
          continue;
        }
        ++candidates;
        if (labels[at(t)] == -100) continue;
        ++chosen;
        if (ids[at(t)] == s.specials.mask) ++maskedTok;
        else if (ids[at(t)] == labels[at(t)]) ++keptTok;
      }
      // The original tokens (label where chosen, else the id): B follows A iff the label is 0.
      auto original = [&](int64_t t) { return labels[at(t)] != -100 ? labels[at(t)] : ids[at(t)]; };
      bool continues = int(original(11)) == (int(original(9)) + 1) % 97;
      if (nsp[r] == 0) CHECK(continues);
      isNext += nsp[r] == 0;
    }
  }
  double chosenRate = double(chosen) / double(candidates), maskRate = double(maskedTok) / double(chosen);
  double keptRate = double(keptTok) / double(chosen), nextRate = double(isNext) / double(rows);
  MESSAGE("chosen " << chosenRate << ", [MASK] " << maskRate << ", kept " << keptRate << ", is-next " << nextRate);
  CHECK(chosenRate == doctest::Approx(0.15).epsilon(0.1));
  CHECK(maskRate == doctest::Approx(0.8).epsilon(0.05));
  CHECK(keptRate > 0.08);  // 10% kept, plus random replacements that drew the same token
  CHECK(keptRate < 0.14);
  CHECK(nextRate == doctest::Approx(0.5).epsilon(0.1));

  auto again = mlmBatch(stream, s, 7, 3), other = mlmBatch(stream, s, 7, 4);
  auto first = mlmBatch(stream, s, 7, 3);
  CHECK((*again)[0].data == (*first)[0].data);
  CHECK((*again)[3].data == (*first)[3].data);
  CHECK((*other)[0].data != (*first)[0].data);

  s.nsp = false;
  auto plain = mlmBatch(stream, s, 7, 0);
  REQUIRE(plain.ok());
  CHECK(plain->size() == 4);
  CHECK((*plain)[0][20] == s.specials.sep);
  CHECK((*plain)[1][20] == 0);  // one segment
  CHECK_FALSE(mlmBatch(std::vector<int32_t>(5, 1), s, 7, 0).ok());  // shorter than one sequence
}

}  // namespace kiln
