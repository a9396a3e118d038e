#!/usr/bin/env bash
# The recipe's classifier from a Hugging Face encoder (docs/recipe.md): pretrains a BERT with
# transformers on the fortunes (scripts/interop/pretrain_hf_bert.py, in the interop virtual
# environment of scripts/interop-check.sh), then fine-tunes the step-3 classifier from that folder
# (models/recipe/classify-hf.toml) next to kiln's own: from random weights and from the kiln BERT
# of recipe step 2 (trained here if recipe/bert.safetensors is missing). Outputs in recipe/.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${KILN_INTEROP_VENV:-$HOME/.cache/kiln/interop-venv}
[ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import torch, transformers, tokenizers" 2> /dev/null ||
  { echo "recipe-hf: needs the interop environment: run scripts/interop-check.sh once" >&2; exit 1; }
scripts/setup.sh > /dev/null
kiln=$PWD/build/tools/kiln
mkdir -p recipe
if [ ! -f recipe/hf-bert/model.safetensors ]; then
  echo "== a BERT pretrained with transformers (masked LM, same corpus and sizes as recipe step 2)"
  OMP_NUM_THREADS=$(nproc) "$venv/bin/python" scripts/interop/pretrain_hf_bert.py recipe/hf-bert --files "/usr/share/games/fortunes/*"
fi
if [ ! -f recipe/bert.safetensors ]; then
  echo "== recipe step 2: kiln's BERT"
  $kiln compile models/recipe/bert.toml -o recipe/bert-trainer
  (cd recipe && ./bert-trainer train)
fi
$kiln compile models/recipe/classify.toml -o recipe/classify-trainer
$kiln compile models/recipe/classify-hf.toml -o recipe/classify-hf-trainer
echo "== the classifier from the Hugging Face encoder"
(cd recipe && ./classify-hf-trainer train)
echo "== from kiln's pretrained BERT (recipe step 3)"
(cd recipe && ./classify-trainer train)
echo "== from random weights"
(cd recipe && ./classify-trainer train --init-from "" --checkpoint classify-scratch.safetensors --metrics classify-scratch.jsonl)
