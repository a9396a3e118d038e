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
