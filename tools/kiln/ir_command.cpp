// `kiln ir FILE`: parse and verify an IR file, run a pass pipeline with IR instrumentation,
// print or export the result, and optionally evaluate a function on the reference device.
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "compiler/pass_manager.h"
#include "ir/graphviz.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "eval/interpreter.h"
#include "runtime/checkpoint/safetensors.h"
#include "runtime/cli/args.h"
#include "tools/kiln/commands.h"
#include "tools/kiln/run_inputs.h"

namespace kiln {
namespace {

const std::vector<cli::OptionSpec> kOptions = {
    {"passes", true, "comma-separated pass pipeline, e.g. canonicalize,cse,dce"},
    {"print-ir-before", true, "print the IR before PASS (or 'all'); repeatable"},
    {"print-ir-after", true, "print the IR after PASS (or 'all'); repeatable"},
    {"stop-after", true, "stop the pipeline after PASS"},
    {"dump-dir", true, "write the IR after each pass to DIR/NN-pass.kir"},
    {"time-passes", false, "report the time each pass took (stderr)"},
    {"no-verify-each", false, "skip verification after each pass"},
    {"emit", true, "what to print at the end: ir (default), dot, none"},
    {"function", true, "the function --emit=dot draws (default: the first)"},
    {"o", true, "write the emitted output to FILE instead of stdout"},
    {"run", true, "evaluate function FN on the reference device and print its outputs"},
    {"inputs", true, "read --run inputs from FILE ('%param = [values]' lines)"},
    {"seed", true, "draw --run inputs from this seed (default 0)"},
    {"int-range", true, "drawn integer inputs are uniform in [0, N) (default 2)"},
    {"repeat", true, "--run the function N times on the same inputs, state carried over"},
    {"print-state", false, "after --run, print the state the function assigns"},
    {"help", false, "show this help"},
};

int fail(const Diagnostic& d) {
  std::cerr << d.str() << "\n";
  return 1;
}

std::set<std::string> splitNames(const std::vector<std::string>& values) {
  std::set<std::string> out;
  for (const auto& v : values) {
    size_t start = 0;
    while (start <= v.size()) {
      size_t end = v.find(',', start);
      std::string n = v.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (!n.empty()) out.insert(n);
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  return out;
}

int runFunction(const Module& m, const cli::Args& args) {
  std::string fnName = args.get("run");
  const Function* f = m.findFunction(fnName);
  if (!f) return fail(makeError({}, "no function @" + fnName + " in the module"));
  std::vector<ref::Tensor> inputs;
  if (args.has("inputs")) {
    auto r = readRunInputs(*f, args.get("inputs"));
    if (!r) return fail(r.error());
    inputs = r.take();
  } else {
    auto seed = cli::parseCount("seed", args.get("seed", "0"));
    if (!seed) return fail(seed.error());
    auto range = cli::parseCount("int-range", args.get("int-range", "2"));
    if (!range) return fail(range.error());
    if (*range < 1) return fail(makeError({}, "--int-range must be at least 1"));
    inputs = drawRunInputs(*f, uint64_t(*seed), *range);
  }
  auto repeat = cli::parseCount("repeat", args.get("repeat", "1"));
  if (!repeat) return fail(repeat.error());
  auto state = ref::initialState(m);
  if (!state) return fail(state.error());
  for (long long r = 1; r <= *repeat; ++r) {
    auto outs = ref::run(m, *f, inputs, *state);
    if (!outs) return fail(outs.error());
    std::string prefix = *repeat > 1 ? "[" + std::to_string(r) + "] " : "";
    for (size_t i = 0; i < outs->size(); ++i)
      std::cout << prefix << f->outputNames[i] << ": " << (*outs)[i].type.str() << " = "
                << ref::formatTensor((*outs)[i]) << "\n";
  }
  if (!args.has("print-state")) return 0;
  for (const auto& op : f->ops)
    if (op->kind == OpKind::StateAssign) {
      const ref::Tensor& t = state->at(op->stateRef);
      std::cout << "@" << op->stateRef << ": " << t.type.str() << " = " << ref::formatTensor(t) << "\n";
    }
  return 0;
}

}  // namespace

int irCommand(const std::vector<std::string>& argv) {
  auto parsed = cli::parseArgs(argv, kOptions);
  if (!parsed) return fail(parsed.error());
  const cli::Args& args = *parsed;
  if (args.has("help")) {
    std::cout << "usage: kiln ir FILE [options]\n\nRead an IR file, verify it, run passes, print the result.\n\n"
              << cli::usageLines(kOptions);
    return 0;
  }
  if (args.positional.size() != 1) return fail(makeError({}, "kiln ir takes exactly one IR file (see kiln ir --help)"));
  const std::string& path = args.positional[0];

  auto module = parseModuleFile(path);
  if (!module) return fail(module.error());
  if (auto diags = verifyModule(*module); !diags.empty()) {
    for (const auto& d : diags) std::cerr << d.str() << "\n";
    return 1;
  }

  PassManagerOptions opts;
  opts.printBefore = splitNames(args.all("print-ir-before"));
  opts.printAfter = splitNames(args.all("print-ir-after"));
  opts.stopAfter = args.get("stop-after");
  opts.dumpDir = args.get("dump-dir");
  opts.timePasses = args.has("time-passes");
  opts.verifyEach = !args.has("no-verify-each");
  PassManager pm(opts);
  if (auto s = pm.addPipeline(args.get("passes")); !s) return fail(s.error());
  std::set<std::string> inPipeline;
  if (auto entries = parsePipeline(args.get("passes")))
    for (const auto& e : *entries) inPipeline.insert(e.name);
  for (const auto* which : {&opts.printBefore, &opts.printAfter})
    for (const auto& n : *which)
      if (n != "all" && !inPipeline.count(n))
        return fail(makeError({}, "--print-ir-before/after names '" + n + "', which is not in --passes"));
  if (!opts.stopAfter.empty() && !inPipeline.count(opts.stopAfter))
    return fail(makeError({}, "--stop-after names '" + opts.stopAfter + "', which is not in --passes"));

  // -o is written whole or not at all (a failing pass leaves the old file), never onto the input.
  std::ostringstream file;
  if (args.has("o"))
    if (auto s = checkNotAnInput(args.get("o"), "output", {path}); !s) return fail(s.error());
  std::ostream& out = args.has("o") ? static_cast<std::ostream&>(file) : std::cout;

  if (auto s = pm.run(*module, std::cout, std::cerr); !s) {
    std::cerr << s.error().str() << "\n";
    return s.error().message.rfind("internal error", 0) == 0 ? 2 : 1;
  }

  std::string emit = args.get("emit", "ir");
  if (emit == "ir") {
    printModule(*module, out);
  } else if (emit == "dot") {
    if (module->functions.empty()) return fail(makeError({}, "--emit=dot needs a module with a function"));
    const Function* f = module->functions.front().get();
    if (args.has("function")) {
      f = module->findFunction(args.get("function"));
      if (!f) return fail(makeError({}, "no function @" + args.get("function") + " to draw"));
    }
    emitDot(*f, out);
  } else if (emit != "none") {
    return fail(makeError({}, "--emit must be ir, dot or none, got '" + emit + "'"));
  }
  if (args.has("o"))
    if (auto s = writeFileAtomically(args.get("o"), file.str()); !s) return fail(s.error());
  if (args.has("run")) return runFunction(*module, args);
  return 0;
}

}  // namespace kiln
