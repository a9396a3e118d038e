// cloze's run half: the template around each labeled text, the slot read at [MASK] (or the
// next token), optionally few-shot.
#include "objectives/classify/classify_batches.h"
#include "runtime/data/special_tokens.h"

namespace kiln {

namespace {

class ClozeData : public ObjectiveData {
 public:
  std::string name() const override { return "cloze"; }
  std::vector<SettingSpec> settings() const override {
    return {{"classes", SettingType::List}, {"init_from", SettingType::Text}, {"template", SettingType::Text}, {"shots", SettingType::Count}};
  }
  Expected<std::unique_ptr<BatchSource>> batches(const ObjectiveDataInputs& in) const override {
    auto data = compiledLabeledData(in, /*onlyCompiledClasses=*/true);  // only the verbalizer's labels take part
    if (!data) return data.error();
    auto tpl = ClozeTemplate::parse(in.text("template"), in.tokenizer);
    if (!tpl) return tpl.error();
    if (const int64_t shots = in.integer("shots"); shots > 0) {  // few-shot: the first `shots` training examples of each class
      std::vector<int64_t> taken(data->classes.size(), 0);
      std::vector<LabeledExample> kept;
      for (auto& e : data->train)
        if (taken[size_t(e.label)]++ < shots) kept.push_back(std::move(e));
      data->train = std::move(kept);
    }
    int32_t maskToken = in.batch.specials.mask;
    auto rows = [tpl = tpl.take(), maskToken](const std::vector<const LabeledExample*>& r, const ClassifyLayout& l) {
      return clozeRows(r, l, tpl, maskToken);
    };
    return std::unique_ptr<BatchSource>(std::make_unique<ClassifyBatches>(data.take(), in.batch, rows));
  }
};

}  // namespace

void registerClozeData() { registerObjectiveData(std::make_unique<ClozeData>()); }

}  // namespace kiln
