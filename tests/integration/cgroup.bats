#!/usr/bin/env bats
# rrun-test: one pass
# (one storage-driver pass: the network and cgroup code do not depend on the driver)
# Resource limits where the test user has no cgroup v2 subtree of its own (issue 5, path 3):
# this CI machine has hybrid cgroups, no systemd and no delegation outside delegated/.
# Limits must fail with exit 125 and say what is missing; no limits must just run.

# shellcheck disable=SC2154 # bats sets $stderr for run --separate-stderr
load helpers

setup_file() {
  common_setup_file
}

cgroup2_mount() {
  awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo
}

# Skip unless this runner really has no way to a cgroup: no systemd user manager on the
# session bus and its own cgroup v2 directory not writable.
require_no_delegation() {
  local mnt own
  if [[ -n ${DBUS_SESSION_BUS_ADDRESS:-} || -S ${XDG_RUNTIME_DIR:-/nonexistent}/bus ]]; then
    skip "a session bus exists; a systemd user manager may give a scope"
  fi
  mnt=$(cgroup2_mount)
  if [[ -n $mnt ]]; then
    own=$mnt$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
    own=${own%/}
    if [[ -w $own/cgroup.procs ]]; then
      skip "this runner's cgroup $own is writable (delegated)"
    fi
  fi
}

@test "cgroup: limits without a delegated subtree exit 125 and say what is missing" {
  require_no_delegation
  run -125 rrun run --rm --memory 256m --cpus 0.5 --pids-limit 100 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot apply resource limits: no cgroup v2 subtree is delegated to this user' ]
  [[ $output == *"hint: no systemd user manager ("*"loginctl enable-linger $(id -un)"* ]]
  [[ $output == *'Delegate=cpu cpuset io memory pids for user@.service'* ]]
  [[ $output == *'--cgroups=disabled'* ]]
  if grep -q ' - cgroup ' /proc/self/mountinfo && [[ -n $(cgroup2_mount) ]]; then
    # hybrid: the v2 hierarchy lacks the controllers, and the hint says how to boot
    [[ $output == *'systemd.unified_cgroup_hierarchy=1'* ]]
  fi
  no_leftovers
}

@test "cgroup: each limit flag alone is refused the same way" {
  require_no_delegation
  local flag
  for flag in "--memory=64m" "--memory-reservation=64m" "--cpus=0.5" "--cpu-shares=512" \
    "--cpu-weight=50" "--cpuset-cpus=0" "--cpuset-mems=0" "--pids-limit=10" \
    "--blkio-weight=500"; do
    run -125 rrun run --rm "$flag" "$FIXTURE_IMAGE" true
    [ "${lines[0]}" = 'rrun: cannot apply resource limits: no cgroup v2 subtree is delegated to this user' ] || {
      echo "flag $flag: $output" >&2
      return 1
    }
  done
}

@test "cgroup: no limits runs without a cgroup of its own" {
  require_no_delegation
  run -0 rrun run --rm "$FIXTURE_IMAGE" echo hello
  [ "${lines[-1]}" = hello ]
  no_leftovers
}

@test "cgroup: --cgroups=disabled runs despite limits, with a warning" {
  run -0 --separate-stderr rrun run --rm --cgroups=disabled --memory 256m "$FIXTURE_IMAGE" echo hello
  [ "$output" = hello ]
  [[ $stderr == *'rrun: warning: ignoring resource limits: cgroups are disabled'* ]]
}

@test "cgroup: --pids-limit -1 and --cpus 0 are no limit (docker), so they run anywhere" {
  run -0 rrun run --rm --pids-limit -1 --cpus 0 "$FIXTURE_IMAGE" true
}

@test "cgroup: bad limit values exit 125 naming flag and value" {
  run -125 rrun run --rm --memory 5m "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "5m" for --memory: the minimum is 6m' ]
  run -125 rrun run --rm --memory lots "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "lots" for --memory: expected a size such as 512m or 2g' ]
  run -125 rrun run --rm --cpu-shares 1 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "1" for --cpu-shares: the range is 2 to 262144' ]
  run -125 rrun run --rm --cpu-weight 0 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "0" for --cpu-weight: the range is 1 to 10000' ]
  run -125 rrun run --rm --cpuset-cpus 3-1 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "3-1" for --cpuset-cpus: expected a list of CPUs such as 0-3,5' ]
  run -125 rrun run --rm --pids-limit -5 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "-5" for --pids-limit: expected a number of tasks, or -1 for no limit' ]
  run -125 rrun run --rm --blkio-weight 5 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "5" for --blkio-weight: the range is 10 to 1000' ]
  run -125 rrun run --rm --device-write-bps /dev/null:1m "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "/dev/null:1m" for --device-write-bps: "/dev/null" is not a block device' ]
  run -125 rrun run --rm --memory 64m --memory-swap 32m "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "32m" for --memory-swap: it counts memory plus swap and must not be below --memory (64m)' ]
  run -125 rrun run --rm --cgroups=sometimes "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "sometimes" for --cgroups: expected enabled or disabled' ]
}

@test "stats: without a cgroup of its own a container is listed with the reason" {
  rrun_bg run --rm --name idle "$FIXTURE_IMAGE" \
    sh -c 'trap "exit 0" TERM; echo ready; while :; do sleep 0.1; done'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  run -0 rrun stats --no-stream idle
  [[ $output == *"no cgroup of its own"* ]]
  run -0 rrun stats --no-stream --format json
  [[ $output == *'"CgroupAvailable": false'* ]]
  # an unknown name is an error, as in docker, not an empty table
  run -125 rrun stats --no-stream nosuch
  [[ $output == *'no running container "nosuch"'* ]]
  kill -TERM "$RRUN_PID"
  wait_bg
  no_leftovers
}

@test "cgroup: --cpu-period, --cpu-quota, --blkio-weight-device and --cgroup-conf need a subtree too" {
  require_no_delegation
  local flag dev
  dev=$(awk '$4 ~ /^[sv]d[a-z]$|^nvme[0-9]n[0-9]$/ { print "/dev/" $4; exit }' /proc/partitions)
  local -a flags=("--cpu-quota=50000" "--cpu-period=50000" "--cgroup-conf=memory.high=64m")
  [[ -n $dev && -b $dev ]] && flags+=("--blkio-weight-device=$dev:500")
  for flag in "${flags[@]}"; do
    run -125 rrun run --rm "$flag" "$FIXTURE_IMAGE" true
    [ "${lines[0]}" = 'rrun: cannot apply resource limits: no cgroup v2 subtree is delegated to this user' ] || {
      echo "flag $flag: $output" >&2
      return 1
    }
  done
}

@test "cgroup: the other cgroup flags are checked, and v1-only ones refused or ignored" {
  run -125 rrun run --rm --cpu-quota 10 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "10" for --cpu-quota: expected at least 1000 microseconds, or -1 for no limit' ]
  run -125 rrun run --rm --cpu-period 5 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "5" for --cpu-period: the range is 1000 to 1000000 microseconds' ]
  run -125 rrun run --rm --cpus 1 --cpu-quota 50000 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --cpus with --cpu-period or --cpu-quota: all set cpu.max' ]
  run -125 rrun run --rm --cpu-rt-runtime 950000 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --cpu-rt-runtime: cgroup v2 has no realtime CPU controller' ]
  run -125 rrun run --rm --cpu-rt-period 1000000 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --cpu-rt-period: cgroup v2 has no realtime CPU controller' ]
  run -125 rrun run --rm --memory-swappiness 101 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "101" for --memory-swappiness: the range is 0 to 100, or -1 for the default' ]
  run -125 rrun run --rm --blkio-weight-device /dev/null:500 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "/dev/null:500" for --blkio-weight-device: "/dev/null" is not a block device' ]
  run -125 rrun run --rm --cgroup-conf ../cgroup.procs=1 "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: invalid value "../cgroup.procs=1" for --cgroup-conf: expected KEY=VALUE'* ]]
  # --cgroup-parent: names only, none of rrun's or the kernel's, and (delegated/) a place
  # the user may write
  run -125 rrun run --rm --cgroup-parent jobs/../.. "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "jobs/../.." for --cgroup-parent: each part of the path must be a name (no empty, "." or ".." parts)' ]
  run -125 rrun run --rm --cgroup-parent a/rrun-x "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "a/rrun-x" for --cgroup-parent: names starting with rrun- are rrun'"'"'s own, and cgroup.*, cpu.*, memory.*, io.* and pids.* are the kernel'"'"'s' ]
  run -125 rrun run --rm --cgroups disabled --cgroup-parent jobs "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --cgroup-parent with --cgroups=disabled' ]
  # outside any delegated cgroup (this pass has none, or it is elsewhere): said why
  run -125 rrun run --rm --cgroup-parent /elsewhere "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: cannot use --cgroup-parent "/elsewhere": '* ]]
  run -0 --separate-stderr rrun run --rm --memory-swappiness 10 --oom-kill-disable "$FIXTURE_IMAGE" echo ran
  [ "$output" = ran ]
  [ "$stderr" = 'rrun: warning: ignoring --oom-kill-disable: cgroup v2 has no such setting' ]
}
