// Each hand-written cuda kernel against the reference device's op on the same inputs: odd shapes,
// rows longer than a block, ignored labels, several parameters in one AdamW launch.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "ir/parser.h"
#include "targets/cuda/kernels/cuda_kernels.h"
#include "tests/cuda/device_buffer.h"
#include "tests/cuda/fused_cases.h"

namespace kiln {
namespace {

using test::DeviceBuffer;

ref::Tensor randomTensor(TensorType type, std::mt19937& rng, double scale = 1.0) {
  ref::Tensor t(std::move(type));
  std::normal_distribution<double> d(0.0, scale);
  for (auto& v : t.data) v = double(float(d(rng)));
  return t;
}

// The reference device's results of `f` in `ir` on `inputs`.
std::vector<ref::Tensor> reference(const std::string& ir, const std::vector<ref::Tensor>& inputs) {
  auto m = parseModule(ir, "gpu_test.kir");
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().str()));
  return test::referenceResults(*m, "f", inputs);
}

std::string shape(std::initializer_list<int64_t> dims) {
  std::ostringstream s;
  s << "f32[";
  const char* sep = "";
  for (int64_t d : dims) s << sep << d, sep = ",";
  s << "]";
  return s.str();
}

struct RowsCols {
  int64_t rows, cols;
};
// One column, a short odd row, a GPT-2 row and rows longer than a block's 1024 threads x 4.
const RowsCols kShapes[] = {{3, 1}, {37, 5}, {129, 768}, {5, 4099}};

TEST_CASE("cuda layer_norm and add_layer_norm against the reference") {
  std::mt19937 rng(1);
  for (auto [R, C] : kShapes) {
    const std::string x = shape({R, C}), c = shape({C});
    ref::Tensor in = randomTensor({DType::F32, {R, C}}, rng, 3.0), res = randomTensor({DType::F32, {R, C}}, rng);
    ref::Tensor gain = randomTensor({DType::F32, {C}}, rng), bias = randomTensor({DType::F32, {C}}, rng);
    auto want = reference("func @f(%x: " + x + ", %r: " + x + ", %g: " + c + ", %b: " + c + ") -> (y: " + x + ", s: " + x +
                              ", z: " + x + ") {\n  %y = layer_norm %x, %g, %b {eps = 1e-05} : " + x +
                              "\n  %s, %z = add_layer_norm %x, %r, %g, %b {eps = 1e-05} : " + x + ", " + x +
                              "\n  return %y, %s, %z\n}\n",
                          {in, res, gain, bias});
    DeviceBuffer<float> dx(in), dr(res), dg(gain), db(bias), y(size_t(R * C)), s(size_t(R * C)), z(size_t(R * C));
    cuda::layerNorm(dx.get(), nullptr, dg.get(), db.get(), nullptr, y.get(), R, C, 1e-5f, nullptr);
    cuda::layerNorm(dx.get(), dr.get(), dg.get(), db.get(), s.get(), z.get(), R, C, 1e-5f, nullptr);
    REQUIRE(cuda::lastLaunchError() == "");
    const std::string at = std::to_string(R) + "x" + std::to_string(C);
    test::checkClose(y.download(want[0].type), want[0], 2e-5, "layer_norm " + at);
    test::checkClose(s.download(want[1].type), want[1], 1e-6, "add_layer_norm sum " + at);
    test::checkClose(z.download(want[2].type), want[2], 2e-5, "add_layer_norm " + at);
  }
}

TEST_CASE("cuda layer_norm_grad, with and without the residual addend, against the reference") {
  std::mt19937 rng(2);
  for (auto [R, C] : kShapes) {
    const std::string x = shape({R, C}), c = shape({C});
    ref::Tensor in = randomTensor({DType::F32, {R, C}}, rng, 2.0), up = randomTensor({DType::F32, {R, C}}, rng);
    ref::Tensor gain = randomTensor({DType::F32, {C}}, rng), add = randomTensor({DType::F32, {R, C}}, rng);
    auto want = reference("func @f(%x: " + x + ", %gain: " + c + ", %g: " + x + ", %a: " + x + ") -> (dx: " + x + ", dg: " + c +
                              ", db: " + c + ", dxa: " + x + ") {\n  %dx, %dg, %db = layer_norm_grad %x, %gain, %g {eps = 1e-05} : " +
                              x + ", " + c + ", " + c + "\n  %dxa, %dg2, %db2 = layer_norm_grad %x, %gain, %g, %a {eps = 1e-05} : " +
                              x + ", " + c + ", " + c + "\n  return %dx, %dg, %db, %dxa\n}\n",
                          {in, gain, up, add});
    DeviceBuffer<float> dxIn(in), dgain(gain), dup(up), dadd(add);
    DeviceBuffer<float> dx(size_t(R * C)), dxa(size_t(R * C)), dg(static_cast<size_t>(C)), db(static_cast<size_t>(C));
    DeviceBuffer<float> work(cuda::columnSumLaunch(R, C).workspaceFloats);
    cuda::layerNormGrad(dxIn.get(), dgain.get(), dup.get(), nullptr, dx.get(), dg.get(), db.get(), work.get(), R, C, 1e-5f, nullptr);
    REQUIRE(cuda::lastLaunchError() == "");
    const std::string at = std::to_string(R) + "x" + std::to_string(C);
    test::checkClose(dx.download(want[0].type), want[0], 5e-5, "dx " + at);
    test::checkClose(dg.download(want[1].type), want[1], 5e-5, "dgain " + at);
    test::checkClose(db.download(want[2].type), want[2], 5e-5, "dbias " + at);
    cuda::layerNormGrad(dxIn.get(), dgain.get(), dup.get(), dadd.get(), dxa.get(), dg.get(), db.get(), work.get(), R, C, 1e-5f,
                        nullptr);
    test::checkClose(dxa.download(want[3].type), want[3], 5e-5, "dx + addend " + at);
  }
}

TEST_CASE("cuda cross_entropy_with_grad (mean and sum, ignored rows) against the reference") {
  std::mt19937 rng(3);
  for (auto [R, V] : {RowsCols{1, 2}, RowsCols{37, 50}, RowsCols{9, 50257}}) {
    for (const char* reduction : {"mean", "sum"}) {
      ref::Tensor logits = randomTensor({DType::F32, {R, V}}, rng, 4.0), labels({DType::I32, {R}}), g({DType::F32, {}}, {0.75});
      for (int64_t r = 0; r < R; ++r) labels[r] = r % 4 == 2 ? -100 : double(rng() % uint32_t(V));
      const std::string x = shape({R, V});
      auto want = reference("func @f(%x: " + x + ", %l: i32[" + std::to_string(R) + "], %g: f32[]) -> (loss: f32[], d: " + x +
                                ") {\n  %loss, %d = cross_entropy_with_grad %x, %l, %g {reduction = \"" + reduction + "\"} : f32[], " +
                                x + "\n  return %loss, %d\n}\n",
                            {logits, labels, g});
      DeviceBuffer<float> dlogits(logits), dg(g), loss(1), d(size_t(R * V)), work(size_t(R + 2));
      DeviceBuffer<float> dlabels(labels);
      DeviceBuffer<int64_t> bad(1);
      cuda::crossEntropyWithGrad(dlogits.get(), dlabels.get(), dg.get(), loss.get(), d.get(), work.get(), bad.get(), R, V, -100,
                                 std::string(reduction) == "mean" ? cuda::Reduction::Mean : cuda::Reduction::Sum, nullptr);
      REQUIRE(cuda::lastLaunchError() == "");
      const std::string at = std::string(reduction) + " " + std::to_string(R) + "x" + std::to_string(V);
      test::checkClose(loss.download(want[0].type), want[0], 2e-5, "loss " + at);
      test::checkClose(d.download(want[1].type), want[1], 2e-5, "dlogits " + at);
      CHECK(bad.download({DType::I64, {1}})[0] == -1);
    }
  }
}

TEST_CASE("cuda cross_entropy_with_grad reports the first label out of range") {
  ref::Tensor logits({DType::F32, {4, 3}}), labels({DType::I32, {4}}, {0, -100, 7, 3}), g({DType::F32, {}}, {1.0});
  DeviceBuffer<float> dlogits(logits), dg(g), loss(1), d(12), work(6);
  DeviceBuffer<float> dlabels(labels);
  DeviceBuffer<int64_t> bad(1);
  cuda::crossEntropyWithGrad(dlogits.get(), dlabels.get(), dg.get(), loss.get(), d.get(), work.get(), bad.get(), 4, 3, -100,
                             cuda::Reduction::Mean, nullptr);
  CHECK(bad.download({DType::I64, {1}})[0] == 2);
}

TEST_CASE("cuda adamw_group updates every parameter in one launch as the reference does") {
  std::mt19937 rng(4);
  const std::vector<int64_t> sizes = {5, 2 * cuda::kAdamWChunk + 3, 1};
  std::vector<ref::Tensor> inputs = {ref::Tensor({DType::F32, {}}, {3e-3}), ref::Tensor({DType::F32, {}}, {7.0}),
                                     ref::Tensor({DType::F32, {}}, {0.5})};
  std::string params = "%lr: f32[], %t: f32[], %gs: f32[]", operands = "%lr, %t, %gs", results, types, outs, rets;
  for (size_t j = 0; j < sizes.size(); ++j) {
    const std::string n = std::to_string(j), s = shape({sizes[j]});
    inputs.push_back(randomTensor({DType::F32, {sizes[j]}}, rng));          // p
    inputs.push_back(randomTensor({DType::F32, {sizes[j]}}, rng));          // g
    inputs.push_back(randomTensor({DType::F32, {sizes[j]}}, rng, 0.1));     // m
    ref::Tensor v = randomTensor({DType::F32, {sizes[j]}}, rng, 0.01);
    for (auto& e : v.data) e = double(float(e * e));                         // v >= 0
    inputs.push_back(v);
    inputs.push_back(ref::Tensor({DType::F32, {}}, {j == 1 ? 1.0 : 0.99997}));  // decay
    params += ", %p" + n + ": " + s + ", %g" + n + ": " + s + ", %m" + n + ": " + s + ", %v" + n + ": " + s + ", %d" + n + ": f32[]";
    operands += ", %p" + n + ", %g" + n + ", %m" + n + ", %v" + n + ", %d" + n;
    for (const char* k : {"P", "M", "V"}) {
      results += std::string(results.empty() ? "" : ", ") + "%" + k + n;
      types += std::string(types.empty() ? "" : ", ") + s;
      outs += std::string(outs.empty() ? "" : ", ") + k + n + ": " + s;
    }
  }
  auto want = reference("func @f(" + params + ") -> (" + outs + ") {\n  " + results + " = adamw_group " + operands +
                            " {beta1 = 0.9, beta2 = 0.999, eps = 1e-08} : " + types + "\n  return " + results + "\n}\n",
                        inputs);
  std::vector<std::unique_ptr<DeviceBuffer<float>>> buffers;
  for (const auto& t : inputs) buffers.push_back(std::make_unique<DeviceBuffer<float>>(t));
  std::vector<cuda::AdamWParam> table;
  for (size_t j = 0; j < sizes.size(); ++j) {
    auto at = [&](size_t k) { return buffers[3 + 5 * j + k]->get(); };
    table.push_back({at(0), at(2), at(3), at(1), at(4)});
  }
  const auto chunks = cuda::adamwChunks(sizes);
  DeviceBuffer<cuda::AdamWParam> dtable(table.size());
  DeviceBuffer<cuda::AdamWChunk> dchunks(chunks.size());
  KILN_CUDA_REQUIRE(cudaMemcpy(dtable.get(), table.data(), sizeof(table[0]) * table.size(), cudaMemcpyHostToDevice));
  KILN_CUDA_REQUIRE(cudaMemcpy(dchunks.get(), chunks.data(), sizeof(chunks[0]) * chunks.size(), cudaMemcpyHostToDevice));
  cuda::adamwGroup(dtable.get(), dchunks.get(), int64_t(chunks.size()), buffers[0]->get(), buffers[1]->get(), buffers[2]->get(),
                   0.9f, 0.999f, 1e-8f, nullptr);
  REQUIRE(cuda::lastLaunchError() == "");
  for (size_t j = 0; j < sizes.size(); ++j)
    for (size_t k = 0; k < 3; ++k) {
      const size_t from = k == 0 ? 0 : k + 1;  // p, m, v among (p, g, m, v, decay)
      test::checkClose(buffers[3 + 5 * j + from]->download(want[3 * j + k].type), want[3 * j + k], 1e-6,
                 "parameter " + std::to_string(j) + " " + "pmv"[k]);
    }
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

struct AttentionCase {
  int64_t B, H, T, S, D, Dv;
  bool causal;
  int mask;  // 0 none; 1 padding [B,1,1,S] (batch 1 sees only its first 3 keys); 2 batch 1 sees none
};

TEST_CASE("cuda attention and attention_grad against the reference: causal offsets, masks, head sizes") {
  const AttentionCase cases[] = {
      {2, 3, 37, 37, 16, 16, true, 0}, {1, 2, 5, 13, 64, 40, true, 0},  {2, 1, 20, 20, 8, 8, false, 1},
      {2, 2, 6, 6, 32, 32, false, 2},  {1, 1, 9, 9, 256, 256, false, 0}, {1, 2, 70, 70, 80, 80, true, 1},
  };
  std::mt19937 rng(8);
  for (const AttentionCase& c : cases) {
    const std::string label = "B" + std::to_string(c.B) + " H" + std::to_string(c.H) + " T" + std::to_string(c.T) + " S" +
                              std::to_string(c.S) + " D" + std::to_string(c.D) + " Dv" + std::to_string(c.Dv) +
                              (c.causal ? " causal" : "") + (c.mask ? " mask" + std::to_string(c.mask) : "");
    INFO(label);
    const std::string qt = shape({c.B, c.H, c.T, c.D}), kt = shape({c.B, c.H, c.S, c.D}), vt = shape({c.B, c.H, c.S, c.Dv}),
                      ot = shape({c.B, c.H, c.T, c.Dv}), mt = shape({c.B, 1, 1, c.S});
    ref::Tensor q = randomTensor({DType::F32, {c.B, c.H, c.T, c.D}}, rng), k = randomTensor({DType::F32, {c.B, c.H, c.S, c.D}}, rng);
    ref::Tensor v = randomTensor({DType::F32, {c.B, c.H, c.S, c.Dv}}, rng), g = randomTensor({DType::F32, {c.B, c.H, c.T, c.Dv}}, rng);
    ref::Tensor mask({DType::F32, {c.B, 1, 1, c.S}});
    for (int64_t s = 0; s < c.S; ++s)
      mask[c.S + s] = c.mask == 2 || (c.mask == 1 && s >= 3) ? -INFINITY : 0.0;  // batch 1's keys
    const std::string attrs = std::string("{causal = ") + (c.causal ? "true" : "false") + "}";
    const std::string m = c.mask ? ", %m" : "";
    auto want = reference("func @f(%q: " + qt + ", %k: " + kt + ", %v: " + vt + ", %g: " + ot + ", %m: " + mt + ") -> (y: " + ot +
                              ", dq: " + qt + ", dk: " + kt + ", dv: " + vt + ") {\n  %y = attention %q, %k, %v" + m + " " + attrs +
                              " : " + ot + "\n  %dq, %dk, %dv = attention_grad %q, %k, %v, %g" + m + " " + attrs + " : " + qt +
                              ", " + kt + ", " + vt + "\n  return %y, %dq, %dk, %dv\n}\n",
                          {q, k, v, g, mask});
    DeviceBuffer<float> dq_(q), dk_(k), dv_(v), dg(g), dmask(mask), y(static_cast<size_t>(c.B * c.H * c.T * c.Dv));
    DeviceBuffer<float> gq(static_cast<size_t>(q.size())), gk(static_cast<size_t>(k.size())), gv(static_cast<size_t>(v.size()));
    DeviceBuffer<float> work(static_cast<size_t>(3 * c.B * c.H * c.T));
    cuda::AttentionShape a;
    a.B = c.B, a.H = c.H, a.T = c.T, a.S = c.S, a.D = c.D, a.Dv = c.Dv, a.causal = c.causal;
    a.scale = float(1.0 / std::sqrt(double(c.D)));
    if (c.mask) {
      a.mask = dmask.get();
      a.maskStride[0] = c.S, a.maskStride[3] = 1;  // [B,1,1,S]: broadcast along heads and queries
    }
    cuda::attention(dq_.get(), dk_.get(), dv_.get(), y.get(), a, nullptr);
    cuda::attentionGrad(dq_.get(), dk_.get(), dv_.get(), dg.get(), gq.get(), gk.get(), gv.get(), work.get(), a, nullptr);
    REQUIRE(cuda::lastLaunchError() == "");
    test::checkClose(y.download(want[0].type), want[0], 2e-5, "attention " + label);
    test::checkClose(gq.download(want[1].type), want[1], 5e-5, "dq " + label);
    test::checkClose(gk.download(want[2].type), want[2], 5e-5, "dk " + label);
    test::checkClose(gv.download(want[3].type), want[3], 5e-5, "dv " + label);
  }
}

}  // namespace
}  // namespace kiln
