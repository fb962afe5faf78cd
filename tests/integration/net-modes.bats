#!/usr/bin/env bats
# rrun-test: one pass
# (one storage-driver pass: the network and cgroup code do not depend on the driver)
# issue 4 network modes through `rrun run`: --network container:NAME|ID and ns:PATH (the
# joining container enters the owner's user namespace and joins its network namespace),
# the options that conflict with them, and --mac-address. (net.bats tests the helper on
# its own, without containers; these need running containers, so they live here.)

load helpers

setup_file() {
  common_setup_file
  [[ -n ${RRUN_NET:-} ]] || skip "RRUN_NET is not set (meson test sets it)"
}

teardown() {
  if [[ -n ${RRUN_PID:-} ]] && kill -0 "$RRUN_PID" 2>/dev/null; then
    kill -TERM "$RRUN_PID"
    wait_bg
  fi
}

# Start container "web" with --init: a busybox httpd on the container's 127.0.0.1:8080
# serving /www/i; its host name and tap0 line go to bg.out.
start_web() { # [rrun run options...]
  rrun_bg run --rm --init --name web "$@" "$FIXTURE_IMAGE" sh -c \
    'mkdir -p /www && echo hello-from-web >/www/i && httpd -p 127.0.0.1:8080 -h /www &&
     hostname && ip -o link show tap0 && echo ready && exec sleep 60'
  wait_until grep -qx ready "$BATS_TEST_TMPDIR/bg.out"
}

web_pid() {
  rrun ps --format json | python3 -c 'import json, sys
print(next(c["Pid"] for c in json.load(sys.stdin) if c["Name"] == "web"))'
}

web_mac() {
  sed -n 's/.*link\/ether \([0-9a-f:]*\) .*/\1/p' "$BATS_TEST_TMPDIR/bg.out"
}

@test "network container:NAME: sees the container's tap0, reaches its 127.0.0.1, shares its files" {
  start_web
  run -0 rrun run --rm --network container:web "$FIXTURE_IMAGE" sh -c \
    'ip -o link show tap0; wget -qO- http://127.0.0.1:8080/i; echo "host=$(hostname)"; cat /etc/resolv.conf'
  [[ $output == *"link/ether $(web_mac) "* ]]
  [[ $output == *hello-from-web* ]]
  [[ $output == *"host=$(head -1 "$BATS_TEST_TMPDIR/bg.out")"* ]]
  [[ $output == *"nameserver 10.0.2.3"* ]]
}

@test "network container:ID: a unique id prefix joins too" {
  start_web
  id=$(rrun ps --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["Id"][:12])')
  run -0 rrun run --rm --network "container:$id" "$FIXTURE_IMAGE" wget -qO- http://127.0.0.1:8080/i
  [ "$output" = hello-from-web ]
}

@test "network ns:/proc/PID/ns/net joins a container's namespace" {
  start_web
  run -0 rrun run --rm --network "ns:/proc/$(web_pid)/ns/net" "$FIXTURE_IMAGE" sh -c \
    'ip -o link show tap0; wget -qO- http://127.0.0.1:8080/i'
  [[ $output == *"link/ether $(web_mac) "* ]]
  [[ $output == *hello-from-web* ]]
}

@test "network ns:PATH joins a namespace made with unshare --user --net when the maps agree" {
  # The process itself writes its pid once it is in the new namespaces: $! may name a
  # subshell of bats rather than unshare.
  unshare --user --map-root-user --net sh -c 'echo $$ >"$1.tmp" && mv "$1.tmp" "$1"; exec sleep 30' \
    _ "$BATS_TEST_TMPDIR/holder.pid" &
  wait_until test -s "$BATS_TEST_TMPDIR/holder.pid"
  local holder
  holder=$(cat "$BATS_TEST_TMPDIR/holder.pid")
  [ "$(readlink "/proc/$holder/ns/net")" != "$(readlink /proc/self/ns/net)" ]
  # unshare maps only the user's own id: --userns=single is the same map
  run -0 rrun run --rm --userns=single --network "ns:/proc/$holder/ns/net" "$FIXTURE_IMAGE" \
    sh -c 'ls /sys/class/net'
  [ "$output" = lo ]
  run -125 rrun run --rm --userns=auto --network "ns:/proc/$holder/ns/net" "$FIXTURE_IMAGE" true
  kill "$holder"
  [[ ${lines[0]} == "rrun: cannot join the network namespace \"/proc/$holder/ns/net\": its user namespace maps uids as \"0 $(id -u) 1\", --userns="* ]]
  [[ ${lines[1]} == "hint: pick the --userns whose map is the namespace's"* ]]
  no_leftovers
}

@test "network container: outlives the container it joined (the namespace is refcounted)" {
  start_web
  # the joiner lists the devices once web is gone: when the test creates ctl/go (at most
  # 30 s), not after a fixed time that web's exit may outlast on a loaded machine
  mkdir "$BATS_TEST_TMPDIR/ctl"
  "$RRUN" run --rm --network container:web -v "$BATS_TEST_TMPDIR/ctl:/ctl" "$FIXTURE_IMAGE" sh -c \
    'echo joined; i=0; while [ ! -e /ctl/go ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
     ls /sys/class/net' >"$BATS_TEST_TMPDIR/joiner.out" 2>&1 &
  local joiner=$!
  wait_until grep -qx joined "$BATS_TEST_TMPDIR/joiner.out"
  # no helper of its own: web's rrun-net serves both
  pgrep -P "$RRUN_PID" -x rrun-net
  run -1 pgrep -P "$joiner" -x rrun-net
  kill -TERM "$RRUN_PID"
  wait_bg
  touch "$BATS_TEST_TMPDIR/ctl/go"
  local status=0
  wait "$joiner" || status=$?
  [ "$status" = 0 ]
  # web's helper is gone with web, and tap0 with it; lo stays
  grep -qx lo "$BATS_TEST_TMPDIR/joiner.out"
  run -1 grep -qx tap0 "$BATS_TEST_TMPDIR/joiner.out"
  no_leftovers
}

@test "network container: an unknown container is an error naming it" {
  run -125 rrun run --rm --network container:no-such "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot join the network of container "no-such": no running container has that name or id' ]
  [ "${lines[1]}" = 'hint: list running containers with: rrun ps' ]
  no_leftovers
}

@test "network container: refuses --hostname, --dns, --add-host, -p and --mac-address" {
  run -125 rrun run --rm --network container:web --hostname x "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = "rrun: cannot use --hostname with --network container:web: the host name is the joined container's" ]
  run -125 rrun run --rm --network container:web --dns 192.0.2.1 "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == "rrun: cannot use --dns, --dns-search or --dns-option with --network container:web: "* ]]
  run -125 rrun run --rm --network container:web --add-host db:192.0.2.2 "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == "rrun: cannot use --add-host with --network container:web: "* ]]
  run -125 rrun run --rm --network container:web -p 8080:80 "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == "rrun: cannot use -p/-P with --network container:web: "* ]]
  run -125 rrun run --rm --network container:web --mac-address 02:00:00:00:00:01 "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == "rrun: cannot use --mac-address with --network container:web: "* ]]
  no_leftovers
}

@test "network container: refuses a different --userns than the joined container's" {
  require_subid_range
  start_web
  run -125 rrun run --rm --userns=keep-id --network container:web "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot join the network of container "web": it runs with --userns=auto, this container with --userns=keep-id' ]
  [ "${lines[1]}" = 'hint: run this one with --userns=auto too: both share one user namespace' ]
}

@test "network ns: a network namespace of the host (made by root) is refused" {
  run -125 rrun run --rm --network ns:/proc/self/ns/net "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot join the network namespace "/proc/self/ns/net": it belongs to the host'"'"'s user namespace (made by root), which only root may join' ]
  [[ ${lines[1]} == "hint: make the namespace inside a user namespace of yours"* ]]
  run -125 rrun run --rm --network ns:/etc/hostname "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot join the network namespace "/etc/hostname": not a network namespace' ]
  no_leftovers
}

@test "network --mac-address sets tap0's address; a multicast one or another mode is refused" {
  run -0 rrun run --rm --mac-address 02:11:22:33:44:55 "$FIXTURE_IMAGE" ip -o link show tap0
  [[ $output == *"link/ether 02:11:22:33:44:55 "* ]]
  run -125 rrun run --rm --mac-address 01:00:5e:00:00:01 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --mac-address "01:00:5e:00:00:01": expected a unicast, non-zero XX:XX:XX:XX:XX:XX' ]
  run -125 rrun run --rm --mac-address 02:11:22:33:44:55 --network none "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == "rrun: cannot use --mac-address with --network none: "* ]]
  no_leftovers
}
