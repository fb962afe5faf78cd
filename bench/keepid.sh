#!/bin/bash
# --userns=keep-id start-up against the default on the same image (issue 6: <= 1.5x, the
# first run included, since keep-id must not copy or re-chown layers: it remaps them at
# mount time through fuse-overlayfs). Also the first keep-id run alone.
# Run as an unprivileged user with a subuid range:   bench/keepid.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RRUN=${RRUN:-$top/build/src/rrun}
RUNS=${1:-20}
[ "$(id -u)" != 0 ] || { echo "keepid.sh: run it as an unprivileged user" >&2; exit 2; }
work=$(mktemp -d)
# Stores hold files of subordinate ids, which only rrun can remove (system reset).
cleanup() {
  local d
  for d in "$work"/first-* "$work"; do
    [ -d "$d/storage" ] && "$RRUN" --root "$d/storage" --runroot "$d/run" system reset -f >/dev/null 2>&1
  done
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
"$top/tests/fixtures/make-rootfs.sh" "$work" >/dev/null
# First runs: each on a fresh store with the image just imported, keep-id and the default
# alike (the first run of any kind also creates the store's run-time directories), timed
# the same way; median of FIRST (default 5) fresh stores each.
FIRST=${FIRST:-5}
first_run() { # first_run NAME [run options...]
  local name=$1 i d t0 t1
  shift
  local times=()
  for ((i = 0; i < FIRST; i++)); do
    d=$work/first-$name-$i
    "$RRUN" --root "$d/storage" --runroot "$d/run" import "$work/rootfs.tar" bench/busybox >/dev/null
    t0=$(date +%s%N)
    "$RRUN" --root "$d/storage" --runroot "$d/run" run --rm --network none "$@" bench/busybox true
    t1=$(date +%s%N)
    times+=("$(( (t1 - t0) / 1000 ))")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v n="$name" '{a[NR]=$1} END {printf "first run, %-8s median %.1f ms (of %d fresh stores)\n", n, a[int((NR+1)/2)]/1000, NR}'
}
first_run default
first_run keep-id --userns keep-id

r=("$RRUN" --root "$work/storage" --runroot "$work/run")
"${r[@]}" import "$work/rootfs.tar" bench/busybox >/dev/null
python3 "$here/timeit.py" "$RUNS" \
  "default (auto driver)=${r[*]} run --rm --network none bench/busybox true" \
  "default, fuse-overlayfs=${r[*]} --storage-driver fuse-overlayfs run --rm --network none bench/busybox true" \
  "keep-id=${r[*]} run --rm --network none --userns keep-id bench/busybox true"
