#!/usr/bin/env bash
# Builds kiln (installing what is missing) and runs every test, the doctest unit tests and the
# lit/FileCheck tests behind one ctest call: first in the normal build (build/), then again
# under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/); then each libFuzzer target
# for 20 s on its seed corpus (scripts/fuzz.sh, built with clang in build-fuzz/).
#   scripts/test.sh           all three
#   scripts/test.sh --fast    the normal build only
set -euo pipefail
cd "$(dirname "$0")/.."

KILN_BUILD_DIR=build scripts/setup.sh
# Tests only: headless Chromium renders a run report (tests/lit/e2e/report_render.test).
source scripts/install-missing.sh
install_missing "kiln tests" chromium
ctest --test-dir build --output-on-failure -j"$(nproc)"
[ "${1:-}" = "--fast" ] && exit 0

echo
echo "== the same tests under ASan + UBSan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
KILN_BUILD_DIR=build-asan scripts/setup.sh -DKILN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ctest --test-dir build-asan --output-on-failure -j"$(nproc)"

echo
echo "== the fuzz targets, 20 s each"
scripts/fuzz.sh 20
