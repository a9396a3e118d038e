"""Runs a trainer for a few steps and checks that its peak RSS stays within the memory plan
`info` reports plus the stated runtime overhead: 25% of the plan + 96 MiB (libraries, the parsed
program, the tokenizer, the corpus and its token streams, oneDNN scratch space)."""
import os
import re
import subprocess
import sys

trainer = sys.argv[1]
info = subprocess.run([trainer, "info"], capture_output=True, text=True, check=True).stdout
plan = float(re.search(r"total planned\s+([0-9.]+) MiB", info).group(1))
run = subprocess.run(["/usr/bin/time", "-f", "%M", trainer, "train", "--steps", "3", "--eval-every", "0",
                      "--checkpoint", "rss.safetensors", "--metrics", "rss.jsonl"], capture_output=True, text=True)
if run.returncode != 0:
    sys.exit(run.stderr)
rss = int(run.stderr.strip().splitlines()[-1]) / 1024
limit = 1.25 * plan + 96
print(f"peak RSS {rss:.1f} MiB, planned {plan:.1f} MiB, limit {limit:.1f} MiB")
sys.exit(0 if rss <= limit else 1)
