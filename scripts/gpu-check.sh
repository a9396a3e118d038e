#!/usr/bin/env bash
# The cuda target's checks on a machine with an NVIDIA GPU, in a few minutes: says which GPU and
# driver, builds the GPU-only configuration (the cuda kernels, their code generation and their
# tests over the IR and the reference interpreter: CUDA toolkit, CMake, Ninja and g++ suffice),
# with ptxas's register and spill report for every hand-written kernel in the build log, then
# runs the host tests (NVRTC code generation) and the GPU tests (each kernel against the
# reference), then the e2e through the cuda engine (the train_step of gpt-tiny in f32 and bf16
# and of every other bundled model and objective against the reference, resumed byte for byte
# and on the reference device) and the benchmarks (gpt-mini, gpt2-small,
# gpt2-small at context 1024 x batch 16: tokens/s, MFU against a cuBLASLt GEMM timed in the same
# run, GPU memory, time to the first step). The models' compiled sections come from
# `kiln compile --target cuda --sections-dir`, which a bare GPU machine cannot run (no LLVM,
# oneDNN): --prepare writes them. A machine without a GPU fails the check.
#   scripts/gpu-check.sh             build in build-gpu/ and run
#   scripts/gpu-check.sh --prepare   here, with kiln built (build/): doctest's header and every
#                                    model's sections into .carry/ (carry .carry to the GPU machine)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--prepare" ]; then
  mkdir -p .carry/doctest && cp /usr/include/doctest/doctest.h .carry/doctest/
  # f32 and bf16 (model.compute_dtype) of each; gpt2-small also at context 1024 x batch 16.
  mkdir -p .carry/specs
  for model in gpt-tiny gpt-mini gpt2-small; do
    cp models/$model.toml .carry/specs/$model.toml
    sed 's/^\[model\]$/[model]\ncompute_dtype = "bf16"/' models/$model.toml > .carry/specs/$model-bf16.toml
  done
  for p in "" "-bf16"; do
    sed 's/^context = 512$/context = 1024/' .carry/specs/gpt2-small$p.toml > .carry/specs/gpt2-small-1024$p.toml
  done
  for spec in .carry/specs/*.toml; do
    name=$(basename "$spec" .toml)
    batch=""
    case $name in gpt2-small-1024*) batch="--batch 16" ;; esac
    build/tools/kiln compile "$spec" --target cuda $batch -o .carry/trainer --sections-dir .carry/sections/$name \
      > /dev/null 2> .carry/compile.log || { cat .carry/compile.log; exit 1; }
  done
  # Every other model and objective, f32, for the e2e check.
  for model in bert-tiny bert-classify-tiny bert-cloze-tiny t5-tiny gpt-classify-tiny gpt-reinforce-tiny; do
    build/tools/kiln compile models/$model.toml --target cuda -o .carry/trainer --sections-dir .carry/sections/$model \
      > /dev/null 2> .carry/compile.log || { cat .carry/compile.log; exit 1; }
  done
  rm -rf .carry/trainer .carry/specs .carry/compile.log  # the sections suffice
  du -sh .carry
  echo "gpu-check: doctest's header and the models' sections in .carry; carry .carry to the GPU machine"
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
# From here on every part runs even when one fails, so one run says all that is wrong.
failed=""
echo "== GPU tests (every cuda kernel and the engine against the reference interpreter)"
set +e
build-gpu/tests/cuda/kiln_gpu_tests
rc=$?
set -e
[ $rc = 77 ] && { echo "gpu-check: FAILED: no GPU answered"; exit 1; }
[ $rc = 0 ] || failed="$failed gpu-tests"
for model in gpt-tiny gpt-tiny-bf16 bert-tiny bert-classify-tiny bert-cloze-tiny t5-tiny gpt-classify-tiny gpt-reinforce-tiny; do
  echo "== e2e: $model's train_step on the GPU against the reference, resumed"
  build-gpu/tests/cuda/kiln_gpu_e2e .carry/sections/$model --check 3 || failed="$failed e2e-$model"
done
echo "== benchmarks (f32 and bf16)"
for model in gpt-mini gpt2-small gpt2-small-1024; do
  for p in "" "-bf16"; do
    timeout 120 build-gpu/tests/cuda/kiln_gpu_e2e .carry/sections/$model$p --bench 10 || failed="$failed bench-$model$p"
  done
done
[ -z "$failed" ] || { echo "gpu-check: FAILED:$failed"; exit 1; }
echo "gpu-check: passed"
