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
  # "before" in the log first: attach shows what is logged after it starts, and the
  # command may not have written it yet when run -d returns
  logged_before() { [ "$(rrun logs at1 2>/dev/null)" = before ]; }
  wait_until logged_before
  # the binary itself (its pid in $!): attach has taken its start time once its signal
  # handlers are in place (SIGTERM, 15), before it follows the log; no fixed sleep
  "${RRUN_CMD[@]}" attach at1 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  local pid=$!
  wait_until catches_signal "$pid" 15
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
  # the SIGTERM is sent once the shell has reached its trap (PID 1 ignores it before)
  wait_until pid1_catches_signal at2 15
  # the binary itself in the background (not the rrun function's subshell), so that the
  # signal reaches it; sent once its handler is in place
  "${RRUN_CMD[@]}" attach at2 >"$BATS_TEST_TMPDIR/out" &
  local pid=$! status=0
  wait_until catches_signal "$pid" 15
  kill -TERM "$pid"
  wait "$pid" || status=$?
  [ "$status" = 42 ]
  [ "$(cat "$BATS_TEST_TMPDIR/out")" = got-term ]
  run -0 rrun run -d --name at3 "$FIXTURE_IMAGE" sleep 60
  "${RRUN_CMD[@]}" attach --sig-proxy=false at3 &
  pid=$!
  sleep 1
  kill -TERM "$pid"
  wait "$pid" || true
  run -0 rrun ps --format '{{.Names}}' --filter name=at3
  [ "$output" = at3 ]
  run -125 rrun attach --sig-proxy=maybe at3
  [ "${lines[0]}" = 'rrun: invalid --sig-proxy "maybe": expected true or false' ]
}

@test "run -a: only the attached streams are shown; -a with -d is refused" {
  run -0 --separate-stderr rrun run --rm -a stdout "$FIXTURE_IMAGE" sh -c 'echo out; echo err >&2'
  [ "$output" = out ]
  [ -z "$stderr" ]
  run -0 --separate-stderr rrun run --rm -a STDERR "$FIXTURE_IMAGE" sh -c 'echo out; echo err >&2'
  [ -z "$output" ]
  [ "$stderr" = err ]
  # -a stdin keeps stdin open, as -i
  run -0 bash -c 'echo piped | "$@"' _ "${RRUN_CMD[@]}" run --rm -a stdin -a stdout "$FIXTURE_IMAGE" cat
  [ "$output" = piped ]
  # rrun's own errors still reach the terminal
  run -127 --separate-stderr rrun run --rm -a stdout "$FIXTURE_IMAGE" /no/such/cmd
  [ "$stderr" = "$MISSING_CMD_MSG" ]
  run -125 rrun run -d -a stdout "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: run: -a and -d cannot go together' ]
  run -125 rrun run -a bogus "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: run: invalid -a "bogus": expected STDIN, STDOUT or STDERR' ]
}
