// From a spec to an Executable: read the corpus, train (or pick) the tokenizer, build the model
// and objective functions, run the compiler pipeline, plan memory.
#pragma once

#include <optional>
#include <ostream>

#include "compiler/memory_plan.h"
#include "compiler/pass_manager.h"
#include "compiler/remat/rematerialize.h"
#include "compiler/target.h"
#include "frontends/spec/spec.h"
#include "runtime/trainer/executable.h"

namespace kiln {

struct CompiledSpec {
  Executable exe;
  int64_t parameters = 0;
  double flopsPerStep = 0;  // counted from the matmul and attention ops of train_step
  MemoryPlan plan;
  std::optional<RematReport> remat;  // when the spec set a memory limit
  std::vector<std::string> warnings;  // for the compile log (e.g. bf16 without native support)
  double compileSeconds = 0;
  double tokenizerSeconds = 0;
  Module module;  // after every pass (also serialized in exe)
};

// The pipeline `kiln compile` runs, with a one-line reason per entry (see compile_spec.cpp).
// The common passes, then the target's own (its fusions), then scheduling.
std::vector<std::string> standardPipeline(const Target& target);
// The optimization passes of that pipeline `--skip-pass` may leave out, as "a, b or c".
bool isOptionalPass(const std::string& name);
std::string optionalPassList();

Expected<CompiledSpec> compileSpec(const Spec& spec, const PassManagerOptions& passOptions, std::ostream& irOut,
                                   std::ostream& timingOut, const Target& target);

}  // namespace kiln
