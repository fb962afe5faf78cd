#!/usr/bin/env bats
# rrun-test: one pass
# rrun-test: dns53
# issue 16: rrun's DNS server for user-defined networks (network/dns.h), alone on loopback:
# `rrun __internal net-dns`, one address per network, names from the hosts files, a
# dnsmasq upstream. Needs dig (dnsutils) and dnsmasq (dnsmasq-base).

load helpers

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Wait until something listens on TCP port $1 of address $2.
wait_listen() {
  # (up to 20 s: a loaded machine can take more than 2 s to start a server)
  for _ in $(seq 400); do
    busybox netstat -ltn | grep -q " $2:$1 " && return 0
    sleep 0.05
  done
  return 1
}

# dig at the server's address for network 1 (127.0.0.1) or 2 (127.0.0.2).
q() {
  local server=$1
  shift
  dig @"$server" -p "$PORT" +time=2 +tries=1 "$@"
}

setup() {
  command -v dig >/dev/null || skip "dig is not installed (dnsutils)"
  command -v dnsmasq >/dev/null || skip "dnsmasq is not installed (dnsmasq-base)"
  PIDS=()
  H=$BATS_TEST_TMPDIR/hosts
  mkdir -p "$H"
  printf '10.89.0.2 web %s %s www.alias\nfd00::2 web\n' \
    0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef 0123456789ab >"$H/net1"
  printf '10.89.1.2 db\n' >"$H/net2"
  UP=$(free_port)
  dnsmasq --keep-in-foreground --no-resolv --no-hosts --listen-address=127.0.0.1 \
    --bind-interfaces --port="$UP" --address=/probe.rrun.test/192.0.2.99 \
    --pid-file="$BATS_TEST_TMPDIR/dnsmasq.pid" --log-facility=- 2>/dev/null &
  PIDS+=($!)
  wait_listen "$UP" 127.0.0.1
  PORT=$(free_port)
  "$RRUN" __internal net-dns --listen "127.0.0.1:$PORT=net1" --listen "127.0.0.2:$PORT=net2" \
    --hosts-dir "$H" --upstream "127.0.0.1:$UP" 2>"$BATS_TEST_TMPDIR/dns.log" &
  DNS=$!
  PIDS+=("$DNS")
  wait_listen "$PORT" 127.0.0.2
}

teardown() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}

@test "dns: a name, its short ID and alias, any case, bare or in dns.rrun; AAAA; over TCP" {
  for name in web WEB web.dns.rrun Web.Dns.Rrun. 0123456789ab www.alias www.alias.dns.rrun; do
    run -0 q 127.0.0.1 +short "$name"
    [ "$output" = 10.89.0.2 ]
  done
  run -0 q 127.0.0.1 +short web AAAA
  [ "$output" = fd00::2 ]
  run -0 q 127.0.0.1 +short +tcp web
  [ "$output" = 10.89.0.2 ]
  run -0 q 127.0.0.1 web
  [[ $output == *"status: NOERROR"* ]]
  [[ $output == *"flags: qr aa rd ra;"* ]]
}

@test "dns: PTR of a container's address is its name in dns.rrun" {
  run -0 q 127.0.0.1 +short -x 10.89.0.2
  [ "$output" = web.dns.rrun. ]
  run -0 q 127.0.0.1 +short -x fd00::2
  [ "$output" = web.dns.rrun. ]
}

@test "dns: unknown names of the domain and single labels are NXDOMAIN at once" {
  for name in nosuch nosuch.dns.rrun; do
    run -0 q 127.0.0.1 "$name"
    [[ $output == *"status: NXDOMAIN"* ]]
    [[ $output =~ Query\ time:\ ([0-9]+)\ msec ]]
    ((BASH_REMATCH[1] < 100))
  done
}

@test "dns: networks are isolated: a name is answered only on its own network" {
  run -0 q 127.0.0.2 web
  [[ $output == *"status: NXDOMAIN"* ]]
  run -0 q 127.0.0.2 +short db
  [ "$output" = 10.89.1.2 ]
  run -0 q 127.0.0.1 db
  [[ $output == *"status: NXDOMAIN"* ]]
  run -0 q 127.0.0.2 +short -x 10.89.0.2
  [ "$output" != web.dns.rrun. ]
}

@test "dns: a hosts file renamed into place resolves at once; a removed name stops" {
  printf '10.89.1.2 db\n10.89.1.3 cache\n' >"$H/.net2.tmp"
  mv "$H/.net2.tmp" "$H/net2"
  run -0 q 127.0.0.2 +short cache
  [ "$output" = 10.89.1.3 ]
  printf '10.89.1.3 cache\n' >"$H/.net2.tmp"
  mv "$H/.net2.tmp" "$H/net2"
  run -0 q 127.0.0.2 db
  [[ $output == *"status: NXDOMAIN"* ]]
  rm "$H/net2"
  run -0 q 127.0.0.2 cache
  [[ $output == *"status: NXDOMAIN"* ]]
  # a network whose file comes later
  printf '10.89.1.4 late\n' >"$H/net2"
  run -0 q 127.0.0.2 +short late
  [ "$output" = 10.89.1.4 ]
}

@test "dns: other names go to the upstream and its answer comes back, UDP and TCP" {
  run -0 q 127.0.0.1 +short probe.rrun.test
  [ "$output" = 192.0.2.99 ]
  run -0 q 127.0.0.2 +short +tcp probe.rrun.test
  [ "$output" = 192.0.2.99 ]
  # a name of a network is not a prefix: web.probe.rrun.test is the upstream's
  run -0 q 127.0.0.1 +short web.probe.rrun.test
  [ "$output" = 192.0.2.99 ]
}

@test "dns: a client whose hosts line has dns= gets its other names from that server" {
  [[ -n ${RRUN_TEST_DNS53:-} ]] || skip "no DNS server on a loopback port 53 (run.sh starts one as root)"
  # 127.0.0.3 is a client run with --dns; 127.0.0.4 is one without (the default upstream,
  # which does not know the name: REFUSED)
  printf '127.0.0.3 client3 dns=%s\n127.0.0.4 client4\n' "$RRUN_TEST_DNS53" >"$H/.net1.tmp"
  mv "$H/.net1.tmp" "$H/net1"
  run -0 q 127.0.0.1 -b 127.0.0.3 +short upstream-only.rrun.test
  [ "$output" = 192.0.2.77 ]
  run -0 q 127.0.0.1 -b 127.0.0.3 +short +tcp upstream-only.rrun.test
  [ "$output" = 192.0.2.77 ]
  run -0 q 127.0.0.1 -b 127.0.0.4 upstream-only.rrun.test
  [[ $output == *"status: REFUSED"* ]]
  run -0 q 127.0.0.1 -b 127.0.0.4 +short probe.rrun.test
  [ "$output" = 192.0.2.99 ]
  # names of the network are still answered by the server itself
  run -0 q 127.0.0.1 -b 127.0.0.3 +short client4
  [ "$output" = 127.0.0.4 ]
}

@test "dns: a client's --dns server that refuses is passed over for its next one" {
  [[ -n ${RRUN_TEST_DNS53:-} ]] || skip "no DNS server on a loopback port 53 (run.sh starts one as root)"
  # nothing listens on port 53 of $dead: UDP gets an ICMP port unreachable, TCP a reset
  local dead=${RRUN_TEST_DNS53%.*}.66 t0
  printf '127.0.0.3 client3 dns=%s,%s\n' "$dead" "$RRUN_TEST_DNS53" >"$H/.net1.tmp"
  mv "$H/.net1.tmp" "$H/net1"
  # each at once, not after the server's 1.5 s timeout for a server that does not answer
  # (each timed on its own: both together in 1 s left a loaded machine little room)
  t0=$(date +%s%N)
  run -0 q 127.0.0.1 -b 127.0.0.3 +short upstream-only.rrun.test
  (($(date +%s%N) - t0 < 1400000000))
  [ "$output" = 192.0.2.77 ]
  t0=$(date +%s%N)
  run -0 q 127.0.0.1 -b 127.0.0.3 +short +tcp upstream-only.rrun.test
  (($(date +%s%N) - t0 < 1400000000))
  [ "$output" = 192.0.2.77 ]
}

@test "dns: when all of a client's --dns servers refuse, it gets what one dead server gives" {
  [[ -n ${RRUN_TEST_DNS53:-} ]] || skip "no DNS server on a loopback port 53 (run.sh starts one as root)"
  local t0
  printf '127.0.0.3 client3 dns=%s,%s\n' "${RRUN_TEST_DNS53%.*}.66" "${RRUN_TEST_DNS53%.*}.67" \
    >"$H/.net1.tmp"
  mv "$H/.net1.tmp" "$H/net1"
  # UDP: no reply (the client's own timeout)
  run -9 q 127.0.0.1 -b 127.0.0.3 upstream-only.rrun.test
  [[ $output == *"no servers could be reached"* ]]
  # TCP: the connection is closed, at once
  t0=$(date +%s%N)
  run q 127.0.0.1 -b 127.0.0.3 +tcp upstream-only.rrun.test
  [ "$status" -ne 0 ]
  [[ $output != *"status:"* ]]
  # (before the server's 1.5 s timeout for a server that does not answer)
  (($(date +%s%N) - t0 < 1400000000))
  # and the server goes on
  run -0 q 127.0.0.1 +short client3
  [ "$output" = 127.0.0.3 ]
}

@test "dns: a client's --dns server that does not answer is passed over in time" {
  unshare -rn true 2>/dev/null || skip "no unprivileged user and network namespaces (unshare -rn)"
  command -v python3 >/dev/null || skip "python3 is not installed"
  # In a network namespace of its own (port 53 is the test user's there): 127.0.0.19 takes
  # queries and never answers (UDP read and dropped; TCP connected, never answered),
  # 127.0.0.20 answers NXDOMAIN to anything; the server's default upstream is dead.
  cat >"$BATS_TEST_TMPDIR/ns.sh" <<'EOS'
ip link set lo up
python3 -c '
import socket, select
s1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s1.bind(("127.0.0.19", 53))
t1 = socket.socket(); t1.bind(("127.0.0.19", 53)); t1.listen(8)
s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s2.bind(("127.0.0.20", 53))
t2 = socket.socket(); t2.bind(("127.0.0.20", 53)); t2.listen(8)
while True:
    for r in select.select([s1, s2, t2], [], [])[0]:
        if r is t2:
            c = t2.accept()[0]; n = int.from_bytes(c.recv(2), "big"); m = c.recv(n)
            r2 = m[:2] + b"\x81\x83" + m[4:]; c.sendall(len(r2).to_bytes(2, "big") + r2); c.close()
        else:
            m, a = r.recvfrom(65535)
            if r is s2: s2.sendto(m[:2] + b"\x81\x83" + m[4:], a)
' &
printf "127.0.0.3 c3 dns=127.0.0.19,127.0.0.20\n" >"$H/net1"
"$RRUN" __internal net-dns --listen "127.0.0.1:5353=net1" --hosts-dir "$H" \
  --upstream 127.0.0.21:53 &
# both servers bound (TCP and UDP: python binds 127.0.0.20 last), not a fixed 0.5 s
for _ in $(seq 200); do
  [ "$(busybox netstat -ltun | grep -c -e " 127.0.0.1:5353 " -e " 127.0.0.20:53 ")" -ge 4 ] && break
  sleep 0.1
done
for proto in +notcp +tcp; do
  t0=$(date +%s%N)
  dig @127.0.0.1 -p 5353 -b 127.0.0.3 +time=4 +tries=1 $proto fail.over.test | grep -o "status: [A-Z]*"
  echo "ms $(( ($(date +%s%N) - t0) / 1000000 ))"
done
kill %1 %2
EOS
  H=$H RRUN=$RRUN run -0 timeout 30 unshare -rn bash "$BATS_TEST_TMPDIR/ns.sh"
  [ "${lines[0]}" = "status: NXDOMAIN" ]
  [ "${lines[2]}" = "status: NXDOMAIN" ]
  # after the first server's 1.5 s, well before a client's own timeout
  local udp_ms=${lines[1]#ms } tcp_ms=${lines[3]#ms }
  ((udp_ms >= 1000 && udp_ms < 3000))
  ((tcp_ms >= 1000 && tcp_ms < 3000))
}

@test "dns: on an internal network other names are refused" {
  kill "$DNS"
  wait "$DNS" || true
  "$RRUN" __internal net-dns --listen "127.0.0.1:$PORT=net1" --internal net1 \
    --hosts-dir "$H" --upstream "127.0.0.1:$UP" &
  PIDS+=($!)
  wait_listen "$PORT" 127.0.0.1
  run -0 q 127.0.0.1 probe.rrun.test
  [[ $output == *"status: REFUSED"* ]]
  run -0 q 127.0.0.1 +short web
  [ "$output" = 10.89.0.2 ]
}

@test "dns: malformed packets are dropped and the server goes on" {
  for _ in $(seq 20); do
    head -c $((RANDOM % 600)) /dev/urandom >"$BATS_TEST_TMPDIR/junk"
    socat -u "FILE:$BATS_TEST_TMPDIR/junk" "UDP:127.0.0.1:$PORT" || true
  done
  printf '\x00\x05abc' | socat -u - "TCP:127.0.0.1:$PORT" || true
  printf '\x00\x00' | socat -u - "TCP:127.0.0.1:$PORT" || true
  run -0 q 127.0.0.1 +short web
  [ "$output" = 10.89.0.2 ]
  kill -0 "$DNS"
  # SIGHUP reads the names again and keeps serving
  kill -HUP "$DNS"
  run -0 q 127.0.0.1 +short web
  [ "$output" = 10.89.0.2 ]
}

@test "dns: bad arguments are refused with the usage" {
  run -125 "$RRUN" __internal net-dns --listen 127.0.0.1:53
  [ "$output" = 'rrun: bad listen address "127.0.0.1:53": not ADDR:PORT=NETWORK' ]
  run -125 "$RRUN" __internal net-dns --hosts-dir /tmp
  [[ $output == 'rrun: usage: rrun __internal net-dns --listen ADDR:PORT=NETWORK'* ]]
}
