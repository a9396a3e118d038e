// The one main() wrapper of the kiln driver and of every trainer: a file-size limit (ulimit -f)
// makes a write fail with EFBIG, reported with the file's name, instead of killing the process
// with SIGXFSZ mid-checkpoint; and no allocation failure ends in an uncaught exception (the
// memory plans are checked before the large allocations; anything left over is reported here).
#pragma once

namespace kiln::cli {

int guardedMain(int (*run)(int argc, char** argv), int argc, char** argv);

}  // namespace kiln::cli
