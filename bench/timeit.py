#!/usr/bin/env python3
"""Median wall time of commands, side by side: timeit.py RUNS NAME=CMD [NAME=CMD...]

Each command runs RUNS times (after one warm-up run) through the shell's exec, so every
tool pays the same spawn cost. Prints one line per command: name, median ms, min, max,
and the ratio to the first command. Exits non-zero if a command fails."""
import shlex
import statistics
import subprocess
import sys
import time


def measure(cmd, runs):
    argv = shlex.split(cmd)
    times = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        t1 = time.perf_counter()
        if r.returncode != 0:
            sys.stderr.write(f"command failed ({r.returncode}): {cmd}\n{r.stderr.decode()}\n")
            sys.exit(1)
        if i > 0:  # the first run warms caches
            times.append((t1 - t0) * 1000.0)
    return statistics.median(times), min(times), max(times)


def main():
    runs = int(sys.argv[1])
    results = []
    for spec in sys.argv[2:]:
        name, cmd = spec.split("=", 1)
        results.append((name, *measure(cmd, runs)))
    print(f"{'command':<28} {'median ms':>10} {'min':>8} {'max':>8}")
    for name, med, lo, hi in results:
        print(f"{name:<28} {med:>10.1f} {lo:>8.1f} {hi:>8.1f}")
    return results


if __name__ == "__main__":
    main()
