// Memory plans as the executable stores them: the text form round-trips through the printed and
// parsed module, and a damaged or mismatched plan is refused with the line and the problem.
#include <doctest/doctest.h>

#include "compiler/autodiff/autodiff.h"
#include "compiler/memory_plan.h"
#include "compiler/optimizer/optimizer.h"
#include "ir/arena_plan.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "models/gpt.h"
#include "runtime/engine/device_registry.h"
#include "test_helpers.h"

namespace kiln {

namespace {

Module trainModule() {
  TransformerConfig c = test::smallGpt(50, 8, 16, 32, 2);
  Module m;
  Function& f = buildGptLoss(m, c);
  REQUIRE(differentiate(m, f).ok());
  REQUIRE(lowerOptimizer(m, f, {}).ok());
  return m;
}

std::string errorOf(const Module& m, const std::string& text) {
  auto r = parseArenaPlans(m, text, "t", 4);
  return r ? std::string("no error") : r.error().str();
}

}  // namespace

TEST_CASE("arena plans: the stored text gives the same offsets for the module parsed back") {
  Module m = trainModule();
  ArenaPlans plans = planArenas(m, 4);
  std::string text = formatArenaPlans(m, plans);
  auto parsed = parseModule(printModule(m), "<printed>");
  REQUIRE(parsed.ok());
  auto back = parseArenaPlans(*parsed, text, "t", 4);
  REQUIRE_MESSAGE(back.ok(), back.error().str());
  for (const auto& [name, plan] : plans) {
    const Function& f = *m.findFunction(name);
    const Function& g = *parsed->findFunction(name);
    const ArenaPlan& got = back->at(name);
    CHECK(got.arenaBytes == plan.arenaBytes);
    CHECK(got.offsets.size() == plan.offsets.size());
    CHECK(got.inState.size() == plan.inState.size());
    for (size_t i = 0; i < f.ops.size(); ++i)
      for (size_t r = 0; r < f.ops[i]->results.size(); ++r) {
        auto want = plan.offsets.find(f.ops[i]->results[r].get());
        auto have = got.offsets.find(g.ops[i]->results[r].get());
        REQUIRE((want == plan.offsets.end()) == (have == got.offsets.end()));
        if (want != plan.offsets.end()) CHECK(want->second == have->second);
      }
  }
  CHECK(formatArenaPlans(*parsed, *back) == text);
}

TEST_CASE("arena plans: damaged, truncated or mismatched plans are refused with the line") {
  Module m = trainModule();
  std::string text = formatArenaPlans(m, planArenas(m, 4));
  CHECK(errorOf(m, "kiln-arena-plan 99\n").find("t:1:") != std::string::npos);
  CHECK(errorOf(m, "kiln-arena-plan 99\n").find("another kiln version") != std::string::npos);
  CHECK(errorOf(m, text.substr(0, text.size() / 2)) != "no error");  // cut inside a line
  CHECK(errorOf(m, text.substr(0, text.rfind("\n", text.size() / 2) + 1)).find("truncated") != std::string::npos);
  std::string ops = text;
  size_t at = ops.find(" ops ") + 5;
  ops.insert(at, "1");
  CHECK(errorOf(m, ops).find("the plan was made for") != std::string::npos);
  CHECK(errorOf(m, "kiln-arena-plan 1\nfunc @nope ops 1 arena 0\nend\n").find("no function @nope") != std::string::npos);
  const Function& f = *m.functions[0];
  CHECK(errorOf(m, "kiln-arena-plan 1\nfunc @" + f.name + " ops " + std::to_string(f.ops.size()) +
                       " arena 0\nvalue 0.0 offset 0\nend\n")
            .find("ends past the arena") != std::string::npos);
  CHECK(errorOf(m, "kiln-arena-plan 1\nvalue 0.0 offset 0\n").find("outside a function") != std::string::npos);
  CHECK(errorOf(m, "kiln-arena-plan 1\nbogus\n").find("t:2:") != std::string::npos);
}

TEST_CASE("devices: every registered device is found by name, a cpu trainer without its plan says why") {
  CHECK(hasDevice("cpu"));
  CHECK(hasDevice("reference"));
  CHECK(!hasDevice("tpu"));
  Module m = trainModule();
  std::map<std::string, std::string> sections;
  auto engine = makeEngine("cpu", DeviceInputs{m, sections, "my-trainer"});
  REQUIRE(!engine.ok());
  CHECK(engine.error().str().find("my-trainer holds no cpu memory plan") != std::string::npos);
  auto unknown = makeEngine("tpu", DeviceInputs{m, sections, "my-trainer"});
  REQUIRE(!unknown.ok());
  CHECK(unknown.error().str().find("cpu, cuda or reference") != std::string::npos);
  CHECK(makeEngine("reference", DeviceInputs{m, sections, "my-trainer"}).ok());
  // Without a GPU (or without CUDA in the build) the cuda device says so in one line.
  CHECK(hasDevice("cuda"));
  auto cuda = makeEngine("cuda", DeviceInputs{m, sections, "my-trainer"});
  if (!cuda.ok()) CHECK(cuda.error().str().find('\n') == std::string::npos);
}

}  // namespace kiln
