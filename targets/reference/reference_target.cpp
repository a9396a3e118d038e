#include "targets/reference/reference_target.h"

#include "compiler/target.h"

namespace kiln {

namespace {

class ReferenceTarget : public Target {
 public:
  std::string name() const override { return "reference"; }
  std::string summary() const override { return "f64 interpreter, the oracle"; }
  std::vector<DType> computeTypes() const override { return {DType::F32, DType::F64}; }  // in f64, rounded to the type
  std::vector<DType> mixedPrecisionTypes() const override { return {DType::BF16}; }
  Status emit(const Module&, std::map<std::string, std::string>&, std::ostream&, bool) const override {
    return okStatus();  // the interpreter runs the module as it is
  }
};

}  // namespace

void registerReferenceTarget() { registerTarget(std::make_unique<ReferenceTarget>()); }

}  // namespace kiln
