// The memory plan is correct: values alive at the same time never share bytes, and the arena
// holds every value.
#include <sstream>
#include <unordered_map>

#include "compiler/autodiff/autodiff.h"
#include "ir/cost_model.h"
#include "compiler/memory_plan.h"
#include "compiler/optimizer/optimizer.h"
#include "models/gpt.h"
#include "test_helpers.h"

namespace kiln {

TEST_CASE("memory plan of a GPT train_step: no overlap among live values, reuse of dead ones") {
  TransformerConfig c = test::smallGpt(50, 8, 16, 32, 2);
  Module m;
  Function& f = buildGptLoss(m, c);
  REQUIRE(differentiate(m, f).ok());
  REQUIRE(lowerOptimizer(m, f, {}).ok());
  MemoryPlan plan = planMemory(m, f);
  // Live interval of each block of storage: [defining op, last use of it or any reshape view of
  // it] (outputs to the end). Views share their root's offset and are not blocks themselves.
  std::unordered_map<const Value*, std::pair<size_t, size_t>> life;
  int views = 0, sliceViews = 0, stateReads = 0;
  for (size_t i = 0; i < f.ops.size(); ++i) {
    for (const auto& r : f.ops[i]->results)
      if (plan.inState.count(r.get())) CHECK(!plan.offsets.count(r.get()));
      else if (const Op* root = aliasOf(r.get())->def; root && root->kind == OpKind::StateRead && ++stateReads)
        CHECK(!plan.offsets.count(r.get()));  // the state's own buffer, no arena space
      else if (aliasOf(r.get()) == r.get()) life[r.get()] = {i, i};
      else if (plan.offsets.count(aliasOf(r.get())) && ++views) {
        CHECK(plan.offsets.at(r.get()) == plan.offsets.at(aliasOf(r.get())) + viewOffset(r.get()) * dtypeBytes(r->type.dtype));
        sliceViews += f.ops[i]->kind == OpKind::Slice;
      }
    for (const Value* v : f.ops[i]->operands)
      if (life.count(aliasOf(v))) life[aliasOf(v)].second = i;
  }
  for (const Value* v : f.outputs) life[aliasOf(v)].second = f.ops.size();
  for (const auto& op : f.ops)
    if (op->kind == OpKind::StateAssign && life.count(aliasOf(op->operands[0])))
      life[aliasOf(op->operands[0])].second = f.ops.size();
  CHECK(views > 0);
  CHECK(sliceViews > 0);  // q, k and v out of the fused projection
  CHECK(stateReads > 0);
  // Every parameter's p', m', v' are written into their state buffers.
  size_t trainable = 0;
  for (const StateVar& s : m.states) trainable += s.trainable;
  CHECK(plan.inState.size() == 3 * trainable);
  std::vector<const Value*> values;
  int64_t sum = 0;
  for (const auto& [v, l] : life) {
    REQUIRE(plan.offsets.count(v));
    CHECK(plan.offsets.at(v) % 64 == 0);
    CHECK(plan.offsets.at(v) + typeBytes(v->type) <= plan.arenaBytes);
    values.push_back(v);
    sum += typeBytes(v->type);
  }
  size_t overlaps = 0;
  for (size_t i = 0; i < values.size(); ++i)
    for (size_t j = i + 1; j < values.size(); ++j) {
      auto [a0, a1] = life[values[i]];
      auto [b0, b1] = life[values[j]];
      if (a1 < b0 || b1 < a0) continue;  // never alive together
      int64_t oa = plan.offsets.at(values[i]), ob = plan.offsets.at(values[j]);
      bool disjoint = oa + typeBytes(values[i]->type) <= ob || ob + typeBytes(values[j]->type) <= oa;
      overlaps += !disjoint;
    }
  CHECK(overlaps == 0);
  CHECK(plan.arenaBytes < sum / 2);  // reuse makes the arena far smaller than all values together
  CHECK(plan.categories.at("parameters") == countParameters(m) * 4);
  MESSAGE("arena " << plan.arenaBytes << " bytes for " << sum << " bytes of values");
}

TEST_CASE("in-place state updates only where nothing reads the old value afterwards") {
  // @w's old value is read after its update (by %late) and @m's is assigned to @old (which
  // commits at the end): neither may be overwritten early. Only v' goes into @v's buffer.
  Module m = test::parseValid(R"(
state @w : f32[2] = zeros
state @m : f32[2] = zeros
state @v : f32[2] = zeros
state @old : f32[2] = zeros
func @step(%g: f32[2]) -> (late: f32[2]) {
  %p = state_read @w : f32[2]
  %m0 = state_read @m : f32[2]
  %v0 = state_read @v : f32[2]
  %lr = constant {value = [0.1]} : f32[]
  %d = constant {value = [1.0]} : f32[]
  %t = constant {value = [1.0]} : f32[]
  %p1, %m1, %v1 = adamw_update %p, %g, %m0, %v0, %lr, %d, %t {beta1 = 0.9, beta2 = 0.999, eps = 1e-08} : f32[2], f32[2], f32[2]
  %late = mul %p, %g : f32[2]
  state_assign @w, %p1
  state_assign @m, %m1
  state_assign @old, %m0
  state_assign @v, %v1
  return %late
}
)");
  const Function& f = *m.functions[0];
  MemoryPlan plan = planMemory(m, f);
  REQUIRE(plan.inState.size() == 1);
  CHECK(plan.inState.begin()->second == "v");
  CHECK(plan.inState.begin()->first->name == "v1");
}

}  // namespace kiln

#include "compiler/pass_manager.h"
#include "eval/interpreter.h"

namespace kiln {

TEST_CASE("schedule never grows the arena and keeps results bit-identical") {
  TransformerConfig c = test::smallGpt(40, 8, 16, 32, 2);
  Module m;
  Function& f = buildGptLoss(m, c);
  REQUIRE(differentiate(m, f).ok());
  REQUIRE(lowerOptimizer(m, f, {}).ok());
  int64_t before = planMemory(m, f).arenaBytes;
  Module scheduled = test::parseValid(printModule(m));
  PassManager pm;
  REQUIRE(pm.addPipeline("schedule").ok());
  std::ostringstream sink;
  REQUIRE(pm.run(scheduled, sink, sink).ok());
  CHECK(planMemory(scheduled, *scheduled.functions[0]).arenaBytes <= before);
  ref::Tensor tokens({DType::I32, {c.batch, c.context + 1}});
  for (int64_t i = 0; i < tokens.size(); ++i) tokens[i] = double(i % c.vocab);
  auto s1 = ref::initialState(m), s2 = ref::initialState(scheduled);
  auto a = ref::run(m, f, {tokens}, *s1);
  auto b = ref::run(scheduled, *scheduled.functions[0], {tokens}, *s2);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a == *b);
  CHECK(*s1 == *s2);
}

}  // namespace kiln

namespace kiln {

TEST_CASE("contiguous slices are views at their offset, others are copies") {
  Module m = test::parseValid(R"(
func @f(%x: f32[3,4,5]) -> (a: f32[1,4,5], b: f32[1,2,5], c: f32[1,4,3], d: f32[3,4,5], e: f32[2,4,5], g: f32[3,2,5]) {
  %a = slice %x {start = [2, 0, 0], limit = [3, 4, 5]} : f32[1,4,5]
  %b = slice %x {start = [1, 2, 0], limit = [2, 4, 5]} : f32[1,2,5]
  %c = slice %x {start = [0, 0, 1], limit = [1, 4, 4]} : f32[1,4,3]
  %d = slice %x {start = [0, 0, 0], limit = [3, 4, 5]} : f32[3,4,5]
  %e = slice %x {start = [0, 0, 0], limit = [3, 4, 5], stride = [2, 1, 1]} : f32[2,4,5]
  %g = slice %x {start = [0, 1, 0], limit = [3, 3, 5]} : f32[3,2,5]
  return %a, %b, %c, %d, %e, %g
}
)");
  const Function& f = *m.functions[0];
  std::vector<bool> contiguous;
  for (const auto& op : f.ops) contiguous.push_back(isContiguousSlice(*op));
  CHECK(contiguous == std::vector<bool>{true, true, false, true, false, false});
  CHECK(sliceOffset(*f.ops[0]) == 40);
  CHECK(sliceOffset(*f.ops[1]) == 30);
  CHECK(viewOffset(f.ops[1]->result()) == 30);
  CHECK(aliasOf(f.ops[1]->result()) == f.params[0].get());
  CHECK(aliasOf(f.ops[2]->result()) == f.ops[2]->result());
}

}  // namespace kiln
