// kiln: the compiler driver. A thin main over the libraries; each subcommand lives in its own
// file.
#include <iostream>
#include <string>
#include <vector>

#include "runtime/cli/guarded_main.h"
#include "objectives/objectives.h"
#include "targets/targets.h"
#include "tools/kiln/commands.h"

namespace {

constexpr const char* kUsage =
    "usage: kiln <command> [args]\n"
    "\n"
    "commands:\n"
    "  compile SPEC -o TRAINER   compile a training spec to a standalone trainer executable\n"
    "  run SPEC -- CMD ...       compile in-process and run a trainer command (train, eval, sample, info)\n"
    "  info SPEC                 parameters, FLOPs per step and planned memory of a spec\n"
    "  check SPEC                validate a spec\n"
    "  report RUN... -o FILE     one HTML page of training runs: losses, baselines, metrics, memory, spec\n"
    "  ir FILE                   read, verify, transform, print or evaluate an IR file (kiln ir --help)\n"
    "  help                      show this help\n";

}  // namespace

namespace {

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 1 : 0;
  }
  kiln::registerDevices();
  kiln::registerCompileTargets();
  kiln::registerObjectiveDataHalves();
  kiln::registerObjectives();
  std::string cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "ir") return kiln::irCommand(rest);
  if (cmd == "compile") return kiln::compileCommand(rest);
  if (cmd == "run") return kiln::runCommand(rest);
  if (cmd == "info") return kiln::infoCommand(rest);
  if (cmd == "check") return kiln::checkCommand(rest);
  if (cmd == "report") return kiln::reportCommand(rest);
  std::cerr << "error: unknown command '" << cmd << "'\n" << kUsage;
  return 1;
}

}  // namespace

int main(int argc, char** argv) { return kiln::cli::guardedMain(run, argc, argv); }
