// The IR text parser (grammar in docs/ir.md). User input: every problem is a located error,
// never a crash. The result is syntactically well-formed; run verifyModule for the op rules.
#pragma once

#include <string>
#include <string_view>

#include "ir/diagnostics.h"
#include "ir/module.h"

namespace kiln {

Expected<Module> parseModule(std::string_view text, const std::string& file);
Expected<Module> parseModuleFile(const std::string& path);

// Reads a whole file ("-" is standard input); a missing or unreadable file is an error naming it.
Expected<std::string> readFile(const std::string& path);

}  // namespace kiln
