// Links generated object code into a shared object with the system C compiler, so a trainer can
// carry its kernels inside its own file and load them without a linker at run time.
#include <stdlib.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "targets/cpu/mlir_codegen.h"

namespace kiln {

Expected<std::string> linkSharedObject(const std::string& object) {
  std::error_code tmpError;
  auto tmp = std::filesystem::temp_directory_path(tmpError);  // honours TMPDIR
  if (tmpError)
    return makeError({}, "cannot use the temporary directory" + std::string(getenv("TMPDIR") ? " TMPDIR=" + std::string(getenv("TMPDIR")) : "") +
                             " to link the kernels: " + tmpError.message());
  std::string dirTemplate = (tmp / "kiln-link-XXXXXX").string();
  if (!mkdtemp(dirTemplate.data()))
    return makeError(Location{tmp.string(), 0, 0}, "cannot create a temporary directory to link the kernels here: " +
                                                      std::string(std::strerror(errno)) + " (set TMPDIR to a writable directory)");
  std::filesystem::path dir(dirTemplate);
  auto cleanup = [&] {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  };
  {
    std::ofstream o(dir / "kernels.o", std::ios::binary);
    o.write(object.data(), std::streamsize(object.size()));
    if (!o) {
      cleanup();
      return makeError({}, "cannot write the kernel object to " + dir.string());
    }
  }
  const char* cc = getenv("CC");
  std::string compiler = cc && *cc ? cc : "cc";
  // Paths are single-quoted for the shell; TMPDIR and CC come from the user.
  std::string cmd = "'" + compiler + "' -shared -o '" + (dir / "kernels.so").string() + "' '" +
                    (dir / "kernels.o").string() + "' -lm > '" + (dir / "link.log").string() + "' 2>&1";
  int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::ifstream log(dir / "link.log");
    std::stringstream ss;
    ss << log.rdbuf();
    cleanup();
    return makeError({}, "linking the generated kernels with '" + compiler + " -shared' failed (set CC to a working C compiler): " +
                             ss.str());
  }
  std::ifstream in(dir / "kernels.so", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  cleanup();
  return ss.str();
}

}  // namespace kiln
