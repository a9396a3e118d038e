// A compiled cuda trainer's module on the GPU, end to end, through the cuda engine alone (so it
// builds in the GPU-only configuration): reads the sections `kiln compile --target cuda
// --sections-dir DIR` wrote, then
//   --check   runs train_step against the reference interpreter (losses, gradient norms and
//             every state after the steps), resumes from a snapshot byte for byte, and resumes
//             the GPU's snapshot on the reference device;
//   --bench   measures tokens/s, MFU against a cuBLASLt GEMM timed in the same run, peak
//             GPU memory and the time to the first step, and where a step's time goes;
//   --dry-run the reference half of --check alone (no GPU needed): the batches are valid.
// Exits 77 where no GPU answers (CTest: skipped), 1 on a failed check.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>

#include "eval/interpreter.h"
#include "ir/parser.h"
#include "targets/cuda/cuda_device.h"
#include "targets/cuda/cuda_engine.h"

namespace kiln {
namespace {

std::string readFile(const std::string& path, bool required = true) {
  std::ifstream in(path, std::ios::binary);
  if (!in && required) {
    std::cerr << "error: cannot read " << path << "\n";
    std::exit(1);
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string configValue(const std::string& config, const std::string& key) {
  std::istringstream in(config);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + " = ", 0) == 0) return line.substr(key.size() + 3);
  return "";
}

template <class T>
T orDie(Expected<T> e, const std::string& what) {
  if (!e) {
    std::cerr << "error: " << what << ": " << e.error().str() << "\n";
    std::exit(1);
  }
  return e.take();
}

struct Loaded {
  Module module;
  std::string config, plan;
  ArenaPlans plans;
  KernelPlans kernelPlans;
  cuda::CudaCode code;
};

Loaded load(const std::string& dir) {
  Loaded l{orDie(parseModule(readFile(dir + "/module"), dir + "/module"), "module"), readFile(dir + "/config"),
           readFile(dir + "/plan"), {}, {}, {}};
  l.plans = orDie(parseArenaPlans(l.module, readFile(dir + "/" + kCudaArenaPlanSection), kCudaArenaPlanSection, 4), "arena plan");
  const std::string kp = readFile(dir + "/" + kCudaKernelPlansSection, false);
  if (!kp.empty()) l.kernelPlans = orDie(parseKernelPlans(l.module, kp, kCudaKernelPlansSection), "kernel plans");
  l.code.cubin = readFile(dir + "/" + kCudaCubinSection, false);
  l.code.ptx = readFile(dir + "/" + kCudaPtxSection, false);
  return l;
}

// The input a value is a rearrangement of (through reshapes, slices, transposes, broadcasts),
// or null.
const Value* sourceInput(const Function& f, const Value* v) {
  while (v->def && (v->def->kind == OpKind::Reshape || v->def->kind == OpKind::Slice || v->def->kind == OpKind::Transpose ||
                    v->def->kind == OpKind::BroadcastTo))
    v = v->def->operands[0];
  for (const auto& p : f.params)
    if (p.get() == v) return v;
  return nullptr;
}

// Each integer input's range: the vocabulary, narrowed to the classes of a cross-entropy it
// labels or the rows of a table it indexes (BERT's segment ids, NSP labels, a cloze slot).
std::map<const Value*, int64_t> integerBounds(const Function& f, int64_t vocab) {
  std::map<const Value*, int64_t> bound;
  for (const auto& p : f.params)
    if (!isFloat(p->type.dtype)) bound[p.get()] = vocab;
  for (const auto& op : f.ops) {
    int64_t limit = 0;
    if (op->kind == OpKind::CrossEntropy || op->kind == OpKind::CrossEntropyGrad || op->kind == OpKind::CrossEntropyWithGrad)
      limit = op->operands[0]->type.shape.back();
    else if (op->kind == OpKind::Gather || op->kind == OpKind::ScatterAdd) {
      const Shape& table = op->operands[0]->type.shape;
      int64_t axis = op->attrs.getInt("axis");
      limit = table[size_t(axis < 0 ? axis + int64_t(table.size()) : axis)];
    } else continue;
    if (const Value* in = sourceInput(f, op->operands[1]); in && bound.count(in)) bound[in] = std::min(bound[in], limit);
  }
  return bound;
}

// The batch of step `step`: integer inputs uniform over their range, floats in [0, 1) (masks,
// weights).
std::vector<ref::Tensor> batch(const Function& f, int64_t vocab, int step) {
  std::mt19937 rng(uint32_t(1000 + step));
  const auto bounds = integerBounds(f, vocab);
  std::vector<ref::Tensor> in;
  for (const auto& p : f.params) {
    ref::Tensor t(p->type);
    for (int64_t i = 0; i < t.size(); ++i)
      t[i] = isFloat(p->type.dtype) ? std::uniform_real_distribution<double>(0, 1)(rng) : double(rng() % uint64_t(bounds.at(p.get())));
    in.push_back(std::move(t));
  }
  return in;
}

double relDiff(double a, double b) { return std::fabs(a - b) / std::max(1e-6, std::fabs(b)); }

// Largest |a - b| over a state, relative to the largest |b|.
double stateDiff(const ref::Tensor& a, const ref::Tensor& b) {
  double d = 0, scale = 1e-12;
  for (int64_t i = 0; i < b.size(); ++i) {
    d = std::max(d, std::fabs(a[i] - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  return d / scale;
}

int check(const Loaded& l, int steps) {
  const Function& f = *l.module.findFunction("train_step");
  const int64_t vocab = std::stoll(configValue(l.config, "model.vocab"));
  auto gpu = orDie(cuda::makeCudaEngine(l.module, l.code, l.plans, l.kernelPlans), "the cuda engine");
  std::cout << "device: " << gpu->device() << "\n";
  ref::StateStore refState = orDie(ref::initialState(l.module), "initial state");
  int failures = 0;
  ref::StateStore snapshot;
  std::vector<ref::Tensor> lastGpu;
  for (int s = 1; s <= steps; ++s) {
    const auto in = batch(f, vocab, s);
    if (s == steps) snapshot = gpu->snapshot();
    auto got = orDie(gpu->call("train_step", in), "train_step on the GPU");
    auto want = orDie(ref::run(l.module, f, in, refState), "train_step on the reference");
    for (size_t k = 0; k < got.size(); ++k) {
      const double d = relDiff(got[k][0], want[k][0]);
      // Accuracies count argmax hits, which a near tie may flip: shown, not held to the tolerance.
      const bool held = f.outputNames[k].find("accuracy") == std::string::npos;
      std::printf("step %d %s: cuda %.7g reference %.7g (relative difference %.2e)%s\n", s, f.outputNames[k].c_str(), got[k][0],
                  want[k][0], d, held ? "" : " (not checked)");
      if (held && d > 1e-3) ++failures;
    }
    lastGpu = got;
  }
  double worst = 0;
  std::string worstName;
  const ref::StateStore gpuState = gpu->snapshot();
  for (const auto& [name, t] : refState)
    if (double d = stateDiff(gpuState.at(name), t); d > worst) worst = d, worstName = name;
  std::printf("states after %d steps: worst relative difference %.2e (%s)\n", steps, worst, worstName.c_str());
  if (worst > 1e-3) ++failures;

  // Resume from the snapshot before the last step, on a fresh engine: byte for byte.
  auto resumed = orDie(cuda::makeCudaEngine(l.module, l.code, l.plans, l.kernelPlans), "a second cuda engine");
  if (auto r = resumed->restore(snapshot); !r) return std::cerr << r.error().str() << "\n", 1;
  auto again = orDie(resumed->call("train_step", batch(f, vocab, steps)), "the resumed step");
  bool identical = again.size() == lastGpu.size();
  for (size_t k = 0; identical && k < again.size(); ++k) identical = float(again[k][0]) == float(lastGpu[k][0]);
  for (const auto& [name, t] : resumed->snapshot()) {
    const ref::Tensor& u = gpuState.at(name);
    for (int64_t i = 0; identical && i < t.size(); ++i) identical = float(t[i]) == float(u[i]);
  }
  std::printf("resume on the GPU from step %d: %s\n", steps - 1, identical ? "byte-identical" : "DIFFERS");
  failures += !identical;

  // The GPU's snapshot continued on the reference device.
  ref::StateStore crossState = snapshot;
  auto cross = orDie(ref::run(l.module, f, batch(f, vocab, steps), crossState), "the cross-device step");
  double crossWorst = relDiff(cross[0][0], lastGpu[0][0]);
  for (const auto& [name, t] : crossState) crossWorst = std::max(crossWorst, stateDiff(gpuState.at(name), t));
  std::printf("resume on the reference device from the GPU's step %d: worst relative difference %.2e\n", steps - 1, crossWorst);
  if (crossWorst > 1e-3) ++failures;

  // The other functions (evaluation; sampling with its KV cache, a state on the device) from
  // the trained state, twice each so the cache carries over.
  for (const auto& fn : l.module.functions) {
    if (fn->name == "train_step") continue;
    for (int call = 1; call <= 2; ++call) {
      const auto in = batch(*fn, vocab, 100 + call);
      auto got = orDie(gpu->call(fn->name, in), "@" + fn->name + " on the GPU");
      auto want = orDie(ref::run(l.module, *fn, in, refState), "@" + fn->name + " on the reference");
      for (size_t k = 0; k < got.size(); ++k) {
        const double d = stateDiff(got[k], want[k]);
        const bool held = fn->outputNames[k].find("accuracy") == std::string::npos;
        std::printf("@%s call %d %s: worst relative difference %.2e%s\n", fn->name.c_str(), call, fn->outputNames[k].c_str(), d,
                    held ? "" : " (not checked)");
        if (held && d > 1e-3) ++failures;
      }
    }
  }
  std::printf("%s\n", failures ? "FAILED" : "e2e check passed");
  return failures ? 1 : 0;
}

// A GEMM through cuBLASLt (the roof MFU is measured against), f32 or with bf16 operands as the
// model's matmuls: TFLOP/s.
double measuredRoof(bool bf16) {
  auto lt = orDie(cuda::CublasLt::open(), "cuBLASLt");
  const int64_t n = 8192;
  cuda::LtMatmul p;
  p.bf16 = bf16;
  p.m = p.n = p.k = n;
  p.a = {n, n, n, 0, false};
  p.b = {n, n, n, 0, false};
  p.c = {n, n, n, 0, false};
  auto prepared = orDie(lt->prepare(p), "the roof GEMM");
  cuda::DeviceMemory a, b, c;
  for (auto* m : {&a, &b, &c})
    if (!m->reserve(size_t(n * n) * 4, "the roof GEMM")) std::exit(1);
  cudaMemset(a.get(), 0, a.bytes());
  cudaMemset(b.get(), 0, b.bytes());
  for (int i = 0; i < 2; ++i) (void)lt->run(*prepared, a.floats(), b.floats(), nullptr, nullptr, c.floats(), nullptr);
  cudaDeviceSynchronize();
  const int reps = 10;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) (void)lt->run(*prepared, a.floats(), b.floats(), nullptr, nullptr, c.floats(), nullptr);
  cudaDeviceSynchronize();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return 2.0 * double(n) * n * n * reps / secs / 1e12;
}

int bench(const Loaded& l, int steps) {
  const Function& f = *l.module.findFunction("train_step");
  const int64_t vocab = std::stoll(configValue(l.config, "model.vocab"));
  const double flops = std::stod(configValue(l.config, "model.flops_per_step"));
  const int64_t tokens = std::stoll(configValue(l.config, "model.batch")) * std::stoll(configValue(l.config, "model.context"));
  size_t free0 = 0, total = 0;
  cudaMemGetInfo(&free0, &total);
  auto t0 = std::chrono::steady_clock::now();
  auto gpu = orDie(cuda::makeCudaEngine(l.module, l.code, l.plans, l.kernelPlans), "the cuda engine");
  const auto in = batch(f, vocab, 1);
  orDie(gpu->call("train_step", in), "the first step");
  const double first = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (int i = 0; i < 2; ++i) orDie(gpu->call("train_step", in), "a warm-up step");  // the second captures the graph
  std::vector<double> times;
  for (int i = 0; i < steps; ++i) {
    auto s0 = std::chrono::steady_clock::now();
    orDie(gpu->call("train_step", in), "a timed step");
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count());
  }
  size_t free1 = 0;
  cudaMemGetInfo(&free1, &total);
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  const bool bf16 = l.plan.find("precision: bf16") != std::string::npos;
  const double roof = measuredRoof(bf16);
  const double tflops = flops / median / 1e12;
  // Where the time goes: two more steps with each op timed on its own (no graph).
  gpu->setProfiling(true);
  for (int i = 0; i < 2; ++i) orDie(gpu->call("train_step", in), "a profiled step");
  double profiled = 0;
  const auto kinds = gpu->profileByKind();
  for (const auto& e : kinds) profiled += e.seconds;
  std::printf("profile (2 steps, each op drained): %.2f ms a step; the slowest kinds:\n", profiled / 2 * 1e3);
  for (size_t i = 0; i < kinds.size() && i < 12; ++i)
    std::printf("  %7.2f ms %5.1f%% %6lld calls %8.1f TFLOP/s  %s\n", kinds[i].seconds / 2 * 1e3, 100 * kinds[i].seconds / profiled,
                (long long)kinds[i].calls, kinds[i].flops > 0 ? kinds[i].flops / kinds[i].seconds / 1e12 : 0.0, kinds[i].key.c_str());
  std::printf("bench: %s (%s), %lld tokens/step: median step %.2f ms, %.0f tokens/s, %.1f TFLOP/s, MFU %.1f%% of the %s "
              "cuBLASLt roof (%.1f TFLOP/s measured now), GPU memory used %.0f MiB, first step after %.2f s\n",
              configValue(l.config, "spec").c_str(), bf16 ? "bf16" : "f32", (long long)tokens, median * 1e3, double(tokens) / median,
              tflops, 100 * tflops / roof, bf16 ? "bf16" : "f32", roof, double(free0 - free1) / 1048576.0, first);
  return 0;
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// The reference half of --check alone, where no GPU is: the batches are valid inputs (labels
// and indices in range) and the module runs.
int dryRun(const Loaded& l, int steps) {
  const Function& f = *l.module.findFunction("train_step");
  const int64_t vocab = std::stoll(configValue(l.config, "model.vocab"));
  ref::StateStore state = orDie(ref::initialState(l.module), "initial state");
  for (int s = 1; s <= steps; ++s) {
    auto out = orDie(ref::run(l.module, f, batch(f, vocab, s), state), "train_step on the reference");
    std::printf("step %d (reference) %s %.6g\n", s, f.outputNames[0].c_str(), out[0][0]);
  }
  for (const auto& fn : l.module.functions)
    if (fn->name != "train_step") {
      orDie(ref::run(l.module, *fn, batch(*fn, vocab, 101), state), "@" + fn->name + " on the reference");
      std::printf("@%s (reference) ran\n", fn->name.c_str());
    }
  return 0;
}

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: kiln_gpu_e2e SECTIONS_DIR --check [STEPS] | --bench [STEPS] | --dry-run [STEPS]\n";
    return 2;
  }
  if (std::string(argv[2]) == "--dry-run") return kiln::dryRun(kiln::load(argv[1]), argc > 3 ? std::atoi(argv[3]) : 2);
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::cerr << "no CUDA GPU here: skipped\n";
    return 77;
  }
  cudaDeviceProp p{};
  cudaGetDeviceProperties(&p, 0);
  std::printf("GPU: %s (sm_%d%d)\n", p.name, p.major, p.minor);
  const kiln::Loaded l = kiln::load(argv[1]);
  const std::string mode = argv[2];
  const int steps = argc > 3 ? std::atoi(argv[3]) : mode == "--check" ? 3 : 20;
  if (mode == "--check") return kiln::check(l, std::max(steps, 2));
  if (mode == "--bench") return kiln::bench(l, std::max(steps, 1));
  std::cerr << "unknown mode " << mode << "\n";
  return 2;
}
