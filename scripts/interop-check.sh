#!/usr/bin/env bash
# Checks kiln's Hugging Face exports with transformers itself: builds kiln (scripts/setup.sh),
# installs torch and transformers from PyPI into a virtual environment ($KILN_INTEROP_VENV,
# default ~/.cache/kiln/interop-venv; a large download once), trains small GPTs, exports them with
# `TRAINER export --hf`, loads them with AutoModelFor.../AutoTokenizer and compares the loss of
# the same token ids with the trainer's `score` (1e-5 relative; a classifier's logits and a BERT's
# last hidden states too) and the tokenizer's ids on a text with CJK, emoji and accents. Then a
# BERT folder written by transformers starts a kiln trainer (init_from). Not part of .ci/run (the
# download).
#   scripts/interop-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${KILN_INTEROP_VENV:-$HOME/.cache/kiln/interop-venv}

scripts/setup.sh > /dev/null
source scripts/install-missing.sh
install_missing "interop check" python3-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c "import torch, transformers, safetensors" 2> /dev/null; then
  echo "interop check: installing torch, transformers, safetensors into $venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q torch transformers safetensors
fi
kiln=$PWD/build/tools/kiln
work=$(mktemp -d /tmp/kiln-interop.XXXXXX)
trap 'rm -rf "$work"' EXIT
export KILN_CACHE_DIR=$work/cache
failed=0

# Train a spec (from another run's checkpoint: $3), export it, compare. $1 spec, $2 steps.
check() {
  local spec=$1 steps=$2 from=${3:-} name
  name=$(basename "$spec" .toml)
  echo "== $name"
  local init=()
  [ -n "$from" ] && init=(--init-from "../$from/checkpoint.safetensors")
  mkdir -p "$work/$name"
  (cd "$work/$name" &&
    "$kiln" compile "$spec" -o trainer > compile.log 2>&1 &&
    ./trainer train --steps "$steps" --eval-every 0 "${init[@]}" > train.log 2>&1 &&
    ./trainer export --hf hf | head -1) || { echo "FAILED to train or export $name (see $work/$name)"; failed=1; return; }
  (cd "$work/$name" && "$venv/bin/python" "$root/scripts/interop/hf_check.py" --trainer ./trainer \
    --checkpoint checkpoint.safetensors --export hf --text /usr/share/games/fortunes/fortunes 2>&1 |
    grep -v "Loading weights\|longer than the specified maximum") || failed=1
}

root=$PWD
sed 's/^nsp = true/nsp = false/' models/bert-tiny.toml > "$work/bert-mlm-tiny.toml"
sed -i "s#^files = \[\"\([^/]\)#files = [\"$root/models/\1#" "$work/bert-mlm-tiny.toml"
check "$root/models/gpt-tiny.toml" 50                          # GPT2LMHeadModel
check "$root/models/gpt-mini.toml" 10
check "$root/models/gpt-classify-tiny.toml" 30 gpt-tiny       # GPT2ForSequenceClassification
check "$root/models/bert-tiny.toml" 50                         # BertForPreTraining (MLM + NSP)
check "$work/bert-mlm-tiny.toml" 30                            # BertForMaskedLM
check "$root/models/bert-classify-tiny.toml" 30 bert-tiny     # BertForSequenceClassification
check "$root/models/t5-tiny.toml" 30                           # BartForConditionalGeneration

# A BERT folder as transformers writes it (WordPiece vocab.txt, BertForPreTraining): a kiln MLM
# trainer starts from it (objective.init_from; sizes and tokenizer from the folder) and its
# initial state must score as transformers scores the folder; then its export must too.
echo "== a Hugging Face BERT folder as init_from"
mkdir -p "$work/hf-bert"
(cd "$work/hf-bert" &&
  "$venv/bin/python" "$root/scripts/interop/make_hf_bert.py" bert --text /usr/share/games/fortunes/fortunes 2>&1 | tail -1 &&
  sed -e '/^vocab_size\|^layers\|^heads\|^d_model\|^d_ff\|^tokenizer = /d' -e 's/^nsp = true/nsp = true\ninit_from = "bert"/' \
    "$root/models/bert-tiny.toml" > mlm.toml &&
  "$kiln" compile mlm.toml -o trainer > compile.log 2>&1 && head -1 compile.log &&
  ./trainer init --init-from bert --checkpoint init.safetensors 2>&1 | tail -1 &&
  "$venv/bin/python" "$root/scripts/interop/hf_check.py" --trainer ./trainer --checkpoint init.safetensors --export bert \
    --text /usr/share/games/fortunes/fortunes 2>&1 | grep -v "Loading weights\|longer than the specified maximum" &&
  echo "== its export (WordPiece vocab.txt)" &&
  ./trainer export --hf exported --checkpoint init.safetensors | head -1 &&
  "$venv/bin/python" "$root/scripts/interop/hf_check.py" --trainer ./trainer --checkpoint init.safetensors --export exported \
    --text /usr/share/games/fortunes/fortunes 2>&1 | grep -v "Loading weights\|longer than the specified maximum") || failed=1
echo
if [ "$failed" = 0 ]; then echo "interop check: passed"; else echo "interop check: FAILED"; exit 1; fi
