#!/usr/bin/env bats
# TCP connections the container opens, through rrun-net (helpers/rrun-net.c), against a
# bare user+network namespace as in net.bats. Every case runs on both of rrun-net's paths
# for them: its default ("splice": its own TCP, a host socket per connection) and
# RRUN_NET_SPLICE=0 in its environment ("libslirp": libslirp's TCP). The cases that move
# data run a third time with RRUN_NET_PEEK_OFF=0 ("ring": rrun-net's own TCP holding
# what is in flight in a ring, as on a kernel without SO_PEEK_OFF for TCP).
# Both ends are net-tcp-peer.py: servers on the host's loopback, reached through the
# gateway 10.0.2.2 (fd00::2) with --allow-host-loopback, and clients in the namespace.
# Needs: unshare/nsenter (util-linux), timeout (coreutils), python3.
# No image store is used, so run.sh runs this file in one storage-driver pass only:
# rrun-test: one pass

bats_require_minimum_version 1.5.0

load net-helpers

setup_file () {
  : "${RRUN_NET:?RRUN_NET must name the built helper}"
}

setup () {
  net_setup unshare nsenter timeout python3
  PEER=$BATS_TEST_DIRNAME/net-tcp-peer.py
}

teardown () {
  net_teardown
}

# tcp_path splice|libslirp: the TCP path of the rrun-net that start_helper starts next.
tcp_path () {
  case $1 in
  splice) unset RRUN_NET_SPLICE RRUN_NET_PEEK_OFF ;;
  ring) # rrun-net's own TCP as on a kernel without SO_PEEK_OFF for TCP (before 6.10)
    unset RRUN_NET_SPLICE
    export RRUN_NET_PEEK_OFF=0
    ;;
  libslirp) unset RRUN_NET_PEEK_OFF; export RRUN_NET_SPLICE=0 ;;
  *) return 1 ;;
  esac
}

# serve NAME ADDR MODE [COUNT [ARG...]]: a server of net-tcp-peer.py on the host, in the
# background (at most 30 s): its pid in SERVER and its port in PORT once it listens; what
# it says in $T/NAME.out, its errors and accepted connections in $T/NAME.err.
serve () {
  local name=$1 addr=$2
  shift 2
  timeout 30 python3 "$PEER" serve "$addr" "$T/$name.port" "$@" \
    >"$T/$name.out" 2>"$T/$name.err" &
  SERVER=$!
  PIDS+=("$SERVER")
  for _ in $(seq 400); do
    [ -s "$T/$name.port" ] && break
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.05
  done
  [ -s "$T/$name.port" ] || { cat "$T/$name.err"; return 1; }
  PORT=$(cat "$T/$name.port")
}

# server_done NAME: wait for the last server (its timeout bounds the wait), show what it
# said, fail if it failed.
server_done () {
  local status=0
  wait "$SERVER" || status=$?
  cat "$T/$1.out" "$T/$1.err"
  return "$status"
}

# peer ARG...: a client of net-tcp-peer.py in the namespace, at most 30 s.
peer () {
  in_ns timeout 30 python3 "$PEER" "$@"
}

# How many fds the helper holds (a socket on the host per connection it carries); fails
# (no output) once the helper is gone.
helper_fds () {
  local fds
  fds=$(ls "/proc/$HELPER/fd") || return 1
  wc -l <<<"$fds"
}

# ---- 1

case_exchanges () {
  start_helper --allow-host-loopback
  serve echo 127.0.0.1 echo 1
  run -0 peer exchanges 10.0.2.2 "$PORT" 200
  [[ $output =~ ^"answers right: 200 of 200, "([0-9]+)" bytes, then 0 bytes more"$ ]]
  server_done echo
  [ "$(cat "$T/echo.out")" = "echoed 1 connections, ${BASH_REMATCH[1]} bytes" ]
}

@test "net-tcp: 200 request/response exchanges on one connection (splice)" {
  tcp_path splice
  case_exchanges
}

@test "net-tcp: 200 request/response exchanges on one connection (libslirp)" {
  tcp_path libslirp
  case_exchanges
}

# ---- 2

# bulk ADDR GATEWAY SIZE: SIZE bytes up on one connection and down on another, sha256
# compared at both ends.
bulk () {
  local addr=$1 gw=$2 size=$3 want
  head -c "$size" /dev/urandom >"$T/blob"
  want=$(sha256sum <"$T/blob" | cut -d' ' -f1)
  serve sink "$addr" sink 1
  run -0 peer send "$gw" "$PORT" "$T/blob"
  [ "$output" = "" ]
  server_done sink
  [ "$(cat "$T/sink.out")" = "received $size $want" ]
  serve source "$addr" source 1 "$T/blob"
  run -0 peer receive "$gw" "$PORT"
  [ "$output" = "received $size $want" ]
  server_done source
}

case_bulk4 () {
  start_helper --allow-host-loopback
  bulk 127.0.0.1 10.0.2.2 $((64 << 20))
}

@test "net-tcp: 64 MiB up and 64 MiB down arrive intact (splice)" {
  tcp_path splice
  case_bulk4
}

@test "net-tcp: 64 MiB up and 64 MiB down arrive intact (libslirp)" {
  tcp_path libslirp
  case_bulk4
}

case_bulk6 () {
  python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null ||
    skip "the host has no ::1"
  start_helper --allow-host-loopback --enable-ipv6
  # the address from libslirp's router advertisement (tap0 does no DAD)
  for _ in $(seq 400); do
    in_ns ip -6 -o addr show dev tap0 scope global | grep -q ' fd00::' && break
    sleep 0.05
  done
  run -0 in_ns ip -6 -o addr show dev tap0 scope global
  [[ $output == *" fd00::"* ]]
  bulk ::1 fd00::2 $((16 << 20))
}

@test "net-tcp: 16 MiB each way over IPv6, fd00::2 to the host's ::1 (splice)" {
  tcp_path splice
  case_bulk6
}

@test "net-tcp: 16 MiB each way over IPv6, fd00::2 to the host's ::1 (libslirp)" {
  tcp_path libslirp
  case_bulk6
}

# ---- 3

case_refused () {
  local port
  port=$(free_port) # bound and closed again: nothing listens there
  start_helper --allow-host-loopback
  run -0 peer connect-error 10.0.2.2 "$port"
  [[ $output =~ ^ECONNREFUSED\ ([0-9]+)$ ]]
  [ "${BASH_REMATCH[1]}" -lt 2000 ]
}

@test "net-tcp: a port nothing listens on is refused within 2 s (splice)" {
  tcp_path splice
  case_refused
}

@test "net-tcp: a port nothing listens on is refused within 2 s (libslirp)" {
  tcp_path libslirp
  case_refused
}

# ---- 4

case_halfclose () {
  start_helper --allow-host-loopback
  # (a) the container sends 1 MiB and shuts down its side; the server reads to EOF, then
  # answers 1 MiB and closes
  serve a 127.0.0.1 halfclose-a 1
  run -0 peer halfclose-a 10.0.2.2 "$PORT"
  [ "$output" = "reply 1048576 intact then EOF" ]
  server_done a
  [ "$(cat "$T/a.out")" = "received 1048576 intact" ]
  # (b) the server sends 1 MiB and shuts down its side; the container reads to EOF, then
  # sends 100 KiB on its half still open
  serve b 127.0.0.1 halfclose-b 1
  run -0 peer halfclose-b 10.0.2.2 "$PORT"
  [ "$output" = "received 1048576 intact then EOF" ]
  server_done b
  [ "$(cat "$T/b.out")" = "received 102400 intact" ]
}

@test "net-tcp: half-closed connections carry the other way to the end (splice)" {
  tcp_path splice
  case_halfclose
}

@test "net-tcp: half-closed connections carry the other way to the end (libslirp)" {
  tcp_path libslirp
  case_halfclose
}

# ---- 5

case_server_reset () {
  start_helper --allow-host-loopback
  serve reset 127.0.0.1 reset 1
  # the server resets 0.5 s after its greeting, while the container waits in recv
  run -0 peer expect-reset 10.0.2.2 "$PORT"
  [[ $output =~ ^ECONNRESET\ ([0-9]+)$ ]]
  # (about 0.5 s; 5 s, far from the 10 s socket timeout, leaves a loaded machine room)
  [ "${BASH_REMATCH[1]}" -lt 5000 ]
  server_done reset
}

@test "net-tcp: the server's reset reaches the container as ECONNRESET (splice)" {
  tcp_path splice
  case_server_reset
}

@test "net-tcp: the server's reset reaches the container as ECONNRESET (libslirp)" {
  tcp_path libslirp
  case_server_reset
}

# ---- 6

case_container_reset () {
  start_helper --allow-host-loopback
  serve watch 127.0.0.1 watch-reset 1
  run -0 peer reset 10.0.2.2 "$PORT"
  [ "$output" = "reset sent" ]
  server_done watch
  # the server, in recv from its answer on: a reset or an EOF, not its 10 s timeout
  # (5 s leaves a loaded machine room)
  [[ $(cat "$T/watch.out") =~ ^(ECONNRESET|EOF)\ ([0-9]+)$ ]]
  [ "${BASH_REMATCH[2]}" -lt 5000 ]
}

@test "net-tcp: the container's reset ends the server's connection within 5 s (splice)" {
  tcp_path splice
  case_container_reset
}

@test "net-tcp: the container's reset ends the server's connection within 5 s (libslirp)" {
  tcp_path libslirp
  case_container_reset
}

# ---- 7

case_parallel () {
  start_helper --allow-host-loopback
  serve echo 127.0.0.1 echo 50
  run -0 peer parallel 10.0.2.2 "$PORT" 50 $((1 << 20))
  [ "$output" = "intact: 50 of 50" ]
  server_done echo
  [ "$(cat "$T/echo.out")" = "echoed 50 connections, $((50 << 20)) bytes" ]
}

@test "net-tcp: 50 connections at once, 1 MiB each way each, arrive intact (splice)" {
  tcp_path splice
  case_parallel
}

@test "net-tcp: 50 connections at once, 1 MiB each way each, arrive intact (libslirp)" {
  tcp_path libslirp
  case_parallel
}

# ---- 8

case_sequential () {
  start_helper --allow-host-loopback
  serve echo 127.0.0.1 echo 300
  run -0 peer sequential 10.0.2.2 "$PORT" 300
  [ "$output" = "answered: 300 of 300" ]
  server_done echo
  [[ $(cat "$T/echo.out") == "echoed 300 connections, "*" bytes" ]]
}

@test "net-tcp: 300 short connections one after another all succeed (splice)" {
  tcp_path splice
  case_sequential
}

@test "net-tcp: 300 short connections one after another all succeed (libslirp)" {
  tcp_path libslirp
  case_sequential
}

# ---- 9

case_idle () {
  start_helper --allow-host-loopback
  serve echo 127.0.0.1 echo 1
  run -0 peer idle 10.0.2.2 "$PORT" 3
  [ "$output" = "answers ab" ]
  server_done echo
  [ "$(cat "$T/echo.out")" = "echoed 1 connections, 2 bytes" ]
}

@test "net-tcp: a connection still works after 3 s of silence (splice)" {
  tcp_path splice
  case_idle
}

@test "net-tcp: a connection still works after 3 s of silence (libslirp)" {
  tcp_path libslirp
  case_idle
}

# ---- 10

case_host_address () {
  local addr cidr=()
  addr=$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
  if [[ -z $addr ]]; then
    for addr in $(hostname -I 2>/dev/null) ''; do
      [[ $addr =~ ^[0-9.]+$ && $addr != 127.* ]] && break
    done
  fi
  [[ -n $addr ]] || skip "the host has no IPv4 address but loopback"
  # an address inside the virtual network would be the container's own neighbour
  if [[ $addr == 10.0.2.* ]]; then cidr=(--cidr 10.77.0.0/24); fi
  # no --allow-host-loopback: this is not the host's loopback
  start_helper "${cidr[@]}"
  serve echo "$addr" echo 1
  run -0 peer exchanges "$addr" "$PORT" 20
  [[ $output == "answers right: 20 of 20, "*" bytes, then 0 bytes more" ]]
  server_done echo
}

@test "net-tcp: the host's own non-loopback address is reachable (splice)" {
  tcp_path splice
  case_host_address
}

@test "net-tcp: the host's own non-loopback address is reachable (libslirp)" {
  tcp_path libslirp
  case_host_address
}

# ---- 11

case_fds () {
  local before open
  start_helper --allow-host-loopback
  serve echo 127.0.0.1 echo 0 # until teardown
  before=$(helper_fds)
  # while 20 connections are open, the helper holds at least 20 more fds (so the count
  # below sees its sockets at all)
  peer parallel 10.0.2.2 "$PORT" 20 1024 2 "$T/open" >"$T/hold.out" 2>&1 &
  local client=$!
  for _ in $(seq 400); do
    [ -e "$T/open" ] && break
    sleep 0.05
  done
  [ -e "$T/open" ] || { cat "$T/hold.out"; false; }
  open=$(helper_fds)
  echo "fds: $before before, $open with 20 connections open"
  [ "$open" -ge $((before + 20)) ]
  wait "$client" # at most its 2 s hold: peer's timeout bounds it
  [ "$(cat "$T/hold.out")" = "intact: 20 of 20" ]
  run -0 peer parallel 10.0.2.2 "$PORT" 50 $((64 << 10))
  [ "$output" = "intact: 50 of 50" ]
  run -0 peer sequential 10.0.2.2 "$PORT" 100
  [ "$output" = "answered: 100 of 100" ]
  # every connection closed: back to the count before them (within 20 s: a leak stays)
  for _ in $(seq 400); do
    [ "$(helper_fds)" -le "$before" ] && break
    sleep 0.05
  done
  echo "fds: $(helper_fds) after"
  ls -l "/proc/$HELPER/fd"
  kill -0 "$HELPER"
  [ "$(helper_fds)" -le "$before" ]
}

@test "net-tcp: the helper holds no socket once the connections have closed (splice)" {
  tcp_path splice
  case_fds
}

@test "net-tcp: the helper holds no socket once the connections have closed (libslirp)" {
  tcp_path libslirp
  case_fds
}

# ---- 12

case_no_loopback () {
  start_helper
  serve echo 127.0.0.1 echo 1 # listening, so only the helper can refuse
  run -0 peer connect-error 10.0.2.2 "$PORT"
  [[ $output =~ ^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ECONNRESET)\ ([0-9]+)$ ]]
  [ "${BASH_REMATCH[2]}" -lt 2000 ]
  # and the server saw no connection
  [ ! -s "$T/echo.err" ]
}

@test "net-tcp: without --allow-host-loopback the host's loopback is refused (splice)" {
  tcp_path splice
  case_no_loopback
}

@test "net-tcp: without --allow-host-loopback the host's loopback is refused (libslirp)" {
  tcp_path libslirp
  case_no_loopback
}

# ---- which path, and errors the host's connect() meets

@test "net-tcp: the container's connections are rrun-net's own (window scaling) unless RRUN_NET_SPLICE=0" {
  command -v ss >/dev/null || skip "ss (iproute2) is not installed"
  command -v socat >/dev/null || skip "socat is not installed"
  # rrun-net's own TCP needs SO_PEEK_OFF (42) on TCP sockets: Linux 6.10
  python3 -c 'import socket; socket.socket().setsockopt(socket.SOL_SOCKET, 42, 0)' 2>/dev/null ||
    skip "this kernel has no SO_PEEK_OFF for TCP: libslirp keeps every connection"
  # scale_seen: the window scale of such a connection (tcp_info_seen) into $T/wscale
  # ("none" without)
  scale_seen () {
    local out
    tcp_info_seen --debug
    out=$(cat "$T/tcpinfo")
    if [[ $out =~ " wscale:"([0-9]+),([0-9]+) ]]; then
      echo "${BASH_REMATCH[1]}" >"$T/wscale"
    elif [[ $out == *" mss:"* ]]; then
      echo none >"$T/wscale"
    fi
  }
  tcp_path splice
  scale_seen
  grep -q "outbound TCP: rrun-net's own" "$T/helper.log"
  [ "$(cat "$T/wscale")" = 7 ] # the scale rrun-net's SYN-ACK offers
  grep -q "data in flight stays in the host socket (SO_PEEK_OFF)" "$T/helper.log"
  tcp_path ring
  scale_seen
  grep -q "data in flight is held in a ring per connection" "$T/helper.log"
  [ "$(cat "$T/wscale")" = 7 ]
  tcp_path libslirp
  scale_seen
  grep -q "outbound TCP: libslirp's" "$T/helper.log"
  [ "$(cat "$T/wscale")" = none ] # libslirp's BSD TCP has no window scaling
}

@test "net-tcp: a connection the host cannot make fails in the container with the host's error (splice)" {
  local addr host_err found=
  # Addresses of documentation ranges: on most hosts unreachable (a missing route or
  # neighbour). The first the host's own connect() fails on with an unreachable error
  # is the one checked; libslirp's path waits for the container's timeout instead.
  for addr in 2001:db8::1 198.51.100.1; do
    host_err=$(timeout 10 python3 "$PEER" connect-error "$addr" 9) || continue
    if [[ $host_err =~ ^(ENETUNREACH|EHOSTUNREACH)\  ]]; then
      found=$addr
      host_err=${BASH_REMATCH[1]}
      break
    fi
  done
  [ -n "$found" ] || skip "no documentation address is unreachable from this host"
  tcp_path splice
  if [[ $found == *:* ]]; then
    start_helper --enable-ipv6
    # tap0's IPv6 address (router advertisement) out of duplicate address detection:
    # polled, not a fixed 2 s that a loaded machine may need more than
    for _ in $(seq 400); do
      in_ns ip -6 -o addr show dev tap0 scope global | grep -v tentative | grep -q ' fd00::' && break
      sleep 0.05
    done
  else
    start_helper
  fi
  run -0 peer connect-error "$found" 9
  [[ $output =~ ^$host_err\ [0-9]+$ ]]
}

# ---- the same with data in flight held in a ring (kernels without SO_PEEK_OFF)

@test "net-tcp: 200 request/response exchanges on one connection (ring)" {
  tcp_path ring
  case_exchanges
}

@test "net-tcp: 64 MiB up and 64 MiB down arrive intact (ring)" {
  tcp_path ring
  case_bulk4
}

@test "net-tcp: 16 MiB each way over IPv6, fd00::2 to the host's ::1 (ring)" {
  tcp_path ring
  case_bulk6
}

@test "net-tcp: half-closed connections carry the other way to the end (ring)" {
  tcp_path ring
  case_halfclose
}

@test "net-tcp: the server's reset reaches the container as ECONNRESET (ring)" {
  tcp_path ring
  case_server_reset
}

@test "net-tcp: 50 connections at once, 1 MiB each way each, arrive intact (ring)" {
  tcp_path ring
  case_parallel
}

@test "net-tcp: the helper holds no socket once the connections have closed (ring)" {
  tcp_path ring
  case_fds
}
