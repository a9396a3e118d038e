#!/usr/bin/env bash
# Sets up the benchmarks: builds kiln (scripts/setup.sh, which installs what is missing) and
# installs the peers (PyTorch 2 with MKL and oneDNN, torch.compile's inductor, JAX) from PyPI
# into a virtual environment, $KILN_BENCH_VENV (default ~/.cache/kiln/bench-venv). A large
# download once (PyPI's torch wheel brings CUDA libraries); quick when already there.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${KILN_BENCH_VENV:-$HOME/.cache/kiln/bench-venv}

scripts/setup.sh
if ! dpkg-query -W -f='${Status}' python3-venv 2>/dev/null | grep -q "install ok installed"; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c "import torch, jax, numpy, psutil" 2> /dev/null; then
  echo "bench setup: installing torch, jax, jaxlib, numpy, psutil into $venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q torch jax jaxlib numpy psutil
fi
"$venv/bin/python" -c "import torch, jax; print('peers: torch', torch.__version__, '(MKL:', torch.backends.mkl.is_available(), ') jax', jax.__version__)"
echo "run: $venv/bin/python bench/run.py --model all"
