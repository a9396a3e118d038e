// The reference target's compile half: no fusions, values in their own dtypes, nothing to emit.
#pragma once

namespace kiln {

void registerReferenceTarget();

}  // namespace kiln
