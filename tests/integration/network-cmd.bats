#!/usr/bin/env bats
# rrun-test: one pass
# (one storage-driver pass: the network and cgroup code do not depend on the driver)
# issue 16: rrun network create, ls, inspect, rm, prune, exists; the definitions on disk.

load helpers

NETWORKS=$STORAGE_ROOT/networks

teardown() {
  rrun network rm -f $(rrun network ls -q --filter type=custom 2>/dev/null) >/dev/null 2>&1 || true
}

@test "network create: automatic 10.89.N.0/24 subnets; inspect shows docker's fields" {
  run -0 rrun network create --label app=web --label tier net1
  [ "$output" = net1 ]
  [ -f "$NETWORKS/net1.json" ]
  run -0 rrun network inspect --format '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}} {{json .IPAM.Config}}' net1
  [ "$output" = 'net1 bridge local false [{"Subnet":"10.89.0.0/24","Gateway":"10.89.0.1"}]' ]
  run -0 rrun network inspect --format '{{json .Labels}} {{json .Containers}} {{len .Id}}' net1
  [ "$output" = '{"app":"web","tier":""} {} 64' ]
  run -0 rrun network create net2
  run -0 rrun network inspect --format '{{json .IPAM.Config}} {{.NetworkInterface}}' net2
  [ "$output" = '[{"Subnet":"10.89.1.0/24","Gateway":"10.89.1.1"}] rrun2' ]
  run -0 rrun network inspect net1
  [ "${lines[0]}" = "[" ]
  [[ $output == *'"Created": "20'* ]]
  # a freed subnet is taken again
  run -0 rrun network rm net1
  [ "$output" = net1 ]
  run -0 rrun network create net3
  run -0 rrun network ls --format '{{.Subnet}}' --filter name=net3
  [ "$output" = "10.89.0.0/24" ]
}

@test "network create: --subnet, --gateway, --ip-range, --internal, --opt" {
  run -0 rrun network create --subnet 192.168.77.0/24 --gateway 192.168.77.254 \
    --ip-range 192.168.77.128/25 --internal -o mtu=1400 -d bridge inet1
  run -0 rrun network inspect --format '{{json .IPAM.Config}} {{.Internal}} {{json .Options}}' inet1
  [ "$output" = '[{"Subnet":"192.168.77.0/24","IPRange":"192.168.77.128/25","Gateway":"192.168.77.254"}] true {"mtu":"1400"}' ]
  # the gateway defaults to the subnet's first address
  run -0 rrun network create --subnet 172.30.0.0/16 big1
  run -0 rrun network ls --format '{{.Subnet}} {{.Gateway}}' --filter name=big1
  [ "$output" = "172.30.0.0/16 172.30.0.1" ]
}

@test "network create: bad input is refused with one message and nothing is written" {
  rrun network create --subnet 10.50.0.0/16 taken1 >/dev/null
  run -125 --separate-stderr rrun network create --subnet 10.50.3.0/24 n1
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: subnet 10.50.3.0/24 overlaps network "taken1" (10.50.0.0/16)' ]
  run -125 --separate-stderr rrun network create --subnet 10.0.2.0/25 n1
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: subnet 10.0.2.0/25 overlaps network "bridge" (10.0.2.0/24)' ]
  run -125 --separate-stderr rrun network create --subnet 10.60.0.0/33 n1
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: invalid subnet "10.60.0.0/33": the prefix length must be 0 to 32' ]
  run -125 --separate-stderr rrun network create --subnet 10.60.0.5/24 n1
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: invalid subnet "10.60.0.5/24": the address has bits set after the prefix' ]
  [ "${stderr_lines[1]}" = 'hint: did you mean 10.60.0.0/24?' ]
  run -125 --separate-stderr rrun network create --subnet nonsense n1
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: invalid subnet "nonsense": expected an IPv4 CIDR such as 10.90.0.0/24' ]
  run -125 --separate-stderr rrun network create --subnet 10.60.0.0/24 --gateway 10.61.0.1 n1
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: gateway 10.61.0.1 is outside subnet 10.60.0.0/24' ]
  run -125 --separate-stderr rrun network create --subnet 10.60.0.0/24 --gateway 10.60.0.255 n1
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: gateway 10.60.0.255 is the broadcast address of subnet 10.60.0.0/24' ]
  run -125 --separate-stderr rrun network create --subnet 10.60.0.0/24 --ip-range 10.61.0.0/28 n1
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: ip range 10.61.0.0/28 is outside subnet 10.60.0.0/24' ]
  run -125 --separate-stderr rrun network create --gateway 10.60.0.1 n1
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: --gateway needs --subnet' ]
  run -125 --separate-stderr rrun network create taken1
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: network "taken1" already exists' ]
  run -0 rrun network create --ignore taken1
  [ "$output" = taken1 ]
  run -125 --separate-stderr rrun network create bridge
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: network name "bridge" is reserved for a built-in network mode' ]
  run -125 --separate-stderr rrun network create 'a/b'
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: invalid network name "a/b"' ]
  run -125 --separate-stderr rrun network create -o color=red n1
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: invalid network option "color=red"' ]
  run -125 --separate-stderr rrun network create -d overlay n1
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: driver "overlay" is not available' ]
  run -125 --separate-stderr rrun network create --subnet fd00::/64 n1
  [ "${stderr_lines[0]}" = 'rrun: cannot create network: an IPv6 --subnet needs --ipv6' ]
  run -1 rrun network exists n1
  [ ! -e "$NETWORKS/n1.json" ]
}

@test "network create: -d macvlan and ipvlan are refused: rootless cannot, and what to use" {
  for d in macvlan ipvlan; do
    run -125 --separate-stderr rrun network create -d $d --subnet 10.70.0.0/24 mv1
    [ "${stderr_lines[0]}" = "rrun: cannot create network: driver \"$d\" needs root: it attaches containers to a host interface, which only CAP_NET_ADMIN in the host's network namespace may configure" ]
    [[ ${stderr_lines[1]} == 'hint: use -d bridge (the default)'*'-p' ]]
  done
  run -1 rrun network exists mv1
}

@test "network ls: the built-in bridge first; -q, --no-trunc, --filter, --format json and templates" {
  rrun network create --label env=prod alpha1 >/dev/null
  rrun network create --label env=dev beta1 >/dev/null
  run -0 rrun network ls
  [ "${lines[0]}" = 'NETWORK ID     NAME     DRIVER    SCOPE' ]
  [[ ${lines[1]} =~ ^[0-9a-f]{12}'   bridge   bridge    local'$ ]]
  [[ ${lines[2]} =~ ^[0-9a-f]{12}'   alpha1   bridge    local'$ ]]
  [[ ${lines[3]} =~ ^[0-9a-f]{12}'   beta1    bridge    local'$ ]]
  [ "${#lines[@]}" -eq 4 ]
  run -0 rrun network ls -q
  [ "$output" = $'bridge\nalpha1\nbeta1' ]
  run -0 rrun network ls -q --filter label=env=dev
  [ "$output" = beta1 ]
  run -0 rrun network ls -q --filter label=env
  [ "$output" = $'alpha1\nbeta1' ]
  run -0 rrun network ls -q --filter name=ta1 --filter name=pha
  [ "$output" = $'alpha1\nbeta1' ]
  run -0 rrun network ls -q --filter type=builtin
  [ "$output" = bridge ]
  id=$(rrun network inspect --format '{{.Id}}' alpha1)
  run -0 rrun network ls -q --filter "id=${id:0:6}"
  [ "$output" = alpha1 ]
  run -0 rrun network ls --no-trunc --filter name=alpha1
  [[ ${lines[1]} == "$id   alpha1"* ]]
  run -0 rrun network ls --format '{{.Name}} {{.Driver}} {{.Labels}}' --filter type=custom
  [ "$output" = $'alpha1 bridge env=prod\nbeta1 bridge env=dev' ]
  run -0 rrun network ls --format json --filter name=beta1
  [[ $output == *'"Name": "beta1"'* ]]
  [[ $output == *'"Subnet": "10.89.'* ]]
  # rrun info lists them
  run -0 rrun info
  [[ $output == *'networks                 bridge 10.0.2.0/24 gateway 10.0.2.2 (built in: the default)'* ]]
  [[ $output == *'                           alpha1 10.89.0.0/24 gateway 10.89.0.1'* ]]
  run -125 --separate-stderr rrun network ls --filter color=red
  [ "${stderr_lines[0]}" = 'rrun: invalid filter "color=red"' ]
}

@test "network inspect, rm and exists: by name or id prefix; bridge is built in" {
  rrun network create gamma1 >/dev/null
  id=$(rrun network inspect --format '{{.Id}}' gamma1)
  run -0 rrun network inspect --format '{{.Name}}' "${id:0:12}"
  [ "$output" = gamma1 ]
  run -0 rrun network exists gamma1
  run -0 rrun network exists "$id"
  run -1 rrun network exists nope1
  run -0 rrun network inspect --format '{{.Name}} {{.Driver}} {{json .IPAM.Config}}' bridge
  [ "$output" = 'bridge bridge [{"Subnet":"10.0.2.0/24","Gateway":"10.0.2.2"}]' ]
  run -125 --separate-stderr rrun network inspect nope1
  [ "${stderr_lines[0]}" = 'rrun: no such network "nope1"' ]
  [ "${stderr_lines[1]}" = 'hint: list networks with: rrun network ls' ]
  run -125 --separate-stderr rrun network rm bridge
  [ "${stderr_lines[0]}" = 'rrun: cannot remove network "bridge": it is the built-in default network' ]
  run -0 rrun network rm "${id:0:12}"
  run -1 rrun network exists gamma1
  run -125 --separate-stderr rrun network rm gamma1
  [ "${stderr_lines[0]}" = 'rrun: no such network "gamma1"' ]
  run -0 rrun network rm -f gamma1
  [ "$output" = "" ]
}

@test "network prune: removes user-defined networks, keeps bridge; asks first" {
  rrun network create --label keep=yes p1 >/dev/null
  rrun network create p2 >/dev/null
  run -0 rrun network prune <<<"n"
  run -0 rrun network exists p2
  run -0 rrun network prune -f --filter name=p2
  [ "$output" = $'Deleted Networks:\np2' ]
  run -0 rrun network prune -f
  [ "$output" = $'Deleted Networks:\np1' ]
  run -0 rrun network ls -q
  [ "$output" = bridge ]
}

@test "network: concurrent creates never share a subnet" {
  for i in 1 2 3 4 5 6; do rrun network create "c$i" >/dev/null & done
  wait
  run -0 rrun network ls --format '{{.Subnet}}' --filter type=custom
  [ "${#lines[@]}" -eq 6 ]
  [ "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" -eq 6 ]
}

@test "network: run --network bridge is the default network; a user network gives eth0" {
  ensure_fixtures
  run -0 rrun run --rm --network bridge "$FIXTURE_IMAGE" sh -c 'ip -4 -o addr show tap0 | grep -c 10.0.2.100'
  [ "$output" = 1 ]
  rrun network create u1 >/dev/null
  run -0 rrun run --rm --network u1 "$FIXTURE_IMAGE" sh -c 'ls /sys/class/net'
  [ "$output" = "$(printf 'eth0\nlo')" ]
  # bridge cannot be combined with user-defined networks
  run -125 rrun run --rm --network u1,bridge "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --network "bridge" with other networks: it is the default per-container network' ]
}

@test "network: the command word is no longer reserved" {
  run -0 rrun network --help
  [[ $output == *create* ]]
}
