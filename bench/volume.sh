#!/bin/bash
# Volumes (issue 15), medians of RUNS runs:
#   1. copy-up of a 5,000-file directory into a new volume, against `cp -a` of the same
#      tree: `run -v NEW:/data` minus `run -v NEW:/data:nocopy` (a new volume each run)
#   2. start-up with a named volume: `run -v named:/mnt/vol` against `run` without it
#   3. `volume rm` of 10,000 files owned by a subordinate ID, against `rm -rf` of the same
#      tree by its owner
# Run as an unprivileged user with a subuid range: bench/volume.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RRUN=${RRUN:-$top/build/src/rrun}
RUNS=${1:-${RUNS:-15}}
[ "$(id -u)" != 0 ] || { echo "volume.sh: run it as an unprivileged user" >&2; exit 2; }

work=$(mktemp -d -p /var/tmp rrun-vol.XXXXXX)
export XDG_DATA_HOME=$work/data XDG_CONFIG_HOME=$work/config
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
run=$(mktemp -d -p "${XDG_RUNTIME_DIR:-/dev/shm}" rrun-vol.XXXXXX)
R=("$RRUN" --root "$work/storage" --runroot "$run")
cleanup() {
  "${R[@]}" volume prune -f -a >/dev/null 2>&1 || true
  "${R[@]}" system reset -f >/dev/null 2>&1 || true
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work" "$run"
}
trap cleanup EXIT

# The busybox rootfs with /data: 50 directories of 100 files of 1-4 KiB.
"$top/tests/fixtures/make-rootfs.sh" "$work" >/dev/null
python3 - "$work/rootfs/data" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(50):
    p = os.path.join(root, "d%02d" % d)
    os.makedirs(p)
    for f in range(100):
        with open(os.path.join(p, "f%03d" % f), "wb") as fh:
            fh.write(b"x" * (1024 * (1 + (d + f) % 4)))
PY
python3 "$top/tests/fixtures/tarball.py" "$work/rootfs" "$work/rootfs.owners" "$work/data.tar"
"${R[@]}" import "$work/data.tar" bench/vol >/dev/null
layer=$(dirname "$(find "$work/storage/layers" -maxdepth 3 -name data -type d | head -1)")
"${R[@]}" volume create named >/dev/null
"${R[@]}" run --rm --network none -v named:/mnt/vol bench/vol sh -c 'echo x >/mnt/vol/f'

echo "# $(uname -r), $(nproc) cores, $RUNS runs each, $(date -u +%Y-%m-%d)"
echo "# 1. copy-up of $(find "$layer/data" -type f | wc -l) files, $(du -sh "$layer/data" | cut -f1)"
new='v$(date +%s%N)'
python3 "$here/timeit.py" "$RUNS" \
  "copy-up=sh -c '${R[*]} run --rm --network none -v $new:/data bench/vol true'" \
  "nocopy=sh -c '${R[*]} run --rm --network none -v $new:/data:nocopy bench/vol true'" \
  "cp-a=sh -c 'cp -a $layer/data $work/cp-\$(date +%s%N)'"
"${R[@]}" volume prune -f -a >/dev/null
rm -rf "$work"/cp-*

echo "# 2. start-up with a named volume"
python3 "$here/timeit.py" "$RUNS" \
  "no-volume=${R[*]} run --rm --network none bench/vol true" \
  "named-volume=${R[*]} run --rm --network none -v named:/mnt/vol bench/vol true"

echo "# 3. removal of 10,000 files: volume rm (subordinate owner) vs rm -rf (own files)"
mk='for d in $(seq 100); do mkdir /d/$d; for f in $(seq 100); do echo x >/d/$d/$f; done; done; chown -R 1000:1000 /d'
python3 - "$RUNS" "$work" "${R[@]}" -- "$mk" <<'PY'
import os, statistics, subprocess, sys, time
runs, work = int(sys.argv[1]), sys.argv[2]
sep = sys.argv.index("--")
rrun, mk = sys.argv[3:sep], sys.argv[sep + 1]
vol, rmrf = [], []
for i in range(runs):
    name = "rm%d" % i
    subprocess.run(rrun + ["run", "--rm", "--network", "none", "-v", name + ":/d",
                           "bench/vol", "sh", "-c", mk], check=True)
    tree = os.path.join(work, "tree%d" % i)
    for d in range(1, 101):
        os.makedirs(os.path.join(tree, str(d)))
        for f in range(1, 101):
            with open(os.path.join(tree, str(d), str(f)), "w") as fh:
                fh.write("x\n")
    for label, cmd, out in ((name, rrun + ["volume", "rm", name], vol),
                            (tree, ["rm", "-rf", tree], rmrf)):
        subprocess.run(["sync"])
        t = time.monotonic()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        out.append((time.monotonic() - t) * 1000)
for label, v in (("volume-rm", vol), ("rm-rf", rmrf)):
    print("%-14s %8.1f ms  (min %.1f, max %.1f)" % (label, statistics.median(v), min(v), max(v)))
PY
