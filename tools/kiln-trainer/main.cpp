// kiln-trainer: the runtime every compiled trainer is made of. It reads the Executable appended
// to its own file (see executable.h) and runs the trainer on it, on the devices of every target.
#include <csignal>
#include <iostream>
#include <new>

#include "runtime/trainer/trainer.h"
#include "targets/targets.h"

namespace {
int run(int argc, char** argv);
}

// No allocation failure ends in an uncaught exception: the memory plans are checked before
// the large allocations, and anything left over is reported here.
int main(int argc, char** argv) {
  // A file-size limit (ulimit -f) makes a write fail with EFBIG, reported with the file's name,
  // instead of killing the process with SIGXFSZ mid-checkpoint.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory (an allocation failed); use a smaller model, batch or input\n";
    return 1;
  }
}

namespace {

int run(int argc, char** argv) {
  auto exe = kiln::readAppendedExecutable(kiln::trainerFile());
  if (!exe) {
    std::cerr << exe.error().str() << "\n";
    return 1;
  }
  kiln::registerDevices();
  return kiln::runTrainer(*exe, std::vector<std::string>(argv + 1, argv + argc), argv[0]);
}

}  // namespace
