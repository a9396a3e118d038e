#!/usr/bin/env bash
# The cuda target's checks on a machine with an NVIDIA GPU, in a few minutes: says which GPU and
# driver, builds the GPU-only configuration (the cuda kernels, their code generation and their
# tests over the IR and the reference interpreter: CUDA toolkit, CMake, Ninja and g++ suffice),
# with ptxas's register and spill report for every hand-written kernel in the build log, then
# runs the host tests (NVRTC code generation) and the GPU tests (each kernel against the
# reference). A machine without a GPU fails the check.
#   scripts/gpu-check.sh             build in build-gpu/ and run
#   scripts/gpu-check.sh --prepare   here, where doctest is installed: copy its header into
#                                    .carry/ for a GPU machine that has none (carry .carry there)
# Not built yet, so not run: the cuda device and trainers (e2e, resume, benchmarks).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--prepare" ]; then
  mkdir -p .carry/doctest && cp /usr/include/doctest/doctest.h .carry/doctest/
  echo "gpu-check: doctest's header in .carry/doctest; carry .carry to the GPU machine"
  exit 0
fi
echo "== the machine"
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem,memory.total --format=csv
else
  echo "gpu-check: no nvidia-smi here"
fi
nvcc --version | tail -2
lscpu | grep -m1 "Model name" || true
echo "== build (GPU-only configuration)"
start=$(date +%s)
cmake -S . -B build-gpu -G Ninja -DKILN_GPU_ONLY=ON -DCMAKE_BUILD_TYPE=Release > build-gpu.log 2>&1 ||
  { cat build-gpu.log; echo "gpu-check: configuration failed"; exit 1; }
cmake --build build-gpu -j"$(nproc)" 2>&1 | grep -v "^\[" | grep -E "ptxas info    : (Compiling|Used)|spill|error|warning" | sed 's/_ZN4kiln4cuda[0-9]*_GLOBAL__N__[0-9a-f]*_[0-9]*_//' || true
[ -x build-gpu/tests/cuda/kiln_gpu_tests ] || { echo "gpu-check: the build failed"; exit 1; }
echo "built in $(( $(date +%s) - start )) s"
echo "== host tests (code generation, NVRTC)"
build-gpu/tests/cuda/kiln_cuda_host_tests
echo "== GPU tests (every cuda kernel against the reference interpreter)"
set +e
build-gpu/tests/cuda/kiln_gpu_tests
rc=$?
set -e
[ $rc = 77 ] && { echo "gpu-check: FAILED: no GPU answered"; exit 1; }
[ $rc = 0 ] || { echo "gpu-check: FAILED"; exit 1; }
echo "gpu-check: passed"
