#!/usr/bin/env python3
"""Runs a command under mpirun on two "hosts" made on this machine: two network namespaces joined
by a veth pair, each with its own address. mpirun runs in the first and starts the second's
ranks through an rsh agent that enters that namespace (as ssh would log in to another machine),
from a hostfile of the two addresses; the ranks talk over TCP on the veth pair only. The
namespaces, links and files are removed however the run ends.

usage: two_hosts.py WORKDIR -- TRAINER ARGS...     (needs root: ip netns, ip link)
       two_hosts.py --probe                        (exit 0 when this machine can make them)
"""
import os
import subprocess
import sys


def ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def main():
    tag = f"k{os.getpid()}"
    ns = (f"{tag}a", f"{tag}b")
    net = f"10.{100 + (os.getpid() >> 8) % 100}.{os.getpid() % 256}"
    addrs = (f"{net}.1", f"{net}.2")
    made = []
    try:
        for n in ns:
            ip("netns", "add", n)
            made.append(n)
        ip("link", "add", f"{tag}x", "type", "veth", "peer", "name", f"{tag}y")
        for n, link, addr in zip(ns, (f"{tag}x", f"{tag}y"), addrs):
            ip("link", "set", link, "netns", n)
            ip("netns", "exec", n, "ip", "addr", "add", f"{addr}/24", "dev", link)
            ip("netns", "exec", n, "ip", "link", "set", link, "up")
            ip("netns", "exec", n, "ip", "link", "set", "lo", "up")
        if sys.argv[1:2] == ["--probe"]:
            return 0
        work = sys.argv[1]
        command = sys.argv[sys.argv.index("--") + 1:]
        agent = os.path.join(work, "rsh-agent.sh")
        with open(agent, "w") as f:
            f.write("#!/bin/sh\n# Enters the namespace of the host named in $1 and runs the rest there.\n"
                    f'host=$1; shift\ncase $host in\n  {addrs[0]}) ns={ns[0]} ;;\n  {addrs[1]}) ns={ns[1]} ;;\n'
                    '  *) echo "rsh-agent: unknown host $host" >&2; exit 1 ;;\nesac\n'
                    'echo "$host" >> "$(dirname "$0")/rsh-agent.log"\nexec ip netns exec $ns sh -c "$*"\n')
        os.chmod(agent, 0o755)
        hosts = os.path.join(work, "hosts")
        with open(hosts, "w") as f:
            f.write("".join(f"{a} slots=1\n" for a in addrs))
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        mpirun = ["ip", "netns", "exec", ns[0], "mpirun", "--hostfile", hosts, "-np", "2",
                  "--mca", "plm_rsh_agent", agent, "--mca", "btl", "tcp,self",
                  "--mca", "btl_tcp_if_include", f"{net}.0/24", "--mca", "oob_tcp_if_include", f"{net}.0/24"]
        return subprocess.run(mpirun + command, env=env, cwd=work, timeout=300).returncode
    except (subprocess.CalledProcessError, OSError) as e:
        detail = e.stderr.strip() if isinstance(e, subprocess.CalledProcessError) else str(e)
        print(f"two_hosts: cannot make the namespaces: {detail}", file=sys.stderr)
        return 2
    finally:
        for n in made:
            ip("netns", "delete", n, check=False)  # takes its end of the veth pair with it


if __name__ == "__main__":
    sys.exit(main())
