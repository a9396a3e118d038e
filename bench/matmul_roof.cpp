// The machine's matmul roof at a workload's own GEMM shapes: times oneDNN f32 matmuls (or with
// --dtype bf16, bf16 operands with f32 accumulation and an f32 result, as kiln's bf16 matmuls)
// (one primitive per shape, created once; the right operand in oneDNN's preferred layout) and prints one JSON line per
// shape and a final one with the roof. bench/run.py passes the shapes of a GPT train step, each
// with the number of times it occurs, so the roof is the rate that step's matmuls reach back to
// back: sum(count * flops) / sum(count * seconds).
//
//   kiln-matmul-roof [--seconds S] [--dtype f32|bf16] M,N,K[xCOUNT] ...
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Gemm {
  long m = 0, n = 0, k = 0, count = 1;
};

bool parseGemm(const std::string& s, Gemm& g) {
  char tail = 0;
  int got = std::sscanf(s.c_str(), "%ld,%ld,%ldx%ld%c", &g.m, &g.n, &g.k, &g.count, &tail);
  return (got == 3 || got == 4) && g.m > 0 && g.n > 0 && g.k > 0 && g.count > 0;
}

// Median seconds of one C = A B after a warm-up, repeated for about `budget` seconds. B is in
// the layout oneDNN prefers (`any`, reordered once, as the cpu device packs large products),
// A and C plain.
double timeGemm(const Gemm& g, const dnnl::engine& eng, dnnl::stream& strm, double budget, dnnl::memory::data_type in) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  dnnl::memory::desc a({g.m, g.k}, in, tag::ab), bPlain({g.k, g.n}, in, tag::ab), bAny({g.k, g.n}, in, tag::any),
      c({g.m, g.n}, dt::f32, tag::ab);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, bAny, c), eng);
  dnnl::matmul mm(pd);
  // Storage for either type (bf16 takes half of it); the values do not matter for the time.
  std::vector<float> av(size_t(g.m * g.k), 0.5f), bv(size_t(g.k * g.n), 0.25f), cv(size_t(g.m * g.n));
  dnnl::memory am(a, eng, av.data()), bUser(bPlain, eng, bv.data()), cm(c, eng, cv.data());
  dnnl::memory bm(pd.weights_desc(), eng);
  dnnl::reorder(bUser, bm).execute(strm, bUser, bm);
  strm.wait();
  auto once = [&] {
    auto t0 = std::chrono::steady_clock::now();
    mm.execute(strm, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    strm.wait();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  once();
  once();
  std::vector<double> times;
  double spent = 0;
  while (times.size() < 5 || (spent < budget && times.size() < 400)) {
    times.push_back(once());
    spent += times.back();
  }
  std::nth_element(times.begin(), times.begin() + long(times.size() / 2), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  double budget = 0.5;
  auto in = dnnl::memory::data_type::f32;
  std::vector<Gemm> gemms;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      budget = std::atof(argv[++i]);
      continue;
    }
    if (arg == "--dtype" && i + 1 < argc) {
      std::string t = argv[++i];
      if (t != "f32" && t != "bf16") {
        std::fprintf(stderr, "kiln-matmul-roof: --dtype takes f32 or bf16, got '%s'\n", t.c_str());
        return 2;
      }
      in = t == "bf16" ? dnnl::memory::data_type::bf16 : dnnl::memory::data_type::f32;
      continue;
    }
    Gemm g;
    if (!parseGemm(arg, g)) {
      std::fprintf(stderr, "kiln-matmul-roof: expected M,N,K or M,N,KxCOUNT, got '%s'\n", arg.c_str());
      return 2;
    }
    gemms.push_back(g);
  }
  if (gemms.empty()) {
    std::fprintf(stderr, "usage: kiln-matmul-roof [--seconds S] [--dtype f32|bf16] M,N,K[xCOUNT] ...\n");
    return 2;
  }
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  double flops = 0, seconds = 0;
  for (const Gemm& g : gemms) {
    double s = timeGemm(g, eng, strm, budget, in), f = 2.0 * double(g.m) * double(g.n) * double(g.k);
    flops += f * double(g.count);
    seconds += s * double(g.count);
    std::printf("{\"m\": %ld, \"n\": %ld, \"k\": %ld, \"count\": %ld, \"gflops\": %.1f}\n", g.m, g.n, g.k, g.count,
                f / s / 1e9);
  }
  std::printf("{\"roof_gflops\": %.1f, \"matmul_s_per_step\": %.4f}\n", flops / seconds / 1e9, seconds);
  return 0;
}
