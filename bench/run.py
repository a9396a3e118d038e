#!/usr/bin/env python3
"""Benchmarks kiln's cpu trainer against the peers a user would pick instead (bench/peers.py:
PyTorch 2 eager with MKL, SDPA and fused AdamW; torch.compile; JAX jit) on the same GPT shapes,
initialization scales, optimizer (AdamW, clip 1.0, warmup + cosine) and batch, 2 threads each,
in alternating rounds in one run. In each round it also measures the machine's f32 matmul roof
at the step's own GEMM shapes (build/bench/kiln-matmul-roof, oneDNN), so MFU is against a roof
measured on this machine now, never a constant.

Prints one line per round and framework, then one JSON line per model with the medians: tokens/s,
MFU and peak RSS of each, kiln's compile time, kiln against each peer and against the strongest.

    bash bench/setup.sh                                   # build, and the peers into a venv
    ~/.cache/kiln/bench-venv/bin/python bench/run.py --model all
    ... bench/run.py --model gpt-mini --rounds 5 --peers torch-eager,torch-compile

JAX on gpt2-small takes minutes a step on 2 cores: it runs in the first round only.
"""
import argparse, json, os, platform, re, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(ROOT, "bench", "peers.py")
SHAPES = {  # name: (vocab, ctx, layers, heads, d_model, batch), as bench/peers.py and models/*.toml
    "gpt-mini": (4096, 256, 6, 6, 384, 8),
    "gpt2-small": (50257, 512, 12, 12, 768, 4),
}
ALL_PEERS = ["torch-eager", "torch-compile", "jax"]


class Child:
    """A child process whose peak RSS is read from wait4 (the process's own, not its children's)."""

    def __init__(self, cmd, env=None, cwd=None):
        self.cmd = cmd
        r, w = os.pipe()
        re_, we = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.dup2(w, 1)
            os.dup2(we, 2)
            for fd in (r, w, re_, we):
                os.close(fd)
            if cwd:
                os.chdir(cwd)
            os.execvpe(cmd[0], cmd, env if env is not None else os.environ)
        os.close(w)
        os.close(we)
        self.out_fd, self.err_fd = r, re_

    def wait(self):
        import selectors
        sel = selectors.DefaultSelector()
        bufs = {self.out_fd: b"", self.err_fd: b""}
        for fd in bufs:
            sel.register(fd, selectors.EVENT_READ)
        open_fds = set(bufs)
        while open_fds:
            for key, _ in sel.select():
                chunk = os.read(key.fd, 65536)
                if chunk:
                    bufs[key.fd] += chunk
                else:
                    sel.unregister(key.fd)
                    os.close(key.fd)
                    open_fds.discard(key.fd)
        _, status, usage = os.wait4(self.pid, 0)
        out, err = bufs[self.out_fd].decode(errors="replace"), bufs[self.err_fd].decode(errors="replace")
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            sys.exit(f"failed ({code}): {' '.join(self.cmd)}\n{err[-3000:]}")
        return out, err, usage.ru_maxrss / 1024


def run(cmd, env=None, cwd=None):
    return Child(cmd, env, cwd).wait()


def step_gemms(vocab, ctx, layers, d, batch):
    """The matmuls of one train step as (M, N, K, count): per layer q/k/v, attention output,
    MLP in and out, each forward, input gradient and weight gradient; the tied LM head likewise.
    Attention's own score products are not in the roof (they are part of attention)."""
    n, f = batch * ctx, 4 * d
    per_layer = [(d, 3 * d), (d, d), (d, f), (f, d)]  # (in, out)
    g = {}
    def add(m, nn, k, c):
        g[(m, nn, k)] = g.get((m, nn, k), 0) + c
    for i, o in per_layer:
        add(n, o, i, layers)  # forward  [n,i] x [i,o]
        add(n, i, o, layers)  # dX       [n,o] x [o,i]
        add(i, o, n, layers)  # dW       [i,n] x [n,o]
    add(n, vocab, d, 1)
    add(n, d, vocab, 1)
    add(vocab, d, n, 1)
    return [(m, nn, k, c) for (m, nn, k), c in g.items()]


def flops_per_step(vocab, ctx, layers, d, batch):
    # 6 N per token (N: parameters without positions) + attention's 12 L T d per token.
    n = vocab * d + layers * (12 * d * d + 13 * d) + 2 * d
    toks = batch * ctx
    return 6 * n * toks + 12 * layers * ctx * d * toks


def measure_roof(roof_exe, gemms, dtype="f32"):
    out, _, _ = run([roof_exe, "--seconds", "0.5", "--dtype", dtype] + [f"{m},{n},{k}x{c}" for m, n, k, c in gemms])
    return json.loads(out.strip().splitlines()[-1])["roof_gflops"] * 1e9


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return platform.processor() or "unknown CPU"
    model = re.search(r"Model name:\s*(.+)", out)
    flags = re.search(r"Flags:\s*(.+)", out)
    fam, mod = re.search(r"CPU family:\s*(\d+)", out), re.search(r"Model:\s*(\d+)", out)
    ext = sorted({f for f in (flags.group(1).split() if flags else []) if re.match(r"avx|amx|fma", f)})
    ident = f" family {fam.group(1)} model {mod.group(1)}" if fam and mod else ""
    return f"{model.group(1).strip() if model else 'unknown CPU'}{ident} ({' '.join(ext)})"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="gpt-mini", choices=sorted(SHAPES) + ["all"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=4, help="timed steps per run")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first (torch.compile and jax compile here)")
    ap.add_argument("--peers", default=",".join(ALL_PEERS), help="comma-separated subset of " + ",".join(ALL_PEERS))
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    peers = [p for p in a.peers.split(",") if p]
    for p in peers:
        if p not in ALL_PEERS:
            sys.exit(f"unknown peer '{p}' (known: {', '.join(ALL_PEERS)})")
    kiln = os.path.join(ROOT, "build", "tools", "kiln")
    roof_exe = os.path.join(ROOT, "build", "bench", "kiln-matmul-roof")
    for exe in (kiln, roof_exe):
        if not os.access(exe, os.X_OK):
            sys.exit(f"{exe} is missing: build first (bash bench/setup.sh)")
    try:
        import torch  # noqa: F401  (the peers run in this interpreter's environment)
    except ImportError:
        sys.exit("the peers need torch and jax: run bench/run.py with the bench venv's python (bash bench/setup.sh)")
    work = tempfile.mkdtemp(prefix="kiln-bench-")
    # The same thread count everywhere; OpenBLAS overrides of this machine are not for MKL's torch.
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["OMP_NUM_THREADS"] = str(a.threads)
    print(f"cpu: {cpu_name()}, {a.threads} threads", flush=True)
    for name in (sorted(SHAPES) if a.model == "all" else [a.model]):
        vocab, ctx, layers, heads, d, batch = SHAPES[name]
        tokens = batch * ctx
        flops = flops_per_step(vocab, ctx, layers, d, batch)
        t0 = time.time()
        run([kiln, "compile", os.path.join(ROOT, "models", name + ".toml"), "-o", os.path.join(work, name)], env=env)
        compile_s = time.time() - t0
        tps = {k: [] for k in ["kiln"] + peers}
        rss = {k: [] for k in ["kiln"] + peers}
        roofs = []
        for r in range(a.rounds):
            roofs.append(measure_roof(roof_exe, step_gemms(vocab, ctx, layers, d, batch)))
            print(f"{name} round {r + 1}: matmul roof {roofs[-1] / 1e9:.0f} GFLOP/s", flush=True)
            metrics = os.path.join(work, f"{name}-{r}.jsonl")
            _, _, mib = run([os.path.join(work, name), "train", "--steps", str(a.warmup + a.steps), "--eval-every", "0",
                             "--metrics", metrics, "--checkpoint", os.path.join(work, "ckpt.safetensors")], env=env, cwd=work)
            steps = [json.loads(l) for l in open(metrics) if '"step_s"' in l][a.warmup:]
            tps["kiln"].append(tokens / statistics.median(s["step_s"] for s in steps))
            rss["kiln"].append(mib)
            print(f"{name} round {r + 1}: kiln {tps['kiln'][-1]:.0f} tok/s, {mib:.0f} MiB", flush=True)
            for p in peers:
                if p == "jax" and name == "gpt2-small" and r > 0:
                    continue  # minutes per step: one round is enough to place it
                out, _, _ = run([sys.executable, PEERS, "--framework", p, "--model", name, "--steps", str(a.steps),
                                 "--warmup", str(a.warmup), "--threads", str(a.threads)], env=env)
                res = json.loads(out.strip().splitlines()[-1])
                tps[p].append(res["tokens_per_s"])
                rss[p].append(res["peak_rss_mib"])
                print(f"{name} round {r + 1}: {p} {tps[p][-1]:.0f} tok/s, {rss[p][-1]:.0f} MiB ({res.get('version', '')})",
                      flush=True)
        roof = statistics.median(roofs)
        med = {k: statistics.median(v) for k, v in tps.items() if v}
        best = max((p for p in peers if p in med), key=lambda p: med[p], default=None)
        row = {"model": name, "cpu": cpu_name(), "threads": a.threads, "rounds": a.rounds,
               "matmul_roof_gflops": round(roof / 1e9, 1), "kiln_compile_s": round(compile_s, 2)}
        for k, v in med.items():
            row[f"{k}_tokens_per_s"] = round(v, 1)
            row[f"{k}_mfu"] = round(flops * v / tokens / roof, 3)
            row[f"{k}_peak_rss_mib"] = round(max(rss[k]))
        for p in peers:
            if p in med:
                row[f"kiln_over_{p}"] = round(med["kiln"] / med[p], 2)
        if best:
            row["strongest_peer"] = best
            row["kiln_over_strongest"] = round(med["kiln"] / med[best], 2)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
