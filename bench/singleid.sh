#!/bin/bash
# Single-ID mode (issue 23) against the default mode on the same images, same run:
#   start-up      rrun run --rm --network none BUSYBOX true     (goal: single <= default)
#   apt install   apt-get update + apt-get install of a small package from a local
#                 repository on 127.0.0.1 in a fresh container  (goal: single <= 1.5x)
#   dnf install   dnf install of a small package (and its dependency) from a local
#                 repository on 127.0.0.1, when the host has dnf and createrepo_c
# Single-ID mode is forced with --userns single, so one user with a subordinate range
# measures both. Images from tests/fixtures (busybox rootfs; Debian rootfs from the host's
# dpkg and apt). Medians of RUNS (bench/timeit.py, round robin).
# Run as an unprivileged user with a subuid range:   bench/singleid.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RRUN=${RRUN:-$top/build/src/rrun}
RUNS=${1:-20}
APT_RUNS=${APT_RUNS:-5}
DNF_RUNS=${DNF_RUNS:-3}
[ "$(id -u)" != 0 ] || { echo "singleid.sh: run it as an unprivileged user" >&2; exit 2; }
work=$(mktemp -d)
runs=$(mktemp -d -p "${XDG_RUNTIME_DIR:-/dev/shm}" rrun-bench.XXXXXX)
httpd_pid=
rpm_httpd_pid=
cleanup() {
  [ -n "$httpd_pid" ] && kill "$httpd_pid" 2>/dev/null
  [ -n "$rpm_httpd_pid" ] && kill "$rpm_httpd_pid" 2>/dev/null
  "$RRUN" --root "$work/storage" --runroot "$runs" system reset -f >/dev/null 2>&1
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work" "$runs" 2>/dev/null || true
}
trap cleanup EXIT
R=("$RRUN" --root "$work/storage" --runroot "$runs")
"$top/tests/fixtures/make-rootfs.sh" "$work" >/dev/null
"$top/tests/fixtures/make-debian-rootfs.sh" "$work" >/dev/null
"${R[@]}" -q import "$work/rootfs.tar" bench/busybox >/dev/null
"${R[@]}" -q import "$work/debian.tar" bench/debian >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
busybox httpd -f -p "127.0.0.1:$port" -h "$work/apt-repo" &
httpd_pid=$!
for _ in $(seq 40); do curl -fsS -o /dev/null "http://127.0.0.1:$port/Release" && break; sleep 0.5; done

rr="${R[*]}"
echo "start-up, $RUNS runs each:"
python3 "$here/timeit.py" "$RUNS" \
  "default=$rr run --rm --network none bench/busybox true" \
  "single=$rr -q run --rm --network none --userns single bench/busybox true"
script="echo 'deb [trusted=yes] http://127.0.0.1:$port/ ./' >/etc/apt/sources.list && apt-get update -qq && apt-get install -y -qq rrun-hello >/dev/null && rrun-hello >/dev/null"
echo "apt-get update + install, $APT_RUNS runs each:"
python3 "$here/timeit.py" "$APT_RUNS" \
  "default=$rr run --rm --network host bench/debian sh -c \"$script\"" \
  "single=$rr -q run --rm --network host --userns single bench/debian sh -c \"$script\""

if command -v dnf >/dev/null && command -v createrepo_c >/dev/null && command -v rpmbuild >/dev/null; then
  "$top/tests/fixtures/make-rpm-repo.sh" "$work" >/dev/null
  "$top/tests/fixtures/make-debian-rootfs.sh" "$work" rpm rpm dnf passwd bash >/dev/null
  "${R[@]}" -q import "$work/rpm.tar" bench/rpm >/dev/null
  rpm_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  busybox httpd -f -p "127.0.0.1:$rpm_port" -h "$work/rpm-repo" &
  rpm_httpd_pid=$!
  for _ in $(seq 40); do curl -fsS -o /dev/null "http://127.0.0.1:$rpm_port/repodata/repomd.xml" && break; sleep 0.5; done
  script="dnf -y -q --releasever=1 --nogpgcheck --repofrompath=local,http://127.0.0.1:$rpm_port/ --repo=local install rrun-hello >/dev/null && rrun-hello >/dev/null"
  echo "dnf install, $DNF_RUNS runs each:"
  python3 "$here/timeit.py" "$DNF_RUNS" \
    "default=$rr run --rm --network host bench/rpm sh -c \"$script\"" \
    "single=$rr -q run --rm --network host --userns single bench/rpm sh -c \"$script\""
fi
