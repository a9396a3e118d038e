// A REINFORCE reward from a trained classifier: the probability a compiled `classify` trainer
// (its program, tokenizer and kernels, read from its file) with its checkpoint gives one label
// to a text. It runs on its own engine next to the policy's.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/diagnostics.h"

namespace kiln {

class ClassifierReward {
 public:
  virtual ~ClassifierReward() = default;
  // p(label | text) for each text.
  virtual Expected<std::vector<double>> score(const std::vector<std::string>& texts) = 0;

  static Expected<std::unique_ptr<ClassifierReward>> load(const std::string& trainerPath, const std::string& checkpoint,
                                                          const std::string& label);
};

}  // namespace kiln
