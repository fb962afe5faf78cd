#!/usr/bin/env bats
# issue 14: attach to a detached container: its output from now on, its exit status,
# signals passed on (--sig-proxy).

load helpers

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
}

@test "attach: the output from now on, then the container's exit status" {
  run -0 rrun run -d --name at1 "$FIXTURE_IMAGE" sh -c \
    'echo before; while [ ! -e /go ]; do sleep 0.1; done; echo after; echo err >&2; exit 6'
  rrun attach at1 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  local pid=$!
  sleep 1
  run -0 rrun exec at1 touch /go
  local status=0
  wait "$pid" || status=$?
  [ "$status" = 6 ]
  [ "$(cat "$BATS_TEST_TMPDIR/out")" = after ]
  [ "$(cat "$BATS_TEST_TMPDIR/err")" = err ]
  # a stopped container is refused, with the fix
  run -125 rrun attach at1
  [ "${lines[0]}" = 'rrun: cannot attach to container "at1": it is not running' ]
  [ "${lines[1]}" = 'hint: start it and attach: rrun start -a at1' ]
  run -125 rrun attach nosuch
  [ "${lines[0]}" = 'rrun: no container "nosuch"' ]
}

@test "attach: signals reach the container (--sig-proxy), or not with --sig-proxy=false" {
  run -0 rrun run -d --name at2 "$FIXTURE_IMAGE" sh -c \
    'trap "echo got-term; exit 42" TERM; while :; do sleep 0.1; done'
  rrun attach at2 >"$BATS_TEST_TMPDIR/out" &
  local pid=$! status=0
  sleep 1
  kill -TERM "$pid"
  wait "$pid" || status=$?
  [ "$status" = 42 ]
  [ "$(cat "$BATS_TEST_TMPDIR/out")" = got-term ]
  run -0 rrun run -d --name at3 "$FIXTURE_IMAGE" sleep 60
  rrun attach --sig-proxy=false at3 &
  pid=$!
  sleep 1
  kill -TERM "$pid"
  wait "$pid" || true
  run -0 rrun ps --format '{{.Names}}' --filter name=at3
  [ "$output" = at3 ]
  run -125 rrun attach --sig-proxy=maybe at3
  [ "${lines[0]}" = 'rrun: invalid --sig-proxy "maybe": expected true or false' ]
}
