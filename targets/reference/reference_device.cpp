// The reference device: the f64 interpreter (eval/interpreter.h) behind the Engine interface.
#include "targets/reference/reference_device.h"

#include "runtime/engine/device_registry.h"

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

void registerReferenceDevice() {
  registerDevice("reference", "f64 interpreter, the oracle every device is checked against",
                 [](const DeviceInputs& in) { return makeReferenceEngine(in.module); });
}

}  // namespace kiln
