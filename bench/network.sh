#!/bin/bash
# User-defined networks (issue 16), medians of RUNS runs, side by side with podman where it
# runs here:
#   1. `network create` of a network with an automatic subnet (a new name each run, so
#      every run also checks the subnet against all the networks made before it), against
#      `podman network create` of the same; `sh -c` around both
#   2. `network ls -q` and `network inspect` with 20 networks defined
# (`rrun version` is the floor: starting rrun at all)
# What the issue also asks for (container-to-container throughput, start cost on a user
# network, DNS latency) needs containers on user networks, which rrun does not run yet.
# Run as an unprivileged user: bench/network.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RRUN=${RRUN:-$top/build/src/rrun}
RUNS=${1:-${RUNS:-30}}
[ "$(id -u)" != 0 ] || { echo "network.sh: run it as an unprivileged user" >&2; exit 2; }

work=$(mktemp -d -p /var/tmp rrun-netbench.XXXXXX)
run=$(mktemp -d -p "${XDG_RUNTIME_DIR:-/dev/shm}" rrun-netbench.XXXXXX)
R=("$RRUN" --root "$work/storage" --runroot "$run")
P=()
if command -v podman >/dev/null && podman --root "$work/podman" --runroot "$run/podman" \
     network ls >/dev/null 2>&1; then
  P=(podman --root "$work/podman" --runroot "$run/podman")
fi
cleanup() {
  "${R[@]}" network prune -f >/dev/null 2>&1 || true
  if [ ${#P[@]} -gt 0 ]; then "${P[@]}" network prune -f >/dev/null 2>&1 || true; fi
  rm -rf "$work" "$run"
}
trap cleanup EXIT

echo "# $(uname -r), $(nproc) cores, $RUNS runs each, $(date -u +%Y-%m-%d)"
echo "# 1. network create (automatic subnet; a new name each run)"
new='n$(date +%s%N)'
cmds=("rrun=sh -c '${R[*]} network create $new >/dev/null'"
      "rrun-version=sh -c ': $new; ${R[*]} version >/dev/null'")
if [ ${#P[@]} -gt 0 ]; then
  cmds+=("podman=sh -c '${P[*]} network create $new >/dev/null'")
fi
python3 "$here/timeit.py" "$RUNS" "${cmds[@]}"
"${R[@]}" network prune -f >/dev/null
if [ ${#P[@]} -gt 0 ]; then "${P[@]}" network prune -f >/dev/null; fi

echo "# 2. ls and inspect with 20 networks"
for i in $(seq 20); do "${R[@]}" network create "b$i" >/dev/null; done
cmds=("rrun-ls=${R[*]} network ls -q" "rrun-inspect=${R[*]} network inspect b10")
# podman's side only with BENCH_PODMAN_LS=1: its 20 creates alone take a minute here.
if [ ${#P[@]} -gt 0 ] && [ -n "${BENCH_PODMAN_LS:-}" ]; then
  for i in $(seq 20); do "${P[@]}" network create "b$i" >/dev/null; done
  cmds+=("podman-ls=${P[*]} network ls -q" "podman-inspect=${P[*]} network inspect b10")
fi
python3 "$here/timeit.py" "$RUNS" "${cmds[@]}"
