"""Fault injection: kills a trainer with SIGKILL at random moments while it writes a checkpoint
after every step, ROUNDS times (each round resumes from the checkpoint the last left), and
checks after every kill that the checkpoint on disk is whole (the trainer's own eval loads it,
checksum included) and that its step never goes back. A final run must remove every temporary
file the killed writers left. usage: kill_checkpoints.py TRAINER ROUNDS"""
import glob
import os
import random
import re
import signal
import subprocess
import sys
import time

trainer, rounds = os.path.abspath(sys.argv[1]), int(sys.argv[2])
random.seed(7)
ckpt = "killed.safetensors"
run = [trainer, "train", "--steps", "1000000", "--checkpoint-every", "1", "--eval-every", "0", "--log-every", "1",
       "--checkpoint", ckpt, "--metrics", "killed.jsonl"]
subprocess.run(run[:2] + ["--steps", "1"] + run[4:], check=True, capture_output=True)


def saves(log):
    with open(log) as f:
        return f.read().count("\nsaved ")


last_step, in_write = 1, 0
for r in range(rounds):
    # Kill at a random moment of the steady state (after two saves, within one save period), so
    # the kills land in writes as often as writes take time, whatever the build's speed.
    with open("kill.log", "w") as log:
        p = subprocess.Popen(run + ["--resume"], stdout=subprocess.DEVNULL, stderr=log)
    deadline, seen = time.time() + 300, []
    while time.time() < deadline and p.poll() is None and len(seen) < 2:
        if saves("kill.log") > len(seen):
            seen.append(time.time())
        time.sleep(0.01)
    if len(seen) < 2:
        sys.exit(f"round {r}: the trainer did not save twice (status {p.poll()})")
    time.sleep(random.random() * (seen[1] - seen[0]))
    p.send_signal(signal.SIGKILL)
    p.wait()
    in_write += os.path.exists(f".killed.safetensors.tmp-{p.pid}")  # this writer's partial file
    out = subprocess.run([trainer, "eval", "--checkpoint", ckpt, "--batches", "1"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"round {r}: the checkpoint does not load after the kill: {out.stderr.strip()}")
    step = int(re.search(r"at step (\d+)", out.stdout).group(1))
    if step < last_step:
        sys.exit(f"round {r}: the checkpoint went back from step {last_step} to {step}")
    last_step = step
left = glob.glob(".killed.safetensors.tmp-*")  # the last writer's, if it was killed mid-write
subprocess.run(run[:2] + ["--steps", str(last_step + 1)] + run[4:] + ["--resume"], check=True, capture_output=True)
remaining = glob.glob(".killed.safetensors.tmp-*")
print(f"{rounds} kills, {in_write} of them with a checkpoint write under way; checkpoint at step {last_step}; "
      f"{len(left)} temporary file(s) after the kills, {len(remaining)} after the next run")
sys.exit(1 if remaining else 0)
