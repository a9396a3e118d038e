#include "runtime/data/mlm_batches.h"

#include "eval/random.h"

namespace kiln {

namespace {

// Independent uniform streams per purpose, row and position.
enum Purpose : uint64_t { kOffsetA, kIsNext, kOffsetB, kChoose, kReplace, kRandomToken, kPurposes };

double draw(uint64_t seed, uint64_t step, int64_t row, int64_t pos, const MlmSettings& s, Purpose p) {
  uint64_t i = ((step * uint64_t(s.batch) + uint64_t(row)) * uint64_t(s.context + 1) + uint64_t(pos)) * kPurposes + p;
  return counterUniform(seed, i);
}

}  // namespace

Expected<std::vector<ref::Tensor>> mlmBatch(const std::vector<int32_t>& stream, const MlmSettings& s, uint64_t seed,
                                            uint64_t step) {
  const int64_t B = s.batch, T = s.context;
  const int64_t lenA = s.nsp ? (T - 3) / 2 : T - 2, lenB = s.nsp ? T - 3 - lenA : 0;
  if (int64_t(stream.size()) < lenA + lenB + 1)
    return makeError({}, "the token stream (" + std::to_string(stream.size()) + " tokens) is shorter than one sequence of " +
                             std::to_string(lenA + lenB) + " tokens");
  ref::Tensor ids({DType::I32, {B, T}}), seg({DType::I32, {B, T}}), mask({DType::F32, {B, T}}), labels({DType::I32, {B, T}}),
      nsp({DType::I32, {B}});
  const uint64_t spanA = uint64_t(int64_t(stream.size()) - lenA - lenB + 1), spanB = uint64_t(int64_t(stream.size()) - lenB + 1);
  for (int64_t r = 0; r < B; ++r) {
    std::vector<int32_t> row{s.specials.cls};
    std::vector<bool> special{true};
    uint64_t a = uint64_t(draw(seed, step, r, 0, s, kOffsetA) * double(spanA));
    for (int64_t i = 0; i < lenA; ++i) row.push_back(stream[a + uint64_t(i)]), special.push_back(false);
    row.push_back(s.specials.sep), special.push_back(true);
    if (s.nsp) {
      bool isNext = draw(seed, step, r, 0, s, kIsNext) < 0.5;
      uint64_t b = isNext ? a + uint64_t(lenA) : uint64_t(draw(seed, step, r, 0, s, kOffsetB) * double(spanB));
      for (int64_t i = 0; i < lenB; ++i) row.push_back(stream[b + uint64_t(i)]), special.push_back(false);
      row.push_back(s.specials.sep), special.push_back(true);
      nsp[r] = isNext ? 0 : 1;  // as Hugging Face: 0 = B continues A
    }
    for (int64_t t = 0; t < T; ++t) {
      int64_t at = r * T + t;
      bool inA = t <= lenA + 1;
      seg[at] = inA ? 0 : 1;
      mask[at] = 1;
      labels[at] = -100;
      ids[at] = row[size_t(t)];
      if (special[size_t(t)] || draw(seed, step, r, t, s, kChoose) >= s.maskProb) continue;
      labels[at] = row[size_t(t)];
      double how = draw(seed, step, r, t, s, kReplace);
      if (how < 0.8) ids[at] = s.specials.mask;
      else if (how < 0.9) ids[at] = double(int64_t(draw(seed, step, r, t, s, kRandomToken) * double(s.tokenizerVocab)));
    }
  }
  std::vector<ref::Tensor> out{ids, seg, mask, labels};
  if (s.nsp) out.push_back(nsp);
  return out;
}

}  // namespace kiln
