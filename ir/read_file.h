// Reading the files a user names (specs, IR, data, checkpoints, executables). A path must be
// a regular file of bounded size: a character device (/dev/zero), a FIFO or a socket would
// read without end or block forever, so they are refused by kind before any byte is read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/diagnostics.h"

namespace kiln {

// Larger inputs than this are refused unless a caller allows more.
inline constexpr int64_t kDefaultReadLimitBytes = int64_t(16) << 30;

// Reads a whole file ("-" is standard input, read to at most `limitBytes`); a missing,
// unreadable, non-regular or too large file is an error naming it and the reason (errno).
Expected<std::string> readFile(const std::string& path, int64_t limitBytes = kDefaultReadLimitBytes);

// Why `path` cannot be read as an input file (the same checks as readFile, no reading).
Status checkReadableFile(const std::string& path);

// Whether two paths name the same file: the same device and inode, or for a file that does
// not exist yet, the same canonical path.
bool sameFile(const std::string& a, const std::string& b);

// An error when `output` names one of `inputs` (as gcc refuses `-o` onto a source): writing it
// would destroy the input. `role` says what the output is ("checkpoint").
Status checkNotAnInput(const std::string& output, const std::string& role, const std::vector<std::string>& inputs);

// "a character device", "a FIFO", ... for a stat mode.
const char* fileKindName(unsigned mode);

// "12.5 MiB".
std::string formatBytes(int64_t bytes);

}  // namespace kiln
