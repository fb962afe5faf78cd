#!/bin/bash
# User-defined networks (issue 16), medians of RUNS runs, side by side with podman where it
# runs here:
#   1. `network create` of a network with an automatic subnet (a new name each run, so
#      every run also checks the subnet against all the networks made before it), against
#      `podman network create` of the same; `sh -c` around both
#   2. `network ls -q` and `network inspect` with 20 networks defined
# (`rrun version` is the floor: starting rrun at all)
# With ROOTFS_TAR (a busybox root file system tar, e.g. the test fixtures' rootfs.tar),
# imported into both:
#   3. container-to-container TCP on one network: busybox httpd serves a 500 MiB file from
#      a tmpfs, a second container on the same network reads it with busybox nc (the
#      static busybox wget crashes in getaddrinfo); MB/s, median of 5, against podman's
#      rootless bridge network (runc, cgroupfs, file events) in the same run
#   4. the start cost: `run --rm --network NET true` (another container keeps the holder
#      up) against `--network none`
# DNS latency: bench/dns.sh.
# Run as an unprivileged user: [ROOTFS_TAR=rootfs.tar] bench/network.sh [RUNS]
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
  P=(podman --root "$work/podman" --runroot "$run/podman" --runtime runc
     --cgroup-manager cgroupfs --events-backend file --log-level error)
fi
cleanup() {
  "${R[@]}" rm -f $("${R[@]}" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  if [ ${#P[@]} -gt 0 ]; then "${P[@]}" rm -af -t 0 >/dev/null 2>&1 || true; fi
  "${R[@]}" network prune -f >/dev/null 2>&1 || true
  if [ ${#P[@]} -gt 0 ]; then "${P[@]}" network prune -f >/dev/null 2>&1 || true; fi
  "${R[@]}" rmi -f localhost/netbench >/dev/null 2>&1 || true
  if [ ${#P[@]} -gt 0 ]; then "${P[@]}" unshare rm -rf "$work/podman" 2>/dev/null || true; fi
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

[ -n "${ROOTFS_TAR:-}" ] || { echo "# 3, 4: not run (no ROOTFS_TAR)"; exit 0; }
"${R[@]}" import "$ROOTFS_TAR" localhost/netbench >/dev/null
"${R[@]}" network create tput >/dev/null
big='mkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count=500 2>/dev/null && exec httpd -f -p 80 -h /www'
# The client: four downloads of the file, timed with /proc/uptime (busybox date has no
# %N; 10 ms steps over ~1 s); prints MB/s.
cat >"$work/get.sh" <<'SH'
printf 'GET /big HTTP/1.0\r\n\r\n' >/tmp/req
s=$(cut -d' ' -f1 /proc/uptime)
for i in 1 2 3 4; do nc "$1" 80 </tmp/req >/dev/null; done
e=$(cut -d' ' -f1 /proc/uptime)
awk -v s="$s" -v e="$e" 'BEGIN { printf "%d\n", 4 * 524.288 / (e - s) }'
SH
chmod 644 "$work/get.sh"
# MB/s of the server at $2, from a container of the tool (the rest of the arguments) on
# network $3 with image $1: median of 5 containers.
tput() {
  local i
  for i in 1 2 3 4 5; do
    "${@:4}" run --rm --network "$3" -v "$work/get.sh:/get.sh:ro" "$1" sh /get.sh "$2"
  done | sort -n | sed -n 3p
}
"${R[@]}" run -d --name web --tmpfs /www:size=600m --network tput localhost/netbench sh -c "$big" >/dev/null
ip=$("${R[@]}" inspect --format '{{.NetworkSettings.IPAddress}}' web)
sleep 3
echo "# 3. container-to-container TCP, 500 MiB over one network (MB/s, median of 5)"
echo "rrun $(tput localhost/netbench "$ip" tput "${R[@]}") MB/s"
if [ ${#P[@]} -gt 0 ] && "${P[@]}" import "$ROOTFS_TAR" localhost/netbench >/dev/null 2>&1 \
  && "${P[@]}" network create tput >/dev/null 2>&1 \
  && "${P[@]}" run -d --name web --tmpfs /www:size=600m --network tput localhost/netbench \
       sh -c "$big" >/dev/null; then
  pip=$("${P[@]}" inspect --format '{{(index .NetworkSettings.Networks "tput").IPAddress}}' web)
  sleep 3
  echo "podman $(tput localhost/netbench "$pip" tput "${P[@]}") MB/s"
  echo "rrun (again) $(tput localhost/netbench "$ip" tput "${R[@]}") MB/s"
  "${P[@]}" rm -af -t 0 >/dev/null 2>&1
else
  echo "podman: not compared (it cannot run containers on a network here)"
fi
echo "# 4. start cost: run --rm true on a user network (the holder up) against --network none"
python3 "$here/timeit.py" "$RUNS" "rrun-none=${R[*]} run --rm --network none localhost/netbench true" \
  "rrun-net=${R[*]} run --rm --network tput localhost/netbench true"
"${R[@]}" rm -f web >/dev/null
