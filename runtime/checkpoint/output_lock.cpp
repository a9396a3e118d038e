#include "runtime/checkpoint/output_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "runtime/checkpoint/safetensors.h"

namespace kiln {

namespace {

std::string lockPathOf(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  return (dir / ("." + target.filename().string() + ".lock")).string();
}

}  // namespace

Expected<std::unique_ptr<OutputLock>> OutputLock::acquire(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    return std::unique_ptr<OutputLock>();  // /dev/null, a pipe: nothing to guard
  const std::string lockPath = lockPathOf(path);
  int fd = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return makeError(Location{path, 0, 0}, "cannot lock the " + what + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char owner[32] = {0};
    ssize_t n = ::pread(fd, owner, sizeof owner - 1, 0);
    ::close(fd);
    std::string pid = n > 0 ? std::string(owner, size_t(n)) : "?";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    if (err == EWOULDBLOCK)
      return makeError(Location{path, 0, 0}, "another trainer (PID " + pid + ") is writing this " + what +
                                                 "; stop it, or give this run its own --checkpoint and --metrics");
    return makeError(Location{path, 0, 0}, "cannot lock the " + what + ": " + std::strerror(err));
  }
  std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != ssize_t(me.size())) {
    // The lock holds without the PID; only the message of a second run would lack it.
  }
  return std::unique_ptr<OutputLock>(new OutputLock(fd));
}

OutputLock::~OutputLock() { ::close(fd_); }

Status checkWritable(const std::string& path, const std::string& what) {
  AtomicFile probe(path);  // creates its temporary file beside the target, removed uncommitted
  if (auto s = probe.ready(); !s)
    return makeError(Location{path, 0, 0}, "cannot write the " + what + " here: " + s.error().message);
  return okStatus();
}

}  // namespace kiln
