#include "targets/cpu/cpu_features.h"

#include <algorithm>
#include <fstream>

#include <oneapi/dnnl/dnnl.hpp>

namespace kiln {

std::vector<std::string> hostCpuFeatures() {
  __builtin_cpu_init();
  // __builtin_cpu_supports takes literals only, hence the table.
  const std::pair<const char*, bool> table[] = {
      {"sse4.2", __builtin_cpu_supports("sse4.2")},     {"avx", __builtin_cpu_supports("avx")},
      {"avx2", __builtin_cpu_supports("avx2")},         {"fma", __builtin_cpu_supports("fma")},
      {"avx512f", __builtin_cpu_supports("avx512f")},   {"avx512bw", __builtin_cpu_supports("avx512bw")},
      {"avx512dq", __builtin_cpu_supports("avx512dq")}, {"avx512vl", __builtin_cpu_supports("avx512vl")},
      {"avx512vnni", __builtin_cpu_supports("avx512vnni")}, {"avx512bf16", __builtin_cpu_supports("avx512bf16")},
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
#ifdef __AVX512VNNI__
  out.push_back("avx512vnni");
#endif
#ifdef __AVX512BF16__
  out.push_back("avx512bf16");
#endif
  return out;
}

std::vector<std::string> missingCpuFeatures(const std::vector<std::string>& required) {
  std::vector<std::string> host = hostCpuFeatures(), missing;
  for (const auto& f : required)
    if (std::find(host.begin(), host.end(), f) == host.end()) missing.push_back(f);
  return missing;
}

std::string cpuModelName() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon == std::string::npos) break;
      auto name = line.substr(colon + 1);
      name.erase(0, name.find_first_not_of(" \t"));
      return name;
    }
  return "unknown CPU";
}

std::string joinFeatures(const std::vector<std::string>& features) {
  std::string out;
  for (const auto& f : features) out += (out.empty() ? "" : " ") + f;
  return out.empty() ? "baseline x86-64" : out;
}

std::string dnnlCpuIsa() {
  using isa = dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case isa::sse41: return "sse41";
    case isa::avx: return "avx";
    case isa::avx2: return "avx2";
    case isa::avx2_vnni: return "avx2_vnni";
    case isa::avx512_mic: return "avx512_mic";
    case isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case isa::avx512_core: return "avx512_core";
    case isa::avx512_core_vnni: return "avx512_core_vnni";
    case isa::avx512_core_bf16: return "avx512_core_bf16";
    case isa::avx512_core_amx: return "avx512_core_amx";
    case isa::all: return "all";
  }
  return "unknown";
}

std::string bf16SlowerReason(const std::string& cpuModel, const std::string& dnnlIsa) {
  if (dnnlIsa == "avx512_core_bf16" || dnnlIsa == "avx512_core_amx") return "";
  return "this CPU (" + cpuModel + ", oneDNN ISA " + dnnlIsa +
         ") has no native bf16 dot products (AVX512_BF16 or AMX): bf16 matmuls will run through oneDNN's "
         "emulation or kiln's own f32 kernels on the rounded values, slower than f32";
}

std::string describeCpuVectorUse(const std::string& generatedKernelFeatures) {
  return cpuModelName() + "; vector extensions used: runtime kernels " + joinFeatures(runtimeCpuFeatures()) +
         ", generated kernels " + (generatedKernelFeatures.empty() ? "none (no fused kernels)" : generatedKernelFeatures) +
         ", oneDNN " + dnnlCpuIsa();
}

}  // namespace kiln
