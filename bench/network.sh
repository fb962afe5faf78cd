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
#      a tmpfs, a second container on the same network reads it with curl (the host's,
#      bound in); MB/s, median of 5 containers, against podman's
#      rootless bridge network (runc, cgroupfs, file events) in the same run
#   4. the start cost: `run --rm --network NET true` (another container keeps the holder
#      up) against `--network none`
#   5. iperf3 (the host's, bound in) between two containers on one network, against
#      iperf3 over the host's loopback
# DNS latency: bench/dns.sh. BENCH_SKIP_DEFS=1 runs 3 and 4 only.
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
if [ -z "${BENCH_SKIP_DEFS:-}" ]; then
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
fi # BENCH_SKIP_DEFS

[ -n "${ROOTFS_TAR:-}" ] || { echo "# 3, 4: not run (no ROOTFS_TAR)"; exit 0; }
"${R[@]}" import "$ROOTFS_TAR" localhost/netbench >/dev/null
"${R[@]}" network create tput >/dev/null
big='mkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count=500 2>/dev/null && exec httpd -f -p 80 -h /www'
# The client: the host's curl, bound into the busybox image with the host's libraries
# (busybox's static wget crashes in getaddrinfo, and its nc reads 4 KiB at a time: ~85
# MB/s here with either tool); it prints MB/s of one download.
host_tools=(-v /usr:/usr:ro -v /lib64:/lib64:ro -v /lib:/lib:ro)
# MB/s of the server at $2, from a container of the tool (the rest of the arguments) on
# network $3 with image $1: median of 5 containers.
tput() {
  local i
  for i in 1 2 3 4 5; do
    "${@:4}" run --rm --network "$3" "${host_tools[@]}" "$1" \
      /usr/bin/curl -s -o /dev/null -w '%{speed_download}\n' "http://$2/big"
  done | sort -n | sed -n 3p | awk '{ printf "%d", $1 / 1000000 }'
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

# 5. iperf3 (the host's, bound in as curl is) between two containers on one network,
# against iperf3 over the host's loopback: Gbit/s, 3 s each, median of 3.
if command -v iperf3 >/dev/null && command -v jq >/dev/null; then
  echo "# 5. iperf3 container to container on one network vs the host's loopback (Gbit/s, median of 3)"
  gbits() { jq -r '.end.sum_received.bits_per_second / 1e9 * 100 | floor / 100'; }
  "${R[@]}" run -d --name ips --network tput --tmpfs /tmp "${host_tools[@]}" localhost/netbench \
    /usr/bin/iperf3 -s >/dev/null
  sip=$("${R[@]}" inspect --format '{{.NetworkSettings.IPAddress}}' ips)
  sleep 1
  c2c=$(for i in 1 2 3; do
    "${R[@]}" run --rm --network tput --tmpfs /tmp "${host_tools[@]}" localhost/netbench \
      /usr/bin/iperf3 -c "$sip" -t 3 -J | gbits
  done | sort -n | sed -n 2p)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  iperf3 -s -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
  hs=$!
  sleep 1
  lo=$(for i in 1 2 3; do iperf3 -c 127.0.0.1 -p "$port" -t 3 -J | gbits; done | sort -n | sed -n 2p)
  kill "$hs" 2>/dev/null || true
  "${R[@]}" rm -f ips >/dev/null
  echo "rrun c2c $c2c Gbit/s, host loopback $lo Gbit/s: $(awk -v a="$c2c" -v b="$lo" 'BEGIN { printf "%.2f", a / b }')x"
fi
