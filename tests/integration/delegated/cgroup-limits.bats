#!/usr/bin/env bats
# Resource limits in a delegated cgroup v2 subtree (issue 5, path 2). run.sh moves the
# runner into $RRUN_TEST_CGROUP, owned by the test user as systemd's Delegate=yes gives
# it (cgroup.procs, cgroup.subtree_control, cgroup.threads chowned).
# Limit tests need the controller in the subtree and skip, saying so, where it is absent
# (this CI machine: hybrid cgroups, v2 without memory/cpu/pids/io/cpuset).

# shellcheck disable=SC2016 # the sh -c scripts expand inside the container
load ../helpers
load delegated

# Start a container that prints its cgroup files, then waits; sets CG to its host dir.
start_waiting() { # rrun run options...
  rrun_bg run --rm "$@" "$FIXTURE_IMAGE" \
    sh -c 'trap "exit 0" TERM; echo ready; while :; do sleep 0.1; done'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  CG=$(leaves)
  [ -n "$CG" ]
  [ "$(wc -l <<<"$CG")" -eq 1 ]
  # the container's processes are in the leaf, and no others
  [ -n "$(cat "$CG/cgroup.procs")" ]   # cgroupfs files always report size 0: read it
  run -1 grep -qx "$RRUN_PID" "$CG/cgroup.procs"
}

stop_waiting() {
  kill -TERM "$RRUN_PID"
  wait_bg
  [ "$BG_STATUS" -eq 0 ]
}

@test "cgroup limits: the container gets a leaf named rrun-<id> that goes away" {
  start_waiting
  [[ $(basename "$CG") == rrun-* ]]
  [[ $CG == "$RRUN_TEST_CGROUP"/* ]]
  [ -d "$CG" ]
  stop_waiting
  [ ! -d "$CG" ]
  [ -z "$(leaves)" ]
  no_leftovers
}

@test "cgroup limits: a stale leaf of a killed rrun is removed by the next command" {
  start_waiting
  local leaf=$CG
  kill -KILL "$RRUN_PID"
  wait "$RRUN_PID" || true
  # the container may outlive a SIGKILLed rrun; end it through the cgroup
  if [[ -e $leaf/cgroup.kill ]]; then echo 1 >"$leaf/cgroup.kill"; else
    xargs -r kill -KILL <"$leaf/cgroup.procs"; fi
  wait_until grep -qx 'populated 0' "$leaf/cgroup.events"
  [ -d "$leaf" ]
  run -0 rrun run --rm "$FIXTURE_IMAGE" true
  [ ! -d "$leaf" ]
}

@test "cgroup limits: --memory sets memory.max and the swap docker allows" {
  require_controller memory
  start_waiting --memory 64m --memory-reservation 32m
  [ "$(cat "$CG/memory.max")" = 67108864 ]
  [ "$(cat "$CG/memory.low")" = 33554432 ]
  if [[ -e $CG/memory.swap.max ]]; then
    [ "$(cat "$CG/memory.swap.max")" = 67108864 ]   # docker: as much swap as memory
  fi
  stop_waiting
}

@test "cgroup limits: a memory hog is OOM-killed: exit 137 and the message" {
  require_controller memory
  run -137 rrun run --rm --memory 32m --memory-swap 32m "$FIXTURE_IMAGE" \
    sh -c 'x=a; while :; do x="$x$x"; done'
  [[ $output == *'rrun: container killed: out of memory (limit 32 MiB)'* ]]
  [ -z "$(leaves)" ]
}

@test "cgroup limits: run -d: the monitor records the OOM kill (inspect State.OOMKilled)" {
  require_controller memory
  run -0 rrun run -d --name oom1 --memory 32m --memory-swap 32m "$FIXTURE_IMAGE" \
    sh -c 'x=a; while :; do x="$x$x"; done'
  run -0 timeout 60 "${RRUN_CMD[@]}" wait oom1
  [ "$output" = 137 ]
  run -0 rrun inspect --format '{{.State.OOMKilled}} {{.State.ExitCode}}' oom1
  [ "$output" = 'true 137' ]
  # a container that was not OOM-killed says false
  run -0 rrun run -d --name oom2 --memory 32m "$FIXTURE_IMAGE" sh -c 'exit 3'
  run -0 timeout 60 "${RRUN_CMD[@]}" wait oom2
  run -0 rrun inspect --format '{{.State.OOMKilled}} {{.State.ExitCode}}' oom2
  [ "$output" = 'false 3' ]
  run -0 rrun rm oom1 oom2
  [ -z "$(leaves)" ]
}

@test "cgroup limits: --cpus sets cpu.max and holds a busy loop near it" {
  require_controller cpu
  start_waiting --cpus 0.5
  [ "$(cat "$CG/cpu.max")" = "50000 100000" ]
  stop_waiting
  run -0 rrun run --rm --cpus 0.5 "$FIXTURE_IMAGE" sh -c '
    timeout 2 sh -c "while :; do :; done"
    awk "\$1 == \"usage_usec\" { print \$2 }" /sys/fs/cgroup/cpu.stat'
  local usec=${lines[-1]}
  # 2 s at half a CPU is 1 s of CPU time; allow scheduling slack but not a whole CPU
  ((usec > 500000 && usec < 1400000))
}

@test "cgroup limits: --cpu-shares and --cpu-weight set cpu.weight" {
  require_controller cpu
  start_waiting --cpu-shares 1024
  [ "$(cat "$CG/cpu.weight")" = 39 ]
  stop_waiting
  start_waiting --cpu-weight 300
  [ "$(cat "$CG/cpu.weight")" = 300 ]
  stop_waiting
}

@test "cgroup limits: --pids-limit stops a fork bomb" {
  require_controller pids
  start_waiting --pids-limit 20
  [ "$(cat "$CG/pids.max")" = 20 ]
  stop_waiting
  run rrun run --rm --pids-limit 20 "$FIXTURE_IMAGE" sh -c '
    i=0; while [ $i -lt 50 ]; do sleep 5 & i=$((i+1)); done 2>/dev/null
    cat /sys/fs/cgroup/pids.events; kill $(jobs -p) 2>/dev/null; true'
  [[ $output == *'max '[1-9]* ]]
}

@test "cgroup limits: --cpuset-cpus sets cpuset.cpus" {
  require_controller cpuset
  start_waiting --cpuset-cpus 0
  [ "$(cat "$CG/cpuset.cpus")" = 0 ]
  stop_waiting
}

@test "cgroup limits: --blkio-weight and --device-write-bps set io.weight and io.max" {
  require_controller io
  local dev
  dev=$(findmnt -no SOURCE / | grep '^/dev/' || true)
  [[ -b $dev ]] || skip "no block device behind / to limit"
  start_waiting --blkio-weight 1000 --device-write-bps "$dev:1m"
  grep -qx 'default 10000' "$CG/io.weight"
  grep -q "wbps=1048576" "$CG/io.max"
  stop_waiting
}

@test "cgroup limits: a limit whose controller is not delegated is an error naming it" {
  local c flag
  for c in memory:--memory=64m pids:--pids-limit=10 cpu:--cpus=0.5 cpuset:--cpuset-cpus=0 io:--blkio-weight=500; do
    flag=${c#*:}
    if ! grep -qw "${c%%:*}" "$RRUN_TEST_CGROUP/cgroup.controllers"; then
      run -125 rrun run --rm "$flag" "$FIXTURE_IMAGE" true
      [[ ${lines[0]} == "rrun: cannot apply ${flag%%=*}: the ${c%%:*} controller is not "* ]] || {
        echo "$flag: $output" >&2
        return 1
      }
      [ -z "$(leaves)" ]
      return 0
    fi
  done
  skip "every controller is delegated here"
}

@test "cgroup limits: --cgroup-parent makes a path below the delegated cgroup and puts the leaf there" {
  local mnt parent=$RRUN_TEST_CGROUP/jobs/batch
  rmdir "$parent" "$RRUN_TEST_CGROUP/jobs" 2>/dev/null || true
  rrun_bg run --rm --cgroup-parent jobs/batch "$FIXTURE_IMAGE" \
    sh -c 'trap "exit 0" TERM; echo ready; while :; do sleep 0.1; done'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  CG=$(find "$parent" -mindepth 1 -maxdepth 1 -type d -name 'rrun-*')
  [ -n "$CG" ]
  [ "$(stat -c %U "$parent")" = "$(id -un)" ]
  [ -n "$(cat "$CG/cgroup.procs")" ]
  stop_waiting
  [ ! -d "$CG" ]
  # the parent stays, as docker's and podman's do
  [ -d "$parent" ]
  # the same place named from the top of the hierarchy
  mnt=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
  run -0 rrun run --rm --cgroup-parent "${RRUN_TEST_CGROUP#"$mnt"}/jobs/batch" "$FIXTURE_IMAGE" echo ran
  [ "$output" = ran ]
  # anywhere else: refused, saying where the user may go
  run -125 rrun run --rm --cgroup-parent /elsewhere/jobs "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = "rrun: cannot use --cgroup-parent \"/elsewhere/jobs\": it is outside the cgroup delegated to you (\"${RRUN_TEST_CGROUP#"$mnt"}\"), and a rootless container's cgroup can only be made there" ]
  [ "${lines[1]}" = "hint: give a path relative to it (made if missing), e.g. --cgroup-parent=jobs/$(id -un)" ]
  rmdir "$parent" "$RRUN_TEST_CGROUP/jobs"
  no_leftovers
}
