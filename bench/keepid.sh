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
# Run roots where a login session keeps them (tmpfs under $XDG_RUNTIME_DIR; /dev/shm stands
# in without one), or RUNROOT=disk beside the stores: see startup.sh.
case ${RUNROOT:-session} in
  disk) runs=$work ;;
  session) runs=$(mktemp -d -p "${XDG_RUNTIME_DIR:-/dev/shm}" rrun-bench.XXXXXX) ;;
  *) echo "keepid.sh: RUNROOT must be session or disk" >&2; exit 2 ;;
esac
# Stores hold files of subordinate ids, which only rrun can remove (system reset).
cleanup() {
  local d
  for d in "$work"/first-*; do
    [ -d "$d/storage" ] && "$RRUN" --root "$d/storage" --runroot "$runs/$(basename "$d")-run" \
      system reset -f >/dev/null 2>&1
  done
  "$RRUN" --root "$work/storage" --runroot "$runs/run" system reset -f >/dev/null 2>&1
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work" "$runs" 2>/dev/null || true
}
trap cleanup EXIT
"$top/tests/fixtures/make-rootfs.sh" "$work" >/dev/null
# First runs: each on a fresh store with the image just imported, keep-id and the default
# alike (the first run of any kind also creates the store's run-time directories), timed
# the same way, the two kinds alternating; median of FIRST (default 5) fresh stores each.
FIRST=${FIRST:-5}
first_run() { # first_run NAME I [run options...]: prints the time in microseconds
  local name=$1 i=$2 d t0 t1
  shift 2
  d=$work/first-$name-$i
  "$RRUN" --root "$d/storage" --runroot "$runs/first-$name-$i-run" import "$work/rootfs.tar" \
    bench/busybox >/dev/null
  t0=$(date +%s%N)
  "$RRUN" --root "$d/storage" --runroot "$runs/first-$name-$i-run" run --rm --network none "$@" \
    bench/busybox true
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000 ))"
}
median_ms() { sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'; }
first_default=() first_keepid=()
for ((i = 0; i < FIRST; i++)); do
  first_default+=("$(first_run default "$i")")
  first_keepid+=("$(first_run keep-id "$i" --userns keep-id)")
done
d_ms=$(printf '%s\n' "${first_default[@]}" | median_ms)
k_ms=$(printf '%s\n' "${first_keepid[@]}" | median_ms)
echo "first run, default  median $d_ms ms (of $FIRST fresh stores)"
echo "first run, keep-id  median $k_ms ms (of $FIRST fresh stores)"
echo "first run, keep-id / default = $(echo "scale=2; $k_ms / $d_ms" | bc)x (goal <= 1.5)"

r=("$RRUN" --root "$work/storage" --runroot "$runs/run")
"${r[@]}" import "$work/rootfs.tar" bench/busybox >/dev/null
python3 "$here/timeit.py" "$RUNS" \
  "default (auto driver)=${r[*]} run --rm --network none bench/busybox true" \
  "default, fuse-overlayfs=${r[*]} --storage-driver fuse-overlayfs run --rm --network none bench/busybox true" \
  "keep-id=${r[*]} run --rm --network none --userns keep-id bench/busybox true" | tee "$work/out"
awk '/^default \(auto/ {d = $(NF-2)} /^keep-id/ {k = $(NF-2)}
     END {printf "keep-id / default = %.2fx (goal <= 1.5)\n", k / d}' "$work/out"
