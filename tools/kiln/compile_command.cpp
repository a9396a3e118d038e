// `kiln compile | run | info | check SPEC`: from a training spec to a standalone trainer.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include <chrono>
#include <fstream>

#include "runtime/trainer/objective_data.h"
#include "frontends/spec/hf_bert_folder.h"
#include "frontends/spec/compile_spec.h"
#include "ir/byte_size.h"
#include "ir/read_file.h"
#include "runtime/engine/memory_limits.h"
#include "targets/targets.h"
#include "runtime/trainer/trainer.h"
#include "runtime/cli/args.h"
#include "tools/kiln/commands.h"

namespace kiln {
namespace {

const std::vector<cli::OptionSpec> kCompileOptions = {
    {"o", true, "write the trainer executable to FILE"},
    {"target", true, "the target the trainer is compiled for (listed below; default: the spec's train.target, else the first)"},
    {"print-ir-before", true, "print the IR before PASS (or 'all')"},
    {"print-ir-after", true, "print the IR after PASS (or 'all')"},
    {"stop-after", true, "stop the pipeline after PASS (no trainer is written)"},
    {"dump-dir", true, "write the IR after each pass to DIR/NN-pass.kir"},
    {"time-passes", false, "report the time each pass took"},
    {"batch", true, "override the spec's train.batch (the batch is compiled into the shapes)"},
    {"memory-limit", true, "fit the train step's planned memory into SIZE (e.g. 2GiB) by recomputing activations; overrides train.memory_limit"},
    {"skip-pass", true, "leave an optimization pass out (pads-to-concat, fuse-matmul-epilogue, fuse-cross-entropy, fuse-residual-norm, fuse-elementwise, fuse-reductions, fuse-adamw, schedule)"},
    {"emit-kernels", true, "write the generated fused kernels (source, before lowering) to FILE"},
    {"sections-dir", true, "also write each section of the trainer (module, memory plans, kernels) to DIR/NAME"},
    {"help", false, "show this help"},
};

int fail(const Diagnostic& d) {
  std::cerr << d.str() << "\n";
  return 1;
}

std::string trainerRuntime() {
  if (const char* env = std::getenv("KILN_TRAINER_RUNTIME")) return env;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (self.parent_path() / "kiln-trainer-runtime").string();  // kiln-trainer less its debug sections
}

// The launcher at the front of every trainer (tools/trainer-launcher), beside the runtime.
std::string trainerLauncher() {
  if (const char* env = std::getenv("KILN_TRAINER_LAUNCHER")) return env;
  return (std::filesystem::path(trainerRuntime()).parent_path() / "kiln-trainer-launcher").string();
}

std::string megabytes(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / (1 << 20));
  return buf;
}

// Loads the spec and compiles it with the pass options of `args`.
Expected<CompiledSpec> compileFromArgs(const cli::Args& args, bool quiet) {
  if (args.positional.size() != 1) return makeError({}, "expected exactly one spec file");
  auto spec = loadSpec(args.positional[0]);
  if (!spec) return spec.error();
  // --target, else the spec's train.target, else the first target.
  const bool fromSpec = !args.has("target") && !spec->target.empty();
  auto target = lookupTarget(args.get("target", fromSpec ? spec->target : defaultTargetName()));
  if (!target) return fromSpec ? makeError(spec->locationOf("train.target"), target.error().message) : target.error();
  if (!spec->adopted.empty() && !quiet) {
    std::cerr << "from the Hugging Face folder " << hfInitFolder(*spec) << ":";
    for (size_t i = 0; i < spec->adopted.size(); ++i) std::cerr << (i ? ", " : " ") << spec->adopted[i];
    std::cerr << "\n";
  }
  if (args.has("batch")) {
    auto batch = cli::parseCount("batch", args.get("batch"));
    if (!batch) return batch.error();
    if (*batch < 1 || *batch > 65536) return makeError({}, "--batch must be between 1 and 65536");
    spec->model.batch = *batch;
  }
  if (args.has("memory-limit")) {
    auto bytes = parseByteSize(args.get("memory-limit"));
    if (!bytes) return makeError({}, "--memory-limit: " + bytes.error().message);
    spec->train.memoryLimit = *bytes;
    spec->locations.erase("train.memory_limit");  // errors name the flag, not the spec
  }
  PassManagerOptions opts;
  for (const auto& v : args.all("print-ir-before")) opts.printBefore.insert(v);
  for (const auto& v : args.all("print-ir-after")) opts.printAfter.insert(v);
  opts.stopAfter = args.get("stop-after");
  opts.dumpDir = args.get("dump-dir");
  opts.timePasses = args.has("time-passes");
  for (const auto& v : args.all("skip-pass")) opts.skip.insert(v);
  auto compiled = compileSpec(*spec, opts, std::cout, std::cerr, **target);
  if (!compiled) return compiled.error();
  if (!opts.stopAfter.empty()) return compiled;  // the pipeline stopped early: nothing to plan or write
  if (!quiet) {
    std::cerr << "compiled " << args.positional[0] << ": " << compiled->parameters << " parameters, "
              << compiled->flopsPerStep / 1e9 << " GFLOP per step, planned peak "
              << megabytes(compiled->plan.totalBytes()) << "\n"
              << compiled->exe.sections.at("plan")  // the plan by category, recomputation, precision
              << "compile time " << compiled->compileSeconds << " s (tokenizer "
              << compiled->tokenizerSeconds << " s)\n";
  }
  for (const std::string& w : compiled->warnings) std::cerr << "warning: " << w << "\n";
  // Compiling for another machine is allowed; running it here would not fit.
  if (int64_t physical = physicalMemoryBytes(); physical > 0 && compiled->plan.totalBytes() > physical)
    std::cerr << "warning: the planned peak (" << formatBytes(compiled->plan.totalBytes()) << ") exceeds this machine's memory ("
              << formatBytes(physical) << "); the trainer will refuse to start where it does not fit\n";
  if (args.has("emit-kernels")) {
    auto text = (*target)->kernelSource(compiled->module);
    if (!text) return text.error();
    if (text->empty()) return makeError({}, "the " + (*target)->name() + " target generates no kernels (--emit-kernels)");
    std::ofstream o(args.get("emit-kernels"));
    o << *text;
    if (!o) return makeError({}, "cannot write " + args.get("emit-kernels"));
  }
  return compiled;
}

// The executable's target sections (kernels, memory plans), written by the spec's target.
Status emitTargetSections(CompiledSpec& compiled, bool quiet) {
  auto target = lookupTarget(compiled.exe.config("device"));  // the target compileFromArgs chose
  if (!target) return target.error();
  return (*target)->emit(compiled.module, compiled.exe.sections, std::cerr, quiet);
}

// Every section as its own file, to read (the PTX, the memory plans) or to feed a test.
Status writeSections(const Executable& exe, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return makeError({}, "cannot create " + dir + ": " + ec.message());
  for (const auto& [name, bytes] : exe.sections) {
    const std::string path = dir + "/" + name;
    std::ofstream o(path, std::ios::binary);
    o.write(bytes.data(), std::streamsize(bytes.size()));
    if (!o) return makeError({}, "cannot write " + path);
  }
  return okStatus();
}

}  // namespace

int compileCommand(const std::vector<std::string>& argv) {
  auto args = cli::parseArgs(argv, kCompileOptions);
  if (!args) return fail(args.error());
  if (args->has("help")) {
    std::cout << "usage: kiln compile SPEC -o TRAINER [options]\n\n" << cli::usageLines(kCompileOptions) << "\ntargets:\n";
    for (const std::string& name : targetNames()) std::cout << "  " << name << "  " << findTarget(name)->summary() << "\n";
    return 0;
  }
  if (!args->has("o") && !args->has("stop-after")) return fail(makeError({}, "kiln compile needs -o TRAINER"));
  const std::string out = args->get("o");
  std::vector<std::string> inputs = {trainerRuntime(), trainerLauncher(), "/proc/self/exe"};
  inputs.insert(inputs.end(), args->positional.begin(), args->positional.end());
  if (!out.empty())
    if (auto s = checkNotAnInput(out, "trainer", inputs); !s) return fail(s.error());
  auto compiled = compileFromArgs(*args, false);
  if (!compiled) return fail(compiled.error());
  if (args->has("stop-after")) return 0;
  // The files the spec read (data, an init_from checkpoint, a reward model), now known.
  const auto settings = compiled->exe.configMap();
  for (const char* key : {"data.files", "objective.init_from"})
    for (const std::string& f : splitConfigList(compiled->exe.config(key))) inputs.push_back(f);
  for (const std::string& f : findObjectiveData(settings.at("objective"))->inputFiles(settings)) inputs.push_back(f);
  if (auto s = checkNotAnInput(out, "trainer", inputs); !s) return fail(s.error());
  if (auto s = emitTargetSections(*compiled, false); !s) return fail(s.error());
  if (args->has("sections-dir"))
    if (auto s = writeSections(compiled->exe, args->get("sections-dir")); !s) return fail(s.error());
  if (auto s = writeTrainerBinary(trainerLauncher(), trainerRuntime(), compiled->exe, out); !s) return fail(s.error());
  std::cerr << "wrote " << out << " (standalone; links dynamically against oneDNN, OpenMP and the C/C++ runtime)\n";
  return 0;
}

int runCommand(const std::vector<std::string>& argv) {
  auto split = std::find(argv.begin(), argv.end(), "--");
  std::vector<std::string> mine(argv.begin(), split);
  std::vector<std::string> trainerArgs(split == argv.end() ? split : split + 1, argv.end());
  auto args = cli::parseArgs(mine, kCompileOptions);
  if (!args) return fail(args.error());
  if (args->has("help") || trainerArgs.empty()) {
    std::cout << "usage: kiln run SPEC [compile options] -- <train|eval|sample|info> [trainer options]\n";
    return args->has("help") ? 0 : 1;
  }
  auto compiled = compileFromArgs(*args, true);
  if (!compiled) return fail(compiled.error());
  // The same executable `kiln compile` writes, run in this process.
  if (auto s = emitTargetSections(*compiled, true); !s) return fail(s.error());
  return runTrainer(compiled->exe, trainerArgs, "kiln run " + args->positional[0] + " --");
}

int infoCommand(const std::vector<std::string>& argv) {
  auto args = cli::parseArgs(argv, kCompileOptions);
  if (!args) return fail(args.error());
  auto compiled = compileFromArgs(*args, true);
  if (!compiled) return fail(compiled.error());
  if (auto s = emitTargetSections(*compiled, true); !s) return fail(s.error());
  return runTrainer(compiled->exe, {"info"}, "kiln info");
}

int checkCommand(const std::vector<std::string>& argv) {
  if (argv.size() != 1) return fail(makeError({}, "usage: kiln check SPEC"));
  auto spec = loadSpec(argv[0]);
  if (!spec) return fail(spec.error());
  std::cout << argv[0] << ": ok\n";
  return 0;
}

}  // namespace kiln
