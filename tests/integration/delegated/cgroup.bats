#!/usr/bin/env bats
# Run by run.sh with the runner already inside a delegated cgroup v2 subtree
# ($RRUN_TEST_CGROUP, owned by the test user, as systemd's Delegate=yes gives).

load ../helpers
load delegated

cgroup_rel() { # the path of a cgroup dir as /proc/PID/cgroup shows it
  local mnt=${RRUN_TEST_CGROUP_MOUNT:-$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)}
  echo "${1#"$mnt"}"
}

@test "cgroup: this runner lives in the delegated subtree" {
  grep -qx "0::$(cgroup_rel "$RRUN_TEST_CGROUP")" /proc/self/cgroup
}

@test "cgroup: the container runs in its own cgroup below the delegated one, and sees /" {
  rrun_bg run --rm "$FIXTURE_IMAGE" \
    sh -c 'trap "exit 0" TERM; cat /proc/self/cgroup; echo ready; while :; do sleep 0.1; done'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  grep -qx '0::/' "$BATS_TEST_TMPDIR/bg.out"     # its own cgroup namespace
  local pid cg base
  pid=$(container_pid1 "$RRUN_PID")
  [ -n "$pid" ]
  cg=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
  base=$(cgroup_rel "$RRUN_TEST_CGROUP")
  [[ $cg == "$base"/* ]]
  [ "$cg" != "$base" ]
  kill -TERM "$RRUN_PID"
  wait_bg
  [ "$BG_STATUS" -eq 0 ]
  no_leftovers
}

@test "cgroup: the container's cgroup is removed after it exits" {
  local before after
  before=$(find "$RRUN_TEST_CGROUP" -mindepth 1 -type d | sort)
  run -0 rrun run --rm "$FIXTURE_IMAGE" true
  after=$(find "$RRUN_TEST_CGROUP" -mindepth 1 -type d | sort)
  # directories rrun keeps for itself (e.g. a leaf it moved into) may stay; a per-container
  # one may not: nothing new may appear per run
  run -0 rrun run --rm "$FIXTURE_IMAGE" true
  [ "$(find "$RRUN_TEST_CGROUP" -mindepth 1 -type d | sort)" = "$after" ]
  : "$before"
}

@test "cgroup: --cgroups=disabled runs without one" {
  run -0 rrun run --rm --cgroups=disabled "$FIXTURE_IMAGE" true
}
