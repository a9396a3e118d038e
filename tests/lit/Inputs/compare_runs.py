#!/usr/bin/env python3
"""Compares two training runs: the losses of their metrics logs step by step and the tensors of
their checkpoints, each within a relative tolerance. Prints the largest differences; exit status
1 when any is over it.

usage: compare_runs.py --rtol 1e-5 [--metrics A.jsonl B.jsonl] [--checkpoints A.safetensors B.safetensors]
                       [--except NAME:START:STOP ...]

--except leaves elements [START, STOP) of a tensor out: those whose gradient is zero in exact
arithmetic, where AdamW's normalized update turns the rounding noise of any other summation
order into steps of up to lr (the key bias: softmax over keys does not change when the same
number is added to every score).
"""
import argparse
import json
import math
import struct
import sys


def losses(path):
    out = {}
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if "loss" in rec and "lr" in rec:  # a training step (evaluation lines have no lr)
                out[rec["step"]] = rec["loss"]
    return out


def tensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {info['dtype']}, only F32 is compared")
        a, b = info["data_offsets"]
        out[name] = struct.unpack(f"<{(b - a) // 4}f", body[a:b])
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rtol", type=float, required=True)
    p.add_argument("--metrics", nargs=2)
    p.add_argument("--checkpoints", nargs=2)
    p.add_argument("--except", dest="excepted", action="append", default=[])
    args = p.parse_args()
    left_out = {}
    for e in args.excepted:
        name, start, stop = e.rsplit(":", 2)
        left_out.setdefault(name, []).append(range(int(start), int(stop)))
    bad = False
    if args.metrics:
        a, b = losses(args.metrics[0]), losses(args.metrics[1])
        if sorted(a) != sorted(b) or not a:
            print(f"steps differ: {sorted(a)[:5]}... vs {sorted(b)[:5]}...")
            return 1
        worst = max(abs(a[s] - b[s]) / max(abs(a[s]), 1e-30) for s in a)
        print(f"losses: {len(a)} steps, largest relative difference {worst:.3g}")
        bad |= not worst <= args.rtol
    if args.checkpoints:
        a, b = tensors(args.checkpoints[0]), tensors(args.checkpoints[1])
        if sorted(a) != sorted(b):
            print("the checkpoints hold different tensors")
            return 1
        worst, where = 0.0, ""
        for name in a:
            # Relative to the tensor's scale: elements near zero (AdamW moments) would otherwise
            # compare rounding noise with itself.
            scale = max(max(abs(x) for x in a[name]), 1e-30)
            skip = left_out.pop(name, [])
            d = max((abs(x - y) for i, (x, y) in enumerate(zip(a[name], b[name])) if not any(i in r for r in skip)),
                    default=0.0) / scale
            if math.isnan(d) or d > worst:
                worst, where = d, name
        if left_out:
            print(f"no such tensors: {', '.join(left_out)}")
            return 1
        print(f"checkpoints: {len(a)} tensors, largest relative difference {worst:.3g} ({where})")
        bad |= not worst <= args.rtol
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
