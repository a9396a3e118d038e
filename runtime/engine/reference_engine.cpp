#include "runtime/engine/engine.h"

namespace kiln {

namespace {

class ReferenceEngine : public Engine {
 public:
  ReferenceEngine(const Module& m, ref::StateStore st) : m_(m), state_(std::move(st)) {}
  std::string device() const override { return "reference (f64 arithmetic, results rounded to each dtype)"; }

  Expected<std::vector<ref::Tensor>> call(const std::string& fn, const std::vector<ref::Tensor>& inputs) override {
    const Function* f = m_.findFunction(fn);
    if (!f) return makeError({}, "no function @" + fn);
    return ref::run(m_, *f, inputs, state_);
  }
  ref::StateStore snapshot() const override { return state_; }
  ref::Tensor stateTensor(const std::string& name) const override { return state_.at(name); }
  void setStateTensor(const std::string& name, const ref::Tensor& value) override { state_[name] = value; }
  Status restore(const ref::StateStore& st) override {
    state_ = st;
    return okStatus();
  }

 private:
  const Module& m_;
  ref::StateStore state_;
};

}  // namespace

Expected<std::unique_ptr<Engine>> makeReferenceEngine(const Module& m) {
  auto st = ref::initialState(m);
  if (!st) return st.error();
  return std::unique_ptr<Engine>(std::make_unique<ReferenceEngine>(m, st.take()));
}

Expected<std::unique_ptr<Engine>> makeEngine(const std::string& device, const Module& m,
                                             std::shared_ptr<const KernelLibrary> kernels) {
  if (device == "reference") return makeReferenceEngine(m);
  if (device == "cpu") return makeCpuEngine(m, std::move(kernels));
  return makeError({}, "unknown device '" + device + "' (reference, cpu)");
}

}  // namespace kiln
