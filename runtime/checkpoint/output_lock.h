// An exclusive lock on one of a run's outputs (a checkpoint, a metrics log), held while the run
// lives, so two trainers pointed at the same files refuse instead of interleaving their lines and
// overwriting each other's checkpoints. The lock is flock(2) on ".NAME.lock" beside the file (it
// holds the owner's PID for the message); the kernel drops it when the process ends, however it
// ends.
#pragma once

#include <memory>
#include <string>

#include "ir/diagnostics.h"

namespace kiln {

class OutputLock {
 public:
  // Fails, naming the file and the PID holding it, when another process has it. Paths that
  // are not regular files (/dev/null) need no lock: the result is then empty.
  static Expected<std::unique_ptr<OutputLock>> acquire(const std::string& path, const std::string& what);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  explicit OutputLock(int fd) : fd_(fd) {}
  int fd_;
};

// Whether a file can be written at `path` (its folder exists and takes a new file): checked
// before training, so a run never trains to the end and then cannot save.
Status checkWritable(const std::string& path, const std::string& what);

}  // namespace kiln
