// The trainer a compiled binary runs: `train`, `eval`, `sample`, `info` over an Executable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/trainer/executable.h"

namespace kiln {

class KernelLibrary;

// Runs one trainer subcommand; returns the exit code (0 ok, 1 user error, 130 interrupted).
// The cpu device's fused kernels come from `kernels` (e.g. JIT-compiled by `kiln run`), else
// from the executable's "kernels.so" section.
int runTrainer(const Executable& exe, const std::vector<std::string>& args, const std::string& programName,
               std::shared_ptr<const KernelLibrary> kernels = nullptr);

}  // namespace kiln
