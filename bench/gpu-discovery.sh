#!/bin/bash
# gpu-discovery.sh [BUILD_DIR]: the time `--gpus all` driver discovery (no CDI spec) takes,
# median of 101 runs, over a fake driver tree (8 nodes) with this machine's real
# /etc/ld.so.cache, whose parsing is the part that grows with the machine. The issue's
# budget is 20 ms (docs/performance.md).
set -euo pipefail
build=${1:-build}
ninja -C "$build" tests/unit/test-device >/dev/null
"$build/tests/unit/test-device" -m perf -p /device/discovery-time | grep -E 'discovery'
