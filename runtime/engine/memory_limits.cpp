#include "runtime/engine/memory_limits.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "ir/numbers.h"

namespace kiln {

namespace {

// A number from a one-value file ("max" and failures give 0).
int64_t readNumberFile(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return 0;
  return parseInt64(text).value_or(0);  // another format: no limit known
}

// The cgroup v2 path of this process ("0::/user.slice/..."), or "".
std::string cgroupPath() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  return "";
}

void tighten(MemoryLimit& limit, int64_t bytes, const char* source) {
  if (bytes > 0 && (limit.bytes == 0 || bytes < limit.bytes)) limit = {bytes, source};
}

}  // namespace

MemoryLimit availableMemory() {
  MemoryLimit limit;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (meminfo >> key >> kb >> unit)
    if (key == "MemAvailable:") tighten(limit, kb * 1024, "MemAvailable");
  const std::string cg = cgroupPath();
  if (!cg.empty()) {
    const std::string dir = "/sys/fs/cgroup" + (cg == "/" ? std::string() : cg);
    int64_t max = readNumberFile(dir + "/memory.max"), current = readNumberFile(dir + "/memory.current");
    if (max > 0) tighten(limit, max - current, "cgroup memory.max");
  }
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) tighten(limit, int64_t(rl.rlim_cur), "RLIMIT_AS");
  return limit;
}

int64_t physicalMemoryBytes() {
  long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? int64_t(pages) * int64_t(size) : 0;
}

}  // namespace kiln
