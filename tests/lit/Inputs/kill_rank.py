#!/usr/bin/env python3
"""Starts a data-parallel run, sends one of its ranks SIGKILL (or --signal) once the metrics log
has reached a step, and reports how the run ended: its exit status, the seconds from the signal
to the end of every process, and its output.

usage: kill_rank.py --rank R --after-step S --metrics PATH [--signal KILL|TERM|INT] [--timeout SECONDS] -- mpirun ...
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time


def descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    out, unvisited = [], [pid]
    while unvisited:
        p = unvisited.pop()
        for c in children.get(p, []):
            out.append(c)
            unvisited.append(c)
    return out


def rank_of(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            for item in f.read().split(b"\0"):
                if item.startswith(b"OMPI_COMM_WORLD_RANK="):
                    return int(item.split(b"=", 1)[1])
    except OSError:
        pass
    return None


def last_step(path):
    try:
        with open(path) as f:
            steps = [json.loads(line).get("step", 0) for line in f if line.strip()]
        return max(steps, default=0)
    except (OSError, ValueError):
        return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rank", type=int, required=True)
    p.add_argument("--after-step", type=int, required=True)
    p.add_argument("--metrics", required=True)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--signal", default="KILL")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + args.timeout
    while last_step(args.metrics) < args.after_step:
        if run.poll() is not None or time.time() > deadline:
            print(f"kill_rank: the run {'ended' if run.poll() is not None else 'did not reach step'} before step {args.after_step}")
            print(run.communicate()[0])
            return 1
        time.sleep(0.05)
    victims = [pid for pid in descendants(run.pid) if rank_of(pid) == args.rank]
    if not victims:
        run.kill()
        print(f"kill_rank: no process of rank {args.rank}")
        return 1
    os.kill(victims[0], getattr(signal, "SIG" + args.signal))
    killed = time.time()
    try:
        output = run.communicate(timeout=args.timeout)[0]
    except subprocess.TimeoutExpired:
        run.kill()
        print(f"kill_rank: the run still runs {args.timeout:.0f} s after rank {args.rank} was killed")
        return 1
    left = [pid for pid in descendants(os.getpid()) if rank_of(pid) is not None]
    print(output)
    print(f"kill_rank: sent SIG{args.signal} to rank {args.rank} at step {args.after_step}; the run ended with status {run.returncode} "
          f"{time.time() - killed:.1f} s later; {len(left)} rank process(es) left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
