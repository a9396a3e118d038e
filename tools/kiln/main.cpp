// kiln: the compiler driver. A thin main over the libraries; each subcommand lives in its own
// file.
#include <iostream>
#include <string>
#include <vector>

#include "tools/kiln/commands.h"

namespace {

constexpr const char* kUsage =
    "usage: kiln <command> [args]\n"
    "\n"
    "commands:\n"
    "  ir FILE     read, verify, transform, print or evaluate an IR file (kiln ir --help)\n"
    "  help        show this help\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 1 : 0;
  }
  std::string cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "ir") return kiln::irCommand(rest);
  std::cerr << "error: unknown command '" << cmd << "'\n" << kUsage;
  return 1;
}
