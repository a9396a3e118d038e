"""Checks a metrics log: the mean training loss of the last 10 steps is below that of the first 10."""
import json
import sys

losses = [r["loss"] for r in map(json.loads, open(sys.argv[1])) if "loss" in r]
first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
print(f"loss {first:.4f} -> {last:.4f}")
sys.exit(0 if last < first - 0.1 else 1)
