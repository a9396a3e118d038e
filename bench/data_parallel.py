#!/usr/bin/env python3
"""Data-parallel scaling on one machine: the same trainer at 1 rank x T threads and under
`mpirun -np 2` at 2 ranks x T threads each, and at 2 ranks with optimizer-state sharding
(ZeRO-1), alternated over rounds (median of the steps after the first), then a profiled run of each 2-rank mode: with the all-reduce overlapping the backward pass
(as trainers run) and with each all-reduce waited for where it starts (KILN_BLOCKING_ALLREDUCE=1:
the communication's whole time). Reports tokens/s, the scaling efficiency, the time per step
spent waiting for the other rank in each mode (so how much of the communication is hidden),
per-rank peak RSS, the bytes each step reduces, the loss curves of 1 rank x batch 2B and 2 ranks
x B side by side, and a projection to 8 and 64 ranks from the communication volume at stated link
bandwidths.

    python3 bench/data_parallel.py --model gpt-mini --rounds 3 --steps 8

Prints one JSON line.
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ROOT, SHAPES, cpu_name, run  # noqa: E402

# Runs a trainer and records its own peak RSS (wait4) in RSS_DIR/rank<N>.
RSS_WRAPPER = r"""
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
rank = os.environ.get("OMPI_COMM_WORLD_RANK", "0")
open(os.path.join(os.environ["RSS_DIR"], "rank" + rank), "w").write(str(usage.ru_maxrss / 1024))
sys.exit(os.waitstatus_to_exitcode(status))
"""

MPIRUN = ["mpirun", "--oversubscribe", "--bind-to", "none", "-x", "RSS_DIR"]


def train(cmd, work, steps, env, profile=False):
    metrics = os.path.join(work, "m.jsonl")
    if os.path.exists(metrics):
        os.unlink(metrics)
    rss_dir = tempfile.mkdtemp(dir=work)
    env = dict(env, RSS_DIR=rss_dir)
    args = ["train", "--steps", str(steps), "--eval-every", "0", "--metrics", metrics,
            "--checkpoint", os.path.join(work, "c.safetensors")] + (["--profile"] if profile else [])
    wrapped = [sys.executable, "-c", RSS_WRAPPER]
    full = cmd[:-1] + wrapped + [cmd[-1]] + args
    out, err, _ = run(full, env=env, cwd=work)
    rows = [json.loads(l) for l in open(metrics)]
    rss = [float(open(os.path.join(rss_dir, f)).read()) for f in sorted(os.listdir(rss_dir))]
    return rows, rss, err


def waiting_seconds(profile_text):
    """Seconds of `all_reduce (waiting)` and of every op, from the trainer's profile."""
    total = re.search(r"time by op kind \(of ([0-9.]+) s in ops\)", profile_text)
    wait = re.search(r"^\s*([0-9.]+) s\s+[0-9.]+%\s+\d+ calls\s+all_reduce \(waiting\)", profile_text, re.M)
    return (float(wait.group(1)) if wait else 0.0), (float(total.group(1)) if total else 0.0)


def reduced_bytes(trainer):
    """Bytes one train step averages over the ranks and its all_reduce buckets, as `TRAINER info`
    says."""
    out = subprocess.run([trainer, "info"], capture_output=True, text=True).stdout
    m = re.search(r"data parallel \(mpirun\): ([0-9.]+) (B|KiB|MiB|GiB) averaged over the ranks per step, in ([0-9]+)", out)
    scale = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}
    return (int(float(m.group(1)) * scale[m.group(2)]), int(m.group(3))) if m else (0, 0)


# Links of the projection: (bytes/s, seconds of latency per message).
LINKS = {"10GbE": (1.25e9, 50e-6), "100Gb InfiniBand": (12.5e9, 2e-6)}


def project(nbytes, buckets, step, ranks, link):
    """Scaling efficiency at `ranks` ranks of a step that computes for `step` seconds: a ring
    all-reduce moves 2 (N - 1) / N of the bytes over each rank's link in 2 (N - 1) messages per
    bucket; what the backward pass after the first bucket (taken as 2/3 of the step) does not
    cover is exposed. Returns (efficiency, communication seconds)."""
    bandwidth, latency = LINKS[link]
    t_comm = 2 * (ranks - 1) / ranks * nbytes / bandwidth + 2 * (ranks - 1) * buckets * latency
    exposed = max(0.0, t_comm - 2 / 3 * step)
    return step / (step + exposed), t_comm


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="gpt-mini", choices=sorted(SHAPES))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=8, help="steps per run; the first is not timed")
    ap.add_argument("--threads", type=int, default=1, help="OpenMP threads per rank")
    ap.add_argument("--curve", type=int, default=40, help="steps of the loss-curve comparison (0: none)")
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build", "tools", "kiln"))
    a = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    work = tempfile.mkdtemp(prefix="kiln-dp-")
    spec = os.path.join(ROOT, "models", a.model + ".toml")
    vocab, ctx, layers, heads, d, batch = SHAPES[a.model]
    trainer, double, zero = (os.path.join(work, a.model + suffix) for suffix in ("", "-2b", "-zero1"))
    run([a.kiln, "compile", spec, "-o", trainer], env=env)
    run([a.kiln, "compile", spec, "--batch", str(2 * batch), "-o", double], env=env)
    zero_spec = os.path.join(work, a.model + "-zero1.toml")
    open(zero_spec, "w").write(open(spec).read().replace("[train]\n", "[train]\nshard_optimizer = true\n"))
    run([a.kiln, "compile", zero_spec, "-o", zero], env=env)
    print(f"cpu: {cpu_name()}, {a.threads} thread(s) per rank", flush=True)
    modes = {"1 rank": ([trainer], 1), "2 ranks": (MPIRUN + ["-x", "OMP_NUM_THREADS", "-np", "2", trainer], 2),
             "2 ranks ZeRO-1": (MPIRUN + ["-x", "OMP_NUM_THREADS", "-np", "2", zero], 2)}
    tps = {m: [] for m in modes}
    rss = {m: [] for m in modes}
    for r in range(a.rounds):
        for mode, (cmd, ranks) in modes.items():
            rows, mib, _ = train(cmd, work, a.steps, env)
            steps = [x["step_s"] for x in rows if "step_s" in x][1:]
            tps[mode].append(ranks * batch * ctx / statistics.median(steps))
            rss[mode].append(max(mib))
            print(f"round {r + 1} {mode}: {tps[mode][-1]:.0f} tok/s, peak RSS per rank {', '.join(f'{x:.0f}' for x in mib)} MiB",
                  flush=True)
    # The profile of each 2-rank mode: waiting per step.
    cmd2 = modes["2 ranks"][0]
    waits = {}
    for mode, extra in (("overlapped", {}), ("blocking", {"KILN_BLOCKING_ALLREDUCE": "1"})):
        cmd = cmd2[:]
        if extra:
            cmd = cmd[:1] + ["-x", "KILN_BLOCKING_ALLREDUCE"] + cmd[1:]
        rows, _, err = train(cmd, work, a.steps, dict(env, **extra), profile=True)
        wait, total = waiting_seconds(err)
        waits[mode] = (wait / a.steps, total / a.steps)
        print(f"2 ranks, all-reduce {mode}: {1e3 * wait / a.steps:.1f} ms waiting of {1e3 * total / a.steps:.1f} ms in ops per step",
              flush=True)
    one, two = statistics.median(tps["1 rank"]), statistics.median(tps["2 ranks"])
    comm = waits["blocking"][0]
    exposed = waits["overlapped"][0]
    nbytes, buckets = reduced_bytes(trainer)
    row = {"model": a.model, "cpu": cpu_name(), "threads_per_rank": a.threads, "rounds": a.rounds,
           "tokens_per_s_1_rank": round(one, 1), "tokens_per_s_2_ranks": round(two, 1),
           "speedup": round(two / one, 3), "scaling_efficiency": round(two / one / 2, 3),
           "allreduce_bytes_per_step": nbytes, "allreduce_buckets": buckets,
           "allreduce_ms_per_step_blocking": round(1e3 * comm, 2), "allreduce_ms_per_step_exposed": round(1e3 * exposed, 2),
           "allreduce_hidden_share": round(1 - exposed / comm, 3) if comm > 0 else None,
           "tokens_per_s_2_ranks_zero1": round(statistics.median(tps["2 ranks ZeRO-1"]), 1),
           "peak_rss_mib_1_rank": round(max(rss["1 rank"])), "peak_rss_mib_per_rank_2_ranks": round(max(rss["2 ranks"])),
           "peak_rss_mib_per_rank_2_ranks_zero1": round(max(rss["2 ranks ZeRO-1"]))}
    step = batch * ctx / one
    proj = {}
    for link in LINKS:
        for n in (8, 64):
            eff, t_comm = project(nbytes, buckets, step, n, link)
            proj[f"{link} {n} ranks"] = {"efficiency": round(eff, 3), "allreduce_ms": round(1e3 * t_comm, 1)}
    row["projected_efficiency"] = proj
    if a.curve:
        rows1, _, _ = train([double], work, a.curve, env)
        rows2, _, _ = train(cmd2, work, a.curve, env)
        l1 = {x["step"]: x["loss"] for x in rows1 if "lr" in x}
        l2 = {x["step"]: x["loss"] for x in rows2 if "lr" in x}
        row["loss_curve_steps"] = a.curve
        row["loss_curve_max_relative_difference"] = max(abs(l1[s] - l2[s]) / abs(l1[s]) for s in l1)
        row["final_loss_1_rank_2b"], row["final_loss_2_ranks_b"] = l1[a.curve], l2[a.curve]
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
