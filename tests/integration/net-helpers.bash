# shellcheck shell=bash
# The bare namespace net.bats and net-tcp.bats hand rrun-net: what `rrun run` would give
# it, without a container. Each file's setup calls net_setup with the tools it needs and
# its teardown calls net_teardown.
#
# Each wait for a process to start, listen or go is a poll of up to 20 s (400 x 0.05 s),
# over at once when it is done: a CI machine busy with other builds can take more than
# the 2 s it used to be.

# net_setup TOOL...: skip unless unprivileged and every TOOL is installed; then a fresh
# user+network namespace held by a sleeping process ($NSPID), a scratch dir $T, and PIDS,
# the background processes net_teardown ends.
net_setup () {
  local tool
  # As root the namespaces would not be rootless: run.sh re-runs bats as the test user.
  [ "$(id -u)" != 0 ] || skip "run as an unprivileged user (tests/integration/run.sh does)"
  for tool in "$@"; do
    command -v "$tool" >/dev/null || skip "$tool is not installed"
  done
  T=$(mktemp -d)
  PIDS=()
  unshare --user --map-root-user --net sleep 300 &
  NSPID=$!
  PIDS+=("$NSPID")
  for _ in $(seq 400); do
    [ "$(readlink /proc/$NSPID/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
    sleep 0.05
  done
  [ "$(readlink /proc/$NSPID/ns/net)" != "$(readlink /proc/self/ns/net)" ]
}

net_teardown () {
  # Servers started with `in_ns ... &` are nsenter's children, not the background
  # subshell's pid: end everything in the test's user namespace first.
  local ns d
  ns=$(readlink "/proc/$NSPID/ns/user" 2>/dev/null) || ns=
  if [[ -n $ns ]]; then
    for d in /proc/[0-9]*; do
      [[ $(readlink "$d/ns/user" 2>/dev/null) == "$ns" ]] && kill "${d#/proc/}" 2>/dev/null
    done
  fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$T"
}

in_ns () {
  nsenter -t "$NSPID" -U -n --preserve-credentials "$@"
}

# start_helper [rrun-net options]: run rrun-net for the namespace and wait for "1".
start_helper () {
  exec 5>"$T/ready"
  "$RRUN_NET" --netns-pid "$NSPID" --ready-fd 5 "$@" 2>"$T/helper.log" &
  HELPER=$!
  PIDS+=("$HELPER")
  exec 5>&-
  for _ in $(seq 400); do
    [ -s "$T/ready" ] && break
    kill -0 "$HELPER" 2>/dev/null || break
    sleep 0.05
  done
  [ "$(cat "$T/ready")" = 1 ] || { cat "$T/helper.log"; return 1; }
}

# start_driver [--network X] [-p SPEC]...: rrun_network_start through net-driver; its
# stdin is a fifo we hold open, so closing it stops the helper.
start_driver () {
  mkfifo "$T/ctl"
  "$NET_DRIVER" start "$NSPID" "$T" "$@" <"$T/ctl" >"$T/driver.out" 2>"$T/driver.err" &
  DRIVER=$!
  PIDS+=("$DRIVER")
  exec 6>"$T/ctl"
  for _ in $(seq 400); do
    grep -qx ready "$T/driver.out" && break
    kill -0 "$DRIVER" 2>/dev/null || break
    sleep 0.05
  done
  grep -qx ready "$T/driver.out" || { cat "$T/driver.err"; return 1; }
  HELPER=$(sed -n 's/^helper //p' "$T/driver.out")
}

free_port () {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_gone () {
  for _ in $(seq 400); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.05
  done
  return 1
}

wait_listen () { # wait_listen PORT [ns] (busybox netstat)
  for _ in $(seq 400); do
    if [ "${2:-}" = ns ]; then in_ns busybox netstat -ltn | grep -q ":$1 " && return 0
    else busybox netstat -ltn | grep -q ":$1 " && return 0; fi
    sleep 0.05
  done
  return 1
}

# tcp_info_seen [helper options]: what `ss -tin` shows inside of a connection from inside
# to a fresh server on the host's loopback through 10.0.2.2 (a new helper with
# --allow-host-loopback and the options, stopped afterwards), into $T/tcpinfo; not
# through $(...), which would wait for the background processes. Needs socat and ss.
tcp_info_seen () {
  local port client out=
  port=$(free_port)
  socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" SYSTEM:'sleep 5' &
  PIDS+=($!)
  wait_listen "$port"
  start_helper --allow-host-loopback "$@"
  in_ns socat -u "TCP:10.0.2.2:$port" - >/dev/null 2>&1 </dev/null &
  client=$!
  for _ in $(seq 400); do
    out=$(in_ns ss -tin state established dst "10.0.2.2:$port" </dev/null)
    [[ $out == *" mss:"* ]] && break
    sleep 0.05
  done
  kill "$client" 2>/dev/null; wait "$client" 2>/dev/null || true
  kill "$HELPER"; wait_gone "$HELPER"
  printf '%s\n' "$out" >"$T/tcpinfo"
}
