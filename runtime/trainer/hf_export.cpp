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
  std::vector<std::string> weights;
  for (const StateVar& s : m_.states)
    if (isWeight(s.name)) weights.push_back(s.name);
  Expected<HfModel> model = makeError({}, "");
  if (cfg("model.kind") == "gpt") model = gpt2Model(cfg_, weights, tok_.endOfText());
  else
    return fail(makeError({}, "export --hf: the " + cfg("model.kind") + " family has no Hugging Face export yet (GPT exports as GPT-2)"));
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
  std::map<std::string, std::string> kilnName;
  int64_t bytes = 0;
  for (const auto& [hf, name] : model->tensors) {
    const TensorType& type = m_.findState(name)->type;
    entries.emplace_back(hf, type);
    kilnName[hf] = name;
    bytes += type.numElements() * int64_t(dtypeBytes(type.dtype));
  }
  // "format": "pt" is what transformers asks of a safetensors file's metadata.
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"kiln.step", std::to_string(*step)}};
  if (auto s = writeSafetensors((out / "model.safetensors").string(), entries, metadata,
                                [&](const std::string& hf) { return (*engine)->stateTensor(kilnName.at(hf)); }, true);
      !s)
    return fail(s.error());
  const std::vector<std::pair<std::string, std::string>> files = {
      {"config.json", model->configJson},
      {"tokenizer.json", hfTokenizerJson(tok_)},
      {"tokenizer_config.json", hfTokenizerConfigJson(tok_, cfgInt("model.context"))},
      {"vocab.json", tok_.vocabJson()},
      {"merges.txt", tok_.mergesTxt()},
  };
  for (const auto& [name, text] : files)
    if (auto s = writeFileAtomically((out / name).string(), text); !s) return fail(s.error());
  std::cout << "wrote " << dir << ": " << model->architecture << " from " << ckpt << " (step " << *step << "), " << entries.size()
            << " tensors, " << formatBytes(bytes) << "; config.json, tokenizer.json (+ vocab.json, merges.txt)\n"
            << "load it with transformers." << model->autoClass << ".from_pretrained(\"" << dir << "\") and AutoTokenizer.from_pretrained(\""
            << dir << "\")\n";
  return 0;
}

}  // namespace kiln
