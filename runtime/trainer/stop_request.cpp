#include "runtime/trainer/stop_request.h"

#include <vector>

namespace kiln {

namespace {

// The signal that asked the run to stop (0: none).
volatile std::sig_atomic_t gRequested = 0;
void onStopSignal(int sig) { gRequested = sig; }

}  // namespace

StopRequests::StopRequests() {
  gRequested = 0;
  previousInt_ = std::signal(SIGINT, onStopSignal);
  previousTerm_ = std::signal(SIGTERM, onStopSignal);
}

StopRequests::~StopRequests() {
  std::signal(SIGINT, previousInt_);
  std::signal(SIGTERM, previousTerm_);
}

int StopRequests::agree(Collectives& ranks) const {
  // Read once: a rank that looked again after the reduction could stop alone and leave the
  // others waiting in the next step's all_reduce.
  const int mine = int(gRequested);
  if (ranks.size() == 1) return mine;
  std::vector<double> requests = {double(mine)};
  ranks.sum(requests);
  if (requests[0] == 0) return 0;
  return mine != 0 ? mine : SIGTERM;
}

}  // namespace kiln
