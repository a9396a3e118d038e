// Runs a list of passes with the IR instrumentation every stage offers: printing before/after
// chosen passes, stopping early, one numbered dump file per pass, timing, and verification
// after each pass.
#pragma once

#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "compiler/pass.h"
#include "ir/diagnostics.h"

namespace kiln {

struct PassManagerOptions {
  std::set<std::string> printBefore;  // pass names, or "all"
  std::set<std::string> printAfter;
  std::string stopAfter;  // empty: run every pass
  std::string dumpDir;    // empty: no dump files
  bool timePasses = false;
  bool verifyEach = true;
  std::set<std::string> skip;  // optional passes left out of a standard pipeline
};

struct PipelineEntry {
  std::string name;
  PassOptions options;
};
// Parses "name{key=value,...},name,..." into its entries.
Expected<std::vector<PipelineEntry>> parsePipeline(const std::string& text);

struct PassTiming {
  std::string pass;
  double seconds;
  bool changed;
};

class PassManager {
 public:
  explicit PassManager(PassManagerOptions opts = {}) : opts_(std::move(opts)) {}

  // Adds a pass by name; an unknown name is an error listing the known passes.
  Status add(const std::string& name, const PassOptions& options = {});
  void add(std::unique_ptr<Pass> pass) { passes_.push_back(std::move(pass)); }
  // Adds a comma-separated pipeline such as "autodiff,optimizer{kind=sgd,lr=0.1},cse,dce".
  Status addPipeline(const std::string& list);

  // Runs the passes; printed IR goes to `irOut`, timings to `timingOut`. Fails when a pass
  // leaves invalid IR (a bug in that pass) or a dump file cannot be written.
  Status run(Module& m, std::ostream& irOut, std::ostream& timingOut);
  const std::vector<PassTiming>& timings() const { return timings_; }

 private:
  bool selected(const std::set<std::string>& which, const std::string& name) const {
    return which.count("all") || which.count(name);
  }
  Status dump(const Module& m, int index, const std::string& name);

  PassManagerOptions opts_;
  std::vector<std::unique_ptr<Pass>> passes_;
  std::vector<PassTiming> timings_;
};

}  // namespace kiln
