// What a rank of a data-parallel run checks and takes (runtime/parallel/collectives.h): the
// same run as every other rank, and its own rows of each global batch.
#include <algorithm>

#include "runtime/parallel/collectives.h"
#include "runtime/trainer/trainer_session.h"

namespace kiln {

Status Trainer::checkSameRun(const Options& o) const {
  Collectives& ranks = processCollectives();
  if (device_ != "cpu")
    return makeError({}, "data-parallel training runs on the cpu device, not '" + device_ + "' (" +
                             std::to_string(ranks.size()) + " ranks were started)");
  const Function* step = m_.findFunction("train_step");
  if (!step || std::none_of(step->ops.begin(), step->ops.end(), [](const auto& op) { return op->kind == OpKind::AllReduce; }))
    return makeError({}, "this trainer was compiled without the data-parallel pass (--skip-pass data-parallel): its " +
                             std::to_string(ranks.size()) + " ranks would not average their gradients; compile it with the pass");
  // The trainer (its module, settings and tokenizer) and every option that decides the steps.
  std::string run = std::to_string(fnv1a(exe_.serialize())) + " " + device_;
  for (const auto& [key, values] : o.values) run += " --" + key + "=" + values.back();
  for (const std::string& flag : o.flags) run += " --" + flag;
  const std::vector<std::string> all = ranks.gather(run);
  for (size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0])
      return makeError({}, "rank " + std::to_string(r) + " runs " +
                               (all[r].substr(0, all[r].find(' ')) != all[0].substr(0, all[0].find(' '))
                                    ? "another trainer (a different spec or build) than rank 0"
                                    : "the trainer with other options than rank 0 (" + all[r].substr(all[r].find(' ') + 1) +
                                          " against " + all[0].substr(all[0].find(' ') + 1) + ")") +
                               "; start every rank with the same trainer and options");
  return okStatus();
}

std::vector<ref::Tensor> Trainer::shardRows(std::vector<ref::Tensor> global, int64_t batch, int rank, int ranks) {
  for (ref::Tensor& t : global) {
    if (t.type.rank() == 0 || t.type.shape[0] != batch * ranks) continue;
    TensorType mine = t.type;
    mine.shape[0] = batch;
    const int64_t row = t.type.numElements() / t.type.shape[0];
    ref::Tensor part(mine);
    std::copy(t.data.begin() + rank * batch * row, t.data.begin() + (rank + 1) * batch * row, part.data.begin());
    t = std::move(part);
  }
  return global;
}

}  // namespace kiln
