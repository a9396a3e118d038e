// Checkpoints: save, resume, and init_from another model's weights.
#include "runtime/trainer/trainer_session.h"

#include "ir/numbers.h"
#include "runtime/engine/memory_limits.h"

namespace kiln {

// ---- state and checkpoints ----
// A head's parameters (the compiler lists their prefixes) may be missing from init_from.
bool Trainer::isHeadState(const std::string& name) const {
  for (const auto& prefix : splitConfigList(cfg("model.head_prefixes")))
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

Expected<std::unique_ptr<Engine>> Trainer::freshEngine() const {
  // The plan is the compile target's; another device (the reference) lays memory out its own way.
  if (device_ == cfg("device")) {
    const int64_t planned = cfgInt("plan.total_bytes");
    const MemoryLimit limit = deviceMemoryLimit(device_);  // host memory, or the GPU's
    if (limit.bytes > 0 && planned > limit.bytes)
      return makeError(Location{origin_, 0, 0}, "this model's memory plan needs " + formatBytes(planned) + ", more than the " +
                                                    formatBytes(limit.bytes) + " this process may use (" + limit.source +
                                                    "); compile a smaller model or batch, or run on a machine with more memory");
  }
  return makeEngine(device_, deviceInputs());
}

void Trainer::setDevice(std::string d, std::string origin) {
  device_ = std::move(d);
  origin_ = std::move(origin);
}

Status Trainer::saveCheckpoint(const Engine& engine, int64_t step, const std::string& path,
                      const std::map<std::string, std::string>& extra) const {
  std::vector<std::pair<std::string, TensorType>> entries;
  for (const StateVar& s : m_.states)
    if (s.name.rfind(kKvCache, 0) != 0) entries.emplace_back(s.name, s.type);
  std::map<std::string, std::string> metadata = {
      {"format", "kiln-checkpoint-1"},
      {"kiln.step", std::to_string(step)},
      {"kiln.seed", cfg("train.seed")},
      {"kiln.data_position", std::to_string(step)},  // batches are a function of the step
      {"kiln.tokenizer", tokenizerHash()},            // so another model can check it reads the same ids
  };
  metadata.insert(extra.begin(), extra.end());
  // Never a checkpoint holding inf or NaN: the write stops before the previous file is replaced.
  // Tensors are asked for one at a time in name order (sharded ones gather from every rank).
  return writeSafetensors(path, entries, metadata, [&](const std::string& name) { return engine.stateTensor(name); },
                          /*finiteOnly=*/true);
}

// Hugging Face GPT-2 files may prefix names with "transformer." and carry buffers that are
// not parameters (the causal mask "h.N.attn.bias", "h.N.attn.masked_bias") and a tied
// "lm_head.weight"; the first is stripped, the rest skipped. Returns "" for skipped tensors.
std::string Trainer::modelName(const std::string& stored) {
  std::string n = stored.rfind("transformer.", 0) == 0 ? stored.substr(12) : stored;
  auto endsWith = [&](const char* suffix) {
    std::string sfx(suffix);
    return n.size() >= sfx.size() && n.compare(n.size() - sfx.size(), sfx.size(), sfx) == 0;
  };
  if (n == "lm_head.weight" || endsWith(".attn.bias") || endsWith(".attn.masked_bias")) return "";
  return n;
}

// Model weights (trainable or frozen), as opposed to optimizer state and caches.
bool Trainer::isWeight(const std::string& name) {
  return name.rfind("optimizer.", 0) != 0 && name.rfind(kKvCache, 0) != 0;
}

std::string Trainer::tokenizerHash() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a(tok_.fingerprint())));
  return buf;
}

// Initializes the weights from another model's checkpoint (a pretrained body, or Hugging Face
// GPT-2): every weight of this model must be there except a classification head, which
// keeps its initial values; the file's other tensors (another objective's heads) are skipped.
Status Trainer::initFrom(Engine& engine, const std::string& path) const {
  std::error_code ec;
  auto f = std::filesystem::is_directory(path, ec) ? hfBertWeights(path) : readSafetensors(path);
  if (!f) return f.error();
  auto tokHash = f->metadata.find("kiln.tokenizer");
  if (tokHash != f->metadata.end() && tokHash->second != tokenizerHash())
    return makeError(Location{path, 0, 0}, "this checkpoint was trained with another tokenizer; the model would read "
                                           "different token ids (train both specs on the same data and vocab_size)");
  std::vector<std::pair<std::string, const ref::Tensor*>> accepted;
  int64_t skipped = 0;
  for (const auto& [stored, t] : f->tensors) {
    std::string name = modelName(stored);
    const StateVar* var = name.empty() ? nullptr : m_.findState(name);
    if (!var || !isWeight(name)) {
      skipped += !name.empty() && isWeight(name);  // another objective's head; optimizer state is not news
      continue;
    }
    if (var->type != t.type)
      return makeError(Location{path, 0, 0}, "tensor '" + name + "' is " + t.type.str() + ", the model needs " + var->type.str());
    if (std::string bad = describeNonFinite(t); !bad.empty())
      return makeError(Location{path, 0, 0}, "tensor '" + stored + "' holds " + bad + "; a model cannot start from it");
    accepted.emplace_back(name, &t);
  }
  std::vector<std::string> fresh;
  for (const auto& s : m_.states) {
    if (!isWeight(s.name) || f->tensors.count(s.name) || f->tensors.count("transformer." + s.name)) continue;
    if (!isHeadState(s.name)) return makeError(Location{path, 0, 0}, "checkpoint lacks tensor '" + s.name + "'");
    fresh.push_back(s.name);
  }
  for (const auto& [name, t] : accepted) engine.setStateTensor(name, *t);
  std::cerr << "initialized " << accepted.size() << " tensors from " << path;
  if (skipped) std::cerr << " (" << skipped << " of its weights are not part of this model)";
  if (!fresh.empty()) std::cerr << "; " << fresh.size() << " head tensor(s) start fresh";
  std::cerr << "\n";
  return okStatus();
}

Expected<SafetensorsFile> Trainer::hfBertWeights(const std::string& dir) const {
  // The folder's vocabulary must be the one compiled in: the ids mean the same tokens.
  auto vocab = readFile(dir + "/vocab.txt");
  if (!vocab) return vocab.error();
  const WordPieceTokenizer* mine = tok_.wordPiece();
  auto theirs = WordPieceTokenizer::fromVocab(*vocab, mine ? mine->lowerCase() : true, dir + "/vocab.txt");
  if (!theirs) return theirs.error();
  if (!mine || theirs->vocabTxt() != mine->vocabTxt())
    return makeError(Location{dir + "/vocab.txt", 0, 0}, "this vocabulary is not the one the trainer was compiled with (" +
                                                          (mine ? "another WordPiece vocabulary" : tok_.kind() + " tokenizer") +
                                                          "); compile the spec with objective.init_from naming this folder");
  const std::string weights = dir + "/model.safetensors";
  if (!std::filesystem::exists(weights)) return makeError(Location{weights, 0, 0}, "missing (kiln reads safetensors, not pytorch_model.bin)");
  auto f = readSafetensors(weights);
  if (!f) return f.error();
  // BertModel's names have no prefix, BertForPreTraining's "bert." and "cls."; old ones call
  // LayerNorm's parameters gamma and beta. position_ids is a buffer and the MLM decoder is tied
  // to the word embeddings.
  SafetensorsFile out;
  const int64_t context = cfgInt("model.context");
  for (auto& [stored, t] : f->tensors) {
    if (stored.find("position_ids") != std::string::npos || stored == "cls.predictions.decoder.weight" ||
        stored == "cls.predictions.decoder.bias")
      continue;
    std::string name = stored.rfind("bert.", 0) == 0 || stored.rfind("cls.", 0) == 0 ? stored : "bert." + stored;
    for (auto [from, to] : {std::pair<const char*, const char*>{"LayerNorm.gamma", "LayerNorm.weight"}, {"LayerNorm.beta", "LayerNorm.bias"}})
      if (size_t at = name.find(from); at != std::string::npos) name.replace(at, std::string(from).size(), to);
    ref::Tensor value = t;
    if (isFloat(value.type.dtype)) value.type.dtype = DType::F32;  // bf16 files are widened
    // The folder's position table may be longer than this model's context: its first rows.
    if (name == "bert.embeddings.position_embeddings.weight" && value.type.rank() == 2 && value.type.shape[0] > context) {
      ref::Tensor rows({value.type.dtype, {context, value.type.shape[1]}});
      for (int64_t i = 0; i < rows.size(); ++i) rows[i] = value[i];
      value = rows;
    }
    out.tensors[name] = std::move(value);
  }
  return out;
}

// Loads a checkpoint of this model into `st`; with `full`, every saved state (optimizer
// too) must be there.
Expected<int64_t> Trainer::loadCheckpoint(Engine& engine, const std::string& path, bool full,
                                 std::map<std::string, std::string>* metadata) const {
  auto f = readSafetensors(path);
  if (!f) return f.error();
  if (metadata) *metadata = f->metadata;
  // Everything is checked before any state changes, so a bad file leaves the model as it was.
  std::vector<std::pair<std::string, const ref::Tensor*>> accepted;
  for (const auto& [stored, t] : f->tensors) {
    std::string name = modelName(stored);
    if (name.empty()) continue;
    const StateVar* var = m_.findState(name);
    if (!var) return makeError(Location{path, 0, 0}, "tensor '" + name + "' does not belong to this model");
    if (var->type != t.type)
      return makeError(Location{path, 0, 0}, "tensor '" + name + "' is " + t.type.str() + ", the model needs " + var->type.str());
    if (std::string bad = describeNonFinite(t); !bad.empty())
      return makeError(Location{path, 0, 0}, "damaged checkpoint: tensor '" + stored + "' holds " + bad);
    accepted.emplace_back(name, &t);
  }
  for (const auto& s : m_.states) {
    bool needed = isWeight(s.name) || (full && s.name.rfind(kKvCache, 0) != 0);
    if (needed && !f->tensors.count(s.name) && !f->tensors.count("transformer." + s.name))
      return makeError(Location{path, 0, 0}, "checkpoint lacks tensor '" + s.name + "'");
  }
  auto stepText = f->metadata.find("kiln.step");
  if (full && stepText == f->metadata.end()) return makeError(Location{path, 0, 0}, "checkpoint lacks its step (kiln.step)");
  std::optional<int64_t> step = stepText == f->metadata.end() ? int64_t(0) : parseInt64(stepText->second);
  if (!step || *step < 0 || *step > int64_t(1e12))
    return makeError(Location{path, 0, 0}, "damaged checkpoint: kiln.step = '" + stepText->second + "' is not a step number");
  for (const auto& [name, t] : accepted) engine.setStateTensor(name, *t);
  return *step;
}

}  // namespace kiln
