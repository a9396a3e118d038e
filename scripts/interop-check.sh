#!/usr/bin/env bash
# Checks kiln's Hugging Face exports with transformers itself: builds kiln (scripts/setup.sh),
# installs torch and transformers from PyPI into a virtual environment ($KILN_INTEROP_VENV,
# default ~/.cache/kiln/interop-venv; a large download once), trains small GPTs, exports them with
# `TRAINER export --hf`, loads them with AutoModelFor.../AutoTokenizer and compares the loss of
# the same token ids with the trainer's `score` (1e-5 relative) and the tokenizer's ids on a text
# with CJK, emoji and accents. Not part of .ci/run (the download).
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

# A causal LM: train, export, compare. $1 spec, $2 steps.
check_lm() {
  local name
  name=$(basename "$1" .toml)
  echo "== $name"
  mkdir -p "$work/$name"
  (cd "$work/$name" &&
    "$kiln" compile "$1" -o trainer > compile.log 2>&1 &&
    ./trainer train --steps "$2" --eval-every 0 > train.log 2>&1 &&
    ./trainer export --hf hf) || { echo "FAILED to train or export $name"; failed=1; return; }
  (cd "$work/$name" && "$venv/bin/python" "$OLDPWD/scripts/interop/hf_check.py" --trainer ./trainer \
    --checkpoint checkpoint.safetensors --export hf --text /usr/share/games/fortunes/fortunes 2>&1 |
    grep -v "Loading weights\|longer than the specified maximum") || failed=1
}

check_lm "$PWD/models/gpt-tiny.toml" 50
check_lm "$PWD/models/gpt-mini.toml" 10
echo
if [ "$failed" = 0 ]; then echo "interop check: passed"; else echo "interop check: FAILED"; exit 1; fi
