"""Runs a trainer, waits until it has logged a training step, sends it SIGNAL and checks that it
exited by itself with CODE (not killed by the signal: a process the signal kills has no exit
code, which a shell would also report as 128 + signal). Its output goes to LOG.
usage: signal_run.py INT|TERM CODE LOG -- COMMAND..."""
import signal
import subprocess
import sys
import time

sig, code, log = getattr(signal, "SIG" + sys.argv[1]), int(sys.argv[2]), sys.argv[3]
command = sys.argv[sys.argv.index("--") + 1:]
with open(log, "w+") as out:
    p = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        out.seek(0)
        if "\nstep " in "\n" + out.read():
            break
        time.sleep(0.05)
    if p.poll() is not None:
        sys.exit(f"the trainer ended before it was signalled (status {p.returncode})")
    p.send_signal(sig)
    status = p.wait(timeout=120)
if status != code:
    sys.exit(f"exit status {status}, expected {code}" + (" (killed by the signal: not handled)" if status < 0 else ""))
