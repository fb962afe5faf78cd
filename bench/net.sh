#!/bin/bash
# bench/net.sh [throughput|latency]
#
# throughput (default): rrun-net against slirp4netns and pasta, with host loopback as the
# ceiling. A bare user+network namespace (unshare) stands in for the container: the helpers
# only ever see a namespace. iperf3, 3 s per run, median of RUNS runs (default 3).
#   container->host: iperf3 -c <gateway> from inside, server on the host's 127.0.0.1
#   host->container: iperf3 -c 127.0.0.1:<published port> on the host, server inside
#
# latency: sequential request/response round trips (bench/rtt.py), median and 90th
# percentile per request: ECHO_N 1-byte echoes on one connection (busybox nc -e cat) and
# HTTP_N small HTTP GETs, a new connection each (busybox httpd), default 1000 each.
#   host->container: through `rrun run -p`, podman's -p (rootlessport, podman's default
#   port handler), the helper alone (net-driver, a bare namespace), slirp4netns's
#   hostfwd and pasta -t; the same busybox in every container or namespace.
#   container->host: servers on the host's 127.0.0.1, the client in the namespace, through
#   rrun-net, slirp4netns (also podman's outbound path) and pasta; host loopback as floor.
#
# Run as an unprivileged user (with a subuid range for rrun run and podman). Needs iperf3,
# slirp4netns, pasta (passt), socat, python3, busybox-static; podman (runc) when present.
#   RRUN_NET=build/helpers/rrun-net NET_DRIVER=build/tests/integration/net-driver bench/net.sh
set -euo pipefail

MODE=${1:-throughput}
case $MODE in
  throughput | latency) ;;
  *) echo "usage: bench/net.sh [throughput|latency]" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
RRUN=${RRUN:-$here/../build/src/rrun}

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
tools=(python3 socat)
[ "$MODE" = throughput ] && tools+=(iperf3)
for tool in "${tools[@]}"; do
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

# ---- latency ----
ECHO_N=${ECHO_N:-1000}
HTTP_N=${HTTP_N:-1000}
lat () { # lat NAME HOST ECHO_PORT HTTP_PORT [in_ns]: one table row
  local name=$1 host=$2 ep=$3 hp=$4 em ep90 gm gp90 gt
  shift 4
  read -r em ep90 _ < <("$@" python3 "$here/rtt.py" "$host" "$ep" echo "$ECHO_N")
  read -r gm gp90 gt < <("$@" python3 "$here/rtt.py" "$host" "$hp" http "$HTTP_N")
  printf '%-38s %8s %8s %8s %8s %8s\n' "$name" "$em" "$ep90" "$gm" "$gp90" "$gt"
}
lat_header () {
  printf '%-38s %8s %8s %8s %8s %8s\n' "$1" "echo ms" "p90" "GET ms" "p90" "GETs s"
}
# The same servers everywhere: an echo on 7777 and httpd on 8080 (busybox).
SERVERS='mkdir -p /tmp/www && echo hello >/tmp/www/index.html && httpd -p 8080 -h /tmp/www && exec nc -ll -p 7777 -e cat'
wait_port () { # wait_port PORT: until something answers on 127.0.0.1:PORT (10 s)
  for _ in $(seq 100); do
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" \
      2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
start_ns_servers () { # busybox servers inside the current namespace
  mkdir -p "$T/www"
  echo hello >"$T/www/index.html"
  nsenter -t "$NSPID" -U -n --preserve-credentials busybox httpd -f -p 8080 -h "$T/www" &
  PIDS+=($!)
  nsenter -t "$NSPID" -U -n --preserve-credentials busybox nc -ll -p 7777 -e cat &
  PIDS+=($!)
  for _ in $(seq 40); do in_ns ss -ltn | grep -q ':7777 ' && return 0; sleep 0.05; done
  return 1
}

latency () {
  local ep hp work run root=() img=localhost/rrun-bench-busybox:latest pid
  command -v busybox >/dev/null || { echo "bench/net.sh: busybox is not installed" >&2; exit 1; }
  echo "# $(uname -r), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M), $ECHO_N echoes, $HTTP_N GETs"
  echo "# host->container (published ports)"
  lat_header "path"

  # rrun run -p: a real container from the busybox fixture image, as a user runs it.
  work=$T/rrun
  mkdir -p "$work"
  run=$(mktemp -d -p "${XDG_RUNTIME_DIR:-/dev/shm}" rrun-bench.XXXXXX)
  root=(--root "$work/storage" --runroot "$run")
  "$here/../tests/fixtures/make-rootfs.sh" "$work" >/dev/null
  "$RRUN" "${root[@]}" import "$work/rootfs.tar" bench/busybox >/dev/null
  ep=$(free_port); hp=$(free_port)
  "$RRUN" "${root[@]}" run --rm --init -p "127.0.0.1:$ep:7777" -p "127.0.0.1:$hp:8080" \
    bench/busybox sh -c "$SERVERS" >"$T/rrun.out" 2>&1 &
  pid=$!
  wait_port "$ep" || { cat "$T/rrun.out"; exit 1; }
  lat "rrun run -p" 127.0.0.1 "$ep" "$hp"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  "$RRUN" "${root[@]}" system reset -f >/dev/null 2>&1 || true
  rm -rf "$run"

  # podman run -p: rootlessport is podman's default port handler with slirp4netns.
  if command -v podman >/dev/null; then
    local -a prt=()
    command -v runc >/dev/null && prt=(--runtime runc)
    podman import "$work/rootfs.tar" "$img" >/dev/null 2>&1
    ep=$(free_port); hp=$(free_port)
    podman "${prt[@]}" --cgroup-manager cgroupfs run -d --rm --name rrun-bench-latency \
      --network slirp4netns:port_handler=rootlesskit \
      -p "127.0.0.1:$ep:7777" -p "127.0.0.1:$hp:8080" "$img" sh -c "$SERVERS" >/dev/null
    wait_port "$ep"
    lat "podman run -p (rootlessport)" 127.0.0.1 "$ep" "$hp"
    podman rm -f -t 0 rrun-bench-latency >/dev/null 2>&1 || true
    podman rmi -f "$img" >/dev/null 2>&1 || true
  fi

  # The helper alone, in a bare namespace (what `rrun run -p` costs without a container).
  new_ns
  ep=$(free_port); hp=$(free_port)
  mkfifo "$T/lctl"
  "$NET_DRIVER" start "$NSPID" "$T" --network slirp:allow_host_loopback=true \
    -p "127.0.0.1:$ep:7777" -p "127.0.0.1:$hp:8080" <"$T/lctl" >"$T/ldriver.out" 2>"$T/ldriver.err" &
  PIDS+=($!)
  exec 7>"$T/lctl"
  for _ in $(seq 40); do grep -qx ready "$T/ldriver.out" && break; sleep 0.05; done
  start_ns_servers
  lat "rrun-net -p (net-driver)" 127.0.0.1 "$ep" "$hp"
  # container->host through the same helper, measured below
  local ce ch
  ce=$(free_port); ch=$(free_port)
  socat "TCP-LISTEN:$ce,bind=127.0.0.1,fork,reuseaddr" PIPE &
  PIDS+=($!)
  busybox httpd -f -p "127.0.0.1:$ch" -h "$T/www" &
  PIDS+=($!)
  wait_port "$ce"; wait_port "$ch"
  out_rrun=$(lat "rrun-net (10.0.2.2)" 10.0.2.2 "$ce" "$ch" in_ns)
  exec 7>&-
  stop_ns

  if command -v slirp4netns >/dev/null; then
    new_ns
    slirp4netns --configure --mtu=65520 --api-socket "$T/ls4n.sock" "$NSPID" tap0 \
      >"$T/ls4n.log" 2>&1 &
    PIDS+=($!)
    wait_up
    ep=$(free_port); hp=$(free_port)
    for pp in "$ep:7777" "$hp:8080"; do
      echo '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"127.0.0.1","host_port":'"${pp%:*}"',"guest_port":'"${pp#*:}"'}}' \
        | socat - "UNIX-CONNECT:$T/ls4n.sock" >/dev/null
    done
    start_ns_servers
    lat "slirp4netns hostfwd" 127.0.0.1 "$ep" "$hp"
    out_s4n=$(lat "slirp4netns (10.0.2.2; podman's path)" 10.0.2.2 "$ce" "$ch" in_ns)
    stop_ns
  fi

  if command -v pasta >/dev/null; then
    new_ns
    ep=$(free_port); hp=$(free_port)
    pasta --config-net --pid "$T/lpasta.pid" -t "127.0.0.1/$ep:7777" -t "127.0.0.1/$hp:8080" \
      -u none -T none -U none "$NSPID" >"$T/lpasta.log" 2>&1 || { cat "$T/lpasta.log"; exit 1; }
    PIDS+=("$(cat "$T/lpasta.pid")")
    wait_up
    start_ns_servers
    lat "pasta -t" 127.0.0.1 "$ep" "$hp"
    gw=$(in_ns ip -4 route show default | awk '{print $3; exit}')
    out_pasta=$(lat "pasta ($gw)" "$gw" "$ce" "$ch" in_ns)
    stop_ns
  fi

  echo "# container->host (servers on the host's 127.0.0.1)"
  lat_header "path"
  lat "host loopback (floor)" 127.0.0.1 "$ce" "$ch"
  echo "$out_rrun"
  [ -n "${out_s4n:-}" ] && echo "$out_s4n"
  [ -n "${out_pasta:-}" ] && echo "$out_pasta"
  return 0
}
if [ "$MODE" = latency ]; then
  latency
  exit 0
fi

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
