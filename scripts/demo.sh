#!/usr/bin/env bash
# The main job on the bundled default: set up and build, compile the demo spec
# (models/gpt-demo.toml) to a standalone trainer, train it on the fortunes corpus with visible
# progress, and sample a few lines. Outputs go to demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p demo
echo
echo "== kiln compile models/gpt-demo.toml -o demo/gpt-demo-trainer"
build/tools/kiln compile models/gpt-demo.toml -o demo/gpt-demo-trainer
cd demo
echo
echo "== ./gpt-demo-trainer train"
./gpt-demo-trainer train
echo
echo "== ./gpt-demo-trainer sample"
for prompt in "The " "A computer " "Love "; do
  ./gpt-demo-trainer sample --prompt "$prompt" --max-tokens 40 --seed 7
  echo "--"
done
