// The IR text parser (grammar in docs/ir.md). User input: every problem is a located error,
// never a crash. The result is syntactically well-formed; run verifyModule for the op rules.
#pragma once

#include <string>
#include <string_view>

#include "ir/diagnostics.h"
#include "ir/module.h"
#include "ir/read_file.h"

namespace kiln {

Expected<Module> parseModule(std::string_view text, const std::string& file);
Expected<Module> parseModuleFile(const std::string& path);

}  // namespace kiln
