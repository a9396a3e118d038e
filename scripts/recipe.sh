#!/usr/bin/env bash
# The fortunes recipe (docs/recipe.md): pretrain GPT and BERT, fine-tune a category classifier,
# compare zero-shot and fine-tuned cloze prompts, and REINFORCE the GPT toward text the
# classifier assigns to "computers". Outputs go to recipe/ (and demo/ for the GPT).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
kiln=build/tools/kiln
mkdir -p recipe demo
if [ ! -f demo/checkpoint.safetensors ]; then
  echo "== step 1: pretrain the demo GPT (models/gpt-demo.toml)"
  $kiln compile models/gpt-demo.toml -o demo/gpt-demo-trainer
  (cd demo && ./gpt-demo-trainer train --log-every 250)
fi
echo "== step 2: pretrain BERT (masked LM + NSP)"
$kiln compile models/recipe/bert.toml -o recipe/bert-trainer
(cd recipe && ./bert-trainer train)
echo "== step 3: fine-tune a 43-category classifier on the pretrained body"
$kiln compile models/recipe/classify.toml -o recipe/classify-trainer
(cd recipe && ./classify-trainer train)
echo "== step 4: cloze prompts, zero-shot (pretrained MLM head) then fine-tuned on 32 examples per label"
$kiln compile models/recipe/cloze.toml -o recipe/cloze-trainer
(cd recipe && ./cloze-trainer eval --init-from bert.safetensors && ./cloze-trainer train)
echo "== step 5: REINFORCE the GPT toward what the classifier calls \"computers\""
$kiln compile models/recipe/reinforce.toml -o recipe/reinforce-trainer
(cd recipe && ./reinforce-trainer train && for p in "The " "A "; do ./reinforce-trainer sample --prompt "$p" --max-tokens 24 --seed 3; done)
