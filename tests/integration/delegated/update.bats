#!/usr/bin/env bats
# rrun update (issue 5): new limits for a running container, written into the leaf
# `rrun run` gave it. run.sh moves the runner into $RRUN_TEST_CGROUP, delegated to the
# test user. Limit values need their controller and skip, saying so, where it is absent
# (this CI machine: hybrid cgroups, v2 without memory/cpu/pids); the mechanics do not.

load ../helpers
load delegated

start_named() { # NAME rrun run options...
  local name=$1
  shift
  rrun_bg run --rm --name "$name" "$@" "$FIXTURE_IMAGE" \
    sh -c 'trap "exit 0" TERM; echo ready; while :; do sleep 0.1; done'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  CG=$(leaves)
}

stop_named() {
  kill -TERM "$RRUN_PID"
  wait_bg
  [ "$BG_STATUS" -eq 0 ]
}

@test "update: bad values exit 125 with run's message, before any container is looked at" {
  run -125 rrun update --memory 5m whatever
  [ "${lines[0]}" = 'rrun: invalid value "5m" for --memory: the minimum is 6m' ]
  run -125 rrun update --cpus half whatever
  [ "${lines[0]}" = 'rrun: invalid value "half" for --cpus: expected a number of CPUs such as 0.5 or 2' ]
  run -125 rrun update --cpu-shares 512 --cpu-weight 50 whatever
  [ "${lines[0]}" = 'rrun: cannot use --cpu-shares with --cpu-weight: both set cpu.weight' ]
  run -125 rrun update whatever
  [ "${lines[0]}" = 'rrun: update: no limit to change' ]
  run -125 rrun update --pids-limit 10
  [ "${lines[0]}" = 'rrun: update: no container given' ]
}

@test "update: an unknown container is an error naming it" {
  run -125 rrun update --pids-limit 10 no-such-container
  [ "${lines[0]}" = 'rrun: no running container "no-such-container"' ]
}

@test "update: a container without a cgroup of its own is refused, saying why and the fix" {
  start_named nocg --cgroups=disabled
  [ -z "$CG" ]
  run -125 rrun update --pids-limit 10 nocg
  [ "${lines[0]}" = 'rrun: cannot update container "nocg": it has no cgroup of its own' ]
  [[ ${lines[1]} == 'hint: it was started with --cgroups=disabled'* ]]
  [[ ${lines[2]} == hint:* ]]
  stop_named
}

@test "update: finds the container by name and by id prefix; a missing controller names it" {
  start_named upd
  [ -n "$CG" ]
  local id c flag
  id=$(basename "$CG")
  id=${id#rrun-}
  for c in pids:--pids-limit=50 memory:--memory=64m cpu:--cpus=0.5; do
    flag=${c#*:}
    if grep -qw "${c%%:*}" "$RRUN_TEST_CGROUP/cgroup.controllers"; then
      # delegated: the same two lookups succeed and print the names given
      run -0 rrun update "$flag" upd "${id:0:8}"
      [ "$output" = "$(printf 'upd\n%s' "${id:0:8}")" ]
      continue
    fi
    run -125 rrun update "$flag" upd
    [[ ${lines[0]} == "rrun: cannot update container \"upd\": cannot apply ${flag%%=*}: the ${c%%:*} controller is not delegated to cgroup \"$RRUN_TEST_CGROUP\""* ]]
    run -125 rrun update "$flag" "${id:0:8}"
    [[ ${lines[0]} == "rrun: cannot update container \"${id:0:8}\": cannot apply ${flag%%=*}:"* ]]
  done
  stop_named
  no_leftovers
}

@test "update: --pids-limit changes pids.max of the running container, -1 lifts it" {
  require_controller pids
  start_named pids --pids-limit 20
  [ -n "$CG" ]
  [ "$(cat "$CG/pids.max")" = 20 ]
  run -0 rrun update --pids-limit 30 pids
  [ "$output" = pids ]
  [ "$(cat "$CG/pids.max")" = 30 ]
  run -0 rrun update --pids-limit -1 pids
  [ "$(cat "$CG/pids.max")" = max ]
  stop_named
}

@test "update: --memory on a container started without limits enables the controller" {
  require_controller memory
  start_named mem
  [ -n "$CG" ]
  run -0 rrun update --memory 64m --memory-swap 96m mem
  [ "$(cat "$CG/memory.max")" = 67108864 ]
  if [[ -e $CG/memory.swap.max ]]; then
    [ "$(cat "$CG/memory.swap.max")" = 33554432 ]
  fi
  run -0 rrun update --memory-reservation 32m mem
  [ "$(cat "$CG/memory.low")" = 33554432 ]
  [ "$(cat "$CG/memory.max")" = 67108864 ]     # untouched
  stop_named
}

@test "update: --cpus and --cpu-weight change cpu.max and cpu.weight" {
  require_controller cpu
  start_named cpu --cpus 0.5
  [ -n "$CG" ]
  run -0 rrun update --cpus 1.5 --cpu-weight 300 cpu
  [ "$(cat "$CG/cpu.max")" = "150000 100000" ]
  [ "$(cat "$CG/cpu.weight")" = 300 ]
  stop_named
}
