#!/usr/bin/env bats
# issue 14: start -a (this run's output, then its status); pause without a cgroup.

load helpers

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
}

@test "start -a: this run's output, then its exit status" {
  run -0 rrun create --name sa1 "$FIXTURE_IMAGE" sh -c 'echo out; echo err >&2; sleep 0.3; echo done; exit 6'
  run -6 --separate-stderr rrun start -a sa1
  [ "$output" = "$(printf 'out\ndone')" ]
  [ "$stderr" = err ]
  # the second run shows its own output only, not the first's
  run -6 --separate-stderr rrun start -a sa1
  [ "$output" = "$(printf 'out\ndone')" ]
  run -0 rrun run -d --name sa2 "$FIXTURE_IMAGE" sleep 60
  run -125 rrun start -a sa2
  [ "${lines[0]}" = 'rrun: start: container "sa2" is already running' ]
  run -125 rrun start -a sa1 sa2
  [ "${lines[0]}" = 'rrun: start: -a takes one container' ]
}

@test "pause: a container without a cgroup of its own says why" {
  run -0 rrun run -d --name pz0 --cgroups disabled "$FIXTURE_IMAGE" sleep 60
  run -125 rrun pause pz0
  [ "${lines[0]}" = 'rrun: cannot pause container "pz0": it has no cgroup of its own' ]
  [[ ${lines[1]} == 'hint: pausing uses the cgroup v2 freezer'* ]]
  run -125 rrun unpause pz0
  [ "${lines[0]}" = 'rrun: cannot unpause container "pz0": it has no cgroup of its own' ]
  run -0 rrun kill pz0
  run -0 rrun wait pz0
  run -125 rrun pause pz0
  [ "${lines[0]}" = 'rrun: cannot pause container "pz0": it is not running' ]
}
