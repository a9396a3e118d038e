#include "runtime/cli/guarded_main.h"

#include <csignal>
#include <iostream>
#include <new>

namespace kiln::cli {

int guardedMain(int (*run)(int argc, char** argv), int argc, char** argv) {
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory (an allocation failed); use a smaller model, batch or input\n";
    return 1;
  }
}

}  // namespace kiln::cli
