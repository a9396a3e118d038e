// TRAINER export --hf DIR [--checkpoint PATH]: the weights of a checkpoint, the config and the
// tokenizer as a Hugging Face model folder. Each file is written atomically; files of an
// earlier export in DIR are replaced, nothing else there is touched.
#include "runtime/trainer/hf_export.h"

#include <filesystem>

#include "runtime/checkpoint/safetensors.h"
#include "runtime/trainer/trainer_session.h"

namespace kiln {

int Trainer::exportHf(const Options& o) {
  if (!o.has("hf")) return fail(makeError({}, "export needs --hf DIR (the folder to write the Hugging Face model to)"));
  const std::string dir = o.get("hf");
  HfSource source{cfg_, {}, tok_};
  for (const StateVar& s : m_.states)
    if (isWeight(s.name)) source.weights.emplace_back(s.name, s.type);
  const std::string kind = cfg("model.kind");
  Expected<HfModel> model = kind == "gpt"    ? gpt2Model(source)
                            : kind == "bert" ? bertModel(source)
                            : kind == "bart" ? bartModel(source)
                                             : Expected<HfModel>(makeError({}, "export --hf: no Hugging Face class for a " + kind));
  if (!model) return fail(model.error());

  auto engine = freshEngine();
  if (!engine) return fail(engine.error());
  const std::string ckpt = checkpointPath(o);
  auto step = loadCheckpoint(**engine, ckpt, false);
  if (!step) return fail(step.error());

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) return fail(makeError(Location{dir, 0, 0}, "cannot make the folder: " + ec.message()));
  const std::filesystem::path out(dir);
  std::vector<std::pair<std::string, TensorType>> entries;
  std::map<std::string, const HfTensor*> byName;
  int64_t bytes = 0;
  for (const HfTensor& t : model->tensors) {
    TensorType type = t.kilnName.empty() ? t.zerosType : m_.findState(t.kilnName)->type;
    if (t.leadingZeroRows > 0) type.shape[0] += t.leadingZeroRows;
    entries.emplace_back(t.hfName, type);
    byName[t.hfName] = &t;
    bytes += type.numElements() * int64_t(dtypeBytes(type.dtype));
  }
  auto tensorOf = [&](const std::string& hfName) {
    const HfTensor& t = *byName.at(hfName);
    if (t.kilnName.empty()) return ref::Tensor(t.zerosType);
    ref::Tensor mine = (*engine)->stateTensor(t.kilnName);
    if (t.leadingZeroRows == 0) return mine;
    TensorType type = mine.type;
    type.shape[0] += t.leadingZeroRows;
    ref::Tensor out(type);
    const int64_t offset = out.size() - mine.size();
    for (int64_t i = 0; i < mine.size(); ++i) out[offset + i] = mine[i];
    return out;
  };
  // "format": "pt" is what transformers asks of a safetensors file's metadata.
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"kiln.step", std::to_string(*step)}};
  if (auto s = writeSafetensors((out / "model.safetensors").string(), entries, metadata, tensorOf, true); !s) return fail(s.error());
  // A BPE as tokenizer.json (+ GPT-2's files); a WordPiece as BERT's vocab.txt.
  std::vector<std::pair<std::string, std::string>> files = {
      {"config.json", model->configJson},
      {"tokenizer_config.json", hfTokenizerConfigJson(tok_, *model, cfgInt("model.context"))},
  };
  if (const BpeTokenizer* bpe = tok_.bpe())
    files.insert(files.end(), {{"tokenizer.json", hfTokenizerJson(*bpe, *model)}, {"vocab.json", bpe->vocabJson()}, {"merges.txt", bpe->mergesTxt()}});
  else
    files.push_back({"vocab.txt", tok_.wordPiece()->vocabTxt()});
  for (const auto& [name, text] : files)
    if (auto s = writeFileAtomically((out / name).string(), text); !s) return fail(s.error());
  std::cout << "wrote " << dir << ": " << model->architecture << " from " << ckpt << " (step " << *step << "), " << entries.size()
            << " tensors, " << formatBytes(bytes) << "; config.json, " << (tok_.bpe() ? "tokenizer.json (+ vocab.json, merges.txt)" : "vocab.txt (WordPiece)") << "\n"
            << "load it with transformers." << model->autoClass << ".from_pretrained(\"" << dir << "\") and AutoTokenizer.from_pretrained(\""
            << dir << "\")\n";
  return 0;
}

}  // namespace kiln
