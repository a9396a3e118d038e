#!/usr/bin/python3
"""Benchmarks kiln's cpu backend against PyTorch eager (../shared/bench/torch_gpt.py) on the same
GPT shapes, optimizer (AdamW, clip 1.0) and batch, alternating runs in one process, and prints
tokens/s, MFU against the ~460 GFLOP/s f32 matmul roof, peak RSS, kiln's compile time and the
kiln/PyTorch ratio of medians.

    /usr/bin/python3 bench/run.py                 # gpt-mini, 3 rounds of 4 timed steps each
    /usr/bin/python3 bench/run.py --model gpt2-small --rounds 2 --steps 2

Needs a build (scripts/setup.sh) and Debian's python3-torch + libopenblas0-pthread.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH = os.path.join(ROOT, "..", "shared", "bench", "torch_gpt.py")
ROOF = 460e9
SHAPES = {  # name: (vocab, ctx, layers, heads, d_model, batch)
    "gpt-mini": (4096, 256, 6, 6, 384, 8),
    "gpt2-small": (50257, 512, 12, 12, 768, 4),
}


def rss_of(cmd, env=None, cwd=None):
    t = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True, env=env, cwd=cwd)
    if t.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{t.stderr[-2000:]}")
    rss_kib = int(t.stderr.strip().splitlines()[-1])
    return t.stdout, t.stderr, rss_kib / 1024


def flops_per_step(vocab, ctx, layers, d, batch):
    # The PyTorch script's count: 6 N tokens (N without positions) + 12 L T d tokens.
    n = vocab * d + layers * (12 * d * d + 13 * d) + 2 * d
    toks = batch * ctx
    return 6 * n * toks + 12 * layers * ctx * d * toks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="gpt-mini", choices=sorted(SHAPES) + ["all"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    kiln = os.path.join(ROOT, "build", "tools", "kiln")
    work = tempfile.mkdtemp(prefix="kiln-bench-")
    torch_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    for name in (sorted(SHAPES) if a.model == "all" else [a.model]):
        vocab, ctx, layers, heads, d, batch = SHAPES[name]
        t0 = time.time()
        _, err, _ = rss_of([kiln, "compile", os.path.join(ROOT, "models", name + ".toml"), "-o", os.path.join(work, name)])
        compile_s = time.time() - t0
        kiln_tps, torch_tps, kiln_rss, torch_rss = [], [], [], []
        for r in range(a.rounds):
            metrics = os.path.join(work, f"{name}-{r}.jsonl")
            _, _, rss = rss_of([os.path.join(work, name), "train", "--steps", str(a.warmup + a.steps), "--eval-every", "0",
                                "--metrics", metrics, "--checkpoint", os.path.join(work, "ckpt.safetensors")], cwd=work)
            steps = [json.loads(l) for l in open(metrics) if '"step_s"' in l][a.warmup:]
            kiln_tps.append(batch * ctx / statistics.median(s["step_s"] for s in steps))
            kiln_rss.append(rss)
            out, _, rss = rss_of(["/usr/bin/python3", TORCH, "--vocab", str(vocab), "--ctx", str(ctx), "--layers", str(layers),
                                  "--heads", str(heads), "--dmodel", str(d), "--batch", str(batch), "--steps", str(a.steps),
                                  "--warmup", str(a.warmup), "--threads", "2"], env=torch_env)
            torch_tps.append(json.loads(out.strip().splitlines()[-1])["tokens_per_s"])
            torch_rss.append(rss)
            print(f"{name} round {r + 1}: kiln {kiln_tps[-1]:.0f} tok/s, pytorch {torch_tps[-1]:.0f} tok/s", flush=True)
        flops = flops_per_step(vocab, ctx, layers, d, batch)
        k, t = statistics.median(kiln_tps), statistics.median(torch_tps)
        row = {
            "model": name,
            "kiln_tokens_per_s": round(k, 1), "pytorch_tokens_per_s": round(t, 1), "kiln_over_pytorch": round(k / t, 2),
            "kiln_mfu": round(flops * k / (batch * ctx) / ROOF, 3), "pytorch_mfu": round(flops * t / (batch * ctx) / ROOF, 3),
            "kiln_peak_rss_mib": round(max(kiln_rss)), "pytorch_peak_rss_mib": round(max(torch_rss)),
            "kiln_compile_s": round(compile_s, 2),
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
