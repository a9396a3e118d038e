#!/usr/bin/env python3
"""Time to first step: from launching a compiled trainer (`train --steps 1`) to its first progress
line, which it prints when step 1 is done. Alternates the given trainers; prints the median of each.

    python3 bench/startup.py TRAINER [TRAINER ...] [--rounds 5]
"""
import argparse, os, statistics, subprocess, tempfile, time


def first_step_seconds(trainer, work):
    t0 = time.monotonic()
    p = subprocess.Popen([os.path.abspath(trainer), "train", "--steps", "1", "--eval-every", "0",
                          "--checkpoint", os.path.join(work, "c.safetensors"), "--metrics", os.path.join(work, "m.jsonl")],
                         stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=work)
    seen = None
    for line in p.stderr:
        if seen is None and line.startswith("step 1/"):
            seen = time.monotonic() - t0
    p.wait()
    if p.returncode != 0 or seen is None:
        raise SystemExit(f"{trainer} failed ({p.returncode})")
    return seen


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trainers", nargs="+")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    times = {t: [] for t in a.trainers}
    with tempfile.TemporaryDirectory() as work:
        for _ in range(a.rounds):
            for t in a.trainers:
                times[t].append(first_step_seconds(t, work))
    for t, v in times.items():
        print(f"{t}: time to first step {statistics.median(v):.3f} s (median of {len(v)}; {min(v):.3f}-{max(v):.3f})")


if __name__ == "__main__":
    main()
