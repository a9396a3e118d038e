#!/usr/bin/env python3
"""Memory benchmarks of activation recomputation (docs/performance.md, "Fitting a memory limit").

    ~/.cache/kiln/bench-venv/bin/python bench/memory_fit.py limits   # gpt2-small under memory limits
    ~/.cache/kiln/bench-venv/bin/python bench/memory_fit.py fit      # the largest GPT-2 at context 1024

`limits` compiles models/gpt2-small.toml with each --memory-limit (and none) and trains a few
steps: the planned peak, the recomputed FLOPs, tokens/s and the trainer's peak RSS; a limit
recomputation cannot reach is reported with the smallest peak kiln says it reaches.
`fit` trains GPT-2 small, medium, large and xl at context 1024 for two steps each on kiln (with
--memory-limit set just under this machine's memory) and on PyTorch eager with and without
torch.utils.checkpoint around every block (bench/peers.py): peak RSS, or how it failed.
Each process's peak RSS comes from wait4. Prints one JSON line per run.
"""
import argparse, json, os, re, shutil, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ROOT, PEERS, cpu_name  # noqa: E402

SIZES = {"small": (12, 12, 768), "medium": (24, 16, 1024), "large": (36, 20, 1280), "xl": (48, 25, 1600)}


def run(cmd, env=None, cwd=None, timeout=3600):
    """(exit code or -signal, stdout, stderr, peak RSS MiB) of a child, never raising on failure."""
    out_path, err_path = tempfile.mktemp(), tempfile.mktemp()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        pid = os.fork()
        if pid == 0:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            if cwd:
                os.chdir(cwd)
            os.execvpe(cmd[0], cmd, env if env is not None else os.environ)
        _, status, usage = os.wait4(pid, 0)
    text = open(out_path).read(), open(err_path).read()
    os.unlink(out_path)
    os.unlink(err_path)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return code, text[0], text[1], usage.ru_maxrss / 1024


def spec_text(size, ctx, batch, limit):
    layers, heads, d = SIZES[size]
    text = open(os.path.join(ROOT, "models", "gpt2-small.toml")).read()
    for key, value in (("context", ctx), ("layers", layers), ("heads", heads), ("d_model", d), ("d_ff", 4 * d),
                       ("batch", batch)):
        text = re.sub(rf"^{key} = \d+$", f"{key} = {value}", text, flags=re.M)
    if limit:
        text = text.replace("[train]\n", f'[train]\nmemory_limit = "{limit}"\n')
    return text


def kiln_run(kiln, work, name, spec, steps, env):
    path = os.path.join(work, name + ".toml")
    open(path, "w").write(spec)
    trainer = os.path.join(work, name)
    t0 = time.time()
    code, _, err, _ = run([kiln, "compile", path, "-o", trainer], env=env)
    row = {"compile_s": round(time.time() - t0, 2)}
    if code != 0:
        row["error"] = err.strip().splitlines()[-1]
        return row
    peak = re.search(r"planned peak ([0-9.]+) MiB", err)
    row["planned_mib"] = float(peak.group(1))
    remat = re.search(r"recomputation: (\d+) ops, \+([0-9.e+-]+) GFLOP per step; planned peak ([0-9.]+) MiB without", err)
    if remat:
        row.update(remat_ops=int(remat.group(1)), remat_gflop=float(remat.group(2)), planned_without_mib=float(remat.group(3)))
    metrics = os.path.join(work, name + ".jsonl")
    code, _, err, rss = run([trainer, "train", "--steps", str(steps), "--eval-every", "0", "--metrics", metrics,
                             "--checkpoint", os.path.join(work, name + ".safetensors")], env=env, cwd=work)
    row["peak_rss_mib"] = round(rss)
    if code != 0:
        row["error"] = (err.strip().splitlines() or [f"exit {code}"])[-1]
        return row
    times = [json.loads(l)["step_s"] for l in open(metrics) if '"step_s"' in l]
    row["step_s"] = round(min(times[1:] or times), 2)  # after the first (page faults, oneDNN set-up)
    os.unlink(os.path.join(work, name + ".safetensors"))
    os.unlink(trainer)
    return row


def torch_run(model, batch, checkpoint, env):
    cmd = [sys.executable, PEERS, "--framework", "torch-eager", "--model", model, "--batch", str(batch), "--steps", "1",
           "--warmup", "1", "--threads", env["OMP_NUM_THREADS"]] + (["--checkpoint-blocks"] if checkpoint else [])
    code, out, err, rss = run(cmd, env=env)
    row = {"peak_rss_mib": round(rss)}
    if code != 0:
        row["error"] = "killed by the kernel's OOM killer (SIGKILL)" if code == -9 else (err.strip().splitlines() or [f"exit {code}"])[-1]
        return row
    res = json.loads(out.strip().splitlines()[-1])
    row["step_s"] = res["step_s_median"]
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["limits", "fit"])
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "tools", "kiln"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limits", default="none,4GiB,3GiB,2.5GiB,2GiB,1GiB")
    ap.add_argument("--sizes", default="small,medium,large,xl")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--fit-limit", default="22GiB", help="kiln's --memory-limit in `fit` (under this machine's memory)")
    ap.add_argument("--no-torch", action="store_true")
    a = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["OMP_NUM_THREADS"] = str(a.threads)
    work = tempfile.mkdtemp(prefix="kiln-memfit-")
    print(json.dumps({"cpu": cpu_name(), "threads": a.threads, "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1)}), flush=True)
    if a.what == "limits":
        for limit in a.limits.split(","):
            spec = spec_text("small", 512, 4, None if limit == "none" else limit)
            row = {"model": "gpt2-small", "context": 512, "batch": 4, "memory_limit": limit}
            row.update(kiln_run(a.kiln, work, "limit", spec, 4, env))
            if "step_s" in row:
                row["tokens_per_s"] = round(4 * 512 / row["step_s"], 1)
            print(json.dumps(row), flush=True)
    else:
        for size in a.sizes.split(","):
            row = {"model": f"gpt2-{size}", "context": 1024, "batch": a.batch}
            row["kiln"] = kiln_run(a.kiln, work, size, spec_text(size, 1024, a.batch, a.fit_limit), 2, env)
            if not a.no_torch:
                row["torch_eager"] = torch_run(f"gpt2-{size}-1k", a.batch, False, env)
                row["torch_eager_checkpoint"] = torch_run(f"gpt2-{size}-1k", a.batch, True, env)
            print(json.dumps(row), flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
