"""Checks a metrics log: the last value of KEY is above THRESHOLD."""
import json
import sys

path, key, threshold = sys.argv[1], sys.argv[2], float(sys.argv[3])
values = [r[key] for r in map(json.loads, open(path)) if key in r]
print(f"{key} {values[-1]:.4f} (threshold {threshold})")
sys.exit(0 if values and values[-1] > threshold else 1)
