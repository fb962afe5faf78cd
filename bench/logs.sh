#!/bin/bash
# Log throughput of a detached container writing SIZE MB to stdout as fast as it can
# (`cat` of a file of 128-byte lines, bind-mounted read-only: busybox's `yes | head` makes
# only ~30 MB/s and would measure itself), rrun's monitor side by side with podman's
# conmon on the same busybox root, both with the k8s-file log (issue 14). Each run is timed from `run -d` to
# the end of `wait`, then checked: the log read back with `logs` must be the same bytes.
# Run as an unprivileged user with a subuid range:   bench/logs.sh [SIZE_MB] [RUNS]
# Environment: RRUN (default build/src/rrun), SIZE_MB (default 1024), RUNS (default 3),
# PODMAN_ARGS (extra global options of podman).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RRUN=${RRUN:-$top/build/src/rrun}
SIZE_MB=${1:-${SIZE_MB:-1024}}
RUNS=${2:-${RUNS:-3}}
[ "$(id -u)" != 0 ] || { echo "logs.sh: run it as an unprivileged user" >&2; exit 2; }

work=$(mktemp -d)
run=$(mktemp -d -p "${XDG_RUNTIME_DIR:-/dev/shm}" rrun-bench.XXXXXX)
cleanup() {
  "$RRUN" --root "$work/storage" --runroot "$run" system reset -f >/dev/null 2>&1 || true
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work" "$run"
  if [ -n "${podman_img:-}" ]; then
    "${podman[@]}" rm -af >/dev/null 2>&1 || true
    "${podman[@]}" rmi -f "$podman_img" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
"$top/tests/fixtures/make-rootfs.sh" "$work" >/dev/null
root=(--root "$work/storage" --runroot "$run")
"$RRUN" "${root[@]}" import "$work/rootfs.tar" bench/busybox >/dev/null

bytes=$((SIZE_MB * 1024 * 1024))
line=0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ
mkdir "$work/data"
(yes "$line" || true) | head -c "$bytes" >"$work/data/data.txt"
script="cat /data/data.txt"
want=$(md5sum <"$work/data/data.txt")

# one TOOL: seconds from run -d to the end of wait; the log is checked afterwards
one() {
  local tool=$1 start end got img
  local -a cli extra=()
  if [ "$tool" = rrun ]; then
    cli=("$RRUN" "${root[@]}")
    img=bench/busybox
  else
    cli=("${podman[@]}")
    img=$podman_img
    extra=(--log-driver k8s-file)
  fi
  start=$(date +%s.%N)
  id=$("${cli[@]}" run -d --network none -v "$work/data:/data:ro" "${extra[@]}" "$img" sh -c "$script")
  "${cli[@]}" wait "$id" >/dev/null
  end=$(date +%s.%N)
  got=$("${cli[@]}" logs "$id" | md5sum)
  if [ "$got" != "$want" ]; then
    echo "$tool: the log differs from what was written ($("${cli[@]}" logs "$id" | wc -c) bytes)" >&2
    exit 1
  fi
  "${cli[@]}" rm -f "$id" >/dev/null
  echo "$end - $start" | bc -l
}

tools=(rrun)
if command -v podman >/dev/null; then
  # Debian 12's podman needs runc and cgroupfs on a machine without systemd.
  # PODMAN_ARGS: extra global options, e.g. a private --root and --runroot.
  # shellcheck disable=SC2206
  podman=(podman --runtime runc --cgroup-manager cgroupfs --log-level error ${PODMAN_ARGS:-})
  podman_img=localhost/bench/busybox:latest
  if "${podman[@]}" import "$work/rootfs.tar" "$podman_img" >/dev/null 2>&1 \
    && "${podman[@]}" run --rm --network none "$podman_img" true >/dev/null 2>&1; then
    tools+=(podman)
  else
    echo "# podman cannot run containers here; rrun alone" >&2
  fi
fi
echo "# $(uname -r), $(nproc) cores, $SIZE_MB MiB to stdout, $RUNS runs each (round robin), $(date -u +%Y-%m-%d)"
declare -A times
for ((i = 0; i < RUNS; i++)); do
  for t in "${tools[@]}"; do
    s=$(one "$t")
    times[$t]+="$s "
  done
done
for t in "${tools[@]}"; do
  med=$(tr ' ' '\n' <<<"${times[$t]}" | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-8s median %6.2f s  %7.1f MiB/s  (runs: %s)\n' "$t" "$med" "$(echo "$SIZE_MB / $med" | bc -l)" "${times[$t]% }"
  eval "med_$t=$med"
done
if [ -n "${med_podman:-}" ]; then
  printf 'rrun / podman throughput = %.2fx (goal >= 1.5), no byte lost\n' "$(echo "$med_podman / $med_rrun" | bc -l)"
fi
