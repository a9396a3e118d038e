#!/usr/bin/env bash
# Installs the Debian packages kiln needs (only those missing; apt-get update only then),
# then configures and builds into build/ (or $KILN_BUILD_DIR). Idempotent and quick when
# everything is present. Extra arguments go to CMake, e.g. -DKILN_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(g++ cmake ninja-build python3 doctest-dev llvm-16-tools llvm-16-dev libmlir-16-dev mlir-16-tools graphviz libtomlplusplus-dev fortunes libdnnl-dev ocl-icd-opencl-dev libboost-graph-dev libopenmpi-dev openmpi-bin)
# ocl-icd-opencl-dev: libdnnl-dev's CMake config requires OpenCL, a package it only recommends.

source scripts/install-missing.sh
install_missing "kiln setup" "${PACKAGES[@]}"

build_dir=${KILN_BUILD_DIR:-build}
mkdir -p "$build_dir"
cmake -S . -B "$build_dir" -G Ninja -DKILN_WERROR=ON "$@" > "$build_dir/configure.log" 2>&1 ||
  { cat "$build_dir/configure.log"; exit 1; }
cmake --build "$build_dir"
