// The ranks of an MPI job (Open MPI from Debian's packages): MPI_Iallreduce in place for the
// IR's all_reduce, blocking collectives for the host's agreements. Every MPI error ends the job
// with the rank and the call named; a rank that dies is noticed by mpirun, which ends the others.
// The C API only: the deprecated C++ bindings mpi.h would pull in need another library.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>
#include <utility>

#include "runtime/parallel/collectives.h"

namespace kiln {

namespace {

// Launchers say so in the environment: Open MPI's mpirun, and PMI/PMIx ones (Slurm's srun).
bool launchedByMpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

class MpiCollectives : public Collectives {
 public:
  MpiCollectives() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string describe() const override {
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    std::string v(version, size_t(len));
    v = v.substr(0, v.find_first_of(",\n"));  // "Open MPI v4.1.4"
    std::vector<std::string> hosts = gather(hostName());
    std::vector<std::string> distinct;
    for (const std::string& h : hosts)
      if (std::find(distinct.begin(), distinct.end(), h) == distinct.end()) distinct.push_back(h);
    std::string on;
    for (const std::string& h : distinct) on += (on.empty() ? "" : ", ") + h;
    return v + ", " + std::to_string(size_) + " ranks on " + on;
  }

  int64_t startAllReduce(float* data, int64_t n, bool mean) override {
    Pending p{MPI_REQUEST_NULL, data, n, mean};
    check(MPI_Iallreduce(MPI_IN_PLACE, data, int(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &p.request), "MPI_Iallreduce");
    pending_.emplace(next_, p);
    return next_++;
  }
  void progress() override {
    for (auto& [id, p] : pending_)
      if (p.request != MPI_REQUEST_NULL) {
        int done = 0;
        check(MPI_Test(&p.request, &done, MPI_STATUS_IGNORE), "MPI_Test");
        if (done) finish(p);
      }
  }
  void wait(int64_t request) override {
    auto it = pending_.find(request);
    if (it == pending_.end()) return;
    Pending& p = it->second;
    if (p.request != MPI_REQUEST_NULL) {
      const auto t0 = std::chrono::steady_clock::now();
      check(MPI_Wait(&p.request, MPI_STATUS_IGNORE), "MPI_Wait");
      waitSeconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      finish(p);
    }
    pending_.erase(it);
  }
  double takeWaitSeconds() override {
    const double s = waitSeconds_;
    waitSeconds_ = 0;
    return s;
  }

  void allGather(float* data, int64_t n) override {
    std::vector<int> counts(static_cast<size_t>(size_)), offsets(static_cast<size_t>(size_));
    for (int r = 0; r < size_; ++r) {
      auto [lo, hi] = shardOf(n, r, size_);
      offsets[size_t(r)] = int(lo);
      counts[size_t(r)] = int(hi - lo);
    }
    check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, counts.data(), offsets.data(), MPI_FLOAT, MPI_COMM_WORLD),
          "MPI_Allgatherv");
  }
  void sum(std::vector<double>& values) override {
    check(MPI_Allreduce(MPI_IN_PLACE, values.data(), int(values.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  }
  std::vector<std::string> gather(const std::string& mine) const {
    int len = int(mine.size());
    std::vector<int> lens(size_t(size_), 0), offsets(size_t(size_), 0);
    check(MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
    int total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[size_t(r)] = total;
      total += lens[size_t(r)];
    }
    std::string all(size_t(total), '\0');
    check(MPI_Allgatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), offsets.data(), MPI_CHAR, MPI_COMM_WORLD),
          "MPI_Allgatherv");
    std::vector<std::string> out;
    for (int r = 0; r < size_; ++r) out.push_back(all.substr(size_t(offsets[size_t(r)]), size_t(lens[size_t(r)])));
    return out;
  }
  std::vector<std::string> gather(const std::string& mine) override { return std::as_const(*this).gather(mine); }

 private:
  struct Pending {
    MPI_Request request;
    float* data;
    int64_t n;
    bool mean;
  };
  void finish(Pending& p) {
    if (p.mean) {
      const float scale = 1.0f / float(size_);
      for (int64_t i = 0; i < p.n; ++i) p.data[i] *= scale;
    }
  }
  void check(int rc, const char* call) const {
    if (rc == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    std::fprintf(stderr, "error: rank %d of %d: %s failed: %.*s; ending every rank\n", rank_, size_, call, len, text);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1);
  }
  static std::string hostName() {
    char name[MPI_MAX_PROCESSOR_NAME];
    int len = 0;
    MPI_Get_processor_name(name, &len);
    return std::string(name, size_t(len));
  }

  int rank_ = 0, size_ = 1;
  std::map<int64_t, Pending> pending_;  // started and not yet waited for, by request
  int64_t next_ = 0;
  double waitSeconds_ = 0;
};

}  // namespace

Status initProcessCollectives(int* argc, char*** argv) {
  if (!launchedByMpi()) return okStatus();
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    return makeError({}, "started by an MPI launcher, but MPI_Init failed");
  setProcessCollectives(std::make_unique<MpiCollectives>());
  // Ranks on one host share its cores: unless OMP_NUM_THREADS says otherwise, each takes its share.
  if (!std::getenv("OMP_NUM_THREADS")) {
    const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    const int ranksHere = local ? std::max(1, std::atoi(local)) : 1;
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    omp_set_num_threads(std::max(1, cores / ranksHere));
  }
  return okStatus();
}

void finalizeProcessCollectives() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Finalize();
}

void abortProcessCollectives(int code) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace kiln
