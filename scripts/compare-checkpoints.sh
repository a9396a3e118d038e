#!/usr/bin/env bash
# Checks that two builds of kiln train bit for bit alike: every objective's tiny spec (and
# gpt-mini) is compiled by each build's `kiln`, trained a few steps, and the checkpoints are
# compared byte for byte. For refactorings that must not change a single result.
#
#   scripts/compare-checkpoints.sh OLD_BUILD_DIR [NEW_BUILD_DIR (default build)]
#
# Specs that start from another model's checkpoint (init_from) find it beside them, as the
# lit tests arrange: gpt-tiny and bert-tiny train first.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "$1")
new=$(realpath "${2:-build}")
work=$(mktemp -d /tmp/kiln-compare-XXXXXX)
trap 'rm -rf "$work"' EXIT
specs=(gpt-tiny:40 bert-tiny:40 t5-tiny:40 gpt-classify-tiny:30 gpt-reinforce-tiny:10 bert-classify-tiny:30
       bert-cloze-tiny:30 gpt-mini:4)
for side in old new; do
  mkdir -p "$work/$side"
  cp models/*.toml "$work/$side/"
done
status=0
for entry in "${specs[@]}"; do
  spec=${entry%%:*} steps=${entry##*:}
  for side in old new; do
    dir=$work/$side
    kiln=$old/tools/kiln
    [ "$side" = new ] && kiln=$new/tools/kiln
    (cd "$dir" && "$kiln" compile "$spec.toml" -o "$spec-trainer" > "$spec.compile.log" 2>&1 &&
      "./$spec-trainer" train --steps "$steps" --eval-every 0 --checkpoint "$spec.safetensors" \
        --metrics "$spec.jsonl" > "$spec.train.log" 2>&1) ||
      { echo "$spec ($side): failed"; tail -5 "$dir/$spec.compile.log" "$dir/$spec.train.log" 2> /dev/null || true; status=1; }
  done
  if cmp -s "$work/old/$spec.safetensors" "$work/new/$spec.safetensors"; then
    echo "$spec: $steps steps, checkpoints byte-identical ($(stat -c %s "$work/new/$spec.safetensors") bytes)"
  else
    echo "$spec: checkpoints DIFFER"
    status=1
  fi
done
exit $status
