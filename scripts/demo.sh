#!/usr/bin/env bash
# The main job on the bundled default: set up and build, then read the example IR, run the
# simplification pipeline printing the IR after each pass with pass timings, and evaluate the
# result on the reference device.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo
echo "== kiln ir examples/mlp.kir --passes=canonicalize,cse,dce --print-ir-after=all --time-passes --run=loss"
build/tools/kiln ir examples/mlp.kir --passes=canonicalize,cse,dce --print-ir-after=all --time-passes \
  --emit=none --run=loss --seed=1 --int-range=3
