#!/usr/bin/env bats
# rrun-test: one pass
# (one storage-driver pass: the network and cgroup code do not depend on the driver)
# issue 16: the per-user network holder (network/holder.h): its namespaces, bridges and
# rules, repair after SIGKILL, and stop.

load helpers

HOLDER=$RUN_ROOT/net-holder

teardown() {
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
  for _ in $(seq 50); do running "$child" || break; sleep 0.1; done
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
  for _ in $(seq 50); do running "$child" || break; sleep 0.1; done
  run running "$child"
  [ "$status" -ne 0 ]
  run running "$parent"
  [ "$status" -ne 0 ]
  for _ in $(seq 50); do pgrep -u "$(id -u)" -f "api-socket=$HOLDER/net.sock" >/dev/null || break; sleep 0.1; done
  run -1 pgrep -u "$(id -u)" -f "api-socket=$HOLDER/net.sock"
}
