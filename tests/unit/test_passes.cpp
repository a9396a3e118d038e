// The simplification passes on randomly generated programs: each pass and the whole pipeline
// leave IR that verifies and computes the same outputs on the reference device.
#include <cmath>
#include <sstream>

#include "compiler/pass_manager.h"
#include "ir/builder.h"
#include "eval/interpreter.h"
#include "eval/random.h"
#include "test_helpers.h"

namespace kiln {
namespace {

// A random program over f64[2,3] values mixing arithmetic, identities (x+0, x*1, neg neg),
// repeated subexpressions, reshape/transpose chains, selects, reductions and dead values.
Module randomProgram(uint64_t seed) {
  Module m;
  m.addState("w", {DType::F64, {2, 3}}, Initializer{InitKind::Normal, 0, 1, int64_t(seed)}, true);
  Builder b(m, m.addFunction("f"));
  const TensorType t{DType::F64, {2, 3}};
  std::vector<Value*> pool{b.param("x", t), b.param("y", t), b.readState("w"), b.readState("w")};
  uint64_t draw = 0;
  auto pick = [&](size_t n) { return size_t(counterUniform(seed, draw++) * double(n)); };
  for (int i = 0; i < 40; ++i) {
    Value* a = pool[pick(pool.size())];
    Value* c = pool[pick(pool.size())];
    Value* r = nullptr;
    switch (pick(12)) {
      case 0: r = b.add(a, c); break;
      case 1: r = b.mul(a, b.scalar(pick(2) ? 1.0 : 0.5, DType::F64)); break;
      case 2: r = b.add(b.constant({0.0}, {DType::F64, {3}}), a); break;
      case 3: r = b.neg(b.neg(a)); break;
      case 4: r = b.tanh(a); break;
      case 5: r = b.sub(a, c); break;
      case 6: r = b.reshape(b.reshape(a, {3, 2}), {2, 3}); break;
      case 7: r = b.transpose(b.transpose(a, {1, 0}), {1, 0}); break;
      case 8: r = b.select(b.compare(OpKind::Gt, a, c), a, c); break;
      case 9: r = b.broadcastTo(b.reduceSum(a, {1}, true), {2, 3}); break;
      case 10: r = b.add(a, c); pool.push_back(b.add(a, c)); break;  // a repeat for cse
      case 11: r = b.mul(b.add(b.scalar(2.0, DType::F64), b.scalar(3.0, DType::F64)), a); break;
    }
    pool.push_back(r);
  }
  b.output("out0", pool.back());
  b.output("out1", pool[pool.size() / 2]);
  b.assignState("w", pool[pool.size() - 3]);
  return m;
}

Module clone(const Module& m) { return test::parseValid(printModule(m)); }

std::vector<ref::Tensor> evaluate(const Module& m, ref::StateStore& state) {
  const TensorType t{DType::F64, {2, 3}};
  ref::Tensor x(t, {1, -2, 3, 0.5, 0, -1}), y(t, {0.25, 2, -3, 1, 4, -0.5});
  auto outs = ref::run(m, *m.functions[0], {x, y}, state);
  REQUIRE(outs.ok());
  return outs.take();
}

}  // namespace

TEST_CASE("passes preserve the results of random programs") {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    Module original = randomProgram(seed);
    REQUIRE(verifyModule(original).empty());
    auto state0 = ref::initialState(original);
    REQUIRE(state0.ok());
    ref::StateStore s0 = *state0;
    auto expected = evaluate(original, s0);
    for (const char* pipeline : {"canonicalize", "cse", "dce", "canonicalize,cse,dce"}) {
      INFO("seed " << seed << ", passes " << pipeline);
      Module m = clone(original);
      PassManager pm;
      REQUIRE(pm.addPipeline(pipeline).ok());
      std::ostringstream sink;
      REQUIRE(pm.run(m, sink, sink).ok());  // verifies after each pass
      ref::StateStore s = *state0;
      auto got = evaluate(m, s);
      CHECK(got == expected);
      CHECK(s == s0);
      if (std::string(pipeline) == "canonicalize,cse,dce") {
        CHECK(m.functions[0]->ops.size() < original.functions[0]->ops.size());
      }
    }
  }
}

TEST_CASE("pass manager: unknown passes and pipelines") {
  PassManager pm;
  auto s = pm.addPipeline("cse,canonicalise");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.find("did you mean 'canonicalize'") != std::string::npos);
  auto dce = createPass("dce");
  REQUIRE(dce.ok());
  CHECK((*dce)->name() == "dce");
  CHECK_FALSE(createPass("dce", {{"x", "1"}}).ok());
  CHECK(registeredPassNames() == std::vector<std::string>{"autodiff", "canonicalize", "cse", "data-parallel", "dce", "fuse-adamw", "fuse-attention", "fuse-cross-entropy", "fuse-elementwise", "fuse-matmul-epilogue", "fuse-reductions", "fuse-residual-norm", "mixed-precision", "optimizer", "pads-to-concat", "remat", "schedule", "shard-optimizer"});
  auto entries = parsePipeline("autodiff{wrt=x:y},optimizer{kind=sgd,lr=0.5},dce");
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 3);
  CHECK((*entries)[0].options.at("wrt") == "x:y");
  CHECK((*entries)[1].options.at("lr") == "0.5");
  CHECK_FALSE(parsePipeline("cse,,dce").ok());
  CHECK_FALSE(parsePipeline("optimizer{lr=1").ok());
  CHECK_FALSE(pm.addPipeline("optimizer{lr=fast}").ok());
}

TEST_CASE("pass manager reports timings and whether each pass changed the IR") {
  Module m = randomProgram(7);
  PassManagerOptions opts;
  opts.timePasses = true;
  PassManager pm(opts);
  REQUIRE(pm.addPipeline("cse,cse").ok());
  std::ostringstream ir, timing;
  REQUIRE(pm.run(m, ir, timing).ok());
  REQUIRE(pm.timings().size() == 2);
  CHECK(pm.timings()[0].changed);
  CHECK_FALSE(pm.timings()[1].changed);
  CHECK(timing.str().find("total") != std::string::npos);
}

}  // namespace kiln
