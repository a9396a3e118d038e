"""Checks a metrics log: the mean of KEY over the last 10 steps exceeds that of the first 10 by MARGIN."""
import json
import sys

path, key, margin = sys.argv[1], sys.argv[2], float(sys.argv[3])
values = [r[key] for r in map(json.loads, open(path)) if key in r]
first, last = sum(values[:10]) / 10, sum(values[-10:]) / 10
print(f"{key} {first:.4f} -> {last:.4f}")
sys.exit(0 if last > first + margin else 1)
