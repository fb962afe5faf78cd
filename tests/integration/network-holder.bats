#!/usr/bin/env bats
# rrun-test: one pass
# (one storage-driver pass: the network and cgroup code do not depend on the driver)
# issue 16: the per-user network holder (network/holder.h): its namespaces, bridges and
# rules, repair after SIGKILL, and stop.

load helpers

HOLDER=$RUN_ROOT/net-holder

teardown() {
  if [[ -n ${dnsmasq_pid:-} ]]; then kill "$dnsmasq_pid" 2>/dev/null || true; fi
  rm -f "$XDG_CONFIG_HOME/rrun/rrun.conf"
  rrun __internal net-holder-stop >/dev/null 2>&1 || true
  rrun network rm -f $(rrun network ls -q --filter type=custom 2>/dev/null) >/dev/null 2>&1 || true
}

# In the holder's user and network namespaces (its owner, this user, may enter them).
in_holder() {
  nsenter -t "$1" -U -n --preserve-credentials "${@:2}"
}

# Whether a pid runs (a zombie does not).
running() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [[ -n $state && $state != Z ]]
}

setup() {
  command -v nsenter >/dev/null || skip "nsenter (util-linux) is not installed"
  command -v ip >/dev/null || skip "ip (iproute2) is not installed"
}

@test "network holder: a bridge per network with its gateway, outbound tap0, rules" {
  run -0 rrun network create hnet1
  run -0 rrun network create --internal --subnet 10.123.0.0/24 hnet2
  run -0 timeout 20 "$RRUN" __internal net-holder-ensure
  pid=$output
  [ -f "$HOLDER/state" ]
  [ "$(cut -d' ' -f3 "$HOLDER/state")" = "$pid" ]
  run -0 in_holder "$pid" ip -br -4 addr
  [[ $output == *"rrun1 "*"10.89.0.1/24"* ]]
  [[ $output == *"rrun2 "*"10.123.0.1/24"* ]]
  [[ $output == *"tap0 "*"10.0.2.100/24"* ]]
  [[ $output == *"lo "*"UNKNOWN"*"127.0.0.1/8"* ]]
  run -0 in_holder "$pid" ip route show default
  [ "$output" = "default via 10.0.2.2 dev tap0 " ]
  run -0 in_holder "$pid" cat /proc/sys/net/ipv4/ip_forward
  [ "$output" = 1 ]
  if command -v nft >/dev/null; then
    run -0 in_holder "$pid" nft list table ip rrun
    [[ $output == *'ip saddr 10.89.0.0/24 oifname != "rrun1" masquerade'* ]]
    # the internal network has no masquerade and no forwarding out
    [[ $output != *'10.123.0.0/24'*masquerade* ]]
    [[ $output == *'iifname "rrun2" oifname != "rrun2" drop'* ]]
  fi
  # a network made later appears on the next ensure; the holder is the same
  run -0 rrun network create hnet3
  run -0 timeout 20 "$RRUN" __internal net-holder-ensure
  [ "$output" = "$pid" ]
  run -0 in_holder "$pid" ip -br -4 addr show rrun3
  [[ $output == *"10.89.1.1/24"* ]]
}

@test "network holder: SIGKILL of the holder, the next ensure replaces it" {
  run -0 rrun network create hnet1
  run -0 timeout 20 "$RRUN" __internal net-holder-ensure
  child=$output
  parent=$(cut -d' ' -f1 "$HOLDER/state")
  kill -9 "$parent"
  # its child and rrun-net follow it (death signal, exit fd)
  for _ in $(seq 200); do running "$child" || break; sleep 0.1; done
  run running "$child"
  [ "$status" -ne 0 ]
  run -0 timeout 20 "$RRUN" __internal net-holder-ensure
  [ "$output" != "$child" ]
  new=$output
  run -0 in_holder "$new" ip -br -4 addr show rrun1
  [[ $output == *"10.89.0.1/24"* ]]
}

@test "network holder: stop ends the holder, its child and rrun-net and removes the state" {
  run -0 rrun network create hnet1
  run -0 timeout 20 "$RRUN" __internal net-holder-ensure
  child=$output
  parent=$(cut -d' ' -f1 "$HOLDER/state")
  run -0 timeout 20 "$RRUN" __internal net-holder-stop
  [ ! -e "$HOLDER/state" ]
  for _ in $(seq 200); do running "$child" || break; sleep 0.1; done
  run running "$child"
  [ "$status" -ne 0 ]
  run running "$parent"
  [ "$status" -ne 0 ]
  for _ in $(seq 200); do pgrep -u "$(id -u)" -f "api-socket=$HOLDER/net.sock" >/dev/null || break; sleep 0.1; done
  run -1 pgrep -u "$(id -u)" -f "api-socket=$HOLDER/net.sock"
}

@test "network holder: the DNS server answers on each gateway, names from hosts files" {
  command -v dig >/dev/null || skip "dig is not installed (dnsutils)"
  command -v dnsmasq >/dev/null || skip "dnsmasq is not installed (dnsmasq-base)"
  up=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  dnsmasq --keep-in-foreground --no-resolv --no-hosts --listen-address=127.0.0.1 \
    --bind-interfaces --port="$up" --address=/probe.rrun.test/192.0.2.99 \
    --pid-file="$BATS_TEST_TMPDIR/dnsmasq.pid" --log-facility=- 2>/dev/null &
  dnsmasq_pid=$!
  mkdir -p "$XDG_CONFIG_HOME/rrun"
  printf '[network]\ndns_upstream = 127.0.0.1:%s\n' "$up" >"$XDG_CONFIG_HOME/rrun/rrun.conf"
  run -0 rrun network create hnet1
  run -0 timeout 20 "$RRUN" __internal net-holder-ensure
  pid=$output
  # the contract with `run --network`: one file per network, renamed into place
  printf '10.89.0.5 web 0123456789ab alias1\n' >"$HOLDER/hosts/.hnet1.tmp"
  mv "$HOLDER/hosts/.hnet1.tmp" "$HOLDER/hosts/hnet1"
  run -0 in_holder "$pid" dig @10.89.0.1 +time=2 +tries=1 +short web
  [ "$output" = 10.89.0.5 ]
  run -0 in_holder "$pid" dig @10.89.0.1 +time=2 +tries=1 +short +tcp alias1.dns.rrun
  [ "$output" = 10.89.0.5 ]
  run -0 in_holder "$pid" dig @10.89.0.1 +time=2 +tries=1 nosuch
  [[ $output == *"status: NXDOMAIN"* ]]
  # other names through rrun-net's forwarder to the upstream
  run -0 in_holder "$pid" dig @10.89.0.1 +time=3 +tries=1 +short probe.rrun.test
  [ "$output" = 192.0.2.99 ]
  # a network made later is served once ensure returns; its names only on its gateway
  run -0 rrun network create hnet2
  run -0 timeout 20 "$RRUN" __internal net-holder-ensure
  [ "$output" = "$pid" ]
  printf '10.89.1.7 db\n' >"$HOLDER/hosts/hnet2"
  run -0 in_holder "$pid" dig @10.89.1.1 +time=2 +tries=1 +short db
  [ "$output" = 10.89.1.7 ]
  run -0 in_holder "$pid" dig @10.89.1.1 +time=2 +tries=1 web
  [[ $output == *"status: NXDOMAIN"* ]]
  run -0 in_holder "$pid" dig @10.89.0.1 +time=2 +tries=1 db
  [[ $output == *"status: NXDOMAIN"* ]]
}
