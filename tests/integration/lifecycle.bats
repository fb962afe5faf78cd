#!/usr/bin/env bats
# issue 14: races and kills around detached containers: wait on --rm containers, unique
# names under concurrent creates, rename against the monitor's record writes, SIGKILL of
# rrun and of the monitor at several moments, many containers at once.

load helpers

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
}

is_stopped() { [ -z "$(rrun ps -q --filter "name=$1")" ]; }
all_gone() { [ -z "$(rrun ps -a -q)" ]; }
# A process blocked in flock for a shared lock (a `rrun wait` on a record's lock): its
# waiting request is a "->" line of /proc/locks.
blocked_in_flock() { # PID
  grep -Eq -- "-> FLOCK +ADVISORY +READ +$1 " /proc/locks
}
# Waits for a container's exit until the test creates /go (at most 30 s), not for a fixed
# time: the waiters are then sure to be waiting before it exits, however loaded the
# machine.
UNTIL_GO='i=0; while [ ! -e /go ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done'

@test "wait: a --rm container waited for before it exits reports its exit code" {
  run -0 rrun run -d --rm --name wr1 "$FIXTURE_IMAGE" sh -c "$UNTIL_GO; exit 3"
  "${RRUN_CMD[@]}" wait wr1 >"$BATS_TEST_TMPDIR/w" 2>&1 &
  local pid=$!
  wait_until blocked_in_flock "$pid"
  run -0 rrun exec wr1 touch /go
  wait "$pid"
  [ "$(cat "$BATS_TEST_TMPDIR/w")" = 3 ]
  wait_until all_gone
  # once it is gone, wait says so as docker does
  run -125 rrun wait wr1
  [ "${lines[0]}" = 'rrun: no container "wr1"' ]
  no_leftovers
}

@test "wait: several waiters of one --rm container all get its exit code" {
  run -0 rrun run -d --rm --name wr2 "$FIXTURE_IMAGE" sh -c "$UNTIL_GO; exit 5"
  local w pids=()
  for w in 1 2 3; do
    "${RRUN_CMD[@]}" wait wr2 >"$BATS_TEST_TMPDIR/w$w" 2>&1 &
    pids+=($!)
  done
  for w in "${pids[@]}"; do wait_until blocked_in_flock "$w"; done
  run -0 rrun exec wr2 touch /go
  for w in "${pids[@]}"; do wait "$w"; done
  for w in 1 2 3; do
    [ "$(cat "$BATS_TEST_TMPDIR/w$w")" = 5 ]
  done
  wait_until all_gone
  no_leftovers
}

@test "create: two concurrent creates with one --name: exactly one succeeds" {
  local round ok
  for round in 1 2 3; do
    rrun create --name same "$FIXTURE_IMAGE" true >"$BATS_TEST_TMPDIR/a" 2>&1 &
    local a=$!
    rrun create --name same "$FIXTURE_IMAGE" true >"$BATS_TEST_TMPDIR/b" 2>&1 &
    local b=$!
    ok=0
    if wait "$a"; then ok=$((ok + 1)); fi
    if wait "$b"; then ok=$((ok + 1)); fi
    cat "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
    [ "$ok" = 1 ]
    grep -q '^rrun: cannot create container "same": the name is in use by container ' \
      "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
    run -0 rrun ps -a -q
    [ "${#lines[@]}" = 1 ]
    run -0 rrun rm same
  done
  no_leftovers
}

@test "run -d: two concurrent runs with one --name: exactly one succeeds" {
  rrun run -d --name samed "$FIXTURE_IMAGE" sleep 60 >"$BATS_TEST_TMPDIR/a" 2>&1 &
  local a=$!
  rrun run -d --name samed "$FIXTURE_IMAGE" sleep 60 >"$BATS_TEST_TMPDIR/b" 2>&1 &
  local b=$! ok=0
  if wait "$a"; then ok=$((ok + 1)); fi
  if wait "$b"; then ok=$((ok + 1)); fi
  [ "$ok" = 1 ]
  run -0 rrun ps -a -q
  [ "${#lines[@]}" = 1 ]
  run -0 rrun rm -f samed
  no_leftovers
}

@test "rename: a name freed by rename or rm can be used again; the new one cannot" {
  run -0 rrun create --name rn1 "$FIXTURE_IMAGE" true
  run -0 rrun rename rn1 rn2
  run -0 rrun create --name rn1 "$FIXTURE_IMAGE" true
  run -125 rrun create --name rn2 "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: cannot create container "rn2": the name is in use by container '* ]]
  run -125 rrun rename rn1 rn2
  [[ ${lines[0]} == 'rrun: cannot rename container "rn1": the name "rn2" is in use by container '* ]]
  run -0 rrun rm rn2
  run -0 rrun rename rn1 rn2
  run -0 rrun ps -a --format '{{.Names}}'
  [ "$output" = rn2 ]
  run -0 rrun rm rn2
  no_leftovers
}

@test "rename: a rename while the container exits or starts is kept with its exit status" {
  local k
  # (bats's run sets i: the loops here count with other names)
  for k in 1 2 3 4 5; do
    run -0 rrun run -d --name "ra$k" "$FIXTURE_IMAGE" sh -c 'sleep 0.2; exit 9'
    # rename across its exit: the monitor's exit write keeps the name
    local n=0 cur="ra$k"
    while ((n < 20)); do
      rrun rename "$cur" "rb$k-$n" || break
      cur="rb$k-$n"
      n=$((n + 1))
    done
    run -0 rrun wait "$cur"
    [ "$output" = 9 ]
    run -0 rrun ps -a --filter "name=$cur" --format '{{.Names}} {{.State}}'
    [ "$output" = "$cur exited" ]
  done
  # a rename racing with start: start's record write keeps the new name
  run -0 rrun create --name rs1 "$FIXTURE_IMAGE" sleep 60
  rrun start rs1 >/dev/null 2>&1 &
  local s=$!
  sleep 0.02
  run -0 rrun rename rs1 rs2
  # a start that looked for rs1 after the rename found nothing: start it by its new name
  wait "$s" || rrun start rs2
  run -0 rrun ps --format '{{.Names}}'
  [ "$output" = rs2 ]
  run -0 rrun rm -f rs2
}

# rrun's process (or the monitor) killed with SIGKILL at a moment: the next commands see a
# record they understand, rm works, nothing is left.
@test "SIGKILL: of create, of run -d's monitor after start, of stop: records stay right" {
  local pid t
  # create killed part-way: no record, or a created one that rm removes
  for t in 0.05 0.1 0.2; do
    "${RRUN_CMD[@]}" create --name kc "$FIXTURE_IMAGE" true >/dev/null 2>&1 &
    pid=$!
    sleep "$t"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" || true
    run -0 rrun ps -a --format '{{.Names}} {{.State}}'
    [ -z "$output" ] || [ "$output" = 'kc created' ]
    rrun rm -f kc >/dev/null 2>&1 || true
    # the name is free again
    run -0 rrun create --name kc "$FIXTURE_IMAGE" true
    run -0 rrun rm kc
  done
  # the monitor killed while the container runs
  run -0 rrun run -d --name km "$FIXTURE_IMAGE" sleep 60
  local pid1 monitor
  pid1=$(rrun ps --format json | jq -r '.[0].Pid')
  monitor=$(ps -o ppid= -p "$(ps -o ppid= -p "$pid1" | tr -d ' ')" | tr -d ' ')
  kill -KILL "$monitor"
  wait_until is_stopped km
  run -0 rrun ps -a --format '{{.Names}} {{.Status}}'
  [[ $output == "km Exited (unknown) "* ]]
  run -0 rrun rm km
  # rrun stop killed while it waits for the stop timeout: the container still stops
  # under a later stop, and goes with rm
  run -0 rrun run -d --name ks "$FIXTURE_IMAGE" sleep 60
  "${RRUN_CMD[@]}" stop -t 30 ks >/dev/null 2>&1 &
  pid=$!
  sleep 0.5
  kill -KILL "$pid"
  wait "$pid" || true
  run -0 rrun ps --format '{{.Names}} {{.State}}'
  [ "$output" = 'ks running' ]
  run -0 rrun stop -t 0 ks
  run -0 rrun ps -a --format '{{.Names}} {{.State}}'
  [ "$output" = 'ks exited' ]
  run -0 rrun rm ks
  # run -d killed before it returns: its monitor (already forked, or not) goes on; once
  # it has a record, rm -f removes it, and nothing is left
  rm_all() {
    local ids
    ids=$(rrun ps -a -q)
    if [[ -n $ids ]]; then rrun rm -f $ids >/dev/null; fi
    all_gone && no_container_leftovers
  }
  for t in 0.05 0.2 0.5; do
    "${RRUN_CMD[@]}" run -d --name kr "$FIXTURE_IMAGE" sleep 60 >/dev/null 2>&1 &
    pid=$!
    sleep "$t"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" || true
    wait_until rm_all
  done
  no_leftovers
}

@test "run -d: 100 at once, then rm -f of all: no errors, nothing left" {
  local j pids=() failed=0
  for ((j = 0; j < 100; j++)); do
    rrun run -d --network none "$FIXTURE_IMAGE" sleep 120 >"$BATS_TEST_TMPDIR/r$j" 2>&1 &
    pids+=($!)
  done
  for j in "${pids[@]}"; do
    wait "$j" || failed=$((failed + 1))
  done
  if ((failed)); then cat "$BATS_TEST_TMPDIR"/r*; fi
  [ "$failed" = 0 ]
  run -0 rrun ps -q
  [ "${#lines[@]}" = 100 ]
  run -0 rrun rm -f $(rrun ps -a -q)
  [ "${#lines[@]}" = 100 ]
  run -0 rrun ps -a -q
  [ -z "$output" ]
  no_leftovers
}
