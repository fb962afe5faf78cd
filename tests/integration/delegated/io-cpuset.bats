#!/usr/bin/env bats
# The io and cpuset limits of `rrun run` and `rrun update` not covered by
# cgroup-limits.bats and update.bats: --device-read-bps, --device-read-iops,
# --device-write-iops, --cpuset-mems, and update's --cpuset-*, --blkio-weight and
# --device-* success paths. Each needs its controller in the delegated subtree and skips,
# saying so, where it is absent (this CI machine: hybrid cgroups, v2 without io/cpuset).

load ../helpers
load delegated

start_named() { # NAME rrun run options...
  local name=$1
  shift
  rrun_bg run --rm --name "$name" "$@" "$FIXTURE_IMAGE" \
    sh -c 'trap "exit 0" TERM; echo ready; while :; do sleep 0.1; done'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  CG=$(leaves)
  [ -n "$CG" ]
  [ "$(wc -l <<<"$CG")" -eq 1 ]
}

stop_named() {
  kill -TERM "$RRUN_PID"
  wait_bg
  [ "$BG_STATUS" -eq 0 ]
}

# The block device behind / and its MAJ:MIN as io.max names it; skips without one.
root_block_device() {
  DEV=$(findmnt -no SOURCE / | grep '^/dev/' || true)
  [[ -b $DEV ]] || skip "no block device behind / to limit"
  DEV_MM=$(printf '%d:%d' "0x$(stat -Lc %t "$DEV")" "0x$(stat -Lc %T "$DEV")")
}

# The io.max line of DEV_MM in the container's leaf.
io_max_line() {
  grep "^$DEV_MM " "$CG/io.max"
}

@test "io limits: --device-read-bps, --device-read-iops and --device-write-iops set io.max" {
  require_controller io
  root_block_device
  start_named io --device-read-bps "$DEV:2m" --device-read-iops "$DEV:300" \
    --device-write-iops "$DEV:200"
  run -0 io_max_line
  [ "$output" = "$DEV_MM rbps=2097152 wbps=max riops=300 wiops=200" ]
  stop_named
  run -125 rrun run --rm --device-read-bps /no/such/dev:1m "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: '*'"/no/such/dev'* ]]
  [ -z "$(leaves)" ]
}

@test "cpuset: --cpuset-mems sets cpuset.mems" {
  require_controller cpuset
  start_named mems --cpuset-mems 0
  [ "$(cat "$CG/cpuset.mems")" = 0 ]
  stop_named
}

@test "update: --cpuset-cpus and --cpuset-mems change cpuset.cpus and cpuset.mems" {
  require_controller cpuset
  start_named cs
  run -0 rrun update --cpuset-cpus 0 --cpuset-mems 0 cs
  [ "$output" = cs ]
  [ "$(cat "$CG/cpuset.cpus")" = 0 ]
  [ "$(cat "$CG/cpuset.mems")" = 0 ]
  stop_named
}

@test "update: --blkio-weight changes io.weight (10..1000 onto 1..10000)" {
  require_controller io
  start_named bw --blkio-weight 1000
  grep -qx 'default 10000' "$CG/io.weight"
  run -0 rrun update --blkio-weight 10 bw
  [ "$output" = bw ]
  grep -qx 'default 1' "$CG/io.weight"
  stop_named
}

@test "update: --device-read-bps, --device-write-bps and the iops limits change io.max" {
  require_controller io
  root_block_device
  start_named dev
  run -0 rrun update --device-read-bps "$DEV:1m" --device-write-bps "$DEV:3m" dev
  [ "$output" = dev ]
  run -0 io_max_line
  [ "$output" = "$DEV_MM rbps=1048576 wbps=3145728 riops=max wiops=max" ]
  run -0 rrun update --device-read-iops "$DEV:100" --device-write-iops "$DEV:50" dev
  run -0 io_max_line
  [[ $output == "$DEV_MM "*"riops=100 wiops=50" ]]
  stop_named
  no_leftovers
}
