#!/bin/bash
# Start-up of two rrun builds side by side (an A/B check that a change costs no start-up
# time): `rrun run --rm --network none IMG true` on both storage drivers, each build with a
# store of its own holding the same busybox image, round robin in one timeit run.
# Run as an unprivileged user with a subuid range:
#   RRUN_A=/path/to/old/rrun RRUN_B=build/src/rrun bench/startup-ab.sh [RUNS]
# NETWORK=slirp times the default network instead of none; RRUN_NET_A and RRUN_NET_B then
# name each build's network helper (a change to rrun-net alone: the same rrun twice).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RRUN_A=${RRUN_A:?RRUN_A: the baseline rrun binary}
RRUN_B=${RRUN_B:-$top/build/src/rrun}
RUNS=${1:-${RUNS:-30}}
[ "$(id -u)" != 0 ] || { echo "startup-ab.sh: run it as an unprivileged user" >&2; exit 2; }

work=$(mktemp -d)
run=$(mktemp -d -p "${XDG_RUNTIME_DIR:-/dev/shm}" rrun-ab.XXXXXX)
cleanup() {
  for v in A B; do
    bin=RRUN_$v
    "${!bin}" --root "$work/storage-$v" --runroot "$run/$v" system reset -f >/dev/null 2>&1 || true
  done
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work" "$run"
}
trap cleanup EXIT
"$top/tests/fixtures/make-rootfs.sh" "$work" >/dev/null
cmds=()
for v in A B; do
  bin=RRUN_$v
  root=(--root "$work/storage-$v" --runroot "$run/$v")
  "${!bin}" "${root[@]}" import "$work/rootfs.tar" bench/busybox >/dev/null
  net=RRUN_NET_$v
  pre=
  [ -n "${!net:-}" ] && pre="env RRUN_NET=$(realpath "${!net}") "
  for d in overlay fuse-overlayfs; do
    cmds+=("$v $d=$pre${!bin} ${root[*]} --storage-driver $d run --rm --network ${NETWORK:-none} bench/busybox true")
  done
done
echo "# $(uname -r), $(nproc) cores, $RUNS runs each, $(date -u +%Y-%m-%d)"
echo "# A: $RRUN_A"
echo "# B: $RRUN_B"
echo "# network: ${NETWORK:-none}; helpers: A ${RRUN_NET_A:-default}, B ${RRUN_NET_B:-default}"
python3 "$here/timeit.py" "$RUNS" "${cmds[@]}"
