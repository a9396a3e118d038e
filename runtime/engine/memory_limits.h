// How much memory this process may use, so that a model whose memory plan does not fit is
// refused with both numbers before anything is allocated, instead of growing until the OOM
// killer ends the run. The limit is the smallest of the memory the kernel reports available
// (MemAvailable), a cgroup v2 limit (containers, Slurm, systemd) and RLIMIT_AS.
#pragma once

#include <cstdint>
#include <string>

namespace kiln {

struct MemoryLimit {
  int64_t bytes = 0;   // 0: unknown
  std::string source;  // "MemAvailable", "cgroup memory.max", "RLIMIT_AS"
};

MemoryLimit availableMemory();
int64_t physicalMemoryBytes();  // 0: unknown

}  // namespace kiln
