// The vector extensions this CPU has, and those a trainer's code was compiled for: a trainer
// moved to a machine without them explains itself instead of dying of SIGILL.
#pragma once

#include <string>
#include <vector>

namespace kiln {

// Names (avx2, fma, avx512f, ...) of the tracked extensions this CPU supports.
std::vector<std::string> hostCpuFeatures();
// The tracked extensions the runtime itself was compiled to use (-march).
std::vector<std::string> runtimeCpuFeatures();
// Of `required`, those this CPU lacks.
std::vector<std::string> missingCpuFeatures(const std::vector<std::string>& required);
// This CPU's model name as /proc/cpuinfo gives it ("unknown CPU" elsewhere).
std::string cpuModelName();
// Space-separated, or "baseline x86-64" for none.
std::string joinFeatures(const std::vector<std::string>& features);
// The instruction set oneDNN dispatches its matmuls and softmax to on this CPU (avx2,
// avx512_core_bf16, ...).
std::string dnnlCpuIsa();
// Why bf16 products will be slower than f32 on a CPU whose oneDNN ISA is `dnnlIsa` (empty when
// it has native bf16 dot products: AVX512_BF16 or AMX).
std::string bf16SlowerReason(const std::string& cpuModel, const std::string& dnnlIsa);
// One line for `info` and the trainer's start: the CPU model, and the vector extensions the
// runtime kernels, the generated kernels (as recorded at compile time) and oneDNN use.
std::string describeCpuVectorUse(const std::string& generatedKernelFeatures);

}  // namespace kiln
