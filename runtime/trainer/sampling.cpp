// Sampling text from a causal LM with its KV cache (temperature, top-k).
#include "runtime/trainer/trainer_session.h"

namespace kiln {

int Trainer::sample(const Options& o) {
  if (!m_.findFunction("sample_step"))
    return fail(makeError({}, "sample needs a causal LM; this trainer's objective is " + cfg("objective")));
  auto engine = freshEngine();
  if (!engine) return fail(engine.error());
  auto loaded = loadCheckpoint(**engine, checkpointPath(o), false);
  if (!loaded) return fail(loaded.error());
  auto maxTokens = numberOption(o, "max-tokens", 100, 1, 1e6);
  auto temperature = numberOption(o, "temperature", 0.8, 0, 100);
  auto topK = numberOption(o, "top-k", 40, 0, 1e9);
  auto seed = numberOption(o, "seed", 0, 0, 9e15);
  for (const auto* e : {&maxTokens, &temperature, &topK, &seed})
    if (!*e) return fail(e->error());
  std::string prompt = o.get("prompt", "");
  std::vector<int32_t> ids = tok_.encode(prompt);
  ids.insert(ids.begin(), tok_.endOfText());  // generation starts at a document boundary
  const int64_t context = cfgInt("model.context"), vocab = std::min(cfgInt("model.vocab"), tok_.vocabSize());
  if (int64_t(ids.size()) >= context)
    return fail(makeError({}, "the prompt has " + std::to_string(ids.size() - 1) + " tokens; the context holds " +
                                  std::to_string(context - 1)));
  // Tokens are fed one at a time through the KV cache. When the text fills the context, the
  // window slides: the last half of the text is fed again from position 0 (the cache entries
  // past it are never read: attention is causal), and generation goes on.
  std::vector<int32_t> generated, text = ids, pending = ids;
  ref::Tensor logits;
  int64_t pos = 0;
  bool slid = false;
  for (;;) {
    for (int32_t token : pending) {
      auto outs = (*engine)->call("sample_step", {ref::Tensor({DType::I32, {1}}, {double(token)}), ref::Tensor({DType::I32, {}}, {double(pos++)})});
      if (!outs) return fail(outs.error());
      logits = (*outs)[0];
    }
    if (int64_t(generated.size()) >= int64_t(*maxTokens)) break;
    int32_t next = pick(logits, vocab, *temperature, int64_t(*topK), uint64_t(*seed), uint64_t(text.size() - 1));
    if (next == tok_.endOfText()) break;
    generated.push_back(next);
    text.push_back(next);
    pending = {next};
    if (pos == context) {
      const int64_t keep = std::max<int64_t>(1, context / 2);
      pending.assign(text.end() - keep, text.end());
      pos = 0;
      if (!slid)
        std::cerr << "note: the text outgrew the context of " << context << " tokens; the window slides (the model sees the last "
                  << keep << " to " << context << " tokens)\n";
      slid = true;
    }
  }
  std::cout << prompt << tok_.decode(generated) << "\n";
  return 0;
}

int32_t Trainer::pick(const ref::Tensor& logits, int64_t vocab, double temperature, int64_t topK, uint64_t seed, uint64_t n) {
  std::vector<std::pair<double, int32_t>> scored;
  for (int64_t i = 0; i < vocab; ++i) scored.emplace_back(logits[i], int32_t(i));
  std::sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  if (temperature == 0) return scored[0].second;  // greedy
  if (topK > 0 && topK < int64_t(scored.size())) scored.resize(size_t(topK));
  double mx = scored[0].first, total = 0;
  for (auto& [l, id] : scored) total += (l = std::exp((l - mx) / temperature));
  double r = counterUniform(seed, n) * total;
  for (auto& [p, id] : scored)
    if ((r -= p) <= 0) return id;
  return scored.back().second;
}

}  // namespace kiln
