// Data parallelism: the gradients (and the loss and metrics) averaged over the ranks.
//
// Algorithm: in every function with gradient outputs ("grad.<state>", made by autodiff), the
// floating point outputs other than input gradients are taken in the order their values are
// computed (the backward pass makes the last layer's gradients first) and packed greedily into
// buckets of at most `bucket_mib` MiB and 64 values, as PyTorch DDP buckets parameters in
// reverse order. A bucket is the concat of its values flattened, one `all_reduce {reduce =
// mean}` of it, and per value a slice reshaped back, which replaces the output. The ops go right
// after the bucket's last value is computed: a device starts the reduction there and waits for it
// only where the slices are read (the optimizer), so communication overlaps the rest of the
// backward pass. A bucket of one value is reduced as it is, without the concat.
// Invariants: on one rank every all_reduce is the identity and slices and reshapes are views, so
// the function computes the same bits; output names and types are unchanged; the all_reduce ops
// keep this order (they are not pure), which every rank shares.
#include <algorithm>
#include <unordered_map>

#include "compiler/pass.h"
#include "ir/views.h"

namespace kiln {
namespace {

constexpr size_t kMaxBucketValues = 64;  // concat's operand limit

class DataParallel : public Pass {
 public:
  explicit DataParallel(int64_t bucketBytes) : bucketBytes_(bucketBytes) {}
  std::string name() const override { return "data-parallel"; }
  std::string description() const override { return "average gradients over the ranks in buckets (all_reduce)"; }

  Expected<bool> run(Module& m) override {
    bool changed = false;
    for (auto& f : m.functions) changed |= runOn(*f);
    return changed;
  }

 private:
  static bool reduced(const std::string& name, const Value* v) {
    return name.rfind("grad_input.", 0) != 0 && isFloat(v->type.dtype);
  }

  // Whether an all_reduce may take `v`'s storage: computed by an op that owns it (not a view,
  // state or constant) and read by nothing but the function's outputs.
  static bool exclusive(const Function& f, const Value* v) {
    if (!v->def || isView(v->def) || v->def->kind == OpKind::StateRead || v->def->kind == OpKind::Constant) return false;
    for (const auto& op : f.ops)
      if (std::find(op->operands.begin(), op->operands.end(), v) != op->operands.end()) return false;
    return true;
  }

  bool runOn(Function& f) {
    if (std::none_of(f.outputNames.begin(), f.outputNames.end(), [](const std::string& n) { return n.rfind("grad.", 0) == 0; }))
      return false;
    std::unordered_map<const Op*, size_t> position;
    for (size_t i = 0; i < f.ops.size(); ++i) position[f.ops[i].get()] = i;
    auto computedAt = [&](const Value* v) { return v->def ? position.at(v->def) + 1 : 0; };
    // Outputs to reduce, in the order they are computed; one value output twice is reduced once.
    std::vector<size_t> outs;
    std::unordered_map<const Value*, size_t> firstOutput;
    for (size_t i = 0; i < f.outputs.size(); ++i)
      if (reduced(f.outputNames[i], f.outputs[i]) && firstOutput.emplace(f.outputs[i], i).second) outs.push_back(i);
    std::stable_sort(outs.begin(), outs.end(), [&](size_t a, size_t b) { return computedAt(f.outputs[a]) < computedAt(f.outputs[b]); });
    std::vector<std::vector<size_t>> buckets;
    int64_t bytes = 0;
    for (size_t i : outs) {
      const int64_t b = f.outputs[i]->type.numElements() * dtypeBytes(f.outputs[i]->type.dtype);
      const bool sameType = !buckets.empty() && f.outputs[buckets.back()[0]]->type.dtype == f.outputs[i]->type.dtype;
      if (buckets.empty() || !sameType || buckets.back().size() + 1 == kMaxBucketValues || bytes + b > bucketBytes_) {
        buckets.emplace_back();
        bytes = 0;
      }
      buckets.back().push_back(i);
      bytes += b;
    }
    // A bucket of one value reduces it in place: only where no other op reads its storage.
    // Such a value goes into a neighbouring bucket instead (the greedy left room for it).
    for (size_t k = 0; k < buckets.size() && buckets.size() > 1; ++k)
      if (buckets[k].size() == 1 && !exclusive(f, f.outputs[buckets[k][0]])) {
        const size_t into = k + 1 < buckets.size() ? k + 1 : k - 1;
        if (f.outputs[buckets[into][0]]->type.dtype != f.outputs[buckets[k][0]]->type.dtype) continue;
        std::vector<size_t>& b = buckets[into];
        b.insert(into > k ? b.begin() : b.end(), buckets[k][0]);
        buckets.erase(buckets.begin() + std::ptrdiff_t(k--));
      }
    // Insert from the last bucket on, so earlier insertion points stay valid.
    std::vector<std::pair<Value*, Value*>> replaced;  // original output value, reduced value
    for (size_t k = buckets.size(); k-- > 0;) {
      const std::vector<size_t>& members = buckets[k];
      size_t at = 0;
      for (size_t i : members) at = std::max(at, computedAt(f.outputs[i]));
      const std::string name = "data_parallel.bucket" + std::to_string(k);
      auto add = [&](OpKind kind, std::vector<Value*> operands, TensorType t, Attrs attrs = {}) {
        Op* op = f.insertOp(at++, kind, std::move(operands), {std::move(t)}, std::move(attrs));
        op->name = name;
        return op->result();
      };
      Attrs mean;
      mean.set("reduce", std::string("mean"));
      if (members.size() == 1 && exclusive(f, f.outputs[members[0]])) {
        Value* v = f.outputs[members[0]];
        replaced.emplace_back(v, add(OpKind::AllReduce, {v}, v->type, mean));
        continue;
      }
      std::vector<Value*> flat;
      int64_t total = 0;
      for (size_t i : members) {
        Value* v = f.outputs[i];
        const int64_t n = v->type.numElements();
        flat.push_back(v->type.rank() == 1 ? v : add(OpKind::Reshape, {v}, {v->type.dtype, {n}}));
        total += n;
      }
      const DType dt = f.outputs[members[0]]->type.dtype;
      Attrs axis;
      axis.set("axis", int64_t(0));
      Value* bucket = add(OpKind::Concat, flat, {dt, {total}}, axis);
      Value* sum = add(OpKind::AllReduce, {bucket}, {dt, {total}}, mean);
      int64_t offset = 0;
      for (size_t i : members) {
        Value* v = f.outputs[i];
        const int64_t n = v->type.numElements();
        Attrs range;
        range.set("start", std::vector<int64_t>{offset});
        range.set("limit", std::vector<int64_t>{offset + n});
        range.set("stride", std::vector<int64_t>{});
        Value* part = add(OpKind::Slice, {sum}, {dt, {n}}, range);
        replaced.emplace_back(v, v->type.rank() == 1 ? part : add(OpKind::Reshape, {part}, v->type));
        offset += n;
      }
    }
    for (const auto& [from, to] : replaced)
      for (Value*& out : f.outputs)
        if (out == from) out = to;
    return !buckets.empty();
  }

  int64_t bucketBytes_;
};

}  // namespace

Expected<std::unique_ptr<Pass>> createDataParallelPass(const PassOptions& options) {
  int64_t mib = 8;
  for (const auto& [key, value] : options) {
    if (key != "bucket_mib") return makeError({}, "pass 'data-parallel' takes bucket_mib, got '" + key + "'");
    char* end = nullptr;
    const long long v = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || v < 1 || v > 4096)
      return makeError({}, "data-parallel{bucket_mib=...} takes a whole number of MiB in [1, 4096], got '" + value + "'");
    mib = v;
  }
  return std::unique_ptr<Pass>(std::make_unique<DataParallel>(mib << 20));
}

}  // namespace kiln
