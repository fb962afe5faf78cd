#!/bin/bash
# Start-up of two rrun builds side by side, with the CPU time of rrun and all its children
# beside the wall time (getrusage(RUSAGE_CHILDREN) around each run): on a loaded machine
# CPU time is disturbed less than wall time. Round robin, each build with its own store.
# Run as an unprivileged user with a subuid range:
#   RRUN_A=/path/to/old/rrun RRUN_B=build/src/rrun bench/startup-ab-cpu.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
A=${RRUN_A:?RRUN_A: the baseline rrun binary}
B=${RRUN_B:-$top/build/src/rrun}
RUNS=${1:-20}
[ "$(id -u)" != 0 ] || { echo "startup-ab-cpu.sh: run it as an unprivileged user" >&2; exit 2; }
work=$(mktemp -d)
run=$(mktemp -d -p "${XDG_RUNTIME_DIR:-/dev/shm}" rrun-ab.XXXXXX)
cleanup() {
  "$A" --root "$work/sA" --runroot "$run/A" system reset -f >/dev/null 2>&1 || true
  "$B" --root "$work/sB" --runroot "$run/B" system reset -f >/dev/null 2>&1 || true
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work" "$run"
}
trap cleanup EXIT
"$top/tests/fixtures/make-rootfs.sh" "$work" >/dev/null
"$A" --root "$work/sA" --runroot "$run/A" import "$work/rootfs.tar" bench/busybox >/dev/null
"$B" --root "$work/sB" --runroot "$run/B" import "$work/rootfs.tar" bench/busybox >/dev/null
echo "# $(uname -r), $(nproc) cores, $RUNS runs each, $(date -u +%Y-%m-%d); A: $A; B: $B"
python3 - "$RUNS" \
  "A overlay=$A --root $work/sA --runroot $run/A --storage-driver overlay run --rm --network none bench/busybox true" \
  "B overlay=$B --root $work/sB --runroot $run/B --storage-driver overlay run --rm --network none bench/busybox true" \
  "A fuse-overlayfs=$A --root $work/sA --runroot $run/A --storage-driver fuse-overlayfs run --rm --network none bench/busybox true" \
  "B fuse-overlayfs=$B --root $work/sB --runroot $run/B --storage-driver fuse-overlayfs run --rm --network none bench/busybox true" <<'PY'
import resource, statistics, subprocess, sys, time
runs = int(sys.argv[1])
cmds = dict(a.split("=", 1) for a in sys.argv[2:])
wall = {k: [] for k in cmds}
cpu = {k: [] for k in cmds}
for _ in range(2):  # warm-up
    for c in cmds.values():
        subprocess.run(c.split(), check=True)
for _ in range(runs):
    for k, c in cmds.items():
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        subprocess.run(c.split(), check=True)
        t1 = time.monotonic()
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall[k].append((t1 - t0) * 1000)
        cpu[k].append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000)
print("%-20s %14s %14s" % ("command", "wall median ms", "CPU median ms"))
for k in cmds:
    print("%-20s %14.1f %14.1f" % (k, statistics.median(wall[k]), statistics.median(cpu[k])))
PY
