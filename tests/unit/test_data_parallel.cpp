// Data parallelism on the cpu device, without MPI: a stand-in for two ranks checks how the device
// drives the IR's all_reduce (each started where it stands, waited for before its result is
// read, its memory untouched in between) and that averaging identical gradients trains exactly as
// one process does.
#include <map>

#include "compiler/optimizer/optimizer.h"
#include "compiler/pass.h"
#include "conformance.h"
#include "ir/verifier.h"
#include "models/gpt.h"
#include "runtime/parallel/collectives.h"
#include "test_helpers.h"

namespace kiln {
namespace {

// Two ranks whose other rank holds the same values: the sum doubles them, the mean keeps them.
class TwinRanks : public Collectives {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  std::string describe() const override { return "twin ranks"; }
  int64_t startAllReduce(float* data, int64_t n, bool mean) override {
    inFlight[next] = {data, std::vector<float>(data, data + n), mean};
    ++started;
    return next++;
  }
  void progress() override { ++progressed; }
  void wait(int64_t request) override {
    auto it = inFlight.find(request);
    REQUIRE(it != inFlight.end());
    Started& s = it->second;
    for (size_t i = 0; i < s.copy.size(); ++i) {
      untouched &= s.data[i] == s.copy[i] || (s.data[i] != s.data[i] && s.copy[i] != s.copy[i]);
      s.data[i] = s.mean ? (s.copy[i] + s.copy[i]) * 0.5f : s.copy[i] + s.copy[i];
    }
    inFlight.erase(it);
    ++waited;
  }
  double takeWaitSeconds() override { return 0; }
  void allGather(float*, int64_t) override { FAIL("nothing is sharded here"); }
  void sum(std::vector<double>& v) override {
    for (double& x : v) x *= 2;
  }
  std::vector<std::string> gather(const std::string& mine) override { return {mine, mine}; }

  struct Started {
    float* data;
    std::vector<float> copy;
    bool mean;
  };
  std::map<int64_t, Started> inFlight;
  int64_t next = 0, started = 0, waited = 0, progressed = 0;
  bool untouched = true;
};

// A GPT's train_step as the pipeline makes it: autodiff, data-parallel, the optimizer.
Module dataParallelGptStep(const TransformerConfig& c) {
  Module fresh;
  Function& f = buildGptLoss(fresh, c);
  REQUIRE(differentiate(fresh, f).ok());
  auto pass = createPass("data-parallel", {{"bucket_mib", "1"}});
  REQUIRE(pass.ok());
  auto changed = (*pass)->run(fresh);
  REQUIRE(changed.ok());
  CHECK(*changed);
  OptimizerConfig opt;
  opt.lr = 1e-2;
  opt.clipNorm = 1.0;
  REQUIRE(lowerOptimizer(fresh, f, opt).ok());
  REQUIRE(verifyModule(fresh).empty());
  return fresh;
}

}  // namespace

TEST_CASE("cpu device: all_reduce is waited for before its result is read, its memory untouched in flight") {
  TransformerConfig c = test::smallGpt(37, 8, 192, 768, 3);  // gradients over several 1 MiB buckets
  Module m = dataParallelGptStep(c);
  const Function& step = *m.findFunction("train_step");
  int64_t reductions = 0;
  for (const auto& op : step.ops) reductions += op->kind == OpKind::AllReduce;
  CHECK(reductions >= 3);  // buckets of at most 1 MiB

  auto alone = testCpuEngine(m);
  auto paired = testCpuEngine(m);
  REQUIRE(alone.ok());
  REQUIRE(paired.ok());
  // The device asks for the process's ranks at each call: `paired` runs with the twins in place.
  std::unique_ptr<Collectives> held = std::make_unique<TwinRanks>();
  auto* twins = dynamic_cast<TwinRanks*>(held.get());
  for (int s = 0; s < 3; ++s) {
    ref::Tensor tokens({DType::I32, {c.batch, c.context + 1}});
    for (int64_t i = 0; i < tokens.size(); ++i) tokens[i] = double((i * 7 + s * 5) % c.vocab);
    auto a = (*alone)->call("train_step", {tokens});
    REQUIRE(a.ok());
    held = setProcessCollectives(std::move(held));
    auto b = (*paired)->call("train_step", {tokens});
    held = setProcessCollectives(std::move(held));
    REQUIRE(b.ok());
    for (size_t k = 0; k < a->size(); ++k) test::checkClose((*b)[k], (*a)[k], 0.0, "output " + std::to_string(k));
  }
  CHECK(twins->started == 3 * reductions);
  CHECK(twins->waited == twins->started);
  CHECK(twins->inFlight.empty());
  CHECK(twins->untouched);
  CHECK(twins->progressed > 0);
  ref::StateStore x = (*alone)->snapshot(), y = (*paired)->snapshot();
  for (const auto& [name, t] : x) test::checkClose(y.at(name), t, 0.0, name);
}

}  // namespace kiln
