#!/bin/bash
# bench/net.sh [throughput|latency]
#
# throughput (default): rrun-net against slirp4netns and pasta, with host loopback as the
# ceiling. A bare user+network namespace (unshare) stands in for the container: the helpers
# only ever see a namespace. All of them are up at once and the runs are interleaved,
# round by round (RUNS rounds, default 3, of SECS-second iperf3 runs, default 3): on a
# shared machine a busier spell slows every column alike. Medians (min-max) of MB/s, and
# of the CPU each megabyte cost (iperf3 client + server + the helper: much steadier than
# MB/s when the machine is shared). Directions (DIRS, default "up down -p"):
#   up:   container->host, iperf3 -c <gateway> from inside (an upload, a push)
#   down: the same outbound connection with iperf3 -R (a download: apt-get, pip, a pull)
#   -p:   host->container, iperf3 -c 127.0.0.1:<published port> on the host, server inside
# PEERS="slirp4netns pasta" (either or none); RRUN_NET_B=other/rrun-net adds a column for a
# second build of the helper (A/B); VARIANTS="name:VAR=VALUE,+OPT=VALUE ..." adds columns
# for the same helper with another environment or more --network slirp options.
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

# ---- throughput: every peer up at once, the runs interleaved round by round ----
# Each round runs, for every peer in turn: container->host (the container sends: an
# upload), download (iperf3 -R on the same outbound connection: apt-get, pip, a pull
# inside a build), and host->container through the published port; loopback too. A
# machine that gets busier mid-run then slows every peer alike, and the medians compare.
echo "# $(uname -r), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M), MB/s, median (min-max) of $RUNS rounds x ${SECS}s iperf3"
peers=()
declare -A NS GW HPORT HPID
CTL_FDS=()
hsport=$(free_port)
iperf3 -s -B 127.0.0.1 -p "$hsport" >/dev/null 2>&1 &
PIDS+=($!)
wait_port "$hsport"

start_rrun_net () { # start_rrun_net NAME HELPER [VAR=VALUE | +OPT=VALUE...]
  local name=$1 helper=$2 opts=${NETOPTS:-} e=() a
  shift 2
  for a in "$@"; do
    case $a in +*) opts+=",${a#+}" ;; *) e+=("$a") ;; esac
  done
  new_ns
  local hport d=$T/$name
  hport=$(free_port)
  mkdir -p "$d"
  mkfifo "$d/ctl"
  env "${e[@]}" RRUN_NET="$helper" "$NET_DRIVER" start "$NSPID" "$d" \
    --network "slirp:allow_host_loopback=true$opts" \
    -p "127.0.0.1:$hport:5201" <"$d/ctl" >"$d/driver.out" 2>"$d/driver.err" &
  PIDS+=($!)
  local driver=$!
  exec {fd}>"$d/ctl" # held open until the script ends: the helper stops at EOF
  CTL_FDS+=("$fd")
  for _ in $(seq 100); do grep -qx ready "$d/driver.out" && break; sleep 0.05; done
  grep -qx ready "$d/driver.out" || { cat "$d/driver.err"; exit 1; }
  start_inside_server
  HPID[$name]=$(pgrep -P "$driver" -x rrun-net)
  peers+=("$name"); NS[$name]=$NSPID; GW[$name]=10.0.2.2; HPORT[$name]=$hport
}
start_rrun_net rrun-net "$RRUN_NET"
[ -n "${RRUN_NET_B:-}" ] && start_rrun_net rrun-net-B "$(realpath "$RRUN_NET_B")"
# VARIANTS="name:VAR=VALUE,+OPT=VALUE ...": more columns, the same helper with another
# environment or more --network slirp options (+tcp_mss=0), for trying a tunable.
for v in ${VARIANTS:-}; do
  IFS=, read -ra kv <<<"${v#*:}"
  start_rrun_net "rrun-net-${v%%:*}" "$RRUN_NET" "${kv[@]}"
done
PEERS=${PEERS-slirp4netns pasta}
DIRS=${DIRS:-up down -p}

if [[ " $PEERS " = *" slirp4netns "* ]] && command -v slirp4netns >/dev/null; then
  new_ns
  slirp4netns --configure --mtu=65520 --api-socket "$T/s4n.sock" "$NSPID" tap0 \
    >"$T/s4n.log" 2>&1 &
  PIDS+=($!)
  HPID[slirp4netns]=$!
  wait_up
  hport=$(free_port)
  for _ in $(seq 40); do [ -S "$T/s4n.sock" ] && break; sleep 0.05; done
  echo '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"127.0.0.1","host_port":'"$hport"',"guest_port":5201}}' \
    | socat - "UNIX-CONNECT:$T/s4n.sock" >/dev/null
  start_inside_server
  peers+=(slirp4netns); NS[slirp4netns]=$NSPID; GW[slirp4netns]=10.0.2.2
  HPORT[slirp4netns]=$hport
fi

# pasta: the gateway address maps to the host's loopback (--map-gw, its default)
if [[ " $PEERS " = *" pasta "* ]] && command -v pasta >/dev/null; then
  new_ns
  hport=$(free_port)
  pasta --config-net --pid "$T/pasta.pid" -t "127.0.0.1/$hport:5201" -u none -T none \
    -U none "$NSPID" >"$T/pasta.log" 2>&1 || { cat "$T/pasta.log"; exit 1; }
  PIDS+=("$(cat "$T/pasta.pid")")
  HPID[pasta]=$(cat "$T/pasta.pid")
  wait_up
  start_inside_server
  peers+=(pasta); NS[pasta]=$NSPID; HPORT[pasta]=$hport
  GW[pasta]=$(in_ns ip -4 route show default | awk '{print $3; exit}')
fi

# CPU per megabyte: on a shared machine throughput moves with the load, the CPU each
# byte costs much less. It sums the iperf3 client's and server's own CPU (iperf3's
# cpu_utilization_percent: the kernel's TCP work runs mostly in their context and the
# helper's) and the helper's (utime + stime from /proc, all threads).
declare -A R C
TICK=$(getconf CLK_TCK)
ticks () { [ -z "$1" ] && { echo 0; return; }; awk '{print $14 + $15}' "/proc/$1/stat"; }
one () { # one KEY HELPER_PID CMD...: one iperf3 run, recorded as MB/s and CPU us per MB
  local key=$1 pid=$2 out t0 t1 r
  shift 2
  t0=$(ticks "$pid")
  out=$("$@" -t "$SECS" -J 2>/dev/null) || out=
  t1=$(ticks "$pid")
  r=$(echo "$out" | python3 -c '
import json, sys
j = json.load(sys.stdin)["end"]
mb = j["sum_received"]["bytes"] / 1e6
secs = j["sum_received"]["seconds"]
cpu = (j["cpu_utilization_percent"]["host_total"] + j["cpu_utilization_percent"]["remote_total"]) / 100 * secs
cpu += (int(sys.argv[2]) - int(sys.argv[1])) / int(sys.argv[3])
print("%.0f %.0f" % (mb / secs, cpu * 1e6 / mb))' "$t0" "$t1" "$TICK" 2>/dev/null) || r="0 0"
  R[$key]="${R[$key]:-} ${r% *}"
  C[$key]="${C[$key]:-} ${r#* }"
}
for round in $(seq "$RUNS"); do
  one "loopback up" "" timeout 30 iperf3 -c 127.0.0.1 -p "$hsport"
  for p in "${peers[@]}"; do
    NSPID=${NS[$p]}
    for dir in $DIRS; do
      case $dir in
        up) one "$p up" "${HPID[$p]}" in_ns timeout 30 iperf3 -c "${GW[$p]}" -p "$hsport" ;;
        down) one "$p down" "${HPID[$p]}" in_ns timeout 30 iperf3 -c "${GW[$p]}" -p "$hsport" -R ;;
        -p) one "$p -p" "${HPID[$p]}" timeout 30 iperf3 -c 127.0.0.1 -p "${HPORT[$p]}" ;;
      esac
    done
  done
  echo "# round $round done" >&2
done

cell () { # cell KEY [C] -> "median (min-max)" of the MB/s (or, with C, of the CPU us/MB)
  local v
  if [ "${2:-}" = C ]; then read -ra v <<<"${C[$1]:-}"; else read -ra v <<<"${R[$1]:-}"; fi
  [ "${#v[@]}" -gt 0 ] || { echo "-"; return; }
  printf '%s (%s-%s)' "$(median "${v[@]}")" "$(printf '%s\n' "${v[@]}" | sort -n | head -1)" \
    "$(printf '%s\n' "${v[@]}" | sort -n | tail -1)"
}
med () { local v; read -ra v <<<"${R[$1]:-0}"; median "${v[@]}"; }
printf '%-14s %-22s %-22s %-22s\n' "" "container->host" "download (-R)" "host->container -p"
printf '%-14s %-22s %-22s %-22s\n' loopback "$(cell 'loopback up')" "" ""
for p in "${peers[@]}"; do
  printf '%-14s %-22s %-22s %-22s\n' "$p" "$(cell "$p up")" "$(cell "$p down")" "$(cell "$p -p")"
done
echo "# CPU us per MB (iperf3 client + server + the helper), median (min-max): lower is better"
printf '%-14s %-22s %-22s %-22s\n' loopback "$(cell 'loopback up' C)" "" ""
for p in "${peers[@]}"; do
  printf '%-14s %-22s %-22s %-22s\n' "$p" "$(cell "$p up" C)" "$(cell "$p down" C)" "$(cell "$p -p" C)"
done
ratio () { python3 -c 'import sys; a,b=map(float,sys.argv[1:]); print("%.2fx" % (a/b) if b else "-")' "$1" "$2"; }
for p in "${peers[@]}"; do
  case $p in rrun-net*) ;; *) continue ;; esac
  for q in slirp4netns pasta; do
    [ -n "${NS[$q]:-}" ] || continue
    echo "$p / $q: up $(ratio "$(med "$p up")" "$(med "$q up")"), down $(ratio "$(med "$p down")" "$(med "$q down")"), -p $(ratio "$(med "$p -p")" "$(med "$q -p")")"
  done
done
