#!/bin/bash
# docs/quickstart.sh: build rrun, make a busybox image from Debian's busybox-static, and
# run it. As your own user (after the packages and subuid-setup.sh in README.md).
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  meson setup build
fi
ninja -C build

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tests/fixtures/make-rootfs.sh "$work"
build/src/rrun import "$work/rootfs.tar" localhost/busybox
build/src/rrun run --rm localhost/busybox echo hello
echo "now try: build/src/rrun localhost/busybox sh"
