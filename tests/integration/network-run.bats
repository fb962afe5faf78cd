#!/usr/bin/env bats
# rrun-test: one pass
# issue 16: containers on user-defined networks: run/create --network NET, --ip,
# --network-alias, --dns*, --add-host, isolation, connect/disconnect, -p, --internal,
# network rm in use, the holder's repair and its exit after the last container.

load helpers

HOLDER=$RUN_ROOT/net-holder

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
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
