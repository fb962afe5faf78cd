#!/usr/bin/env bats
# rrun-net and src/network.c against a bare user+network namespace (unshare), which is what
# the runtime hands the helper: no container needed. Port publishing goes through
# net-driver, which calls rrun_network_start/free exactly as `rrun run` will.
# Needs: unshare/nsenter (util-linux), busybox, socat, curl, dnsmasq (dnsmasq-base).
# No image store is used, so run.sh runs this file in one storage-driver pass only:
# rrun-test: one pass

bats_require_minimum_version 1.5.0

load net-helpers

setup_file () {
  : "${RRUN_NET:?RRUN_NET must name the built helper}"
  : "${NET_DRIVER:?NET_DRIVER must name the built net-driver}"
}

setup () {
  net_setup unshare nsenter busybox socat curl
}

teardown () {
  net_teardown
}

@test "net: tap0 is up with 10.0.2.100/24, a default route, mtu 65520, and lo" {
  start_helper
  run in_ns ip -4 -o addr show dev tap0
  [[ "$output" == *"inet 10.0.2.100/24"* ]]
  run in_ns ip route
  [[ "$output" == *"default via 10.0.2.2 dev tap0"* ]]
  run in_ns ip -o link show tap0
  [[ "$output" == *" mtu 65520 "* ]]
  run in_ns ip -o link show lo
  [[ "$output" == *"UP"* ]]
  run in_ns cat /proc/sys/net/ipv4/ping_group_range
  [ "$output" = "$(printf '0\t0')" ]
}

@test "net: cidr, mtu and mac are configurable" {
  start_helper --cidr 10.5.0.0/24 --mtu 1500 --mac 02:11:22:33:44:55 --disable-ipv6
  run in_ns ip -4 -o addr show dev tap0
  [[ "$output" == *"inet 10.5.0.100/24"* ]]
  run in_ns ip -o link show tap0
  [[ "$output" == *" mtu 1500 "* ]]
  [[ "$output" == *"link/ether 02:11:22:33:44:55 "* ]]
  run in_ns busybox ping -c1 -W2 10.5.0.2
  [ "$status" = 0 ]
}

@test "net: TCP connections the container opens get libslirp's MSS clamped (--tcp-mss) when libslirp has them (RRUN_NET_SPLICE=0)" {
  command -v ss >/dev/null || skip "ss (iproute2) is not installed"
  # The clamp is libslirp's: rrun-net's own TCP (net-tcp.c) is off for this test.
  export RRUN_NET_SPLICE=0
  # mss_seen [helper options]: the MSS of such a connection (tcp_info_seen), into $T/mss
  mss_seen () {
    tcp_info_seen "$@"
    [[ $(cat "$T/tcpinfo") =~ " mss:"([0-9]+) ]] && echo "${BASH_REMATCH[1]}" >"$T/mss"
  }
  mss_seen --debug
  # by default half the 64 KiB window libslirp's SYN-ACK offers when tap0 has TCP
  # segmentation offload (the container's TSO frames are at most half of it anyway)
  if grep -qE 'offloads 0x7($|,)' "$T/helper.log"; then # TSO4 and TSO6 granted
    [ "$(cat "$T/mss")" = 32767 ]
  else # a kernel that grants tap0 no TSO
    [ "$(cat "$T/mss")" = 21845 ]
  fi
  # a third without the offloads: three segments in flight rather than the MTU's two
  RRUN_NET_OFFLOAD=0 mss_seen
  [ "$(cat "$T/mss")" = 21845 ]
  mss_seen --tcp-mss 8000
  [ "$(cat "$T/mss")" = 8000 ]
  mss_seen --tcp-mss 0
  # unclamped, Linux bounds the segment to half the 64 KiB window libslirp offers
  [ "$(cat "$T/mss")" -gt 30000 ]
}

@test "net: the gateway answers ping" {
  start_helper
  run in_ns busybox ping -c1 -W2 10.0.2.2
  [ "$status" = 0 ]
  [[ "$output" == *"1 packets received"* ]]
}

@test "net: the host's loopback is refused by default and reachable with allow_host_loopback" {
  port=$(free_port)
  mkdir "$T/www" && echo hello-from-host >"$T/www/f"
  busybox httpd -f -p "127.0.0.1:$port" -h "$T/www" &
  PIDS+=($!)
  wait_listen "$port"
  start_helper
  run in_ns curl -sS --max-time 3 "http://10.0.2.2:$port/f"
  [ "$status" != 0 ]
  kill "$HELPER"; wait_gone "$HELPER"
  start_helper --allow-host-loopback
  run in_ns curl -sS --max-time 20 "http://10.0.2.2:$port/f"
  [ "$status" = 0 ]
  [ "$output" = hello-from-host ]
}

@test "net: UDP to the host's loopback with allow_host_loopback" {
  port=$(free_port)
  socat -u "UDP-RECV:$port,bind=127.0.0.1" "OPEN:$T/udp.out,creat" &
  PIDS+=($!)
  sleep 0.2
  start_helper --allow-host-loopback
  # (resent until it arrives, up to 10 s: the receiver or the helper may start late)
  for _ in $(seq 100); do
    echo udp-hello | in_ns socat -u - "UDP:10.0.2.2:$port"
    [ -s "$T/udp.out" ] && break
    sleep 0.1
  done
  grep -q udp-hello "$T/udp.out"
}

@test "net: DNS through 10.0.2.3 reaches dns_upstream (dnsmasq on 127.0.0.1:PORT)" {
  command -v dnsmasq >/dev/null || skip "dnsmasq is not installed (dnsmasq-base)"
  port=$(free_port)
  dnsmasq --keep-in-foreground --no-resolv --no-hosts --listen-address=127.0.0.1 \
    --bind-interfaces --port="$port" --address=/probe.rrun.test/192.0.2.99 \
    --pid-file="$T/dnsmasq.pid" --log-facility=- 2>/dev/null &
  PIDS+=($!)
  # dnsmasq serves TCP on the port as well: listening there means it is up
  wait_listen "$port"
  start_helper --dns-upstream "127.0.0.1:$port"
  run in_ns busybox nslookup -type=a probe.rrun.test 10.0.2.3
  [ "$status" = 0 ]
  [[ "$output" == *"192.0.2.99"* ]]
}

@test "net: -p publishes a TCP port through the host-side forwarder" {
  mkdir "$T/www" && echo hello-from-container >"$T/www/index.html"
  in_ns busybox httpd -f -p 80 -h "$T/www" &
  PIDS+=($!)
  wait_listen 80 ns
  port=$(free_port)
  start_driver -p "$port:80"
  [ "$(head -1 "$T/driver.out")" = "80/tcp -> 0.0.0.0:$port" ]
  run curl -sS --max-time 20 "http://127.0.0.1:$port/"
  [ "$status" = 0 ]
  [ "$output" = hello-from-container ]
  run "$NET_DRIVER" ports "$T"
  [ "$output" = "80/tcp -> 0.0.0.0:$port" ]
}

@test "net: -p containerPort gets a random host port, shown by the port query" {
  mkdir "$T/www" && echo random >"$T/www/index.html"
  in_ns busybox httpd -f -p 8080 -h "$T/www" &
  PIDS+=($!)
  wait_listen 8080 ns
  start_driver -p 127.0.0.1::8080
  line=$(head -1 "$T/driver.out")
  [[ "$line" =~ ^8080/tcp\ -\>\ 127\.0\.0\.1:([0-9]+)$ ]]
  port=${BASH_REMATCH[1]}
  [ "$port" != 0 ]
  run curl -sS --max-time 20 "http://127.0.0.1:$port/"
  [ "$output" = random ]
  run "$NET_DRIVER" ports "$T"
  [ "$output" = "$line" ]
}

@test "net: -p publishes a UDP port" {
  in_ns socat -u UDP-RECV:53 "OPEN:$T/udp.in,creat" &
  PIDS+=($!)
  port=$(free_port)
  start_driver -p "127.0.0.1:$port:53/udp"
  # (resent until it arrives, up to 10 s: the receiver may start late)
  for _ in $(seq 100); do
    echo udp-in | socat -u - "UDP:127.0.0.1:$port"
    [ -s "$T/udp.in" ] && break
    sleep 0.1
  done
  grep -q udp-in "$T/udp.in"
}

@test "net: a privileged host port fails before anything starts and names the sysctl" {
  start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
  [ "$start" -gt 80 ] || skip "net.ipv4.ip_unprivileged_port_start is $start here"
  run -125 "$NET_DRIVER" start "$NSPID" "$T" -p 80:80
  [ "${lines[0]}" = "rrun: cannot publish port 0.0.0.0:80/tcp: ports below $start are privileged" ]
  [[ "${lines[1]}" == *"net.ipv4.ip_unprivileged_port_start"* ]]
  [ ! -e "$T/net.sock" ] # the helper was never started
}

@test "net: a busy host port names its holder" {
  port=$(free_port)
  socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" - </dev/null >/dev/null &
  PIDS+=($!)
  wait_listen "$port"
  run -125 "$NET_DRIVER" start "$NSPID" "$T" -p "127.0.0.1:$port:80"
  [[ "${lines[0]}" == "rrun: cannot publish port 127.0.0.1:$port/tcp: it is in use by process "*"(socat)" ]]
  [[ "${lines[1]}" == "hint: choose another host port"* ]]
}

@test "net: 100 MB each way arrive intact" {
  head -c 100M /dev/urandom >"$T/blob"
  want=$(sha256sum <"$T/blob" | cut -d' ' -f1)
  # container -> host, through libslirp
  port=$(free_port)
  socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" "CREATE:$T/up" &
  up=$!
  PIDS+=($up)
  wait_listen "$port"
  start_driver --network slirp:allow_host_loopback=true -p "127.0.0.1:$((port + 1)):9000"
  in_ns timeout 60 socat -u "FILE:$T/blob" "TCP:10.0.2.2:$port"
  wait "$up"
  [ "$(sha256sum <"$T/up" | cut -d' ' -f1)" = "$want" ]
  # host -> container, through the published port
  in_ns socat -u TCP-LISTEN:9000,reuseaddr "CREATE:$T/down" &
  down=$!
  PIDS+=($down)
  wait_listen 9000 ns
  timeout 60 socat -u "FILE:$T/blob" "TCP:127.0.0.1:$((port + 1))"
  wait "$down"
  [ "$(sha256sum <"$T/down" | cut -d' ' -f1)" = "$want" ]
}

@test "net: the container hands tap0 large TCP segments (offload); both ways of its own connection arrive intact" {
  # tap_tx: tap0's transmitted bytes and frames, as the container's kernel counts them
  tap_tx () { in_ns awk '$1 == "tap0:" { print $10, $11 }' /proc/net/dev; }
  head -c 20M /dev/urandom >"$T/blob"
  want=$(sha256sum <"$T/blob" | cut -d' ' -f1)
  port=$(free_port)
  socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" "CREATE:$T/up" &
  up=$!
  PIDS+=($up)
  wait_listen "$port"
  start_helper --allow-host-loopback
  read -r b0 p0 < <(tap_tx)
  in_ns timeout 60 socat -b 262144 -u "FILE:$T/blob" "TCP:10.0.2.2:$port"
  wait "$up"
  read -r b1 p1 < <(tap_tx)
  [ "$(sha256sum <"$T/up" | cut -d' ' -f1)" = "$want" ]
  # Cut to the MSS, no frame carries more than 21845 + 54 bytes of headers; with
  # segmentation offload the kernel hands over up to 64 KiB at once (how many of them
  # depends on how the window opens, so only the average is checked).
  echo "tap0: $((b1 - b0)) bytes in $((p1 - p0)) frames"
  [ $(((b1 - b0) / (p1 - p0))) -gt $((21845 + 54)) ]
  # a download: the host sends on a connection the container opened
  port=$(free_port)
  socat -u "FILE:$T/blob" "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" &
  PIDS+=($!)
  wait_listen "$port"
  in_ns timeout 60 socat -u "TCP:10.0.2.2:$port" "CREATE:$T/down"
  [ "$(sha256sum <"$T/down" | cut -d' ' -f1)" = "$want" ]
}

@test "net: no orphan helper after the container's process is killed" {
  start_helper
  kill -0 "$HELPER"
  kill "$NSPID"
  wait_gone "$HELPER"
}

@test "net: no orphan helper after its parent is SIGKILLed" {
  start_driver
  kill -0 "$HELPER"
  kill -9 "$DRIVER"
  wait_gone "$HELPER"
}

@test "net: no orphan helper after a normal stop" {
  start_driver
  kill -0 "$HELPER"
  exec 6>&-
  wait "$DRIVER"
  wait_gone "$HELPER"
}

@test "net: rrun-net's errors name it and say why" {
  run "$RRUN_NET" --netns-pid 999999999
  [ "$status" = 1 ]
  [ "$output" = 'rrun-net: cannot open "/proc/999999999/ns/net": No such file or directory
hint: the container'"'"'s process is gone' ]
  run "$RRUN_NET" --netns-pid "$NSPID" --cidr 10.0.2.0/30
  [ "$output" = 'rrun-net: invalid cidr "10.0.2.0/30": expected A.B.C.D/N with N from 8 to 25' ]
}
