// The subcommands of the `kiln` tool. Each returns the process exit code: 0 success,
// 1 a user error (reported on stderr), 2 an internal error.
#pragma once

#include <string>
#include <vector>

namespace kiln {

int irCommand(const std::vector<std::string>& args);
int compileCommand(const std::vector<std::string>& args);
int runCommand(const std::vector<std::string>& args);
int infoCommand(const std::vector<std::string>& args);
int checkCommand(const std::vector<std::string>& args);
int reportCommand(const std::vector<std::string>& args);

}  // namespace kiln
