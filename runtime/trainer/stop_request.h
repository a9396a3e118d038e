// Stopping a run at a step boundary on SIGINT or SIGTERM (Ctrl-C, docker stop, Slurm, systemd,
// kill), with every rank of a data-parallel run stopping after the same step.
#pragma once

#include <csignal>

#include "runtime/parallel/collectives.h"

namespace kiln {

// While it lives, SIGINT and SIGTERM are remembered as a stop request (clearing any earlier
// one); the previous handlers come back however the scope is left.
class StopRequests {
 public:
  StopRequests();
  ~StopRequests();
  StopRequests(const StopRequests&) = delete;
  StopRequests& operator=(const StopRequests&) = delete;

  // The signal every rank stops on after this step, or 0 to go on. Collective: each rank offers
  // the request it holds now, read once, and all of them act on the same verdict; a signal that
  // arrives while they agree counts at the next step. A rank asked by no signal stops as if by
  // SIGTERM when another rank was.
  int agree(Collectives& ranks) const;

 private:
  void (*previousInt_)(int);
  void (*previousTerm_)(int);
};

}  // namespace kiln
