#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/, its own configuration: tests/fuzz) and
# runs each one on its seed corpus (tests/fuzz/seeds/<target>) for SECONDS (default 20), in a
# scratch copy of the corpus so the tree stays as it is. A crash stops the script with the
# input that caused it in build-fuzz/crashes/; reproduce with build-fuzz/tests/fuzz/fuzz_NAME FILE.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 600 ir spec
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(ir spec safetensors executable tokenizer corpus)

source scripts/install-missing.sh
install_missing "kiln fuzz" clang libclang-rt-14-dev

build=build-fuzz
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DKILN_FUZZ=ON > /dev/null
cmake --build "$build"
mkdir -p "$build/crashes"
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  rm -rf "$work" && mkdir -p "$work" && cp tests/fuzz/seeds/"$t"/* "$work"/
  echo "== fuzz_$t for ${seconds} s"
  # -max_len: specs, IR and payloads are larger than libFuzzer's default of 4 KiB.
  if ! "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$build/crashes/$t-" -print_final_stats=1 "$work" > "$build/fuzz_$t.log" 2>&1; then
    tail -40 "$build/fuzz_$t.log"
    echo "fuzz_$t: FAILED (input in $build/crashes/)"
    exit 1
  fi
  grep -E "stat::number_of_executed_units|cov:" "$build/fuzz_$t.log" | tail -2
done
echo "fuzz: ${#targets[@]} targets, no crash in ${seconds} s each"
