// The CPU check a trainer does before running code built for particular vector extensions.
#include <doctest/doctest.h>

#include <algorithm>

#include "targets/cpu/cpu_features.h"

namespace kiln {

TEST_CASE("cpu features: the runtime's own extensions are present, unknown ones are reported missing") {
  std::vector<std::string> host = hostCpuFeatures();
  for (const auto& f : runtimeCpuFeatures()) CHECK_MESSAGE(std::find(host.begin(), host.end(), f) != host.end(), f);
  CHECK(missingCpuFeatures(runtimeCpuFeatures()).empty());
  CHECK(missingCpuFeatures({"avx512-on-mars"}) == std::vector<std::string>{"avx512-on-mars"});
}

}  // namespace kiln

namespace kiln {

TEST_CASE("cpu features: the start-up line names the CPU and what each kind of kernel uses") {
  std::string line = describeCpuVectorUse("avx2 fma");
  CHECK(line.rfind(cpuModelName(), 0) == 0);
  CHECK(line.find("runtime kernels " + joinFeatures(runtimeCpuFeatures())) != std::string::npos);
  CHECK(line.find("generated kernels avx2 fma") != std::string::npos);
  CHECK(line.find("oneDNN " + dnnlCpuIsa()) != std::string::npos);
  CHECK(dnnlCpuIsa() != "unknown");
  CHECK(describeCpuVectorUse("").find("generated kernels none") != std::string::npos);
  CHECK(joinFeatures({}) == "baseline x86-64");
}

}  // namespace kiln

namespace kiln {

TEST_CASE("cpu features: bf16 is called slower than f32 exactly where oneDNN has no native bf16") {
  for (const char* isa : {"avx2", "avx2_vnni", "avx512_core", "avx512_core_vnni", "sse41"}) {
    const std::string why = bf16SlowerReason("Some CPU", isa);
    CHECK_MESSAGE(why.find("no native bf16 dot products") != std::string::npos, isa);
    CHECK(why.find(isa) != std::string::npos);
  }
  CHECK(bf16SlowerReason("Some CPU", "avx512_core_bf16").empty());
  CHECK(bf16SlowerReason("Some CPU", "avx512_core_amx").empty());
}

}  // namespace kiln
