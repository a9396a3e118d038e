// Atomic checkpoint writes: a killed writer's temporary file is cleaned up by the next writer of
// the same file; a live writer's is not.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "runtime/checkpoint/safetensors.h"

namespace kiln {

TEST_CASE("atomic file: stale temporaries of dead writers are removed, a live one's is kept") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("kiln-atomic-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // A PID that does not run: count down from a high one until kill() says so.
  pid_t dead = 4000000;
  while (::kill(dead, 0) == 0 || errno != ESRCH) --dead;
  const fs::path stale = dir / (".ckpt.safetensors.tmp-" + std::to_string(dead));
  const fs::path live = dir / (".ckpt.safetensors.tmp-" + std::to_string(::getppid()));
  const fs::path other = dir / (".other.safetensors.tmp-" + std::to_string(dead));
  for (const auto& p : {stale, live, other}) std::ofstream(p) << "partial";
  {
    AtomicFile f((dir / "ckpt.safetensors").string());
    f.write("x", 1);
    REQUIRE(f.commit().ok());
  }
  CHECK(!fs::exists(stale));
  CHECK(fs::exists(live));   // its writer may still be running
  CHECK(fs::exists(other));  // another file's
  CHECK(fs::file_size(dir / "ckpt.safetensors") == 1);
  fs::remove_all(dir);
}

}  // namespace kiln
