// Random cases for every differentiable op: shapes (odd sizes, broadcasting, reductions,
// transposes, strides, padding) and inputs kept away from kinks. Shared by the gradient checks
// and the cpu conformance suite.
#include "op_cases.h"

#include <cmath>

#include "eval/random.h"

namespace kiln::test {

namespace {

using test::GradCase;

// Deterministic draws for one case.
class Draw {
 public:
  explicit Draw(uint64_t seed) : seed_(seed) {}
  double uniform() { return counterUniform(seed_, n_++); }
  int64_t below(int64_t k) { return int64_t(uniform() * double(k)); }
  int64_t dim() { return 1 + below(4); }
  Shape shape(int rank) {
    Shape s;
    for (int i = 0; i < rank; ++i) s.push_back(dim());
    return s;
  }
  // Values in [lo, hi), kept at least `gap` apart from `avoid` (kinks of relu, abs, max).
  ref::Tensor tensor(Shape s, double lo = -2, double hi = 2, DType dt = DType::F64) {
    ref::Tensor t({dt, std::move(s)});
    for (int64_t i = 0; i < t.size(); ++i) {
      double v = lo + (hi - lo) * uniform();
      if (std::fabs(v) < 0.05) v += v < 0 ? -0.1 : 0.1;
      t[i] = v;
    }
    return t;
  }
  ref::Tensor ints(Shape s, int64_t k) {
    ref::Tensor t({DType::I32, std::move(s)});
    for (int64_t i = 0; i < t.size(); ++i) t[i] = double(below(k));
    return t;
  }

 private:
  uint64_t seed_;
  uint64_t n_ = 0;
};

// A shape that broadcasts to `s`: some dims set to 1, maybe fewer leading dims.
Shape broadcastable(Draw& d, const Shape& s) {
  Shape out(s.begin() + d.below(int64_t(s.size()) + 1) % (int64_t(s.size()) + 1), s.end());
  for (auto& x : out)
    if (d.below(2)) x = 1;
  return out;
}

using Forward = std::function<Value*(Builder&, const std::vector<Value*>&)>;

}  // namespace

std::vector<GradCase> elementwiseCases(int trial) {
  std::vector<GradCase> cases;
  Draw d(1000 + uint64_t(trial));
  auto unary = [&](const char* name, std::function<Value*(Builder&, Value*)> fn, double lo, double hi) {
    Shape s = d.shape(1 + int(d.below(3)));
    cases.push_back({std::string(name) + std::to_string(trial), {d.tensor(s, lo, hi)},
                     [fn](Builder& b, const std::vector<Value*>& x) { return fn(b, x[0]); }});
  };
  unary("neg", [](Builder& b, Value* x) { return b.neg(x); }, -2, 2);
  unary("abs", [](Builder& b, Value* x) { return b.abs(x); }, -2, 2);
  unary("exp", [](Builder& b, Value* x) { return b.exp(x); }, -2, 2);
  unary("log", [](Builder& b, Value* x) { return b.log(x); }, 0.2, 3);
  unary("sqrt", [](Builder& b, Value* x) { return b.sqrt(x); }, 0.2, 3);
  unary("rsqrt", [](Builder& b, Value* x) { return b.rsqrt(x); }, 0.2, 3);
  unary("tanh", [](Builder& b, Value* x) { return b.tanh(x); }, -2, 2);
  unary("sin", [](Builder& b, Value* x) { return b.sin(x); }, -3, 3);
  unary("cos", [](Builder& b, Value* x) { return b.cos(x); }, -3, 3);
  unary("sigmoid", [](Builder& b, Value* x) { return b.sigmoid(x); }, -3, 3);
  unary("relu", [](Builder& b, Value* x) { return b.relu(x); }, -2, 2);
  unary("gelu_tanh", [](Builder& b, Value* x) { return b.gelu(x, "tanh"); }, -3, 3);
  unary("gelu_erf", [](Builder& b, Value* x) { return b.gelu(x, "erf"); }, -3, 3);
  unary("cast", [](Builder& b, Value* x) { return b.mul(b.cast(x, DType::F64), x); }, -2, 2);

  auto binary = [&](const char* name, OpKind k, double lo, double hi) {
    Shape s = d.shape(1 + int(d.below(3)));
    Shape sb = broadcastable(d, s);
    bool swap = d.below(2);
    cases.push_back({std::string(name) + std::to_string(trial),
                     {d.tensor(swap ? sb : s, lo, hi), d.tensor(swap ? s : sb, lo, hi)},
                     [k](Builder& b, const std::vector<Value*>& x) { return b.create1(k, {x[0], x[1]}); }});
  };
  binary("add", OpKind::Add, -2, 2);
  binary("sub", OpKind::Sub, -2, 2);
  binary("mul", OpKind::Mul, -2, 2);
  binary("div", OpKind::Div, 0.5, 2);
  binary("max", OpKind::Max, -2, 2);
  binary("min", OpKind::Min, -2, 2);
  binary("pow", OpKind::Pow, 0.5, 2);
  {
    Shape s = d.shape(2);
    ref::Tensor cond({DType::Bool, broadcastable(d, s)});
    for (int64_t i = 0; i < cond.size(); ++i) cond[i] = double(d.below(2));
    cases.push_back({"select" + std::to_string(trial), {cond, d.tensor(s), d.tensor(broadcastable(d, s))},
                     [](Builder& b, const std::vector<Value*>& x) { return b.select(x[0], x[1], x[2]); }});
  }
  return cases;
}

std::vector<GradCase> structuralCases(int trial) {
  std::vector<GradCase> cases;
  Draw d(2000 + uint64_t(trial));
  auto add = [&](std::string name, std::vector<ref::Tensor> in, Forward fn) {
    cases.push_back({name + std::to_string(trial), std::move(in), std::move(fn)});
  };
  {
    Shape s = d.shape(3);
    std::vector<int64_t> axes = {d.below(3)};
    if (d.below(2)) axes.push_back((axes[0] + 1) % 3 - 3);  // a negative axis too
    bool keep = d.below(2);
    add("reduce_sum", {d.tensor(s)}, [=](Builder& b, const std::vector<Value*>& x) { return b.reduceSum(x[0], axes, keep); });
    add("reduce_mean", {d.tensor(s)}, [=](Builder& b, const std::vector<Value*>& x) { return b.reduceMean(x[0], axes, keep); });
    add("reduce_max", {d.tensor(s)}, [=](Builder& b, const std::vector<Value*>& x) { return b.reduceMax(x[0], axes, keep); });
  }
  {
    Shape s = d.shape(3);
    add("reshape", {d.tensor(s)}, [=](Builder& b, const std::vector<Value*>& x) {
      return b.reshape(x[0], {s[0] * s[1], s[2]});
    });
    std::vector<int64_t> perm = {0, 1, 2};
    for (int i = 2; i > 0; --i) std::swap(perm[size_t(i)], perm[size_t(d.below(i + 1))]);
    add("transpose", {d.tensor(s)}, [=](Builder& b, const std::vector<Value*>& x) { return b.transpose(x[0], perm); });
    Shape from = broadcastable(d, s);
    add("broadcast_to", {d.tensor(from)}, [=](Builder& b, const std::vector<Value*>& x) { return b.broadcastTo(x[0], s); });
  }
  {
    Shape s = {3 + d.below(4), 2 + d.below(4)};
    std::vector<int64_t> start = {d.below(2), d.below(2)}, limit = {s[0] - d.below(2), s[1]},
                         stride = {1 + d.below(2), 1 + d.below(2)};
    add("slice", {d.tensor(s)}, [=](Builder& b, const std::vector<Value*>& x) { return b.slice(x[0], start, limit, stride); });
    std::vector<int64_t> lo = {d.below(2), d.below(3)}, hi = {d.below(3), d.below(2)}, in = {d.below(2), d.below(3)};
    add("pad", {d.tensor(s)}, [=](Builder& b, const std::vector<Value*>& x) { return b.pad(x[0], lo, hi, 0.5, in); });
    Shape s2 = s, s3 = s;
    s2[1] = d.dim();
    s3[1] = d.dim();
    add("concat", {d.tensor(s), d.tensor(s2), d.tensor(s3)},
        [](Builder& b, const std::vector<Value*>& x) { return b.concat({x[0], x[1], x[2]}, -1); });
  }
  {
    Shape table = {2 + d.below(4), d.dim()};
    Shape idx = d.shape(2);
    int64_t rows = table[0];
    add("gather", {d.tensor(table), d.ints(idx, rows)},
        [](Builder& b, const std::vector<Value*>& x) { return b.gather(x[0], x[1]); });
    Shape upd = idx;
    upd.push_back(table[1]);
    add("scatter_add", {d.tensor(table), d.ints(idx, rows), d.tensor(upd)},
        [](Builder& b, const std::vector<Value*>& x) { return b.scatterAdd(x[0], x[1], x[2]); });
    add("gather_axis1", {d.tensor({3, 5, 2}), d.ints({4}, 5)},
        [](Builder& b, const std::vector<Value*>& x) { return b.gather(x[0], x[1], 1); });
  }
  {
    int64_t M = d.dim(), K = d.dim(), N = d.dim();
    bool ta = d.below(2), tb = d.below(2);
    Shape a = ta ? Shape{K, M} : Shape{M, K}, bs = tb ? Shape{N, K} : Shape{K, N};
    Shape batchA = {d.dim(), 1}, batchB = {d.dim()};
    a.insert(a.begin(), batchA.begin(), batchA.end());
    bs.insert(bs.begin(), batchB.begin(), batchB.end());
    if (d.below(2)) bs.erase(bs.begin());  // a plain weight matrix
    add("matmul", {d.tensor(a), d.tensor(bs)},
        [=](Builder& b, const std::vector<Value*>& x) { return b.matmul(x[0], x[1], ta, tb); });
  }
  return cases;
}

std::vector<GradCase> compositeCases(int trial) {
  std::vector<GradCase> cases;
  Draw d(3000 + uint64_t(trial));
  auto add = [&](std::string name, std::vector<ref::Tensor> in, Forward fn) {
    cases.push_back({name + std::to_string(trial), std::move(in), std::move(fn)});
  };
  Shape s = d.shape(3);
  int64_t axis = d.below(3);
  add("softmax", {d.tensor(s)}, [=](Builder& b, const std::vector<Value*>& x) { return b.softmax(x[0], axis); });
  add("log_softmax", {d.tensor(s)}, [=](Builder& b, const std::vector<Value*>& x) { return b.logSoftmax(x[0], axis); });
  Shape c = {s.back()};
  add("layer_norm", {d.tensor(s), d.tensor(c), d.tensor(c)},
      [](Builder& b, const std::vector<Value*>& x) { return b.layerNorm(x[0], x[1], x[2], 1e-5); });
  Shape logits = {d.dim(), 1 + d.dim(), 2 + d.below(4)};
  for (const char* red : {"mean", "sum", "none"}) {
    ref::Tensor labels = d.ints({logits[0], logits[1]}, logits[2] + 1);  // label == classes: ignored
    add(std::string("cross_entropy_") + red, {d.tensor(logits), labels},
        [=](Builder& b, const std::vector<Value*>& x) { return b.crossEntropy(x[0], x[1], logits[2], red); });
  }
  int64_t B = d.dim(), H = d.dim(), T = d.dim(), S = T + d.below(3), D = d.dim(), Dv = d.dim();
  bool causal = d.below(2);
  add("attention", {d.tensor({B, H, T, D}), d.tensor({B, H, S, D}), d.tensor({B, H, S, Dv})},
      [=](Builder& b, const std::vector<Value*>& x) { return b.attention(x[0], x[1], x[2], nullptr, causal, 0); });
  ref::Tensor mask = d.tensor({T, S});  // a constant mask input: not differentiated
  for (int64_t i = 0; i < mask.size(); ++i) mask[i] = d.below(4) == 0 ? -1e9 : mask[i];
  add("attention_masked", {d.tensor({B, H, T, D}), d.tensor({B, H, S, D}), d.tensor({B, H, S, Dv})},
      [=](Builder& b, const std::vector<Value*>& x) {
        return b.attention(x[0], x[1], x[2], b.constant(mask.data, mask.type), !causal, 0.7);
      });
  add("dropout", {d.tensor(s)}, [](Builder& b, const std::vector<Value*>& x) {
    return b.dropout(x[0], b.scalar(11, DType::I64), 0.3);
  });
  return cases;
}

// Ops with nothing to differentiate, each for the reason given.
std::vector<GradCase> allOpCases(int trial) {
  std::vector<GradCase> cases = elementwiseCases(trial);
  for (auto& c : structuralCases(trial)) cases.push_back(std::move(c));
  for (auto& c : compositeCases(trial)) cases.push_back(std::move(c));
  return cases;
}

}  // namespace kiln::test
