#include "runtime/cpu/cpu_features.h"

#include <algorithm>

namespace kiln {

std::vector<std::string> hostCpuFeatures() {
  __builtin_cpu_init();
  // __builtin_cpu_supports takes literals only, hence the table.
  const std::pair<const char*, bool> table[] = {
      {"sse4.2", __builtin_cpu_supports("sse4.2")},     {"avx", __builtin_cpu_supports("avx")},
      {"avx2", __builtin_cpu_supports("avx2")},         {"fma", __builtin_cpu_supports("fma")},
      {"avx512f", __builtin_cpu_supports("avx512f")},   {"avx512bw", __builtin_cpu_supports("avx512bw")},
      {"avx512dq", __builtin_cpu_supports("avx512dq")}, {"avx512vl", __builtin_cpu_supports("avx512vl")},
  };
  std::vector<std::string> out;
  for (const auto& [name, has] : table)
    if (has) out.push_back(name);
  return out;
}

std::vector<std::string> runtimeCpuFeatures() {
  std::vector<std::string> out;
#ifdef __SSE4_2__
  out.push_back("sse4.2");
#endif
#ifdef __AVX__
  out.push_back("avx");
#endif
#ifdef __AVX2__
  out.push_back("avx2");
#endif
#ifdef __FMA__
  out.push_back("fma");
#endif
#ifdef __AVX512F__
  out.push_back("avx512f");
#endif
#ifdef __AVX512BW__
  out.push_back("avx512bw");
#endif
#ifdef __AVX512DQ__
  out.push_back("avx512dq");
#endif
#ifdef __AVX512VL__
  out.push_back("avx512vl");
#endif
  return out;
}

std::vector<std::string> missingCpuFeatures(const std::vector<std::string>& required) {
  std::vector<std::string> host = hostCpuFeatures(), missing;
  for (const auto& f : required)
    if (std::find(host.begin(), host.end(), f) == host.end()) missing.push_back(f);
  return missing;
}

}  // namespace kiln
