#!/usr/bin/env bats
# rrun-test: one pass
# (one storage-driver pass: the network and cgroup code do not depend on the driver)
# issue 4 through `rrun run`: the default slirp network, -p reaching busybox httpd from the
# host, `rrun ps` and `rrun port` for a running container, and no helper left afterwards.

load helpers

setup_file() {
  common_setup_file
  [[ -n ${RRUN_NET:-} ]] || skip "RRUN_NET is not set (meson test sets it)"
}

# A test that failed half-way leaves its background container: end it (bounded).
teardown() {
  if [[ -n ${RRUN_PID:-} ]] && kill -0 "$RRUN_PID" 2>/dev/null; then
    kill -TERM "$RRUN_PID"
    wait_bg
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

@test "network: the default network has tap0 10.0.2.100 and DNS 10.0.2.3" {
  run -0 rrun run --rm "$FIXTURE_IMAGE" sh -c 'ip -4 addr show tap0; cat /etc/resolv.conf'
  [[ $output == *"inet 10.0.2.100/24"* ]]
  [[ $output == *"nameserver 10.0.2.3"* ]]
  no_leftovers
}

@test "ports: -p publishes a container port on the host; ps and port show it" {
  local port
  port=$(free_port)
  rrun_bg run --rm --init --name web -p "127.0.0.1:$port:8080" "$FIXTURE_IMAGE" \
    sh -c 'mkdir -p /www && echo hello-from-container >/www/index.html && echo ready && exec httpd -f -p 8080 -h /www'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  wait_until curl -fsS "http://127.0.0.1:$port/index.html"
  run -0 curl -fsS "http://127.0.0.1:$port/index.html"
  [ "$output" = hello-from-container ]
  run -0 rrun ps
  [[ $output == *web* ]]
  [[ ${lines[0]} == "CONTAINER ID"*"COMMAND"*"CREATED"*"STATUS"*"NAMES" ]]
  [[ ${lines[1]} == *'"sh -c mkdir -p /www…"'*"Up "* ]]
  run -0 rrun port web
  [[ $output == *"8080/tcp -> 127.0.0.1:$port"* ]]
  # --init forwards SIGTERM to httpd, which has no handler and ends: 128 + 15
  kill -TERM "$RRUN_PID"
  wait_bg
  [ "$BG_STATUS" -eq 143 ]
  no_leftovers
  run -125 rrun port web
  [[ $output == *'no running container "web"'* ]]
}

@test "ports: a published port already in use fails before the container starts" {
  local port
  port=$(free_port)
  python3 -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1', $port)); s.listen(); time.sleep(30)" &
  local holder=$!
  wait_until bash -c "ss -ltn | grep -q ':$port '"
  run -125 rrun run --rm -p "127.0.0.1:$port:80" "$FIXTURE_IMAGE" true
  kill "$holder"
  [[ $output == *"$port"* ]]
  no_leftovers
}

@test "ports: a container without the slirp network has no published ports (empty, status 0)" {
  rrun_bg run --rm --init --name quiet --network none "$FIXTURE_IMAGE" \
    sh -c 'echo ready; exec sleep 30'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  run -0 rrun port quiet
  [ -z "$output" ]
  kill -TERM "$RRUN_PID"
  wait_bg
  no_leftovers
}

# issue 19: splice(SPLICE_F_MORE) into the sockets held every request and every reply back
# for TCP's 200 ms timer, so one echo round trip through -p took ~415 ms (8 s for 20).
@test "ports: small request/response round trips through -p are not delayed (20 echoes < 2 s)" {
  local port
  port=$(free_port)
  rrun_bg run --rm --init -p "127.0.0.1:$port:7777" "$FIXTURE_IMAGE" \
    sh -c 'echo ready; exec nc -ll -p 7777 -e cat'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  # The first connection may come before nc listens: retry the whole exchange (bounded).
  run -0 timeout 60 python3 -c '
import socket, sys, time
port = int(sys.argv[1])
for attempt in range(40):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"w")
        if s.recv(1) == b"w":
            break
    except OSError:
        pass
    time.sleep(0.5)
else:
    sys.exit("no echo from the container")
start = time.monotonic()
for i in range(20):
    s.sendall(b"x")
    if s.recv(1) != b"x":
        sys.exit("short echo")
print("%.3f" % (time.monotonic() - start))
' "$port"
  echo "# 20 round trips: $output s" >&3
  run -0 python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 2.0 else 1)' "$output"
  kill -TERM "$RRUN_PID"
  wait_bg
  no_leftovers
}

# A UDP server in the container answers clients on the host's loopback through -p: libslirp's
# own UDP hostfwd showed such a client to the container as 10.0.2.2 and dropped the reply
# when host loopback was closed (the default), so the datagram went in and nothing came
# back. rrun-net's relay sends from the container's own address instead, one flow per
# client, and the replies leave from the published port.
udp_round_trips() { # NETWORK
  local port
  udp_echo_setup
  port=$UDP_PORT
  rrun_bg run --rm --init --name uecho --network "$1" -p "127.0.0.1:$port:5353/udp" \
    -v "$BATS_TEST_TMPDIR/bin:/t:ro" "$FIXTURE_IMAGE" /t/udp-echo 5353
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  run -0 rrun port uecho
  [ "$output" = "5353/udp -> 127.0.0.1:$port" ]
  # each client its own flow, from the container's own address; each reply reaches its client
  udp_two_clients "$port" 10.0.2.100
  # the container's own rrun-net (a network holder of an earlier file may still run its own)
  local netpid
  netpid=$(pgrep -P "$RRUN_PID" -x rrun-net)
  [ -n "$netpid" ]
  kill -TERM "$RRUN_PID"
  wait_bg
  [ "$BG_STATUS" -eq 143 ]
  no_leftovers
  # nothing is left: the container's rrun-net has ended, and the published port is free
  wait_until proc_ended "$netpid"
  run -0 python3 -c 'import socket, sys; socket.socket(type=socket.SOCK_DGRAM).bind(("127.0.0.1", int(sys.argv[1])))' "$port"
}

@test "ports: -p HOST:CTR/udp: clients on 127.0.0.1 get the container's replies, each its own" {
  udp_round_trips slirp
}

@test "ports: -p HOST:CTR/udp with allow_host_loopback: the replies reach clients on 127.0.0.1" {
  udp_round_trips slirp:allow_host_loopback=true
}
