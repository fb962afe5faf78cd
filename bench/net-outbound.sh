#!/bin/bash
# Outbound downloads through rrun's networks (issue 22): `rrun run --rm IMAGE wget -q -O
# /dev/null http://ADDR:PORT/blob` of SIZE_MB MiB (default 400) from python3's http.server
# on the host's own address (reached without allow_host_loopback), on a user-defined
# network (the container's MSS is 1460) and on the default one (65480), first with
# rrun-net's own TCP, then with libslirp's (RRUN_NET_SPLICE=0, in the environment of the
# network holder and of each rrun-net). Medians of RUNS (bench/timeit.py), start-up included.
# Run as an unprivileged user, with a busybox image in the store:
#   IMAGE=localhost/bench-bb bench/net-outbound.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RRUN=${RRUN:-$top/build/src/rrun}
IMAGE=${IMAGE:?IMAGE: a busybox image in the store}
RUNS=${1:-${RUNS:-5}}
SIZE_MB=${SIZE_MB:-400}
[ "$(id -u)" != 0 ] || { echo "net-outbound.sh: run it as an unprivileged user" >&2; exit 2; }
addr=$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
[ -n "$addr" ] || { echo "net-outbound.sh: the host has no IPv4 route out" >&2; exit 2; }

work=$(mktemp -d -p /var/tmp rrun-outbound.XXXXXX)
net=outbound$$
server=
cleanup() {
  [ -z "$server" ] || kill "$server" 2>/dev/null || true
  "$RRUN" network rm -f "$net" >/dev/null 2>&1 || true
  "$RRUN" __internal net-holder-stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
head -c "${SIZE_MB}M" /dev/zero >"$work/blob"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("'"$addr"'",0)); print(s.getsockname()[1])')
(cd "$work" && exec timeout 3600 python3 -m http.server "$port" --bind "$addr" >/dev/null 2>&1) &
server=$!
for _ in $(seq 50); do
  python3 -c 'import socket; socket.create_connection(("'"$addr"'",'"$port"'),1)' 2>/dev/null && break
  sleep 0.1
done
url=http://$addr:$port/blob
echo "# $(uname -r), $(nproc) cores, $(date -u +%FT%H:%M), ${SIZE_MB} MiB from $url, ms, median (min-max) of $RUNS"
for splice in 1 0; do
  "$RRUN" __internal net-holder-stop >/dev/null 2>&1 || true
  if [ "$splice" = 0 ]; then export RRUN_NET_SPLICE=0; label=libslirp; else unset RRUN_NET_SPLICE; label=rrun-net; fi
  "$RRUN" network create "$net" >/dev/null
  python3 "$here/timeit.py" "$RUNS" \
    "user-network/$label=$RRUN run --rm --network $net $IMAGE wget -q -O /dev/null $url" \
    "default/$label=$RRUN run --rm $IMAGE wget -q -O /dev/null $url"
  "$RRUN" network rm -f "$net" >/dev/null
done
