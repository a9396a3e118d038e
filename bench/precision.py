#!/usr/bin/env python3
"""f32 against bf16 mixed precision (model.compute_dtype = "bf16") on the same model, machine
and run: tokens/s of each trainer (alternated, median over rounds), the matmul roof of the
step's GEMM shapes in each type (kiln-matmul-roof, measured in the same run) and MFU against
its own roof, peak RSS, and the speedup.

    python3 bench/precision.py --model gpt-mini --rounds 3
    python3 bench/precision.py --model gpt2-small --rounds 2 --steps 3
    python3 bench/precision.py --model gpt-mini --curve 300     # loss curves: eval every 50 steps

Prints one JSON line per model (and with --curve, the two validation curves and their largest
relative difference).
"""
import argparse, json, os, statistics, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ROOT, SHAPES, cpu_name, flops_per_step, measure_roof, run, step_gemms  # noqa: E402


def compile_pair(kiln, name, work, env):
    spec = open(os.path.join(ROOT, "models", name + ".toml")).read()
    paths = {}
    for dtype in ("f32", "bf16"):
        path = os.path.join(work, f"{name}-{dtype}.toml")
        open(path, "w").write(spec.replace("[model]\n", f'[model]\ncompute_dtype = "{dtype}"\n'))
        paths[dtype] = os.path.join(work, f"{name}-{dtype}")
        _, err, _ = run([kiln, "compile", path, "-o", paths[dtype]], env=env)
        for line in err.splitlines():
            if line.startswith("warning:"):
                print(line, file=sys.stderr)
    return paths


def train(trainer, work, steps, env, evals=0):
    metrics = os.path.join(work, "m.jsonl")
    if os.path.exists(metrics):
        os.unlink(metrics)
    _, _, rss = run([trainer, "train", "--steps", str(steps), "--eval-every", str(evals), "--metrics", metrics,
                     "--checkpoint", os.path.join(work, "c.safetensors")], env=env, cwd=work)
    rows = [json.loads(l) for l in open(metrics)]
    return rows, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="gpt-mini", choices=sorted(SHAPES))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=6, help="steps per run; the first is not timed")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--curve", type=int, default=0, help="train this many steps of each, evaluating every 50")
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "tools", "kiln"))
    a = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    work = tempfile.mkdtemp(prefix="kiln-precision-")
    roof_exe = os.path.join(ROOT, "build", "bench", "kiln-matmul-roof")
    vocab, ctx, layers, heads, d, batch = SHAPES[a.model]
    tokens, flops = batch * ctx, flops_per_step(vocab, ctx, layers, d, batch)
    trainers = compile_pair(a.kiln, a.model, work, env)
    print(f"cpu: {cpu_name()}, {a.threads} threads", flush=True)
    if a.curve:
        curves = {}
        for dtype, trainer in trainers.items():
            rows, _ = train(trainer, work, a.curve, env, evals=50)
            curves[dtype] = {r["step"]: r["val_loss"] for r in rows if "val_loss" in r}
            print(f"{dtype}: {curves[dtype]}", flush=True)
        worst = max(abs(curves["bf16"][s] - v) / v for s, v in curves["f32"].items())
        print(json.dumps({"model": a.model, "steps": a.curve, "val_loss_f32": curves["f32"], "val_loss_bf16": curves["bf16"],
                          "max_relative_difference": round(worst, 5)}), flush=True)
        return
    tps = {"f32": [], "bf16": []}
    rss = {"f32": [], "bf16": []}
    roofs = {"f32": [], "bf16": []}
    for r in range(a.rounds):
        for dtype, trainer in trainers.items():
            roofs[dtype].append(measure_roof(roof_exe, step_gemms(vocab, ctx, layers, d, batch), dtype))
            rows, mib = train(trainer, work, a.steps, env)
            steps = [x["step_s"] for x in rows if "step_s" in x][1:]
            tps[dtype].append(tokens / statistics.median(steps))
            rss[dtype].append(mib)
            print(f"round {r + 1} {dtype}: {tps[dtype][-1]:.0f} tok/s, roof {roofs[dtype][-1] / 1e9:.0f} GFLOP/s, {mib:.0f} MiB",
                  flush=True)
    row = {"model": a.model, "cpu": cpu_name(), "threads": a.threads, "rounds": a.rounds}
    for dtype in tps:
        t, roof = statistics.median(tps[dtype]), statistics.median(roofs[dtype])
        row[f"{dtype}_tokens_per_s"] = round(t, 1)
        row[f"{dtype}_matmul_roof_gflops"] = round(roof / 1e9, 1)
        row[f"{dtype}_mfu"] = round(flops * t / tokens / roof, 3)
        row[f"{dtype}_peak_rss_mib"] = round(max(rss[dtype]))
    row["bf16_over_f32"] = round(row["bf16_tokens_per_s"] / row["f32_tokens_per_s"], 2)
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
