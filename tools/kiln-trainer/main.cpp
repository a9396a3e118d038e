// kiln-trainer: the runtime every compiled trainer is made of. It reads the Executable appended
// to its own file (see executable.h) and runs the trainer on it, on the devices of every target.
#include <iostream>

#include "runtime/cli/guarded_main.h"
#include "runtime/trainer/trainer.h"
#include "objectives/objectives.h"
#include "targets/targets.h"

namespace {

int run(int argc, char** argv) {
  auto exe = kiln::readAppendedExecutable(kiln::trainerFile());
  if (!exe) {
    std::cerr << exe.error().str() << "\n";
    return 1;
  }
  kiln::registerDevices();
  kiln::registerObjectiveDataHalves();
  return kiln::runTrainer(*exe, std::vector<std::string>(argv + 1, argv + argc), argv[0]);
}

}  // namespace

int main(int argc, char** argv) { return kiln::cli::guardedMain(run, argc, argv); }
