#!/usr/bin/env bats
# issue 14: pause and unpause through the cgroup v2 freezer of the container's cgroup.

load ../helpers
load delegated

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
}

@test "pause: the container's processes stop running until unpause; stop thaws first" {
  run -0 rrun run -d --name pz1 "$FIXTURE_IMAGE" sh -c 'while :; do date +%s%N >/tmp/t; sleep 0.1; done'
  local cg
  cg=$(rrun inspect --format '{{.CgroupPath}}' pz1)
  [[ $cg == "$RRUN_TEST_CGROUP"/* ]]
  run -0 rrun pause pz1
  [ "$output" = pz1 ]
  grep -qx 'frozen 1' "$cg/cgroup.events"
  run -0 rrun ps --filter status=paused --format '{{.Names}} {{.State}}'
  [ "$output" = 'pz1 paused' ]
  run -0 rrun ps --filter name=pz1
  [[ ${lines[1]} == *"(Paused)"* ]]
  run -0 rrun inspect --format '{{.State.Status}} {{.State.Paused}}' pz1
  [ "$output" = 'paused true' ]
  run -0 rrun unpause pz1
  grep -qx 'frozen 0' "$cg/cgroup.events"
  run -125 rrun unpause pz1
  [ "${lines[0]}" = 'rrun: cannot unpause container "pz1": it is not paused' ]
  run -0 rrun pause pz1
  run -0 rrun stop -t 2 pz1
  run -0 rrun ps -a --format '{{.State}} {{.ExitCode}}' --filter name=pz1
  [ "$output" = 'exited 137' ]
}
