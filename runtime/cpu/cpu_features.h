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

}  // namespace kiln
