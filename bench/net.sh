#!/bin/bash
# Network throughput of rrun-net against slirp4netns and pasta, with host loopback as the
# ceiling. A bare user+network namespace (unshare) stands in for the container: the helpers
# only ever see a namespace. iperf3, 3 s per run, median of RUNS runs (default 3).
#   container->host: iperf3 -c <gateway> from inside, server on the host's 127.0.0.1
#   host->container: iperf3 -c 127.0.0.1:<published port> on the host, server inside
# Run as an unprivileged user. Needs iperf3, slirp4netns, pasta (passt), socat, python3.
#   RRUN_NET=build/helpers/rrun-net NET_DRIVER=build/tests/integration/net-driver bench/net.sh
set -euo pipefail

RUNS=${RUNS:-3}
SECS=${SECS:-3}
export RRUN_NET=${RRUN_NET:-$(realpath "$(dirname "$0")/../build/helpers/rrun-net")}
NET_DRIVER=${NET_DRIVER:-$(dirname "$0")/../build/tests/integration/net-driver}
T=$(mktemp -d)
PIDS=()
cleanup () {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
for tool in iperf3 python3 socat; do
  command -v "$tool" >/dev/null || { echo "bench/net.sh: $tool is not installed" >&2; exit 1; }
done

mbps () { # iperf3 JSON on stdin -> MB/s received
  python3 -c 'import json,sys; print("%.0f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/8e6))'
}
median () { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
free_port () {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
new_ns () {
  unshare --user --map-root-user --net sleep 600 &
  NSPID=$!
  PIDS+=("$NSPID")
  for _ in $(seq 40); do
    [ "$(readlink /proc/$NSPID/ns/net)" != "$(readlink /proc/self/ns/net)" ] && return 0
    sleep 0.05
  done
  return 1
}
in_ns () { nsenter -t "$NSPID" -U -n --preserve-credentials "$@"; }
wait_up () { # wait until tap0 (or the pasta interface) has an IPv4 address
  for _ in $(seq 40); do
    in_ns ip -4 -o addr | grep -v ' lo ' | grep -q inet && return 0
    sleep 0.05
  done
  return 1
}
stop_ns () { kill "$NSPID" 2>/dev/null || true; sleep 0.2; }

# host server, client inside: container -> host
c2h () { # c2h TARGET_IP
  local port vals=() r
  port=$(free_port)
  iperf3 -s -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
  local srv=$!
  sleep 0.3
  for _ in $(seq "$RUNS"); do
    r=$(in_ns timeout 30 iperf3 -c "$1" -p "$port" -t "$SECS" -J | mbps)
    vals+=("$r")
  done
  kill "$srv"; wait "$srv" 2>/dev/null || true
  echo "$(median "${vals[@]}") (runs: ${vals[*]})"
}
# server inside on 5201, client on the host: host -> container
h2c () { # h2c HOST_PORT
  local vals=() r
  for _ in $(seq "$RUNS"); do
    r=$(timeout 30 iperf3 -c 127.0.0.1 -p "$1" -t "$SECS" -J | mbps)
    vals+=("$r")
  done
  echo "$(median "${vals[@]}") (runs: ${vals[*]})"
}
start_inside_server () {
  # nsenter itself in the background (not the in_ns function, whose subshell would get
  # the pid): nsenter execs iperf3, so the pid is the server's and cleanup ends it.
  nsenter -t "$NSPID" -U -n --preserve-credentials iperf3 -s -p 5201 >/dev/null 2>&1 &
  PIDS+=($!)
  for _ in $(seq 40); do in_ns ss -ltn | grep -q ':5201 ' && return 0; sleep 0.05; done
  return 1
}

echo "# MB/s, median of $RUNS x ${SECS}s iperf3 runs"

# loopback ceiling
port=$(free_port)
iperf3 -s -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
srv=$!
sleep 0.3
vals=()
for _ in $(seq "$RUNS"); do vals+=("$(iperf3 -c 127.0.0.1 -p "$port" -t "$SECS" -J | mbps)"); done
kill "$srv"; wait "$srv" 2>/dev/null || true
echo "loopback                     $(median "${vals[@]}") (runs: ${vals[*]})"

# rrun-net
new_ns
hport=$(free_port)
mkfifo "$T/ctl"
"$NET_DRIVER" start "$NSPID" "$T" --network slirp:allow_host_loopback=true \
  -p "127.0.0.1:$hport:5201" <"$T/ctl" >"$T/driver.out" 2>"$T/driver.err" &
PIDS+=($!)
exec 6>"$T/ctl"
for _ in $(seq 40); do grep -qx ready "$T/driver.out" && break; sleep 0.05; done
grep -qx ready "$T/driver.out" || { cat "$T/driver.err"; exit 1; }
echo "rrun-net     container->host $(c2h 10.0.2.2)"
start_inside_server
echo "rrun-net     host->container $(h2c "$hport")"
exec 6>&-
stop_ns

# slirp4netns (its own hostfwd for -p; podman's rootlessport is not installed here)
if command -v slirp4netns >/dev/null; then
  new_ns
  slirp4netns --configure --mtu=65520 --api-socket "$T/s4n.sock" "$NSPID" tap0 \
    >"$T/s4n.log" 2>&1 &
  PIDS+=($!)
  wait_up
  echo "slirp4netns  container->host $(c2h 10.0.2.2)"
  hport=$(free_port)
  echo '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"127.0.0.1","host_port":'"$hport"',"guest_port":5201}}' \
    | socat - "UNIX-CONNECT:$T/s4n.sock" >/dev/null
  start_inside_server
  echo "slirp4netns  host->container $(h2c "$hport") (slirp4netns hostfwd)"
  stop_ns
fi

# pasta: the gateway address maps to the host's loopback (--map-gw, its default)
if command -v pasta >/dev/null; then
  new_ns
  hport=$(free_port)
  pasta --config-net --pid "$T/pasta.pid" -t "127.0.0.1/$hport:5201" -u none -T none \
    -U none "$NSPID" >"$T/pasta.log" 2>&1 || { cat "$T/pasta.log"; exit 1; }
  PIDS+=("$(cat "$T/pasta.pid")")
  wait_up
  gw=$(in_ns ip -4 route show default | awk '{print $3; exit}')
  echo "pasta        container->host $(c2h "$gw")"
  start_inside_server
  echo "pasta        host->container $(h2c "$hport") (pasta -t)"
  stop_ns
fi
