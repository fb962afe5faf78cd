#!/usr/bin/env bats
# rrun-test: one pass
# rrun-test: dns53
# issue 16: containers on user-defined networks: run/create --network NET, --ip,
# --network-alias, --dns*, --add-host, isolation, connect/disconnect, -p, --internal,
# network rm in use, the holder's repair and its exit after the last container.

load helpers
load network-helpers

HOLDER=$RUN_ROOT/net-holder

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
  if [[ -n ${dnsmasq_pid:-} ]]; then kill "$dnsmasq_pid" 2>/dev/null || true; fi
  rm -f "$XDG_CONFIG_HOME/rrun/rrun.conf"
  rrun __internal net-holder-stop >/dev/null 2>&1 || true
  rrun network rm -f $(rrun network ls -q --filter type=custom 2>/dev/null) >/dev/null 2>&1 || true
}

# Whether a pid runs (a zombie does not).
running() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [[ -n $state && $state != Z ]]
}

holder_gone() {
  [ ! -f "$HOLDER/state" ]
}

@test "network run: a container gets eth0 with an address of the network, a route, resolv.conf and hosts" {
  run -0 rrun network create --subnet 10.91.0.0/24 rnet1
  run -0 rrun run --rm --network rnet1 --name c1 --network-alias web "$FIXTURE_IMAGE" \
    sh -c 'ip -4 -o addr show eth0; ip route; cat /etc/resolv.conf /etc/hosts; cat /sys/class/net/eth0/mtu /sys/class/net/eth0/address'
  echo "$output"
  [[ $output == *"eth0    inet 10.91.0.2/24"* ]]
  [[ $output == *"default via 10.91.0.1 dev eth0"* ]]
  [[ $output == *"search dns.rrun"* ]]
  [[ $output == *"nameserver 10.91.0.1"* ]]
  [[ $output == *"10.91.0.2	"*" c1 web"* ]]
  [[ $output == *"1500"* ]]
  [[ $output == *"02:42:0a:5b:00:02"* ]]
}

ip_of() { # CONTAINER NETWORK
  rrun inspect --format "{{.NetworkSettings.Networks.$2.IPAddress}}" "$1"
}

@test "network run: two containers reach each other by address; inspect shows it; the DNS hosts file lists them" {
  run -0 rrun network create --subnet 10.92.0.0/24 rnet1
  run -0 web w1 --network rnet1 --network-alias www
  id=$output
  run -0 ip_of w1 rnet1
  [ "$output" = 10.92.0.2 ]
  run -0 fetch_from 10.92.0.2 --network rnet1 --name client
  [ "$output" = hello-from-w1 ]
  run -0 rrun inspect --format '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.MacAddress}}' w1
  [ "$output" = '10.92.0.2 10.92.0.1 02:42:0a:5c:00:02' ]
  run -0 rrun inspect --format '{{json .NetworkSettings.Networks}}' w1
  [ "$(jq -r .rnet1.Aliases[1] <<<"$output")" = www ]
  [ "$(jq -r .rnet1.NetworkID <<<"$output")" = "$(rrun network inspect --format '{{.Id}}' rnet1)" ]
  # the DNS server's file: IP, name, id, short id, aliases; the client that left is gone
  [ "$(stat -c %a "$HOLDER/hosts")" = 700 ]
  run -0 cat "$HOLDER/hosts/rnet1"
  [ "$output" = "10.92.0.2 w1 $id ${id:0:12} www" ]
  run -0 rrun network inspect --format '{{json .Containers}}' rnet1
  [ "$(jq -r ".\"$id\".IPv4Address" <<<"$output")" = 10.92.0.2/24 ]
  [ "$(jq -r ".\"$id\".Name" <<<"$output")" = w1 ]
  # rrun info: the network with its containers' addresses and aliases
  run -0 rrun info --format json
  [ "$(jq -r '.network.networks[] | select(startswith("rnet1 "))' <<<"$output")" = \
    "rnet1 10.92.0.0/24 gateway 10.92.0.1; 10.92.0.2 ${id:0:12} w1 aliases www" ]
  run -0 rrun rm -f w1
  run -0 cat "$HOLDER/hosts/rnet1"
  [ -z "$output" ]
}

@test "network run: networks are isolated from each other by address; a container on both reaches both" {
  run -0 rrun network create --subnet 10.93.0.0/24 rnetA
  run -0 rrun network create --subnet 10.94.0.0/24 rnetB
  run -0 web wa --network rnetA
  run -0 web wb --network rnetB
  run -0 fetch_from 10.93.0.2 --network rnetA
  [ "$output" = hello-from-wa ]
  run -1 rrun run --rm --network rnetB "$FIXTURE_IMAGE" sh -c "$GET; get 10.93.0.2"
  # nor the other network's gateway (the holder's address there)
  run -1 rrun run --rm --network rnetB "$FIXTURE_IMAGE" ping -c 1 -W 2 10.93.0.1
  # (a ping that must be answered waits up to 10 s: 2 s is little on a loaded machine)
  run -0 rrun run --rm --network rnetB "$FIXTURE_IMAGE" ping -c 1 -W 10 10.94.0.1
  # on both (repeated --network, or NET,NET2): eth0 and eth1, both reachable
  run -0 rrun run --rm --network rnetA --network rnetB "$FIXTURE_IMAGE" \
    sh -c "$GET; get 10.93.0.2 && get 10.94.0.2 && ip -4 -o addr show eth1"
  [ "${lines[0]}" = hello-from-wa ]
  [ "${lines[1]}" = hello-from-wb ]
  [[ ${lines[2]} == *"eth1    inet 10.94.0."* ]]
  run -0 rrun run --rm --network rnetB,rnetA "$FIXTURE_IMAGE" ip route
  [[ $output == *"default via 10.94.0.1 dev eth0"* ]]
}

@test "network connect/disconnect: an interface appears in and leaves a running container" {
  run -0 rrun network create --subnet 10.95.0.0/24 rnetC
  run -0 rrun network create --subnet 10.96.0.0/24 rnetD
  run -0 web wd --network rnetD
  run -0 rrun run -d --name cc --network rnetC "$FIXTURE_IMAGE" sleep 300
  run -1 rrun exec cc sh -c "$GET; get 10.96.0.2"
  run -0 rrun network connect --alias other --ip 10.96.0.50 rnetD cc
  [ -z "$output" ]
  run -0 rrun exec cc sh -c "ip -4 -o addr show eth1; $GET; get 10.96.0.2"
  [[ ${lines[0]} == *"eth1    inet 10.96.0.50/24"* ]]
  [ "${lines[1]}" = hello-from-wd ]
  grep -q '^10.96.0.50 cc .* other$' "$HOLDER/hosts/rnetD"
  run -0 ip_of cc rnetD
  [ "$output" = 10.96.0.50 ]
  # already on it
  run -125 rrun network connect rnetD cc
  [ "${lines[0]}" = 'rrun: container "cc" is already on network "rnetD"' ]
  run -0 rrun network disconnect rnetD cc
  run -0 rrun exec cc sh -c 'ls /sys/class/net'
  [[ $output != *eth1* ]]
  run ! grep -qw cc "$HOLDER/hosts/rnetD" # -w: an ID may hold "cc"
  run -125 rrun network disconnect rnetD cc
  [ "${lines[0]}" = 'rrun: container "cc" is not connected to network "rnetD"' ]
  run -0 rrun network disconnect -f rnetD cc
  # off every network, a running container keeps the holder and can come back
  run -0 rrun rm -f wd
  run -0 rrun network disconnect rnetC cc
  [ -f "$HOLDER/state" ]
  run -0 rrun network connect rnetC cc
  run -0 rrun exec cc sh -c 'ip -4 -o addr show eth0'
  [[ $output == *"inet 10.95.0."* ]]
  # a container on the default network cannot be connected
  run -0 rrun run -d --name plain "$FIXTURE_IMAGE" sleep 300
  run -125 rrun network connect rnetD plain
  [[ ${lines[0]} == 'rrun: '*'not in the network holder'* ]]
}

@test "network run: -p publishes a port of a container on a user-defined network" {
  run -0 rrun network create --subnet 10.97.0.0/24 rnetP
  run -0 web wp --network rnetP -p 80
  run -0 rrun port wp
  [[ ${lines[0]} =~ ^80/tcp\ -\>\ [0-9.]+:([0-9]+)$ ]]
  port=${BASH_REMATCH[1]}
  wait_until curl -fsS "http://127.0.0.1:$port/"
  run -0 curl -fsS "http://127.0.0.1:$port/"
  [ "$output" = hello-from-wp ]
}

@test "network run: -p HOST:CTR/udp publishes a UDP port of a container on a user-defined network" {
  udp_echo_setup
  port=$UDP_PORT
  run -0 rrun network create --subnet 10.105.0.0/24 rnetU
  run -0 rrun run -d --name u1 --network rnetU --ip 10.105.0.5 -p "127.0.0.1:$port:5353/udp" \
    -v "$BATS_TEST_TMPDIR/bin:/t:ro" "$FIXTURE_IMAGE" /t/udp-echo 5353
  run -0 rrun port u1
  [ "$output" = "5353/udp -> 127.0.0.1:$port" ]
  run -0 rrun inspect --format '{{json .NetworkSettings.Ports}}' u1
  [ "$output" = "{\"5353/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$port\"}]}" ]
  # each client its own flow: the container sees one source port per client, from its own
  # address (the forwarder connects inside its namespace), the same for both of a client's
  # datagrams; the replies come back from the published port
  udp_two_clients "$port" 10.105.0.5
  # the container's rrun-net forwards it; it goes with the container
  run -0 pgrep -u "$(id -u)" -f -- '--no-tap'
  run -0 rrun rm -f u1
  wait_until holder_gone
  no_leftovers
  run -1 pgrep -u "$(id -u)" -f -- '--no-tap'
}

@test "network run: a UDP flow of a published port ends when idle; at the bound the least recently active makes room" {
  udp_echo_setup
  port=$UDP_PORT
  run -0 rrun network create --subnet 10.106.0.0/24 rnetV
  # the defaults (60 s, 256 flows) lowered for the test: 1.5 s, 2 flows
  RRUN_NET_UDP_IDLE_MS=1500 RRUN_NET_UDP_FLOWS=2 \
    run -0 rrun run -d --name v1 --network rnetV -p "127.0.0.1:$port:5353/udp" \
    -v "$BATS_TEST_TMPDIR/bin:/t:ro" "$FIXTURE_IMAGE" /t/udp-echo 5353
  # the oldest: its connector, forked from it, has the same command line
  pid=$(pgrep -o -u "$(id -u)" -f -- '--no-tap')
  [ -n "$pid" ]
  fds() { find "/proc/$pid/fd" -mindepth 1 | wc -l; }
  base=$(fds)
  # three clients, two flows: each datagram still gets its reply; one descriptor per flow
  run -0 udp_clients "$port" a b c
  [ "${#lines[@]}" -eq 6 ]
  [[ ${lines[5]} == 'c2 -> echo c2 from 10.106.0.'* ]]
  [ "$(fds)" -eq $((base + 2)) ]
  # idle: both closed
  wait_until eval '[ "$(fds)" -eq '"$base"' ]'
  run -0 udp_clients "$port" d
  [ "${#lines[@]}" -eq 2 ]
  run -0 rrun rm -f v1
  wait_until holder_gone
  no_leftovers
}

@test "network run: --internal has no default route and no way out; --dns, --dns-search, --add-host" {
  run -0 rrun network create --internal --subnet 10.98.0.0/24 rnetI
  run -0 rrun run --rm --network rnetI "$FIXTURE_IMAGE" sh -c 'ip route; ping -c 1 -W 2 10.0.2.2 || echo unreachable'
  [[ $output != *default* ]]
  [[ $output == *unreachable* ]]
  run -0 rrun run --rm --network rnetI --dns 192.0.2.53 --dns-search example.org \
    --add-host db:192.0.2.9 --hostname hn "$FIXTURE_IMAGE" cat /etc/resolv.conf /etc/hosts
  [[ $output == *"search dns.rrun example.org"* ]]
  [[ $output == *"nameserver 10.98.0.1"* ]]
  [[ $output != *"nameserver 192.0.2.53"* ]]
  [[ $output == *"192.0.2.9	db"* ]]
  [[ $output == *"10.98.0.2	hn"* ]]
}

@test "network run: bad input is refused with one message, nothing made" {
  run -0 rrun network create --subnet 10.99.0.0/24 rnetE
  run -0 rrun network create --subnet 10.100.0.0/24 rnetF
  run -125 rrun run --rm --network rnetE --ip 10.1.0.5 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --ip 10.1.0.5: it is not in network "rnetE" (10.99.0.0/24)' ]
  run -125 rrun run --rm --network rnetE --ip 10.99.0.1 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --ip 10.99.0.1: it is the gateway of network "rnetE"' ]
  run -125 rrun run --rm --network rnetE,rnetF --ip 10.99.0.5 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --ip with more than one network: it is the address on the first, and each network needs its own' ]
  run -125 rrun run --rm --network nosuchnet "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --network "nosuchnet": no such network' ]
  [ "${lines[1]}" = 'hint: create it with: rrun network create nosuchnet' ]
  run -125 rrun run --rm --network-alias x "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --network-alias with --network slirp: only user-defined networks have them' ]
  run -0 rrun run -d --name e1 --network rnetE --ip 10.99.0.7 "$FIXTURE_IMAGE" sleep 300
  run -125 rrun run --rm --name e2 --network rnetE --ip 10.99.0.7 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --ip 10.99.0.7: container "e1" has it on network "rnetE"' ]
  # nothing half-made: no record of e2, e1 alone on the network
  run -0 rrun ps -a --format '{{.Names}}'
  [ "$output" = e1 ]
  [ "$(ls "$RUN_ROOT/net-holder/ipam/rnetE")" = "$(printf '10.99.0.7\nlock')" ]
  run -125 rrun network connect rnetE e1
  [ "${lines[0]}" = 'rrun: container "e1" is already on network "rnetE"' ]
  run -125 rrun network connect nosuchnet e1
  [ "${lines[0]}" = 'rrun: no such network "nosuchnet"' ]
}

@test "network rm: refused while a container uses it; -f disconnects it" {
  run -0 rrun network create --subnet 10.101.0.0/24 rnetR
  run -0 rrun run -d --name r1 --network rnetR "$FIXTURE_IMAGE" sleep 300
  run -125 rrun network rm rnetR
  [ "${lines[0]}" = 'rrun: cannot remove network "rnetR": 1 container uses it ("r1")' ]
  run -0 rrun network exists rnetR
  run -0 rrun network prune -f
  run -0 rrun network exists rnetR
  run -0 rrun network rm -f rnetR
  [ "$output" = rnetR ]
  run -1 rrun network exists rnetR
  run -0 rrun exec r1 ls /sys/class/net
  [[ $output != *eth0* ]]
}

@test "network rm -f: a holder still running drops the network's bridge, names and addresses" {
  command -v nsenter >/dev/null || skip "nsenter (util-linux) is not installed"
  command -v ip >/dev/null || skip "ip (iproute2) is not installed"
  run -0 rrun network create --subnet 10.103.0.0/24 rnetKeep
  run -0 rrun network create --subnet 10.103.1.0/24 rnetGone
  run -0 rrun run -d --name g1 --network rnetKeep,rnetGone "$FIXTURE_IMAGE" sleep 300
  [ -f "$HOLDER/hosts/rnetGone" ]
  [ -d "$HOLDER/ipam/rnetGone" ]
  child=$(cut -d' ' -f3 "$HOLDER/state")
  run -0 nsenter -t "$child" -U -n --preserve-credentials ip -br -4 addr
  [[ $output == *"10.103.1.1/24"* ]]
  run -0 rrun network rm -f rnetGone
  # g1 keeps the holder alive on rnetKeep
  [ "$(cut -d' ' -f3 "$HOLDER/state")" = "$child" ]
  run -0 nsenter -t "$child" -U -n --preserve-credentials ip -br -4 addr
  [[ $output == *"10.103.0.1/24"* ]]
  [[ $output != *"10.103.1.1/24"* ]]
  [ ! -e "$HOLDER/hosts/rnetGone" ]
  [ ! -e "$HOLDER/ipam/rnetGone" ]
  # a new network may take the removed one's subnet at once
  run -0 rrun network create --subnet 10.103.1.0/24 rnetAgain
  run -0 rrun network connect rnetAgain g1
  run -0 rrun exec g1 ip -o -4 addr show eth1
  [[ $output == *"10.103.1.2/24"* ]]
}

@test "network holder: exits after the last container; SIGKILL of it, the next run repairs it, nothing left" {
  run -0 rrun network create --subnet 10.102.0.0/24 rnetK
  run -0 rrun run -d --name k1 --network rnetK "$FIXTURE_IMAGE" sleep 300
  [ -f "$HOLDER/state" ]
  parent=$(cut -d' ' -f1 "$HOLDER/state")
  child=$(cut -d' ' -f3 "$HOLDER/state")
  kill -9 "$parent"
  wait_until eval '! running '"$child"
  # a new run starts a new holder; k1 keeps its address, the new one takes the next
  run -0 rrun run --rm --network rnetK "$FIXTURE_IMAGE" sh -c 'ip -4 -o addr show eth0; ping -c 1 -W 10 10.102.0.1'
  [[ ${lines[0]} == *"inet 10.102.0.3/24"* ]]
  [ "$(cut -d' ' -f3 "$HOLDER/state")" != "$child" ]
  run -0 rrun rm -f k1
  # the last container gone: the holder goes too, and nothing of ours is left
  wait_until holder_gone
  no_leftovers
  run -0 ls "$RUN_ROOT/net-holder/ipam/rnetK"
  [ "$output" = lock ]
  # a foreground run: the holder starts and stops with it
  run -0 rrun run --rm --network rnetK "$FIXTURE_IMAGE" true
  wait_until holder_gone
  # a killed rrun's address is taken back by the next run
  rrun_bg run --rm --network rnetK --name killed "$FIXTURE_IMAGE" sleep 300
  wait_until test -s "$HOLDER/hosts/rnetK"
  kill -9 "$RRUN_PID"
  wait_bg || true
  run -0 rrun run --rm --network rnetK --ip 10.102.0.2 "$FIXTURE_IMAGE" true
  wait_until holder_gone
  no_leftovers
}

@test "network holder: SIGKILL of its rrun-net ends the holder; the next run repairs it, nothing left" {
  run -0 rrun network create --subnet 10.104.0.0/24 rnetN
  run -0 rrun run -d --name n1 --network rnetN "$FIXTURE_IMAGE" sleep 300
  child=$(cut -d' ' -f3 "$HOLDER/state")
  run -0 pgrep -u "$(id -u)" -f "api-socket=$HOLDER/net.sock"
  run -0 pkill -9 -u "$(id -u)" -f "api-socket=$HOLDER/net.sock"
  # the holder ends with its outbound link: its child and its state go
  wait_until eval '! running '"$child"
  wait_until holder_gone
  # a new run starts a new holder with a new rrun-net, and the network works again
  run -0 rrun run --rm --network rnetN "$FIXTURE_IMAGE" sh -c 'ping -c 1 -W 10 10.104.0.1 >/dev/null && echo reached'
  [ "$output" = reached ]
  [ -n "$(pgrep -u "$(id -u)" -f "api-socket=$HOLDER/net.sock")" ]
  run -0 rrun rm -f n1
  wait_until holder_gone
  no_leftovers
  run -1 pgrep -u "$(id -u)" -f "api-socket=$HOLDER/net.sock"
}

@test "network DNS: containers reach each other by name, alias and short ID; a removed one stops resolving; another network's names do not" {
  run -0 rrun network create --subnet 10.103.0.0/24 rnetN
  run -0 rrun network create --subnet 10.104.0.0/24 rnetO
  run -0 web dn1 --network rnetN --network-alias dnalias
  id=$output
  run -0 web other --network rnetO
  for name in dn1 dnalias "${id:0:12}" dn1.dns.rrun; do
    run -0 fetch_from "$name" --network rnetN
    [ "$output" = hello-from-dn1 ]
  done
  # names of another network's containers are not answered there
  run -0 rrun run --rm --network rnetO "$FIXTURE_IMAGE" sh -c 'nslookup dn1 2>&1; nslookup other 2>&1'
  echo "$output"
  [[ $output == *"10.104.0.2"* ]]
  [[ $output != *"10.103.0."?* ]]
  run -0 rrun rm -f dn1
  run -0 rrun run --rm --network rnetN "$FIXTURE_IMAGE" sh -c 'nslookup dn1 2>&1 || echo failed'
  [[ $output != *"10.103.0.2"* ]]
  [[ $output == *failed* || $output == *NXDOMAIN* ]]
}

@test "network DNS: --dns is where the network's DNS server forwards that container's other names; resolv.conf keeps the network's server" {
  [[ -n ${RRUN_TEST_DNS53:-} ]] || skip "no DNS server on a loopback port 53 (run.sh starts one as root)"
  command -v dnsmasq >/dev/null || skip "dnsmasq is not installed (dnsmasq-base)"
  # The default upstream (the holder's rrun-net forwards there): it answers the same name
  # as RRUN_TEST_DNS53 does, with another address.
  up=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  dnsmasq --keep-in-foreground --no-resolv --no-hosts --listen-address=127.0.0.1 \
    --bind-interfaces --port="$up" --address=/upstream-only.rrun.test/192.0.2.1 \
    --pid-file="$BATS_TEST_TMPDIR/dnsmasq.pid" --log-facility=- 2>/dev/null &
  dnsmasq_pid=$!
  mkdir -p "$XDG_CONFIG_HOME/rrun"
  printf '[network]\ndns_upstream = 127.0.0.1:%s\n' "$up" >"$XDG_CONFIG_HOME/rrun/rrun.conf"
  run -0 rrun network create --subnet 10.105.0.0/24 rnetD
  run -0 rrun network create --subnet 10.106.0.0/24 rnetD2
  run -0 web dpeer --network rnetD
  # with --dns: resolv.conf names the network's server (search domains after dns.rrun);
  # the peer resolves there, the other name comes from the --dns server
  run -0 rrun run --rm --network rnetD --dns "$RRUN_TEST_DNS53" --dns-search example.org \
    --dns-option ndots:2 "$FIXTURE_IMAGE" sh -c \
    'cat /etc/resolv.conf; nslookup dpeer 2>&1; nslookup -type=a upstream-only.rrun.test 2>&1'
  echo "$output"
  [ "${lines[0]}" = "search dns.rrun example.org" ]
  [ "${lines[1]}" = "nameserver 10.105.0.1" ]
  [ "${lines[2]}" = "options ndots:2" ]
  [[ $output != *"nameserver $RRUN_TEST_DNS53"* ]]
  [[ $output == *"Address: 10.105.0.2"* ]]
  [[ $output == *"Address: 192.0.2.77"* ]]
  [[ $output != *"Address: 192.0.2.1"* ]]
  # without --dns, on the same network at the same time: the default upstream's answer
  run -0 rrun run -d --name dwith --network rnetD --dns "$RRUN_TEST_DNS53" "$FIXTURE_IMAGE" sleep 300
  run -0 rrun run --rm --network rnetD "$FIXTURE_IMAGE" nslookup -type=a upstream-only.rrun.test
  echo "$output"
  [[ $output == *"Address: 192.0.2.1"* ]]
  [[ $output != *"192.0.2.77"* ]]
  run -0 rrun exec dwith nslookup -type=a upstream-only.rrun.test
  [[ $output == *"Address: 192.0.2.77"* ]]
  # network connect: its --dns goes with it to the new network's server
  run -0 rrun network connect rnetD2 dwith
  run -0 rrun exec dwith nslookup -type=a upstream-only.rrun.test 10.106.0.1
  echo "$output"
  [[ $output == *"Address: 192.0.2.77"* ]]
  grep -q "dns=$RRUN_TEST_DNS53\$" "$HOLDER/hosts/rnetD2"
  # a dead --dns server first (nothing on port 53 of that loopback address; through the
  # holder's host socket no ICMP error comes back: its 1.5 s timeout), the next answers
  run -0 rrun run --rm --network rnetD --dns "${RRUN_TEST_DNS53%.*}.66" --dns "$RRUN_TEST_DNS53" \
    "$FIXTURE_IMAGE" nslookup -type=a upstream-only.rrun.test
  echo "$output"
  [[ $output == *"Address: 192.0.2.77"* ]]
  [[ $output != *"Address: 192.0.2.1"* ]]
  # over TCP from the container's address (busybox nslookup has no TCP): relayed to the
  # loopback server and back
  command -v dig >/dev/null || skip "dig is not installed (dnsutils)"
  pid=$(rrun inspect --format '{{.State.Pid}}' dwith)
  run -0 nsenter -t "$pid" -U -n --preserve-credentials     dig @10.105.0.1 +tcp +time=3 +tries=1 +short upstream-only.rrun.test
  [ "$output" = 192.0.2.77 ]
}

# The host's first IPv4 address that is not loopback (what a container on a user network
# reaches without allow_host_loopback), or nothing.
host_address() {
  local addr
  addr=$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
  if [[ -z $addr ]]; then
    for addr in $(hostname -I 2>/dev/null) ''; do
      [[ $addr =~ ^[0-9.]+$ && $addr != 127.* ]] && break
    done
  fi
  echo "$addr"
}

# peer_serve NAME MODE [ARG...]: a net-tcp-peer.py server on the host's address $ADDR
# (at most 60 s), its port in PORT.
peer_serve() {
  local name=$1
  shift
  timeout 60 python3 "$BATS_TEST_DIRNAME/net-tcp-peer.py" serve "$ADDR" \
    "$BATS_TEST_TMPDIR/$name.port" "$@" >"$BATS_TEST_TMPDIR/$name.out" \
    2>"$BATS_TEST_TMPDIR/$name.err" &
  SERVER=$!
  for _ in $(seq 400); do # up to 20 s: python on a loaded machine
    [ -s "$BATS_TEST_TMPDIR/$name.port" ] && break
    sleep 0.05
  done
  PORT=$(cat "$BATS_TEST_TMPDIR/$name.port")
}

@test "network run: a container on a user network moves 32 MiB each way to and from the host intact" {
  ADDR=$(host_address)
  [[ -n $ADDR ]] || skip "the host has no IPv4 address but loopback"
  head -c 32M /dev/urandom >"$BATS_TEST_TMPDIR/blob"
  run -0 rrun network create --subnet 10.124.0.0/24 rnetx
  # download: the holder's rrun-net sends the container's kernel segments of up to 64
  # KiB (GSO) whatever the MSS (1460) it announced
  peer_serve source source 1 "$BATS_TEST_TMPDIR/blob"
  run -0 rrun run --rm --network rnetx "$FIXTURE_IMAGE" sh -c "nc $ADDR $PORT </dev/null | sha256sum"
  [ "${output%% *}" = "$(sha256sum <"$BATS_TEST_TMPDIR/blob" | cut -d' ' -f1)" ]
  wait "$SERVER" || { cat "$BATS_TEST_TMPDIR/source.out" "$BATS_TEST_TMPDIR/source.err"; false; }
  # upload
  peer_serve sink sink 1
  run -0 rrun run --rm --network rnetx "$FIXTURE_IMAGE" sh -c "yes abcdefgh | head -c 33554432 | nc $ADDR $PORT"
  wait "$SERVER" || { cat "$BATS_TEST_TMPDIR/sink.out" "$BATS_TEST_TMPDIR/sink.err"; false; }
  [ "$(cat "$BATS_TEST_TMPDIR/sink.out")" = "received 33554432 $(yes abcdefgh | head -c 33554432 | sha256sum | cut -d' ' -f1)" ]
}
