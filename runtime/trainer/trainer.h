// The trainer a compiled binary runs: `train`, `eval`, `sample`, `info` over an Executable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/trainer/executable.h"

namespace kiln {

// Runs one trainer subcommand; returns the exit code (0 ok, 1 user error, 130 interrupted). The
// devices come from the registry (runtime/engine/device_registry.h); the one the executable was
// compiled for is the default, and each reads its own sections of the executable.
int runTrainer(const Executable& exe, const std::vector<std::string>& args, const std::string& programName);

}  // namespace kiln
