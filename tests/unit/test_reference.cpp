// Reference device: composites against their definitions written with primitive ops, random
// number statistics and determinism, and data-dependent errors.
#include <cmath>

#include "ir/builder.h"
#include "eval/interpreter.h"
#include "eval/random.h"
#include "test_helpers.h"

namespace kiln {
namespace {

ref::Tensor randomTensor(TensorType t, uint64_t seed) {
  ref::Tensor r(t);
  for (int64_t i = 0; i < r.size(); ++i) r[i] = counterNormal(seed, uint64_t(i));
  return r;
}

std::vector<ref::Tensor> runBuilt(Module& m, const std::vector<ref::Tensor>& inputs) {
  REQUIRE(verifyModule(m).empty());
  auto state = ref::initialState(m);
  REQUIRE(state.ok());
  auto outs = ref::run(m, *m.functions[0], inputs, *state);
  REQUIRE_MESSAGE(outs.ok(), (outs.ok() ? "" : outs.error().str()));
  return outs.take();
}

void checkClose(const ref::Tensor& a, const ref::Tensor& b, double tol) {
  REQUIRE(a.type == b.type);
  for (int64_t i = 0; i < a.size(); ++i) CHECK(std::fabs(a[i] - b[i]) <= tol * (1 + std::fabs(b[i])));
}

}  // namespace

TEST_CASE("attention equals softmax(q k^T * scale + mask) v, causal and masked") {
  const TensorType qt{DType::F64, {2, 3, 4, 5}}, kt{DType::F64, {2, 3, 6, 5}}, vt{DType::F64, {2, 3, 6, 7}};
  const TensorType maskT{DType::F64, {4, 6}};
  for (bool causal : {false, true}) {
    Module m;
    Builder b(m, m.addFunction("f"));
    Value* q = b.param("q", qt);
    Value* k = b.param("k", kt);
    Value* v = b.param("v", vt);
    Value* mask = b.param("mask", maskT);
    b.output("fused", b.attention(q, k, v, mask, causal, 0.3));
    Value* scores = b.add(b.mul(b.matmul(q, k, false, true), b.scalar(0.3, DType::F64)), mask);
    if (causal) {  // query t sees key s when s <= t + (S - T) = t + 2
      Value* t = b.iota({DType::F64, {4, 6}}, 0);
      Value* s = b.iota({DType::F64, {4, 6}}, 1);
      Value* visible = b.compare(OpKind::Le, s, b.add(t, b.scalar(2, DType::F64)));
      scores = b.select(visible, scores, b.scalar(-INFINITY, DType::F64));
    }
    b.output("composed", b.matmul(b.softmax(scores), v));
    auto outs = runBuilt(m, {randomTensor(qt, 1), randomTensor(kt, 2), randomTensor(vt, 3), randomTensor(maskT, 4)});
    checkClose(outs[0], outs[1], 1e-12);
  }
}

TEST_CASE("layer_norm, log_softmax and cross_entropy match their definitions") {
  const TensorType xt{DType::F64, {3, 4, 6}};
  Module m;
  Builder b(m, m.addFunction("f"));
  Value* x = b.param("x", xt);
  Value* g = b.param("g", {DType::F64, {6}});
  Value* beta = b.param("beta", {DType::F64, {6}});
  Value* labels = b.param("labels", {DType::I32, {3, 4}});
  b.output("ln", b.layerNorm(x, g, beta, 1e-5));
  Value* mean = b.reduceMean(x, {-1}, true);
  Value* centered = b.sub(x, mean);
  Value* var = b.reduceMean(b.mul(centered, centered), {-1}, true);
  Value* norm = b.mul(centered, b.rsqrt(b.add(var, b.scalar(1e-5, DType::F64))));
  b.output("ln_ref", b.add(b.mul(norm, g), beta));
  b.output("lsm", b.logSoftmax(x, 1));
  Value* shifted = b.sub(x, b.reduceMax(x, {1}, true));
  b.output("lsm_ref", b.sub(shifted, b.log(b.reduceSum(b.exp(shifted), {1}, true))));
  b.output("ce", b.crossEntropy(x, labels, 2));
  // -mean over non-ignored positions of log_softmax at the label, via one-hot.
  Value* lsm = b.logSoftmax(x);
  Value* classes = b.iota({DType::I32, {3, 4, 6}}, 2);
  Value* lab = b.reshape(labels, {3, 4, 1});
  Value* onehot = b.cast(b.compare(OpKind::Eq, classes, lab), DType::F64);
  Value* keep = b.cast(b.compare(OpKind::Ne, labels, b.scalar(2, DType::I32)), DType::F64);
  Value* picked = b.mul(b.reduceSum(b.mul(lsm, onehot), {2}), keep);
  b.output("ce_ref", b.neg(b.div(b.reduceSum(picked, {0, 1}), b.reduceSum(keep, {0, 1}))));
  ref::Tensor labelValues({DType::I32, {3, 4}}, {0, 1, 2, 3, 4, 5, 2, 2, 1, 0, 5, 4});
  auto outs = runBuilt(m, {randomTensor(xt, 5), randomTensor({DType::F64, {6}}, 6), randomTensor({DType::F64, {6}}, 7), labelValues});
  checkClose(outs[0], outs[1], 1e-12);
  checkClose(outs[2], outs[3], 1e-12);
  checkClose(outs[4], outs[5], 1e-12);
}

TEST_CASE("batched matmul with broadcast batch dims and transposes") {
  Module m;
  Builder b(m, m.addFunction("f"));
  Value* a = b.param("a", {DType::F64, {2, 1, 4, 3}});
  Value* c = b.param("c", {DType::F64, {3, 5, 4}});
  b.output("y", b.matmul(a, c, true, true));  // [2,3,3,5]
  auto outs = runBuilt(m, {randomTensor({DType::F64, {2, 1, 4, 3}}, 1), randomTensor({DType::F64, {3, 5, 4}}, 2)});
  const ref::Tensor& y = outs[0];
  CHECK(y.type.shape == Shape{2, 3, 3, 5});
  ref::Tensor A = randomTensor({DType::F64, {2, 1, 4, 3}}, 1), C = randomTensor({DType::F64, {3, 5, 4}}, 2);
  for (int b0 = 0; b0 < 2; ++b0)
    for (int b1 = 0; b1 < 3; ++b1)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 5; ++j) {
          double acc = 0;
          for (int p = 0; p < 4; ++p) acc += A[(b0 * 4 + p) * 3 + i] * C[(b1 * 5 + j) * 4 + p];
          CHECK(y[((b0 * 3 + b1) * 3 + i) * 5 + j] == doctest::Approx(acc).epsilon(1e-12));
        }
}

TEST_CASE("f32 results are rounded to f32 after each op") {
  Module m;
  Builder b(m, m.addFunction("f"));
  Value* x = b.param("x", {DType::F32, {1}});
  b.output("y", b.div(x, b.scalar(3.0)));
  auto outs = runBuilt(m, {ref::Tensor({DType::F32, {1}}, {1.0})});
  CHECK(outs[0][0] == double(1.0f / 3.0f));
}

TEST_CASE("counter-based random numbers: reproducible, well distributed") {
  CHECK(counterUniform(1, 5) == counterUniform(1, 5));
  CHECK(counterUniform(1, 5) != counterUniform(2, 5));
  const int n = 200000;
  double su = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    double u = counterUniform(42, uint64_t(i));
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    su += u;
    double z = counterNormal(42, uint64_t(i));
    sn += z;
    sn2 += z * z;
  }
  CHECK(su / n == doctest::Approx(0.5).epsilon(0.01));
  CHECK(std::fabs(sn / n) < 0.01);
  CHECK(sn2 / n == doctest::Approx(1.0).epsilon(0.01));
}

TEST_CASE("state initializers are deterministic and follow their parameters") {
  StateVar s{"w", {DType::F32, {100, 100}}, Initializer{InitKind::Normal, 1.0, 0.02, 9}, true, {}, {}};
  ref::Tensor a = ref::initialValue(s), b = ref::initialValue(s);
  CHECK(a == b);
  double mean = 0;
  for (double v : a.data) mean += v;
  CHECK(mean / double(a.size()) == doctest::Approx(1.0).epsilon(0.001));
  s.init = Initializer{InitKind::Uniform, -2, -1, 3};
  const ref::Tensor uniform = ref::initialValue(s);
  for (double v : uniform.data) {
    CHECK(v >= -2);
    CHECK(v <= -1);
  }
  // Another seed of the same distribution gives other values, and the same seed the same.
  s.init.seed = 4;
  const ref::Tensor reseeded = ref::initialValue(s);
  CHECK(reseeded != uniform);
  int64_t equal = 0;
  for (int64_t i = 0; i < uniform.size(); ++i) equal += uniform[i] == reseeded[i];
  CHECK(equal < 10);
  s.init.seed = 3;
  CHECK(ref::initialValue(s) == uniform);
  StateVar n2 = {"w", {DType::F32, {100, 100}}, Initializer{InitKind::Normal, 1.0, 0.02, 10}, true, {}, {}};
  CHECK(ref::initialValue(n2) != a);
}

TEST_CASE("dropout: deterministic per seed, drops at the given rate, rescales the kept") {
  Module m;
  Builder b(m, m.addFunction("f"));
  Value* x = b.param("x", {DType::F64, {10000}});
  Value* seed = b.param("seed", {DType::I64, {}});
  b.output("y", b.dropout(x, seed, 0.25));
  ref::Tensor ones({DType::F64, {10000}}, std::vector<double>(10000, 1.0));
  auto a = runBuilt(m, {ones, ref::Tensor({DType::I64, {}}, {3})});
  auto again = runBuilt(m, {ones, ref::Tensor({DType::I64, {}}, {3})});
  auto other = runBuilt(m, {ones, ref::Tensor({DType::I64, {}}, {4})});
  CHECK(a[0] == again[0]);
  CHECK(a[0] != other[0]);
  int dropped = 0;
  for (double v : a[0].data) {
    CHECK((v == 0 || v == doctest::Approx(1 / 0.75)));
    dropped += v == 0;
  }
  CHECK(dropped / 10000.0 == doctest::Approx(0.25).epsilon(0.08));
}

TEST_CASE("data-dependent errors are reported with the op's location") {
  Module m = test::parseValid(
      "func @f(%i: i32[2], %l: i32[2]) -> (y: f32[2,3], z: f32[]) {\n"
      "  %t = constant {value = [1.0]} : f32[4,3]\n"
      "  %y = gather %t, %i : f32[2,3] \"wte\"\n"
      "  %x = constant {value = [0.0]} : f32[2,5]\n"
      "  %z = cross_entropy %x, %l : f32[]\n"
      "  return %y, %z\n}\n");
  ref::StateStore st;
  auto r = ref::run(m, *m.functions[0], {ref::Tensor({DType::I32, {2}}, {0, 4}), ref::Tensor({DType::I32, {2}}, {0, 1})}, st);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().str() == "test.kir:3:3: error: gather: index 4 at position 1 is out of range [0, 4)");
  r = ref::run(m, *m.functions[0], {ref::Tensor({DType::I32, {2}}, {0, 1}), ref::Tensor({DType::I32, {2}}, {0, 7})}, st);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("label 7 at position 1 is out of range [0, 5)") != std::string::npos);
  r = ref::run(m, *m.functions[0], {ref::Tensor({DType::I32, {2}}, {0, 1})}, st);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "@f takes 2 input(s), got 1");
}

TEST_CASE("cross_entropy with every position ignored is 0, not nan") {
  Module m = test::parseValid(
      "func @f(%x: f32[2,3], %l: i32[2]) -> (z: f32[]) {\n"
      "  %z = cross_entropy %x, %l {ignore_index = 0} : f32[]\n"
      "  return %z\n}\n");
  ref::StateStore st;
  auto r = ref::run(m, *m.functions[0], {ref::Tensor({DType::F32, {2, 3}}), ref::Tensor({DType::I32, {2}}, {0, 0})}, st);
  REQUIRE(r.ok());
  CHECK((*r)[0][0] == 0.0);
}

}  // namespace kiln
