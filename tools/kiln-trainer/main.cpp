// kiln-trainer: the runtime every compiled trainer is made of. It reads the Executable appended
// to its own file (see executable.h) and runs the trainer on it, on the devices of every target.
#include <iostream>

#include "runtime/cli/guarded_main.h"
#include "runtime/parallel/collectives.h"
#include "runtime/trainer/trainer.h"
#include "objectives/objectives.h"
#include "targets/targets.h"

namespace {

int run(int argc, char** argv) {
  // Under mpirun, one rank of a data-parallel run (runtime/parallel/collectives.h).
  if (auto s = kiln::initProcessCollectives(&argc, &argv); !s) {
    std::cerr << s.error().str() << "\n";
    return 1;
  }
  auto exe = kiln::readAppendedExecutable(kiln::trainerFile());
  if (!exe) {
    std::cerr << exe.error().str() << "\n";
    return 1;
  }
  kiln::registerDevices();
  kiln::registerObjectiveDataHalves();
  const int rc = kiln::runTrainer(*exe, std::vector<std::string>(argv + 1, argv + argc), argv[0]);
  // A rank that fails alone would leave the others waiting for it: the job ends with it.
  if (rc != 0 && kiln::processCollectives().size() > 1 && !kiln::processCollectives().leftTogether())
    kiln::abortProcessCollectives(rc);
  kiln::finalizeProcessCollectives();
  return rc;
}

}  // namespace

int main(int argc, char** argv) { return kiln::cli::guardedMain(run, argc, argv); }
