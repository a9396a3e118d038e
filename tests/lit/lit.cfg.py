import os
import lit.formats
from lit.llvm import llvm_config

config.name = "kiln"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".kir", ".test", ".toml"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py.in", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)  # FileCheck, not
llvm_config.use_default_substitutions()
config.substitutions.append(("%kiln", config.kiln_exe))
config.substitutions.append(("%inputs", os.path.join(os.path.dirname(__file__), "Inputs")))
config.substitutions.append(("%examples", config.examples_dir))
config.substitutions.append(("%models", config.models_dir))
config.substitutions.append(("%python", "/usr/bin/python3"))
if config.sanitizers:
    config.available_features.add("sanitizers")
# The cuda target is built where nvcc was found; a GPU answers where nvidia-smi lists one.
if config.have_cuda:
    config.available_features.add("cuda")
import shutil as _sh, subprocess as _sp
if _sh.which("nvidia-smi") and _sp.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0:
    config.available_features.add("gpu")
if config.have_dot:
    config.available_features.add("dot")
# Tests run side by side on few cores: OpenMP threads that spin while waiting would starve the
# other test's threads (an e2e test took minutes instead of seconds), so waiting threads sleep.
config.environment["OMP_WAIT_POLICY"] = "PASSIVE"
# Data-parallel tests start 2 ranks with Open MPI's mpirun on this machine: as root too (CI
# runs as root), and on fewer cores than ranks.
# Under the sanitizers, Open MPI's own allocations at MPI_Init (never freed, in components it
# unloads at MPI_Finalize, so no suppression can name them) would fail every rank: ranks run
# without leak detection; every single-process test keeps it.
ranks_env = "env ASAN_OPTIONS=detect_leaks=0:abort_on_error=1" if config.sanitizers else "env"
config.substitutions.append(("%mpirun", ranks_env + " mpirun --oversubscribe -np"))
config.substitutions.append(("%ranks_env", ranks_env))
config.environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
config.environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
# Run reports are rendered by headless Chromium where it is installed (scripts/test.sh installs it).
import shutil
_chromium = shutil.which("chromium")
if _chromium:
    config.available_features.add("chromium")
    config.substitutions.append(("%chromium", _chromium))
# Two "hosts" on this machine (network namespaces and a veth pair) need root and CAP_NET_ADMIN:
# the test that uses them is skipped where they cannot be made.
import subprocess, sys
_probe = os.path.join(os.path.dirname(__file__), "Inputs", "two_hosts.py")
if subprocess.run([sys.executable, _probe, "--probe"], capture_output=True).returncode == 0:
    config.available_features.add("netns")
