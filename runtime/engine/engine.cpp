#include "runtime/engine/engine.h"

namespace kiln {

Status checkCallInputs(const Function& f, const std::vector<ref::Tensor>& inputs) {
  if (inputs.size() != f.params.size())
    return makeError({}, "@" + f.name + " takes " + std::to_string(f.params.size()) + " input(s), got " + std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].type != f.params[i]->type)
      return makeError({}, "input %" + f.params[i]->name + " must be " + f.params[i]->type.str() + ", got " + inputs[i].type.str());
  return okStatus();
}

}  // namespace kiln
