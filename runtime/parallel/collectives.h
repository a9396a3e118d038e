// The ranks of a data-parallel run and what they say to each other. One process is one rank: a
// trainer started by mpirun joins its ranks (runtime/parallel/mpi_collectives.cpp); any other
// process is a world of one, where every collective is the identity. Devices run the IR's
// all_reduce through processCollectives(); the train loop agrees on stops and checks that every
// rank runs the same trainer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ir/diagnostics.h"

namespace kiln {

class Collectives {
 public:
  virtual ~Collectives() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "Open MPI v4.1.4, 2 ranks on 1 host", or "one process".
  virtual std::string describe() const = 0;

  // Starts reducing `n` floats at `data` over the ranks, in place (their sum, or their mean);
  // the memory must stay untouched until wait() returns. Returns the request.
  virtual int64_t startAllReduce(float* data, int64_t n, bool mean) = 0;
  // Lets started reductions move on (MPI progresses them only inside its calls).
  virtual void progress() = 0;
  // Completes a request: afterwards its memory holds the reduction.
  virtual void wait(int64_t request) = 0;
  // Seconds spent blocked in wait() since the last call of this (the communication left exposed).
  virtual double takeWaitSeconds() = 0;

  // Blocking: `n` floats at `data` of which each rank holds its shard (shardOf), made whole on
  // every rank.
  virtual void allGather(float* data, int64_t n) = 0;

  // Blocking, on the host: the sum of `values` over the ranks, element by element.
  virtual void sum(std::vector<double>& values) = 0;
  // Every rank's string, by rank.
  virtual std::vector<std::string> gather(const std::string& mine) = 0;

  // Waits until every rank got here: the end of a run all ranks agreed on (its status too), after
  // which no rank needs to end the others.
  void leaveTogether() {
    std::vector<double> here = {0};
    sum(here);
    leftTogether_ = true;
  }
  bool leftTogether() const { return leftTogether_; }

 private:
  bool leftTogether_ = false;
};

// The elements [first, second) of `n` that rank `rank` of `ranks` holds when a value is sharded
// (optimizer-state sharding): even shares, the remainder spread over the last ranks.
inline std::pair<int64_t, int64_t> shardOf(int64_t n, int rank, int ranks) {
  return {n * rank / ranks, n * (rank + 1) / ranks};
}

// The process's ranks: a world of one until initProcessCollectives() joins an MPI job.
Collectives& processCollectives();
// Replaces them (null: a world of one again); returns the previous ones. For tests.
std::unique_ptr<Collectives> setProcessCollectives(std::unique_ptr<Collectives> c);
// Joins the ranks when this process was started by mpirun (or another MPI launcher); a process
// started any other way stays a world of one. An error when the MPI library cannot start.
Status initProcessCollectives(int* argc, char*** argv);
// Leaves the job (MPI_Finalize) at the end of a successful run.
void finalizeProcessCollectives();
// Ends every rank of the job at once (after this rank printed why).
[[noreturn]] void abortProcessCollectives(int code);

}  // namespace kiln
