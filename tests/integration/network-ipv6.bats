#!/usr/bin/env bats
# rrun-test: one pass
# issue 16, IPv6 on user-defined networks: network create --ipv6 [--subnet V6CIDR], inspect,
# --ip6, addresses on the veths and the bridge, container to container over IPv6, DNS AAAA
# and ip6.arpa PTR, isolation of networks and --internal for IPv6, and the bad inputs.

load helpers
load network-helpers

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
  rrun __internal net-holder-stop >/dev/null 2>&1 || true
  rrun network rm -f $(rrun network ls -q --filter type=custom 2>/dev/null) >/dev/null 2>&1 || true
}

# Kernel IPv6 in a new network namespace (the holder's and the containers' are new ones).
need_ipv6() {
  [ -d /proc/sys/net/ipv6 ] || skip "the kernel has no IPv6 (ipv6.disable=1)"
  [ "$(cat /proc/sys/net/ipv6/conf/default/disable_ipv6)" = 0 ] \
    || skip "IPv6 is disabled on this host (net.ipv6.conf.default.disable_ipv6=1)"
}

# What a container on the network sees of IPv6: disable_ipv6 of all (0: enabled).
container_ipv6() { # NETWORK
  rrun run --rm --network "$1" "$FIXTURE_IMAGE" cat /proc/sys/net/ipv6/conf/all/disable_ipv6
}

ip6_of() { # CONTAINER NETWORK
  rrun inspect --format "{{.NetworkSettings.Networks.$2.GlobalIPv6Address}}" "$1"
}

@test "network ipv6: create --ipv6 with a subnet or a unique local /64 of its id; inspect and ls show it" {
  run -0 rrun network create --ipv6 --subnet 10.110.0.0/24 --subnet fd00:110::/64 --gateway fd00:110::fe v6a
  run -0 rrun network inspect --format '{{.EnableIPv6}} {{json .IPAM.Config}}' v6a
  [ "$output" = 'true [{"Subnet":"10.110.0.0/24","Gateway":"10.110.0.1"},{"Subnet":"fd00:110::/64","Gateway":"fd00:110::fe"}]' ]
  # no IPv6 subnet: fdXX:XXXX:XXXX::/64 with the 40 bits after fd from the network's id
  run -0 rrun network create --ipv6 v6b
  id=$(rrun network inspect --format '{{.Id}}' v6b)
  want=$(printf 'fd%s:%x:%x::/64' "${id:0:2}" "0x${id:2:4}" "0x${id:6:4}")
  run -0 rrun network inspect --format '{{json .IPAM.Config}}' v6b
  [ "$(jq -r '.[1].Subnet + " " + .[1].Gateway' <<<"$output")" = "$want ${want%/64}1" ]
  run -0 rrun network ls --filter name=v6 --format '{{.Name}} {{.IPv6}}'
  [ "$output" = "$(printf 'v6a true\nv6b true')" ]
  # a network without --ipv6 has none
  run -0 rrun network create v4only
  run -0 rrun network inspect --format '{{.EnableIPv6}} {{len .IPAM.Config}}' v4only
  [ "$output" = 'false 1' ]
}

@test "network ipv6: bad or overlapping IPv6 subnets and gateways are refused with one message, nothing made" {
  run -0 rrun network create --ipv6 --subnet fd00:120::/64 v6taken
  check() { # MESSAGE ARGS...
    local msg=$1
    shift
    run -125 --separate-stderr rrun network create "$@" v6bad
    [ "${stderr_lines[0]}" = "rrun: cannot create network: $msg" ]
    run -1 rrun network exists v6bad
  }
  check 'an IPv6 --subnet needs --ipv6' --subnet fd00:121::/64
  [ "${stderr_lines[1]}" = 'hint: add --ipv6: rrun network create --ipv6 --subnet fd00:121::/64 v6bad' ]
  check 'an IPv6 --gateway needs an IPv6 --subnet' --ipv6 --gateway fd00:121::1
  check 'invalid subnet "fd00::zz/64": expected an IPv6 CIDR such as fd00:1::/64' --ipv6 --subnet fd00::zz/64
  check 'invalid subnet "fd00:121::1/64": the address has bits set after the prefix' --ipv6 --subnet fd00:121::1/64
  [ "${stderr_lines[1]}" = 'hint: did you mean fd00:121::/64?' ]
  check 'invalid subnet "fd00::/8": the IPv6 prefix length must be 16 to 124 (room for a gateway and containers)' --ipv6 --subnet fd00::/8
  check 'invalid subnet "fd00::/127": the IPv6 prefix length must be 16 to 124 (room for a gateway and containers)' --ipv6 --subnet fd00::/127
  check 'invalid subnet "ff05::/64": its addresses are multicast' --ipv6 --subnet ff05::/64
  check 'invalid subnet "fe80::/64": its addresses are link-local' --ipv6 --subnet fe80::/64
  check 'subnet fd00:120::/48 overlaps network "v6taken" (fd00:120::/64)' --ipv6 --subnet fd00:120::/48
  [ "${stderr_lines[1]}" = 'hint: choose another IPv6 --subnet, or leave it out for a free one' ]
  check "subnet fd00::/48 overlaps rrun-net's IPv6 link (fd00::/64)" --ipv6 --subnet fd00::/48
  check 'gateway fd00:122::1 is outside subnet fd00:121::/64' --ipv6 --subnet fd00:121::/64 --gateway fd00:122::1
  check 'gateway fd00:121:: is the subnet-router address of subnet fd00:121::/64' --ipv6 --subnet fd00:121::/64 --gateway fd00:121::
  check 'more than one IPv6 --subnet (fd00:121::/64, fd00:123::/64)' --ipv6 --subnet fd00:121::/64 --subnet fd00:123::/64
  [ ! -e "$STORAGE_ROOT/networks/v6bad.json" ]
  run -0 rrun network ls -q --filter type=custom
  [ "$output" = v6taken ]
}

@test "network ipv6: --ip6 outside the subnet, the gateway, taken, or on a network without IPv6 is refused, nothing half-made" {
  run -0 rrun network create --ipv6 --subnet fd00:130::/64 v6c
  run -0 rrun network create --subnet 10.113.0.0/24 v4c
  run -125 rrun run --rm --network v6c --ip6 fd00:131::5 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --ip6 fd00:131::5: it is not in network "v6c" (fd00:130::/64)' ]
  run -125 rrun run --rm --network v6c --ip6 fd00:130::1 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --ip6 fd00:130::1: it is the gateway of network "v6c"' ]
  run -125 rrun run --rm --network v6c --ip6 fd00:130:: "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --ip6 fd00:130::: it is not a host address of network "v6c" (fd00:130::/64)' ]
  run -125 rrun run --rm --network v6c --ip6 10.0.0.1 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --ip6 "10.0.0.1": expected an IPv6 address' ]
  run -125 rrun run --rm --network v4c --ip6 fd00:130::5 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --ip6 fd00:130::5: network "v4c" has no IPv6' ]
  [ "${lines[1]}" = 'hint: leave out --ip6, or use a network made with: rrun network create --ipv6 NAME' ]
  run -125 rrun run --rm --ip6 fd00:130::5 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --ip6 with --network slirp: only user-defined networks have them' ]
  run -125 rrun run --rm --network v6c,v4c --ip6 fd00:130::5 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --ip6 with more than one network: it is the address on the first, and each network needs its own' ]
  run -0 rrun run -d --name t1 --network v6c --ip6 fd00:130::0:77 "$FIXTURE_IMAGE" sleep 300
  run -125 rrun run --rm --name t2 --network v6c --ip6 fd00:130::77 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --ip6 fd00:130::77: container "t1" has it on network "v6c"' ]
  [ "${lines[1]}" = 'hint: leave out --ip6 for a free address' ]
  # nothing half-made: no record of t2, t1 alone on the network
  run -0 rrun ps -a --format '{{.Names}}'
  [ "$output" = t1 ]
  [ "$(ls "$RUN_ROOT/net-holder/ipam/v6c")" = "$(printf '%s\nlock' "$(ip_of_t1)")" ]
  run -125 rrun network connect --ip6 fd00:130::9 v4c t1
  [ "${lines[0]}" = 'rrun: cannot use --ip6 fd00:130::9: network "v4c" has no IPv6' ]
  run -0 rrun inspect --format '{{len .NetworkSettings.Networks}}' t1
  [ "$output" = 1 ]
}

ip_of_t1() {
  rrun inspect --format '{{.NetworkSettings.Networks.v6c.IPAddress}}' t1
}

@test "network ipv6: containers get an IPv6 address on their veth and reach each other over IPv6; inspect shows it" {
  need_ipv6
  run -0 rrun network create --ipv6 --subnet 10.114.0.0/24 --subnet fd00:140::/64 v6d
  run -0 container_ipv6 v6d
  [ "$output" = 0 ] || skip "IPv6 is disabled in the container's network namespace"
  run -0 web w6 --network v6d
  run -0 rrun inspect --format '{{.NetworkSettings.GlobalIPv6Address}}/{{.NetworkSettings.GlobalIPv6PrefixLen}} {{.NetworkSettings.IPv6Gateway}} {{.NetworkSettings.Networks.v6d.GlobalIPv6Address}} {{.NetworkSettings.Networks.v6d.IPv6Gateway}}' w6
  [ "$output" = 'fd00:140::2/64 fd00:140::1 fd00:140::2 fd00:140::1' ]
  run -0 rrun network inspect --format '{{json .Containers}}' v6d
  [ "$(jq -r '.[].IPv6Address' <<<"$output")" = fd00:140::2/64 ]
  run -0 rrun info --format json
  id=$(rrun inspect --format '{{.Id}}' w6)
  [ "$(jq -r '.network.networks[] | select(startswith("v6d "))' <<<"$output")" = \
    "v6d 10.114.0.0/24 gateway 10.114.0.1 ipv6 fd00:140::/64 gateway fd00:140::1; 10.114.0.2 ${id:0:12} w6 ip6 fd00:140::2" ]
  # the DNS server's file: the IPv6 address with the same names
  run -0 cat "$RUN_ROOT/net-holder/hosts/v6d"
  [ "$output" = "$(printf '10.114.0.2 w6 %s %s\nfd00:140::2 w6 %s %s' "$id" "${id:0:12}" "$id" "${id:0:12}")" ]
  # the client: its own address (fixed with --ip6), a route through the IPv6 gateway, the
  # gateway (the bridge in the holder) and the server over IPv6
  run -0 rrun run --rm --network v6d --ip6 fd00:140::99 "$FIXTURE_IMAGE" \
    sh -c "ip -6 -o addr show eth0 scope global; ip -6 route; ping -6 -c 1 -W 2 fd00:140::1 >/dev/null && echo gw-ok; ping -6 -c 1 -W 2 fd00:140::2 >/dev/null && echo peer-ok; grep fd00 /etc/hosts"
  echo "$output"
  [[ $output == *"eth0    inet6 fd00:140::99/64 scope global"* ]]
  [[ $output == *"default via fd00:140::1 dev eth0"* ]]
  [[ $output == *gw-ok* ]]
  [[ $output == *peer-ok* ]]
  [[ $output == *"fd00:140::99	"* ]]
  run -0 fetch_from fd00:140::2 --network v6d
  [ "$output" = hello-from-w6 ]
  # connect --ip6: a second interface with that address
  run -0 rrun network create --ipv6 --subnet 10.115.0.0/24 --subnet fd00:141::/64 v6e
  run -0 rrun network connect --ip6 fd00:141::42 v6e w6
  run -0 ip6_of w6 v6e
  [ "$output" = fd00:141::42 ]
  run -0 fetch_from fd00:141::42 --network v6e
  [ "$output" = hello-from-w6 ]
}

@test "network ipv6: the DNS server answers AAAA for names, aliases and short IDs, PTR under ip6.arpa, over IPv4 and IPv6" {
  need_ipv6
  run -0 rrun network create --ipv6 --subnet 10.116.0.0/24 --subnet fd00:150::/64 v6n
  run -0 container_ipv6 v6n
  [ "$output" = 0 ] || skip "IPv6 is disabled in the container's network namespace"
  run -0 web dn6 --network v6n --network-alias dn6alias
  id=$output
  for name in dn6 dn6alias "${id:0:12}" dn6.dns.rrun; do
    run -0 rrun run --rm --network v6n "$FIXTURE_IMAGE" nslookup -type=aaaa "$name"
    echo "$output"
    [[ $output == *"Address: fd00:150::2"* ]]
    run -0 rrun run --rm --network v6n "$FIXTURE_IMAGE" nslookup -type=a "$name"
    [[ $output == *"Address: 10.116.0.2"* ]]
  done
  # the server on the IPv6 gateway answers too
  run -0 rrun run --rm --network v6n "$FIXTURE_IMAGE" nslookup -type=aaaa dn6 fd00:150::1
  [[ $output == *"Server:"*"fd00:150::1"* ]]
  [[ $output == *"Address: fd00:150::2"* ]]
  # PTR: 2.0.0...0.5.1.0.0.0.0.d.f.ip6.arpa
  run -0 rrun run --rm --network v6n "$FIXTURE_IMAGE" nslookup fd00:150::2
  echo "$output"
  [[ $output == *"2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.1.0.0.0.d.f.ip6.arpa"*"name = dn6.dns.rrun"* ]]
  # by name over IPv6
  run -0 fetch_from dn6 --network v6n
  [ "$output" = hello-from-dn6 ]
  run -0 rrun run --rm --network v6n "$FIXTURE_IMAGE" ping -6 -c 1 -W 2 dn6alias
  [[ $output == *"fd00:150::2"* ]]
}

@test "network ipv6: networks are isolated from each other over IPv6; --internal has no IPv6 route out" {
  need_ipv6
  run -0 rrun network create --ipv6 --subnet 10.117.0.0/24 --subnet fd00:160::/64 v6A
  run -0 rrun network create --ipv6 --subnet 10.118.0.0/24 --subnet fd00:161::/64 v6B
  run -0 container_ipv6 v6A
  [ "$output" = 0 ] || skip "IPv6 is disabled in the container's network namespace"
  run -0 web wa6 --network v6A
  run -0 web wb6 --network v6B
  run -0 fetch_from fd00:160::2 --network v6A
  [ "$output" = hello-from-wa6 ]
  # from B: not A's container, not A's gateway (the holder's address there); B's own is fine
  run -1 rrun run --rm --network v6B "$FIXTURE_IMAGE" sh -c "$GET; get fd00:160::2"
  run -1 rrun run --rm --network v6B "$FIXTURE_IMAGE" ping -6 -c 1 -W 2 fd00:160::2
  run -1 rrun run --rm --network v6B "$FIXTURE_IMAGE" ping -6 -c 1 -W 2 fd00:160::1
  run -0 rrun run --rm --network v6B "$FIXTURE_IMAGE" ping -6 -c 1 -W 2 fd00:161::1
  # on both: both reachable
  run -0 rrun run --rm --network v6A --network v6B "$FIXTURE_IMAGE" \
    sh -c "$GET; get fd00:160::2 && get fd00:161::2"
  [ "${lines[0]}" = hello-from-wa6 ]
  [ "${lines[1]}" = hello-from-wb6 ]
  # internal: no IPv6 default route, and nothing of another network through the gateway
  run -0 rrun network create --internal --ipv6 --subnet 10.119.0.0/24 --subnet fd00:162::/64 v6I
  run -0 rrun run --rm --network v6I "$FIXTURE_IMAGE" sh -c 'ip -6 route; ping -6 -c 1 -W 2 fd00:162::1 >/dev/null && echo gw-ok'
  [[ $output != *default* ]]
  [[ $output == *gw-ok* ]]
  # even with a route of its own (NET_ADMIN in its namespace), the holder forwards nothing
  run -1 rrun run --rm --network v6I --cap-add NET_ADMIN "$FIXTURE_IMAGE" sh -c \
    'ip -6 route add default via fd00:162::1 || exit 3; ping -6 -c 1 -W 2 fd00:161::2'
}
