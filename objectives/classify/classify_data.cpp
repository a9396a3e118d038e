// classify's run half: labeled rows (classify_batches.h).
#include <algorithm>

#include "eval/random.h"
#include "objectives/classify/classify_batches.h"
#include "runtime/data/special_tokens.h"
#include "runtime/trainer/executable.h"

namespace kiln {

ClassifyBatches::ClassifyBatches(LabeledData d, const BatchSettings& s, RowMaker rows)
    : d_(std::move(d)), s_(s), rows_(std::move(rows)) {
  layout_.batch = s.batch;
  layout_.context = s.context;
  layout_.encoder = s.encoder;
  const EncoderSpecials& sp = s.specials;
  layout_.cls = sp.cls;
  layout_.sep = sp.sep;
  layout_.pad = s.encoder ? sp.pad : s.padToken;
  std::vector<int64_t> counts(d_.classes.size(), 0);
  for (const auto& e : d_.val) ++counts[size_t(e.label)];
  majority_ = double(*std::max_element(counts.begin(), counts.end())) / double(d_.val.size());
}

Expected<std::vector<ref::Tensor>> ClassifyBatches::train(uint64_t step) const {
  std::vector<const LabeledExample*> rows;
  for (int64_t r = 0; r < s_.batch; ++r) {
    double u = counterUniform(s_.seed, step * uint64_t(s_.batch) + uint64_t(r));
    rows.push_back(&d_.train[size_t(u * double(d_.train.size()))]);
  }
  return rows_(rows, layout_);
}

Expected<std::vector<ref::Tensor>> ClassifyBatches::eval(uint64_t index) const {
  std::vector<const LabeledExample*> rows;
  for (int64_t r = 0; r < s_.batch; ++r) {
    size_t i = size_t(index) * size_t(s_.batch) + size_t(r);
    if (i < d_.val.size()) rows.push_back(&d_.val[i]);
  }
  return rows_(rows, layout_);
}

std::string ClassifyBatches::describe() const {
  return "labeled data: " + std::to_string(d_.classes.size()) + " classes, " + std::to_string(d_.train.size()) + " train / " +
         std::to_string(d_.val.size()) + " validation examples; majority baseline accuracy " + formatMetric("%.4f", majority_) +
         ", chance " + formatMetric("%.4f", 1.0 / double(d_.classes.size()));
}

std::string ClassifyBatches::baselineNote() const {
  return " (majority baseline accuracy " + formatMetric("%.4f", majority_) + ", chance " +
         formatMetric("%.4f", 1.0 / double(d_.classes.size())) + ")";
}

Expected<LabeledData> compiledLabeledData(const ObjectiveDataInputs& in, bool onlyCompiledClasses) {
  auto texts = readLabeledTexts(in.source, in.settings.at("data.labels"));
  if (!texts) return texts.error();
  std::vector<std::string> classes = in.list("classes");
  if (onlyCompiledClasses)
    std::erase_if(*texts, [&](const LabeledText& t) { return std::find(classes.begin(), classes.end(), t.label) == classes.end(); });
  auto data = labelData(*texts, in.tokenizer, in.source);
  if (!data) return data.error();
  if (data->classes != classes) return makeError({}, "the labeled data's classes changed since compilation; compile the spec again");
  return data;
}

namespace {

class ClassifyData : public ObjectiveData {
 public:
  std::string name() const override { return "classify"; }
  std::vector<SettingSpec> settings() const override {
    return {{"classes", SettingType::List}, {"init_from", SettingType::Text}, {"freeze", SettingType::Flag}};
  }
  Expected<std::unique_ptr<BatchSource>> batches(const ObjectiveDataInputs& in) const override {
    auto data = compiledLabeledData(in, false);
    if (!data) return data.error();
    return std::unique_ptr<BatchSource>(std::make_unique<ClassifyBatches>(data.take(), in.batch));
  }
};

}  // namespace

void registerClassifyData() { registerObjectiveData(std::make_unique<ClassifyData>()); }

}  // namespace kiln
