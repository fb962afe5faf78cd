#!/bin/bash
# rrun's DNS server for user-defined networks (issue 16): a name query answered by it,
# round trip over UDP on loopback, one query at a time (bench/dns.py), COUNT queries:
#   1. rrun __internal net-dns, a network with 100 containers' names (4 names each)
#   2. dnsmasq answering the same name from an addn-hosts file (a reference, where installed)
# The query is the container's name, as `ping web` asks it. The issue asks ≤ 1 ms median.
# bench/dns.sh [COUNT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RRUN=${RRUN:-$top/build/src/rrun}
COUNT=${1:-${COUNT:-5000}}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_udp() { # a first query answered: the server is up
  for _ in $(seq 100); do
    python3 "$here/dns.py" 127.0.0.1 "$1" web 1 >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "dns.sh: no answer on port $1" >&2
  return 1
}

mkdir "$work/hosts"
for i in $(seq 2 101); do
  printf '10.89.0.%d c%d %064d %012d a%d\n' "$i" "$i" "$i" "$i" "$i"
done >"$work/hosts/net1"
printf '10.89.0.200 web %s %s www\n' "$(printf 'f%.0s' $(seq 64))" ffffffffffff >>"$work/hosts/net1"

echo "# $(uname -r), $(nproc) cores, $COUNT queries each, $(date -u +%Y-%m-%d)"
port=$(free_port)
"$RRUN" __internal net-dns --listen "127.0.0.1:$port=net1" --hosts-dir "$work/hosts" \
  --upstream 127.0.0.1:9 &
pids+=($!)
wait_udp "$port"
printf 'rrun net-dns  '
python3 "$here/dns.py" 127.0.0.1 "$port" web "$COUNT"

if command -v dnsmasq >/dev/null; then
  port=$(free_port)
  awk '{ print $1, $2 }' "$work/hosts/net1" >"$work/addn-hosts"
  dnsmasq --keep-in-foreground --no-resolv --no-hosts --listen-address=127.0.0.1 \
    --bind-interfaces --port="$port" --addn-hosts="$work/addn-hosts" --user="$(id -un)" \
    --pid-file="$work/dnsmasq.pid" --log-facility=- 2>/dev/null &
  pids+=($!)
  wait_udp "$port"
  printf 'dnsmasq       '
  python3 "$here/dns.py" 127.0.0.1 "$port" web "$COUNT"
fi
