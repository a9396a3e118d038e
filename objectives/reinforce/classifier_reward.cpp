#include "objectives/reinforce/classifier_reward.h"

#include "runtime/trainer/settings.h"

#include <algorithm>
#include <cmath>

#include "runtime/data/special_tokens.h"
#include "runtime/checkpoint/safetensors.h"
#include "runtime/data/labeled_data.h"
#include "runtime/engine/device_registry.h"
#include "runtime/trainer/executable.h"
#include "runtime/trainer/loaded_executable.h"

namespace kiln {

namespace {

class CompiledClassifier : public ClassifierReward {
 public:
  Expected<std::vector<double>> score(const std::vector<std::string>& texts) override {
    std::vector<LabeledExample> examples;
    for (const auto& t : texts) examples.push_back({tok_.encode(t), 0});
    std::vector<double> out;
    for (size_t at = 0; at < examples.size(); at += size_t(layout_.batch)) {
      std::vector<const LabeledExample*> rows;
      for (size_t i = at; i < std::min(examples.size(), at + size_t(layout_.batch)); ++i) rows.push_back(&examples[i]);
      std::vector<ref::Tensor> in = classifyRows(rows, layout_);
      in[1].type.dtype = floatType_;
      auto outs = engine_->call("eval_step", in);
      if (!outs) return outs.error();
      const ref::Tensor& logits = (*outs)[logitsAt_];
      const int64_t K = logits.type.shape[1];
      for (size_t r = 0; r < rows.size(); ++r) {
        double mx = -INFINITY, total = 0;
        for (int64_t k = 0; k < K; ++k) mx = std::max(mx, logits[int64_t(r) * K + k]);
        for (int64_t k = 0; k < K; ++k) total += std::exp(logits[int64_t(r) * K + k] - mx);
        out.push_back(std::exp(logits[int64_t(r) * K + label_] - mx) / total);
      }
    }
    return out;
  }

  Module module_;
  Tokenizer tok_ = Tokenizer(BpeTokenizer::bytes());
  std::unique_ptr<Engine> engine_;
  ClassifyLayout layout_;
  DType floatType_ = DType::F32;
  size_t logitsAt_ = 0;
  int64_t label_ = 0;
};

}  // namespace

Expected<std::unique_ptr<ClassifierReward>> ClassifierReward::load(const std::string& trainerPath, const std::string& checkpoint,
                                                                   const std::string& label) {
  auto exe = readAppendedExecutable(trainerPath);
  if (!exe) return exe.error();
  auto loaded = loadExecutable(*exe, trainerPath);
  if (!loaded) return loaded.error();
  auto& cfg = loaded->settings;
  // A classify trainer, known by its evaluation: plain labeled rows in, class logits out.
  const Function* evalFn = loaded->module.findFunction("eval_step");
  const bool classifies = evalFn && evalFn->params.size() == 3 && evalFn->params[0]->name == "input_ids" &&
                          evalFn->params[1]->name == "attention_mask" && evalFn->params[2]->name == "labels" &&
                          std::count(evalFn->outputNames.begin(), evalFn->outputNames.end(), "val_logits") == 1;
  if (!classifies)
    return makeError(Location{trainerPath, 0, 0}, "the reward model must be a classify trainer; this one's objective is " + cfg["objective"]);
  auto r = std::make_unique<CompiledClassifier>();
  r->module_ = std::move(loaded->module);
  r->tok_ = std::move(loaded->tokenizer);
  std::vector<std::string> classes = splitConfigList(cfg["objective.classes"]);
  auto it = std::find(classes.begin(), classes.end(), label);
  if (it == classes.end()) {
    std::string list;
    for (const auto& c : classes) list += (list.empty() ? "" : ", ") + c;
    return makeError(Location{trainerPath, 0, 0}, "the reward model has no label '" + label + "' (labels: " + list + ")");
  }
  r->label_ = it - classes.begin();
  const Function* eval = r->module_.findFunction("eval_step");
  if (!eval) return makeError(Location{trainerPath, 0, 0}, "damaged trainer: no @eval_step");
  r->logitsAt_ = size_t(std::find(eval->outputNames.begin(), eval->outputNames.end(), "val_logits") - eval->outputNames.begin());
  if (r->logitsAt_ == eval->outputNames.size()) return makeError(Location{trainerPath, 0, 0}, "damaged trainer: eval_step has no val_logits");
  r->floatType_ = eval->params[1]->type.dtype;
  r->layout_.batch = settingInt(cfg, "model.batch");  // checked when the trainer was loaded
  r->layout_.context = settingInt(cfg, "model.context");
  r->layout_.encoder = cfg["model.kind"] == "bert";
  EncoderSpecials sp = r->tok_.encoderSpecials();
  r->layout_.cls = sp.cls;
  r->layout_.sep = sp.sep;
  r->layout_.pad = r->layout_.encoder ? sp.pad : r->tok_.endOfText();
  // The device the reward model was compiled for, from its own executable's sections.
  auto engine = makeEngine(cfg["device"], DeviceInputs{r->module_, exe->sections, trainerPath});
  if (!engine) return engine.error();
  r->engine_ = engine.take();
  auto ckpt = readSafetensors(checkpoint);
  if (!ckpt) return ckpt.error();
  for (const StateVar& s : r->module_.states) {
    if (s.name.rfind("optimizer.", 0) == 0) continue;
    auto t = ckpt->tensors.find(s.name);
    if (t == ckpt->tensors.end()) return makeError(Location{checkpoint, 0, 0}, "the reward model's checkpoint lacks '" + s.name + "'");
    if (t->second.type != s.type)
      return makeError(Location{checkpoint, 0, 0}, "tensor '" + s.name + "' is " + t->second.type.str() + ", the reward model needs " + s.type.str());
    r->engine_->setStateTensor(s.name, t->second);
  }
  return std::unique_ptr<ClassifierReward>(std::move(r));
}

}  // namespace kiln
