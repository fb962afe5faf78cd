#!/usr/bin/env python3
"""Median wall time of commands, side by side: timeit.py RUNS NAME=CMD [NAME=CMD...]

Each command runs RUNS times (after one warm-up round), round robin with the others, so
every tool pays the same spawn cost and the same drift of a shared machine; the order
within a round is shuffled (seeded: reproducible), so that no command always runs right
after the same other one (podman's exit leaves work running behind it, which slowed
whatever came next by 1-3 ms). Before each run it also waits (1 s at most) until the
machine is quiet, under 20% busy over 10 ms: `podman run --rm` returns before its clean-up
(conmon, `podman container cleanup`) has finished, and that background load fell on the
next command, hurting most the ones that use both cores. Prints one line per command:
name, median ms, min, max. Exits non-zero if a command fails. TIMEIT_SETTLE=0 runs
back to back instead."""
import os
import random
import shlex
import statistics
import subprocess
import sys
import time


def cpu_times():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields), idle


def settle(limit_s=1.0, window_s=0.01, busy_max=0.2):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        t0, i0 = cpu_times()
        time.sleep(window_s)
        t1, i1 = cpu_times()
        if t1 > t0 and 1.0 - (i1 - i0) / (t1 - t0) < busy_max:
            return


def run_once(cmd, argv):
    if os.environ.get("TIMEIT_SETTLE", "1") != "0":
        settle()
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    t1 = time.perf_counter()
    if r.returncode != 0:
        sys.stderr.write(f"command failed ({r.returncode}): {cmd}\n{r.stderr.decode()}\n")
        sys.exit(1)
    return (t1 - t0) * 1000.0


def main():
    runs = int(sys.argv[1])
    specs = [spec.split("=", 1) for spec in sys.argv[2:]]
    times = {name: [] for name, _ in specs}
    # Round robin: on a shared VM the speed drifts by tens of percent within minutes, so
    # each round runs every command once and a slow stretch hits all of them alike.
    order = list(specs)
    rng = random.Random(1)
    for i in range(runs + 1):
        rng.shuffle(order)
        for name, cmd in order:
            ms = run_once(cmd, shlex.split(cmd))
            if i > 0:  # the first round warms caches
                times[name].append(ms)
    print(f"{'command':<28} {'median ms':>10} {'min':>8} {'max':>8}")
    results = []
    for name, _ in specs:
        med, lo, hi = statistics.median(times[name]), min(times[name]), max(times[name])
        results.append((name, med, lo, hi))
        print(f"{name:<28} {med:>10.1f} {lo:>8.1f} {hi:>8.1f}")
    return results


if __name__ == "__main__":
    main()
