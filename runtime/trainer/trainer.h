// The trainer a compiled binary runs: `train`, `eval`, `sample`, `info` over an Executable.
#pragma once

#include <string>
#include <vector>

#include "runtime/trainer/executable.h"

namespace kiln {

// Runs one trainer subcommand; returns the exit code (0 ok, 1 user error, 130 interrupted).
int runTrainer(const Executable& exe, const std::vector<std::string>& args, const std::string& programName);

}  // namespace kiln
