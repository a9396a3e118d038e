#include "frontends/spec/compile_spec.h"

#include "ir/cost_model.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/suggest.h"
#include "ir/verifier.h"
#include "models/gpt.h"
#include "objectives/objective.h"
#include "runtime/data/labeled_data.h"
#include "runtime/data/special_tokens.h"
#include "runtime/data/denoising_batches.h"
#include "runtime/checkpoint/json.h"
#include "runtime/data/corpus.h"
#include "runtime/data/tokenizer.h"
#include "runtime/trainer/settings.h"

namespace kiln {

std::vector<std::string> standardPipeline(const Target& target) {
  std::vector<std::string> p = {
      "autodiff",        // append d loss / d parameters to the loss function
      "data-parallel",   // average them over the ranks, in buckets that overlap the backward pass
      "optimizer",       // fold the update into it: train_step
      "canonicalize",    // fold constants (schedule scalars), drop identities
      "cse",             // merge repeated state reads and index math
      "pads-to-concat",  // the gradient of q/k/v slicing: one concat, not pads + adds
      "dce",             // drop what reaches no output or state
  };
  for (const std::string& pass : target.passes()) p.push_back(pass);  // the target's fusions
  p.push_back("schedule");  // order ops for low peak memory (the memory plan follows this order)
  return p;
}

namespace {
const char* const kOptionalPasses[] = {"data-parallel", "pads-to-concat",     "fuse-matmul-epilogue", "fuse-cross-entropy", "fuse-residual-norm",
                                       "fuse-elementwise", "fuse-reductions",      "fuse-adamw",         "schedule"};
}  // namespace

bool isOptionalPass(const std::string& name) {
  return std::find(std::begin(kOptionalPasses), std::end(kOptionalPasses), name) != std::end(kOptionalPasses);
}

std::string optionalPassList() {
  return joinAlternatives(std::vector<std::string>(std::begin(kOptionalPasses), std::end(kOptionalPasses)));
}

namespace {

// The largest arena of the module's functions other than `step`. They never run at once and
// share one arena, sized for the largest of their plans.
int64_t otherArenas(const Target& target, const Module& m, const Function& step) {
  int64_t bytes = 0;
  for (const auto& f : m.functions)
    if (f.get() != &step) bytes = std::max(bytes, target.planMemory(m, *f).arenaBytes);
  return bytes;
}

// The train step's plan with the arena the device allocates.
MemoryPlan stepPlan(const Target& target, const Module& m, const Function& step, int64_t others) {
  MemoryPlan plan = target.planMemory(m, step);
  plan.arenaBytes = std::max(plan.arenaBytes, others);
  return plan;
}

std::string precisionSummary(const Spec& spec) {
  const std::string model(dtypeName(spec.model.dtype));
  if (spec.computeDtype == DType::F32) return model;
  return std::string(dtypeName(spec.computeDtype)) + " matmul and attention inputs, f32 accumulation; " + model +
         " weights, optimizer state, norms, softmax and loss";
}

// A tokenizer folder: GPT-2's vocab.json + merges.txt (byte-level BPE), or BERT's vocab.txt
// (WordPiece; lower-cased unless its tokenizer_config.json says "do_lower_case": false), which
// only an encoder reads and which must hold [PAD] [CLS] [SEP] [MASK].
Expected<Tokenizer> loadTokenizerFolder(const std::string& dir, const std::string& modelKind) {
  std::error_code ec;
  if (!std::filesystem::exists(dir + "/vocab.txt", ec) || std::filesystem::exists(dir + "/vocab.json", ec)) {
    auto bpe = BpeTokenizer::load(dir + "/vocab.json", dir + "/merges.txt");
    if (!bpe) return bpe.error();
    return Tokenizer(bpe.take());
  }
  if (modelKind != "bert") return makeError(Location{dir + "/vocab.txt", 0, 0}, "a WordPiece vocabulary is BERT's; model.kind is " + modelKind);
  bool lowerCase = true;
  if (std::filesystem::exists(dir + "/tokenizer_config.json", ec)) {
    auto text = readFile(dir + "/tokenizer_config.json");
    if (!text) return text.error();
    auto doc = json::parse(*text, dir + "/tokenizer_config.json");
    if (!doc) return doc.error();
    if (doc->isObject() && doc->object().count("do_lower_case")) {
      const json::Value& v = doc->object().at("do_lower_case");
      if (!std::holds_alternative<bool>(v.v)) return makeError(Location{dir + "/tokenizer_config.json", 0, 0}, "do_lower_case is not true or false");
      lowerCase = std::get<bool>(v.v);
    }
  }
  auto vocab = readFile(dir + "/vocab.txt");
  if (!vocab) return vocab.error();
  auto w = WordPieceTokenizer::fromVocab(*vocab, lowerCase, dir + "/vocab.txt");
  if (!w) return w.error();
  for (const char* special : {"[PAD]", "[CLS]", "[SEP]", "[MASK]"})
    if (w->idOf(special) < 0) return makeError(Location{dir + "/vocab.txt", 0, 0}, std::string("no ") + special + " token: BERT's batches need it");
  return Tokenizer(w.take());
}

std::string absolute(const std::string& path, const std::string& base) {
  if (path.empty() || path[0] == '/') return path;
  return std::filesystem::absolute(std::filesystem::path(base) / path).lexically_normal().string();
}

}  // namespace

Expected<CompiledSpec> compileSpec(const Spec& spec, const PassManagerOptions& passOptions, std::ostream& irOut,
                                   std::ostream& timingOut, const Target& target) {
  auto t0 = std::chrono::steady_clock::now();
  const std::vector<DType> types = target.computeTypes();
  if (std::find(types.begin(), types.end(), spec.model.dtype) == types.end()) {
    std::string list;
    for (DType t : types) list += (list.empty() ? "" : ", ") + std::string(dtypeName(t));
    const std::string asked(dtypeName(spec.model.dtype));
    return makeError(spec.locationOf(spec.locations.count("model.dtype") ? "model.dtype" : "model.kind"),
                     "the " + target.name() + " target computes in " + list + ", not " + asked +
                         " (model.dtype); compile with --target reference for " + asked);
  }
  const bool mixed = spec.computeDtype != DType::F32;  // f32 (the default) means model.dtype throughout
  if (mixed) {
    const std::vector<DType> narrow = target.mixedPrecisionTypes();
    const std::string asked(dtypeName(spec.computeDtype));
    if (spec.model.dtype != DType::F32)
      return makeError(spec.locationOf("model.compute_dtype"), "model.compute_dtype " + asked +
                                                                   " rounds the products of f32 training: it needs model.dtype f32, not " +
                                                                   std::string(dtypeName(spec.model.dtype)));
    if (std::find(narrow.begin(), narrow.end(), spec.computeDtype) == narrow.end())
      return makeError(spec.locationOf("model.compute_dtype"),
                       "the " + target.name() + " target has no " + asked + " mixed precision (model.compute_dtype)");
  }
  std::string base = std::filesystem::path(spec.path).parent_path().string();
  if (base.empty()) base = ".";
  CorpusSource src;
  src.files = spec.data.files;
  src.exclude = spec.data.exclude;
  src.baseDir = base;
  src.separator = spec.data.separator;
  src.valFraction = spec.data.valFraction;
  src.seed = uint64_t(spec.train.seed);
  const Objective& objective = *findObjective(spec.objective);  // parseSpec checked the name
  // Labeled objectives read labeled texts; the tokenizer trains on the texts either way, so a
  // classifier over the same files gets its pretrained body's tokenizer.
  std::vector<LabeledText> labeled;
  Expected<std::vector<std::string>> docs = std::vector<std::string>{};
  if (objective.labeled()) {
    auto texts = readLabeledTexts(src, spec.data.labels);
    if (!texts) {
      const Diagnostic& d = texts.error();
      return makeError(spec.locationOf("data.files"), (d.loc.known() ? d.loc.str() + ": " : "") + d.message);
    }
    labeled = texts.take();
    for (const auto& t : labeled) docs->push_back(t.text);
  } else {
    docs = readDocuments(src);
  }
  if (!docs) {
    const Diagnostic& d = docs.error();
    return makeError(spec.locationOf("data.files"), (d.loc.known() ? d.loc.str() + ": " : "") + d.message);
  }
  auto t1 = std::chrono::steady_clock::now();
  const bool encoder = spec.modelKind == "bert";
  // An encoder's [PAD] [CLS] [SEP] [MASK] take the last 4 ids of model.vocab_size.
  const bool encoderDecoder = spec.modelKind == "bart";
  // ... and an encoder-decoder's [PAD] [MASK] and sentinels (runtime/data/denoising_batches.h).
  int64_t tokenizerVocab = spec.model.vocab - (encoder ? kEncoderSpecialCount : encoderDecoder ? kDenoisingSpecialCount : 0);
  Tokenizer tok = BpeTokenizer::bytes();
  if (spec.data.tokenizer == "train") {
    tok = BpeTokenizer::train(*docs, tokenizerVocab);
  } else if (spec.data.tokenizer != "byte") {
    std::string dir = absolute(spec.data.tokenizer, base);
    auto loaded = loadTokenizerFolder(dir, spec.modelKind);
    if (!loaded) {
      const Diagnostic& d = loaded.error();
      return makeError(spec.locationOf("data.tokenizer"), (d.loc.known() ? d.loc.str() + ": " : "") + d.message);
    }
    tok = loaded.take();
    if (tok.wordPiece()) tokenizerVocab = spec.model.vocab;  // its specials are its own
  }
  if (tok.vocabSize() > tokenizerVocab)
    return makeError(spec.locationOf("data.tokenizer"), "the tokenizer has " + std::to_string(tok.vocabSize()) +
                                                           " tokens, more than model.vocab_size (" +
                                                           std::to_string(spec.model.vocab) + ")" +
                                                           (encoder ? " less the 4 special tokens" : encoderDecoder ? " less the 18 denoising specials" : ""));
  double tokSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();

  // The embedding has vocab_size rows even when the corpus yields fewer tokens (as GPT-2's
  // 50257): shapes follow the spec, and unused rows are never read.
  TransformerConfig c = spec.model;
  c.sources = {{"embedding", spec.locationOf("model.vocab_size")}, {"layers", spec.locationOf("model.layers")},
               {"attention", spec.locationOf("model.heads")}, {"mlp", spec.locationOf("model.d_ff")},
               {"lm_head", spec.locationOf("model.kind")}};
  Module m;
  ObjectiveSpec view{spec.modelKind, spec.model, spec.objectiveOptions, spec.locations, spec.path};
  ObjectiveBuild build{view, m, c, tok, src, labeled, {}, {}};
  if (auto st = objective.build(build); !st) return st.error();

  OptimizerConfig opt = spec.optimizer;
  opt.source = spec.locationOf("optimizer.kind");
  opt.skipNonFinite = spec.train.onDivergence == "skip";
  PassManager pm(passOptions);
  for (const auto& name : passOptions.skip)
    if (!isOptionalPass(name))
      return makeError({}, "--skip-pass takes " + optionalPassList() + ", got '" + name + "'");
  for (const auto& name : standardPipeline(target)) {
    if (passOptions.skip.count(name)) continue;
    if (name == "optimizer") {
      pm.add(createOptimizerPass(opt));
      // After the update is in place: every product of the step, forward and backward.
      if (mixed)
        if (auto s = pm.add("mixed-precision", {{"dtype", std::string(dtypeName(spec.computeDtype))}}); !s) return s.error();
      continue;
    }
    // After the target's fusions (one adamw_group), before the order is fixed.
    if (name == "schedule" && spec.train.shardOptimizer)
      if (auto s = pm.add("shard-optimizer"); !s) return s.error();
    if (auto s = pm.add(name, target.passOptions(name)); !s) return s.error();
  }
  // Last: recompute activations until the scheduled step's plan fits the limit.
  RematReport remat;
  if (spec.train.memoryLimit > 0) {
    RematConfig rc;
    rc.limitBytes = spec.train.memoryLimit;
    // Recomputation changes the step alone: the other functions are planned once.
    auto others = std::make_shared<std::optional<int64_t>>();
    rc.plan = [&target, others](const Module& mod, const Function& f) {
      if (!*others) *others = otherArenas(target, mod, f);
      return stepPlan(target, mod, f, **others);
    };
    rc.elementBytes = target.elementBytes();
    const bool fromSpec = spec.locations.count("train.memory_limit") > 0;
    rc.source = fromSpec ? spec.locationOf("train.memory_limit") : Location{};
    rc.limitName = fromSpec ? "train.memory_limit" : "--memory-limit";
    rc.report = &remat;
    pm.add(createRematerialize(std::move(rc)));
  }
  if (auto s = pm.run(m, irOut, timingOut); !s) return s.error();
  if (auto diags = verifyModule(m); !diags.empty()) return makeError({}, "internal error: " + diags[0].str());
  // Stopped early (--stop-after): the IR was printed; no train_step to plan, no trainer.
  if (!passOptions.stopAfter.empty()) return CompiledSpec{};

  CompiledSpec out;
  const Function* step = m.findFunction("train_step");
  out.parameters = countParameters(m);
  out.flopsPerStep = countFlops(*step);
  out.plan = stepPlan(target, m, *step, otherArenas(target, m, *step));
  if (mixed)
    if (std::string w = target.mixedPrecisionWarning(spec.computeDtype); !w.empty()) out.warnings.push_back(w);
  if (spec.train.memoryLimit > 0) out.remat = remat;
  out.tokenizerSeconds = tokSeconds;

  std::vector<std::string> files;
  for (const auto& f : spec.data.files) files.push_back(absolute(f, base));
  std::map<std::string, std::string> cfg = {
      {"spec", std::filesystem::absolute(spec.path).string()},
      {kSettingsVersionKey, std::to_string(kSettingsVersion)},
      {"device", target.name()},  // the trainer's default device: the target's run half
      {"model.head_prefixes", joinConfigList(build.headPrefixes)},  // fresh in init_from
      {"objective", spec.objective},
      {"data.labels", spec.data.labels},
      {"model.kind", spec.modelKind},
      {"model.vocab", std::to_string(c.vocab)},
      {"model.context", std::to_string(c.context)},
      {"model.batch", std::to_string(c.batch)},
      {"model.layers", std::to_string(c.layers)},
      {"model.d_model", std::to_string(c.dModel)},
      // The rest of the architecture, for exports to other frameworks (export --hf).
      {"model.heads", std::to_string(c.heads)},
      {"model.d_ff", std::to_string(c.dFF)},
      {"model.activation", c.activation},
      {"model.layer_norm_eps", formatDouble(c.layerNormEps)},
      {"model.norm", c.preNorm ? "pre" : "post"},
      {"model.positions", c.learnedPositions ? "learned" : "sinusoidal"},
      {"model.parameters", std::to_string(out.parameters)},
      {"model.flops_per_step", std::to_string(out.flopsPerStep)},
      {"train.steps", std::to_string(spec.train.steps)},
      {"train.seed", std::to_string(spec.train.seed)},
      {"train.eval_every", std::to_string(spec.train.evalEvery)},
      {"train.eval_batches", std::to_string(spec.train.evalBatches)},
      {"train.checkpoint_every", std::to_string(spec.train.checkpointEvery)},
      {"train.log_every", std::to_string(spec.train.logEvery)},
      // Outputs are relative to where the trainer runs, inputs to the spec's folder.
      {"train.checkpoint", spec.train.checkpoint},
      {"train.metrics", spec.train.metrics},
      {"train.on_divergence", spec.train.onDivergence},
      {"data.files", joinConfigList(files)},
      {"data.exclude", joinConfigList(spec.data.exclude)},
      {"data.separator", spec.data.separator},
      {"data.val_fraction", formatDouble(spec.data.valFraction)},
      {"plan.arena_bytes", std::to_string(out.plan.arenaBytes)},
      {"plan.total_bytes", std::to_string(out.plan.totalBytes())},
  };
  // The objective's keys (paths made absolute: the trainer runs anywhere), then what it built.
  for (const ObjectiveKey& k : objective.keys()) {
    if (!k.setting) continue;
    std::string v = spec.objectiveOptions.text(k.key);
    cfg[std::string("objective.") + k.key] = k.path && !v.empty() ? absolute(v, base) : v;
  }
  for (const auto& [key, value] : build.settings) cfg["objective." + key] = value;
  // The trainer reads these back through the objective's run half: both halves must agree.
  if (auto st = checkSettings(cfg, spec.path); !st) return makeError({}, "internal error: " + st.error().str());
  out.exe.sections["module"] = printModule(m);
  out.exe.sections["config"] = formatConfig(cfg);
  for (auto& [name, text] : tok.sections()) out.exe.sections[name] = text;
  out.exe.sections["plan"] = out.plan.summary() + (out.remat ? "  " + out.remat->summary() + "\n" : "") +
                             "  precision: " + precisionSummary(spec) + "\n";
  out.exe.sections["plan.json"] = out.plan.json();  // for run reports
  if (auto text = readFile(spec.path)) out.exe.sections["spec"] = *text;
  out.compileSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.module = std::move(m);
  return out;
}

}  // namespace kiln
