// The CPU check a trainer does before running code built for particular vector extensions.
#include <doctest/doctest.h>

#include <algorithm>

#include "runtime/cpu/cpu_features.h"

namespace kiln {

TEST_CASE("cpu features: the runtime's own extensions are present; unknown ones are reported missing") {
  std::vector<std::string> host = hostCpuFeatures();
  for (const auto& f : runtimeCpuFeatures()) CHECK_MESSAGE(std::find(host.begin(), host.end(), f) != host.end(), f);
  CHECK(missingCpuFeatures(runtimeCpuFeatures()).empty());
  CHECK(missingCpuFeatures({"avx512-on-mars"}) == std::vector<std::string>{"avx512-on-mars"});
}

}  // namespace kiln
