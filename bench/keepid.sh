#!/bin/bash
# --userns=keep-id start-up against the default on the same image (issue 6: <= 1.5x, the
# first run included, since keep-id must not copy or re-chown layers: it remaps them at
# mount time through fuse-overlayfs). Also the first keep-id run alone.
# Run as an unprivileged user with a subuid range:   bench/keepid.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RRUN=${RRUN:-$top/build/src/rrun}
RUNS=${1:-20}
[ "$(id -u)" != 0 ] || { echo "keepid.sh: run it as an unprivileged user" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work" 2>/dev/null || true' EXIT
"$top/tests/fixtures/make-rootfs.sh" "$work" >/dev/null
r=("$RRUN" --root "$work/storage" --runroot "$work/run")
"${r[@]}" import "$work/rootfs.tar" bench/busybox >/dev/null
t0=$(date +%s%N)
"${r[@]}" run --rm --network none --userns keep-id bench/busybox true
t1=$(date +%s%N)
echo "first keep-id run: $(( (t1 - t0) / 1000000 )) ms"
python3 "$here/timeit.py" "$RUNS" \
  "default (auto driver)=${r[*]} run --rm --network none bench/busybox true" \
  "default, fuse-overlayfs=${r[*]} --storage-driver fuse-overlayfs run --rm --network none bench/busybox true" \
  "keep-id=${r[*]} run --rm --network none --userns keep-id bench/busybox true"
