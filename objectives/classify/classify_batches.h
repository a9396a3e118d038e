// Batches of labeled examples: random training rows, the whole validation split in order for
// evaluation (every example counted once), with majority and chance baselines. Cloze reuses
// them with its own rows (the template around the text).
#pragma once

#include <functional>

#include "runtime/data/labeled_data.h"
#include "runtime/trainer/objective_data.h"

namespace kiln {

class ClassifyBatches : public BatchSource {
 public:
  using RowMaker = std::function<std::vector<ref::Tensor>(const std::vector<const LabeledExample*>&, const ClassifyLayout&)>;
  ClassifyBatches(LabeledData d, const BatchSettings& s, RowMaker rows = classifyRows);
  Expected<std::vector<ref::Tensor>> train(uint64_t step) const override;
  Expected<std::vector<ref::Tensor>> eval(uint64_t index) const override;
  int64_t evalBatches(int64_t) const override { return (int64_t(d_.val.size()) + s_.batch - 1) / s_.batch; }
  int64_t tokensPerStep() const override { return s_.batch * s_.context; }
  std::string describe() const override;
  std::string baselineNote() const override;
  std::vector<Baseline> baselines() const override {
    return {{"val_accuracy", "majority", majority_}, {"val_accuracy", "chance", 1.0 / double(d_.classes.size())}};
  }

 private:
  LabeledData d_;
  BatchSettings s_;
  RowMaker rows_;
  ClassifyLayout layout_;
  double majority_ = 0;
};

// The labeled data of a run, refused when its classes differ from the compiled ones (the
// "classes" setting); with `onlyCompiledClasses`, examples of other labels are left out.
Expected<LabeledData> compiledLabeledData(const ObjectiveDataInputs& in, bool onlyCompiledClasses);

}  // namespace kiln
