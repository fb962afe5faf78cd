#!/usr/bin/env python3
"""Median wall time of commands, side by side: timeit.py RUNS NAME=CMD [NAME=CMD...]

Each command runs RUNS times (after one warm-up round), round robin with the others, so
every tool pays the same spawn cost and the same drift of a shared machine. Prints one
line per command: name, median ms, min, max. Exits non-zero if a command fails."""
import shlex
import statistics
import subprocess
import sys
import time


def run_once(cmd, argv):
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
    for i in range(runs + 1):
        for name, cmd in specs:
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
