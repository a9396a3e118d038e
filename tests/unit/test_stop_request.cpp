// Stopping on a signal: every rank of a data-parallel run stops after the same step, even when the
// signal arrives while the ranks are agreeing (where a rank that looked at its signal again would
// stop alone and leave the others waiting for it).
#include <doctest/doctest.h>

#include <csignal>
#include <utility>

#include "runtime/trainer/stop_request.h"

namespace kiln {
namespace {

// One of two ranks; the other offers `otherOffers`. `signalDuringSum` arrives at this rank while
// the ranks agree.
class PairedRank : public Collectives {
 public:
  int rank() const override { return 1; }
  int size() const override { return 2; }
  std::string describe() const override { return "paired rank"; }
  int64_t startAllReduce(float*, int64_t, bool) override { return 0; }
  void progress() override {}
  void wait(int64_t) override {}
  double takeWaitSeconds() override { return 0; }
  void allGather(float*, int64_t) override {}
  void sum(std::vector<double>& v) override {
    if (signalDuringSum != 0) std::raise(std::exchange(signalDuringSum, 0));
    for (double& x : v) x += otherOffers;
  }
  std::vector<std::string> gather(const std::string& mine) override { return {mine, mine}; }

  int signalDuringSum = 0;
  double otherOffers = 0;
};

}  // namespace

TEST_CASE("stop requests: a signal that arrives while the ranks agree stops every rank one step later") {
  StopRequests requests;
  PairedRank ranks;
  CHECK(requests.agree(ranks) == 0);
  ranks.signalDuringSum = SIGTERM;
  CHECK(requests.agree(ranks) == 0);  // the other rank, which offered 0, goes on: so does this one
  CHECK(requests.agree(ranks) == SIGTERM);  // both stop after the next step
}

TEST_CASE("stop requests: a rank no signal reached stops with the one that was signalled") {
  StopRequests requests;
  PairedRank ranks;
  ranks.otherOffers = SIGINT;
  CHECK(requests.agree(ranks) == SIGTERM);
  ranks.otherOffers = 0;
  std::raise(SIGINT);
  CHECK(requests.agree(ranks) == SIGINT);
}

TEST_CASE("stop requests: one process stops on its own signal, and the handlers come back") {
  auto before = std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGTERM, before);
  {
    StopRequests requests;
    Collectives& alone = processCollectives();  // a world of one
    REQUIRE(alone.size() == 1);
    CHECK(requests.agree(alone) == 0);
    std::raise(SIGTERM);
    CHECK(requests.agree(alone) == SIGTERM);
  }
  {
    StopRequests fresh;  // a new scope starts without the old request
    CHECK(fresh.agree(processCollectives()) == 0);
  }
  auto after = std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGTERM, after);
  CHECK(reinterpret_cast<void*>(after) == reinterpret_cast<void*>(before));
}

}  // namespace kiln
