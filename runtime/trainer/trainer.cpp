#include "runtime/trainer/trainer.h"

#include "runtime/parallel/collectives.h"

#include "runtime/trainer/trainer_session.h"

namespace kiln {

int Trainer::info() {
  std::string kind = cfg("model.kind") == "bert" ? "BERT" : cfg("model.kind") == "bart" ? "BART (encoder-decoder)" : "GPT";
  std::cout << "model: " << kind << ", objective " << cfg("objective") << ", " << cfg("model.layers") << " layers, d_model " << cfg("model.d_model") << ", vocab "
            << cfg("model.vocab") << ", context " << cfg("model.context") << ", batch " << cfg("model.batch") << "\n"
            << "parameters: " << cfg("model.parameters") << "\n"
            << "FLOPs per train step: " << cfgNumber("model.flops_per_step") / 1e9 << " GFLOP\n"
            << "planned memory (train_step):\n"
            << exe_.sections.at("plan");
  // What each rank of a data-parallel run (mpirun) sends through all_reduce every step.
  int64_t buckets = 0, reduced = 0;
  if (const Function* step = m_.findFunction("train_step"))
    for (const auto& op : step->ops)
      if (op->kind == OpKind::AllReduce) {
        ++buckets;
        reduced += op->result()->type.numElements() * int64_t(dtypeBytes(op->result()->type.dtype));
      }
  if (buckets > 0)
    std::cout << "data parallel (mpirun): " << formatBytes(reduced) << " averaged over the ranks per step, in " << buckets
              << " all_reduce bucket(s)\n";
  else
    std::cout << "data parallel (mpirun): not in this trainer (compiled with --skip-pass data-parallel)\n";
  // Per rank: the plan, less (N - 1) / N of the AdamW moments when each rank keeps 1/N of them.
  bool sharded = false;
  for (const auto& f : m_.functions)
    for (const auto& op : f->ops)
      sharded |= (op->kind == OpKind::AdamWUpdate || op->kind == OpKind::AdamWGroup) && op->attrs.getBool("shard");
  int64_t moments = 0;
  for (const StateVar& s : m_.states)
    if (s.name.rfind("optimizer.m.", 0) == 0 || s.name.rfind("optimizer.v.", 0) == 0)
      moments += s.type.numElements() * int64_t(dtypeBytes(s.type.dtype));
  const int64_t planned = cfgInt("plan.total_bytes");
  if (buckets > 0 && moments > 0) {
    std::cout << "  per rank: " << formatBytes(planned) << " without optimizer-state sharding; with it"
              << (sharded ? " (this trainer)" : " (train.shard_optimizer = true)") << ":";
    for (int n : {2, 4, 8}) std::cout << (n > 2 ? "," : "") << " " << n << " ranks " << formatBytes(planned - moments * (n - 1) / n);
    std::cout << "\n";
  }
  std::cout << "device: " << device_ << " on " << describeDevice(device_, deviceInputs()) << "\n"
            << "spec: " << cfg("spec") << "\n";
  // What `score --inputs` takes.
  std::cout << "eval_step inputs:";
  const Function& evalFn = *m_.findFunction("eval_step");
  for (size_t i = 0; i < evalFn.params.size(); ++i) std::cout << (i ? ", " : " ") << evalFn.params[i]->name << " " << evalFn.params[i]->type.str();
  std::cout << "\n";
  return 0;
}

// Writes the initial state (step 0) as a checkpoint: the weights another framework can start
// from for a parity check.
int Trainer::init(const Options& o) {
  auto engine = freshEngine();
  if (!engine) return fail(engine.error());
  // --init-from: the state a run started from these weights trains from (a pretrained body).
  if (o.has("init-from"))
    if (auto s = initFrom(**engine, o.get("init-from")); !s) return fail(s.error());
  std::string ckpt = checkpointPath(o);
  if (auto s = saveCheckpoint(**engine, 0, ckpt); !s) return fail(s.error());
  std::cout << "wrote the initial state to " << ckpt << "\n";
  return 0;
}

// The token ids of a text (--text) or a UTF-8 file (--file), space-separated on one line: what
// this trainer's model reads, to check another tokenizer against.
int Trainer::tokenize(const Options& o) {
  if (o.has("text") == o.has("file")) return fail(makeError({}, "tokenize needs --text TEXT or --file FILE"));
  std::string text = o.get("text");
  if (o.has("file")) {
    auto read = readFile(o.get("file"));
    if (!read) return fail(read.error());
    text = *read;
  }
  std::string line;
  for (int32_t id : tok_.encode(text)) line += (line.empty() ? "" : " ") + std::to_string(id);
  std::cout << line << "\n";
  return 0;
}

// The loss of eval_step on a batch of token ids read from a file (whitespace-separated,
// batch x (context + 1) of them).
int Trainer::score(const Options& o) {
  if (o.has("inputs") == o.has("tokens")) return fail(makeError({}, "score needs --tokens FILE (a causal LM) or --inputs FILE.safetensors"));
  if (o.has("inputs")) return scoreInputs(o);
  if (!findObjectiveData(cfg("objective"))->scoresTokens())
    return fail(makeError({}, "score --tokens needs a causal LM; this trainer's objective is " + cfg("objective") +
                                  ": give eval_step's inputs with --inputs FILE.safetensors"));
  auto engine = freshEngine();
  if (!engine) return fail(engine.error());
  auto loaded = loadCheckpoint(**engine, checkpointPath(o), false);
  if (!loaded) return fail(loaded.error());
  std::string path = o.get("tokens", "");
  auto text = readFile(path);
  if (!text) return fail(text.error());
  const int64_t B = cfgInt("model.batch"), T = cfgInt("model.context"), V = cfgInt("model.vocab");
  ref::Tensor batch({DType::I32, {B, T + 1}});
  std::istringstream in(*text);
  int64_t n = 0, id;
  while (in >> id) {
    if (n >= batch.size()) return fail(makeError(Location{path, 0, 0}, "more than " + std::to_string(batch.size()) + " token ids"));
    if (id < 0 || id >= V) return fail(makeError(Location{path, 0, 0}, "token id " + std::to_string(id) + " is out of range [0, " + std::to_string(V) + ")"));
    batch[n++] = double(id);
  }
  if (!in.eof()) return fail(makeError(Location{path, 0, 0}, "expected whitespace-separated token ids"));
  if (n != batch.size())
    return fail(makeError(Location{path, 0, 0}, "needs " + std::to_string(batch.size()) + " token ids (batch x (context + 1)), got " + std::to_string(n)));
  auto outs = (*engine)->call("eval_step", {batch});
  if (!outs) return fail(outs.error());
  std::printf("%.9g\n", (*outs)[0][0]);
  return 0;
}

// eval_step on inputs given by name in a safetensors file (every parameter, with its dtype and
// shape: `info` lists them): prints each scalar output as "name value" and, with --outputs,
// writes every output (logits too) to a safetensors file. Any objective: how another framework's
// numbers are checked against this trainer's.
int Trainer::scoreInputs(const Options& o) {
  const std::string path = o.get("inputs");
  auto file = readSafetensors(path);
  if (!file) return fail(file.error());
  const Function& f = *m_.findFunction("eval_step");
  std::vector<ref::Tensor> inputs;
  for (const auto& p : f.params) {
    auto it = file->tensors.find(p->name);
    if (it == file->tensors.end())
      return fail(makeError(Location{path, 0, 0}, "lacks eval_step's input '" + p->name + "' (" + p->type.str() + ")"));
    if (it->second.type != p->type)
      return fail(makeError(Location{path, 0, 0}, "input '" + p->name + "' is " + it->second.type.str() + ", eval_step needs " + p->type.str()));
    inputs.push_back(it->second);
  }
  for (const auto& [name, t] : file->tensors)
    if (std::none_of(f.params.begin(), f.params.end(), [&](const auto& p) { return p->name == name; }))
      return fail(makeError(Location{path, 0, 0}, "'" + name + "' is not an input of eval_step"));
  auto engine = freshEngine();
  if (!engine) return fail(engine.error());
  auto loaded = loadCheckpoint(**engine, checkpointPath(o), false);
  if (!loaded) return fail(loaded.error());
  auto outs = call(**engine, "eval_step", std::move(inputs));
  if (!outs) return fail(outs.error());
  SafetensorsFile written;
  for (size_t i = 0; i < outs->size(); ++i) {
    if ((*outs)[i].type.rank() == 0) std::printf("%s %.9g\n", f.outputNames[i].c_str(), (*outs)[i][0]);
    written.tensors[f.outputNames[i]] = (*outs)[i];
  }
  if (o.has("outputs"))
    if (auto s = writeSafetensors(o.get("outputs"), written); !s) return fail(s.error());
  return 0;
}

// Evaluates this trainer's checkpoint, or with --init-from another model's weights as they are
// (zero-shot: a pretrained LM scored through a cloze prompt).
int Trainer::eval(const Options& o) {
  auto engine = freshEngine();
  if (!engine) return fail(engine.error());
  Expected<int64_t> loaded = int64_t(0);
  if (o.has("init-from")) {
    if (auto s = initFrom(**engine, o.get("init-from", "")); !s) return fail(s.error());
  } else {
    loaded = loadCheckpoint(**engine, checkpointPath(o), false);
  }
  if (!loaded) return fail(loaded.error());
  auto batches = numberOption(o, "batches", double(cfgInt("train.eval_batches")), 1, 1e6);
  if (!batches) return fail(batches.error());
  auto source = dataSource();
  if (!source) return fail(source.error());
  if ((*source)->evalBatches(int64_t(*batches)) == 0)
    return fail(makeError({}, "nothing to evaluate: this trainer's data has no validation split (data.val_fraction = 0)"));
  auto v = evaluate(**source, **engine, int64_t(*batches));
  if (!v) return fail(v.error());
  std::cout << describeEval(*v, **source) << " at step " << *loaded << "\n";
  return 0;
}


namespace {

constexpr const char* kUsage =
    "usage: %s <command> [options]\n"
    "\n"
    "commands:\n"
    "  train   [--steps N] [--resume] [--init-from SAFETENSORS] [--checkpoint PATH] [--metrics PATH]\n"
    "          [--eval-every N] [--checkpoint-every N] [--log-every N] [--profile]\n"
    "  eval    [--checkpoint PATH] [--batches N]\n"
    "  sample  [--checkpoint PATH] [--prompt TEXT] [--max-tokens N] [--temperature T] [--top-k K] [--seed N]\n"
    "  init    [--checkpoint PATH] [--init-from PATH]   write the initial state (step 0)\n"
    "  score   --tokens FILE [--checkpoint PATH]   loss on one batch of token ids\n"
    "          --inputs FILE.safetensors [--outputs FILE.safetensors]   eval_step on inputs by name\n"
    "  export  --hf DIR [--checkpoint PATH]        a Hugging Face model folder (config, weights, tokenizer)\n"
    "  tokenize --text TEXT | --file FILE          the token ids the model reads\n"
    "  info\n"
    "every command takes --device DEVICE (default: the one it was compiled for)\n";

void printUsage(std::FILE* to, const std::string& programName) {
  std::fprintf(to, kUsage, programName.c_str());
  std::fprintf(to, "devices in this trainer: %s\n", deviceNameList().c_str());
}

}  // namespace

int runTrainer(const Executable& exe, const std::vector<std::string>& args, const std::string& programName) {
  if (args.empty() || args[0] == "help" || args[0] == "--help") {
    printUsage(args.empty() ? stderr : stdout, programName);
    return args.empty() ? 1 : 0;
  }
  auto loaded = loadExecutable(exe, programName);
  if (!loaded) return fail(loaded.error());
  Trainer trainer(exe, loaded.take());
  std::string cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  // Each command's options (all take --device).
  using O = cli::OptionSpec;
  // --batch is parsed (so it is recognized exactly, never inside another option's value) only
  // to explain that the batch size is compiled in.
  std::vector<O> specs = {{"device", true, "cpu, reference, ... (default: the compile target)"}, {"batch", true, ""}};
  if (cmd == "train")
    specs.insert(specs.end(), {{"steps", true, ""}, {"checkpoint", true, ""}, {"metrics", true, ""}, {"eval-every", true, ""},
                               {"checkpoint-every", true, ""}, {"log-every", true, ""}, {"init-from", true, ""},
                               {"resume", false, ""}, {"profile", false, ""}});
  else if (cmd == "eval") specs.insert(specs.end(), {{"checkpoint", true, ""}, {"batches", true, ""}, {"init-from", true, ""}});
  else if (cmd == "init") specs.insert(specs.end(), {{"checkpoint", true, ""}, {"init-from", true, ""}});
  else if (cmd == "score")
    specs.insert(specs.end(), {{"checkpoint", true, ""}, {"tokens", true, ""}, {"inputs", true, ""}, {"outputs", true, ""}});
  else if (cmd == "export") specs.insert(specs.end(), {{"checkpoint", true, ""}, {"hf", true, ""}});
  else if (cmd == "tokenize") specs.insert(specs.end(), {{"text", true, ""}, {"file", true, ""}});
  else if (cmd == "sample")
    specs.insert(specs.end(), {{"checkpoint", true, ""}, {"prompt", true, ""}, {"max-tokens", true, ""}, {"temperature", true, ""},
                               {"top-k", true, ""}, {"seed", true, ""}});
  else if (cmd != "info") {
    std::fprintf(stderr, "error: unknown command '%s'\n", cmd.c_str());
    printUsage(stderr, programName);
    return 1;
  }
  auto opts = cli::parseArgs(rest, specs);
  if (!opts) return fail(opts.error());
  if (opts->values.count("batch"))
    return fail(makeError({}, "the batch size is compiled into this trainer (" + exe.config("model.batch") +
                                  "); compile another with `kiln compile SPEC --batch N`"));
  if (!opts->positional.empty()) return fail(makeError({}, "unexpected argument '" + opts->positional[0] + "'"));
  if (cmd != "train" && processCollectives().size() > 1) {
    if (processCollectives().rank() == 0) fail(makeError({}, "only `train` runs on several ranks; run `" + cmd + "` without mpirun"));
    processCollectives().leaveTogether();  // after rank 0 has said why
    return 1;
  }
  std::string device = opts->get("device", exe.config("device"));
  if (!hasDevice(device)) return fail(makeError({}, "--device must be " + deviceNameList() + ", got '" + device + "'"));
  trainer.setDevice(device, programName);
  if (cmd == "train") return trainer.train(*opts);
  if (cmd == "eval") return trainer.eval(*opts);
  if (cmd == "init") return trainer.init(*opts);
  if (cmd == "score") return trainer.score(*opts);
  if (cmd == "sample") return trainer.sample(*opts);
  if (cmd == "export") return trainer.exportHf(*opts);
  if (cmd == "tokenize") return trainer.tokenize(*opts);
  return trainer.info();
}

}  // namespace kiln
