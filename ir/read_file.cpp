#include "ir/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>

namespace kiln {

const char* fileKindName(unsigned mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISREG(mode)) return "a regular file";
  return "not a regular file";
}

std::string formatBytes(int64_t bytes) {
  static const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  char buf[48];
  if (u == 0) std::snprintf(buf, sizeof buf, "%lld bytes", (long long)bytes);
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

namespace {

Diagnostic errnoError(const std::string& path, const std::string& what) {
  return makeError(Location{path, 0, 0}, what + ": " + std::strerror(errno));
}

// Reads from `fd` until end of file or `limit` + 1 bytes.
Expected<std::string> readAll(int fd, const std::string& path, int64_t expected, int64_t limit) {
  std::string out;
  try {
    out.reserve(size_t(expected));
  } catch (const std::bad_alloc&) {
    return makeError(Location{path, 0, 0}, "is " + formatBytes(expected) + ", more than this process can hold in memory");
  }
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError(path, "cannot read");
    }
    if (n == 0) break;
    if (int64_t(out.size()) + n > limit)
      return makeError(Location{path, 0, 0}, "is larger than the " + formatBytes(limit) + " an input may have");
    out.append(buf, size_t(n));
  }
  return out;
}

}  // namespace

namespace {

Diagnostic notRegular(const std::string& path, unsigned mode) {
  if (S_ISDIR(mode)) return makeError(Location{path, 0, 0}, "is a directory, not a file");
  return makeError(Location{path, 0, 0}, std::string("is ") + fileKindName(mode) + ", not a regular file");
}

}  // namespace

bool sameFile(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  if (a.empty() || b.empty()) return false;
  if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  // One does not exist yet (two outputs of one run): the same path, however spelled.
  std::error_code ea, eb;
  auto ca = std::filesystem::weakly_canonical(std::filesystem::absolute(a, ea), ea);
  auto cb = std::filesystem::weakly_canonical(std::filesystem::absolute(b, eb), eb);
  return !ea && !eb && ca == cb;
}

Status checkNotAnInput(const std::string& output, const std::string& role, const std::vector<std::string>& inputs) {
  for (const std::string& in : inputs)
    if (sameFile(output, in))
      return makeError(Location{output, 0, 0}, "the " + role + " would overwrite an input (" + in + "); choose another path");
  return okStatus();
}

Status checkReadableFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errnoError(path, "cannot open file");
  if (!S_ISREG(st.st_mode)) return notRegular(path, st.st_mode);
  if (::access(path.c_str(), R_OK) != 0) return errnoError(path, "cannot open file");
  return okStatus();
}

Expected<std::string> readFile(const std::string& path, int64_t limitBytes) {
  if (path == "-") return readAll(STDIN_FILENO, "<stdin>", 0, limitBytes);
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the kind is checked right after.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    struct stat st {};
    if (errno == EISDIR || (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)))
      return makeError(Location{path, 0, 0}, "is a directory, not a file");
    return errnoError(path, "cannot open file");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Diagnostic e = errnoError(path, "cannot read");
    ::close(fd);
    return e;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return notRegular(path, st.st_mode);
  }
  if (int64_t(st.st_size) > limitBytes) {
    ::close(fd);
    return makeError(Location{path, 0, 0}, "is " + formatBytes(int64_t(st.st_size)) + ", larger than the " +
                                               formatBytes(limitBytes) + " an input may have");
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  auto out = readAll(fd, path, int64_t(st.st_size), limitBytes);
  ::close(fd);
  return out;
}

}  // namespace kiln
