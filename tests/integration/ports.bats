#!/usr/bin/env bats
# issue 4 through `rrun run`: the default slirp network, -p reaching busybox httpd from the
# host, `rrun ps` and `rrun port` for a running container, and no helper left afterwards.

load helpers

setup_file() {
  common_setup_file
  [[ -n ${RRUN_NET:-} ]] || skip "RRUN_NET is not set (meson test sets it)"
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
