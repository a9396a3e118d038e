// Activation recomputation: the pass fits a GPT train step into a memory limit, the reference
// device computes the same bits with and without it, and an unreachable limit is an error that
// says how far recomputation gets.
#include "compiler/memory_plan.h"
#include "compiler/remat/rematerialize.h"
#include "eval/interpreter.h"
#include "ir/byte_size.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "models/gpt.h"
#include "test_helpers.h"

namespace kiln {
namespace {

// A 3-layer GPT train step (AdamW, clipping) in the scheduled order.
Module gptStep() {
  TransformerConfig c = test::smallGpt(40, 64, 32, 64, 4);
  c.layers = 3;
  Module m = test::gptTrainStep(c);
  auto schedule = createPass("schedule");
  REQUIRE(schedule.ok());
  REQUIRE((*schedule)->run(m).ok());
  return m;
}

ref::Tensor tokens(int64_t batch, int64_t length, int64_t vocab, int salt) {
  ref::Tensor t({DType::I32, {batch, length}});
  for (int64_t i = 0; i < t.size(); ++i) t[i] = double((i * 7 + 3 * salt) % vocab);
  return t;
}

Expected<bool> remat(Module& m, int64_t limit, RematReport* report = nullptr) {
  RematConfig config;
  config.limitBytes = limit;
  config.function = m.functions[0]->name;
  config.report = report;
  return createRematerialize(config)->run(m);
}

}  // namespace

TEST_CASE("remat fits a GPT train step into a limit and the reference device computes the same bits") {
  Module original = gptStep();
  Module m = test::parseValid(printModule(original));
  Function& f = *m.functions[0];
  const MemoryPlan plan = planMemory(m, f);
  const int64_t before = plan.totalBytes();
  const int64_t limit = before - plan.arenaBytes * 4 / 10;  // 40% less activation memory
  RematReport report;
  auto changed = remat(m, limit, &report);
  REQUIRE(changed.ok());
  CHECK(*changed);
  CHECK(verifyModule(m).empty());
  const int64_t after = planMemory(m, f).totalBytes();
  CHECK(after <= limit);
  CHECK(report.peakBefore == before);
  CHECK(report.peakAfter == after);
  CHECK(report.ops > 0);
  MESSAGE("planned " << before << " -> " << after << " bytes, " << report.ops << " ops recomputed, +" << report.flops << " FLOPs");
  // Every clone is an original op again: its kind, attributes and location, named .remat
  // (an op without a name by its mnemonic).
  int clones = 0;
  for (const auto& op : f.ops) {
    if (op->name.size() < 6 || op->name.substr(op->name.size() - 6) != ".remat") continue;
    ++clones;
    const std::string name = op->name.substr(0, op->name.size() - 6);
    bool found = false;
    for (const auto& o : original.functions[0]->ops)
      found |= (o->name.empty() ? std::string(mnemonic(o->kind)) : o->name) == name && o->kind == op->kind && o->loc.line == op->loc.line && o->attrs == op->attrs;
    CHECK_MESSAGE(found, op->name);
    CHECK(op->kind != OpKind::StateRead);
  }
  CHECK(clones >= report.ops);
  // Three steps of each from the same state: the same losses, weights and moments, bit for bit.
  auto s0 = ref::initialState(original);
  auto s1 = ref::initialState(m);
  REQUIRE(s0.ok());
  REQUIRE(s1.ok());
  const auto& param = f.params[0]->type.shape;
  for (int step = 0; step < 3; ++step) {
    ref::Tensor batch = tokens(param[0], param[1], 40, step);
    auto a = ref::run(original, *original.functions[0], {batch}, *s0);
    auto b = ref::run(m, f, {batch}, *s1);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    REQUIRE(a->size() == b->size());
    for (size_t i = 0; i < a->size(); ++i) CHECK((*a)[i].data == (*b)[i].data);
  }
  for (const auto& [name, value] : *s0) CHECK_MESSAGE(s1->at(name).data == value.data, name);
}

TEST_CASE("remat leaves a step that fits alone and says how far an unreachable limit gets") {
  Module m = gptStep();
  const std::string text = printModule(m);
  const MemoryPlan plan = planMemory(m, *m.functions[0]);
  const int64_t before = plan.totalBytes();
  auto unchanged = remat(m, before);
  REQUIRE(unchanged.ok());
  CHECK(!*unchanged);
  CHECK(printModule(m) == text);

  RematReport report;
  auto tooLow = remat(m, before - plan.arenaBytes * 19 / 20, &report);
  REQUIRE(!tooLow.ok());
  CHECK(tooLow.error().message.find("at the least") != std::string::npos);
  CHECK(report.peakAfter < before);  // it got somewhere before giving up
  int64_t state = 0;
  for (const StateVar& s : m.states) state += typeBytes(s.type);
  auto belowState = remat(m, state / 2);
  REQUIRE(!belowState.ok());
  CHECK(belowState.error().message.find("parameters, optimizer state and workspace alone take") != std::string::npos);
}

TEST_CASE("sizes as people write them") {
  CHECK(*parseByteSize("6GiB") == int64_t(6) << 30);
  CHECK(*parseByteSize("512 MiB") == int64_t(512) << 20);
  CHECK(*parseByteSize("1.5GB") == 1500000000);
  CHECK(*parseByteSize("4096") == 4096);
  CHECK(*parseByteSize("2kib") == 2048);
  for (const char* bad : {"", "GiB", "6 GiBs", "-1GiB", "1..5GB", "0", "1e30GB"}) CHECK_MESSAGE(!parseByteSize(bad).ok(), bad);
}

}  // namespace kiln
