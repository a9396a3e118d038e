#include "runtime/trainer/batch_source.h"

#include <algorithm>
#include <cstdio>

namespace kiln {

std::string formatMetric(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string CorpusBatches::corpusLine() const {
  return "corpus: " + std::to_string(c_.trainDocuments) + " train / " + std::to_string(c_.valDocuments) +
         " validation documents, " + std::to_string(c_.train.size()) + " / " + std::to_string(c_.val.size()) + " tokens";
}

double CorpusBatches::majorityShare() const {
  std::vector<int64_t> counts(size_t(s_.tokenizerVocab), 0);
  for (int32_t t : c_.train) ++counts[size_t(t)];
  int32_t mode = int32_t(std::max_element(counts.begin(), counts.end()) - counts.begin());
  return c_.val.empty() ? 0 : double(std::count(c_.val.begin(), c_.val.end(), mode)) / double(c_.val.size());
}

}  // namespace kiln
