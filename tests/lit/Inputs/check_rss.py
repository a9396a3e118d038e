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
# The trainer's own peak RSS from wait4 (no /usr/bin/time needed).
proc = subprocess.Popen([trainer, "train", "--steps", "3", "--eval-every", "0", "--checkpoint", "rss.safetensors",
                         "--metrics", "rss.jsonl"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
err = proc.stderr.read()
_, status, usage = os.wait4(proc.pid, 0)
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit(err)
rss = usage.ru_maxrss / 1024
limit = 1.25 * plan + 96
print(f"peak RSS {rss:.1f} MiB, planned {plan:.1f} MiB, limit {limit:.1f} MiB")
sys.exit(0 if rss <= limit else 1)
