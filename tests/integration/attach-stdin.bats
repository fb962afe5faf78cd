#!/usr/bin/env bats
# issue 14: attach with stdin and a terminal: a container run with -i or -t keeps its
# stdin (a pipe, or the pty) in its monitor, which serves an attach socket: input, output,
# window size, detach keys, start -ai; clients come and go without touching the container.

load helpers

teardown() {
  tmux_cleanup
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
}

is_running() { # NAME
  [ "$(rrun inspect --format '{{.State.Status}}' "$1")" = running ]
}

is_exited() { # NAME
  [ "$(rrun inspect --format '{{.State.Status}}' "$1")" = exited ]
}

@test "attach: stdin piped through attach reaches cat in a run -d -i container, its EOF ends it" {
  run -0 rrun run -d -i --name as1 "$FIXTURE_IMAGE" cat
  # the socket is the user's only
  local id
  id=$(rrun inspect --format '{{.Id}}' as1)
  run -0 stat -c '%a %F' "$RUN_ROOT/containers/$id/attach"
  [ "$output" = '600 socket' ]
  printf 'hello\nworld\n' >"$BATS_TEST_TMPDIR/in"
  run -0 timeout 20 "${RRUN_CMD[@]}" attach as1 <"$BATS_TEST_TMPDIR/in"
  [ "$output" = "$(printf 'hello\nworld')" ]
  # the client's EOF closed cat's stdin: cat ended with 0, recorded
  wait_until is_exited as1
  run -0 rrun inspect --format '{{.State.ExitCode}}' as1
  [ "$output" = 0 ]
  # --no-stdin: no input is sent, output still comes, the container goes on
  run -0 rrun run -d -i --name as1b "$FIXTURE_IMAGE" sh -c 'while read l; do echo "got $l"; done; exit 3'
  echo ignored >"$BATS_TEST_TMPDIR/in"
  timeout 3 "${RRUN_CMD[@]}" attach --no-stdin --sig-proxy=false as1b <"$BATS_TEST_TMPDIR/in" || true
  is_running as1b
  echo line >"$BATS_TEST_TMPDIR/in"
  run -3 timeout 20 "${RRUN_CMD[@]}" attach as1b <"$BATS_TEST_TMPDIR/in"
  [ "$output" = 'got line' ]
}

@test "attach: a killed client leaves the container running; a second attach works" {
  run -0 rrun run -d -i --name as2 "$FIXTURE_IMAGE" sh -c 'while read l; do echo "got $l"; done'
  mkfifo "$BATS_TEST_TMPDIR/in"
  "${RRUN_CMD[@]}" attach as2 <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" &
  local pid=$!
  exec 7>"$BATS_TEST_TMPDIR/in"
  echo first >&7
  has_first() { grep -qx 'got first' "$BATS_TEST_TMPDIR/out"; }
  wait_until has_first
  kill -KILL "$pid"
  wait "$pid" || true
  exec 7>&-
  sleep 0.5
  is_running as2
  # stdin was not closed by the killed client: a second client's input arrives
  echo second >"$BATS_TEST_TMPDIR/in2"
  run -0 timeout 20 "${RRUN_CMD[@]}" attach as2 <"$BATS_TEST_TMPDIR/in2"
  [ "$output" = 'got second' ]
  wait_until is_exited as2
}

@test "start -ai: a created -i container gets stdin and gives its exit status" {
  run -0 rrun create -i --name as3 "$FIXTURE_IMAGE" sh -c 'echo early; read x; echo "got $x"; exit 4'
  echo hi >"$BATS_TEST_TMPDIR/in"
  run -4 timeout 20 "${RRUN_CMD[@]}" start -ai as3 <"$BATS_TEST_TMPDIR/in"
  # the output written before the client connected is replayed, then the rest
  [ "$output" = "$(printf 'early\ngot hi')" ]
  # -i alone attaches too, as docker's
  echo again >"$BATS_TEST_TMPDIR/in"
  run -4 timeout 20 "${RRUN_CMD[@]}" start -i as3 <"$BATS_TEST_TMPDIR/in"
  [ "$output" = "$(printf 'early\ngot again')" ]
}

@test "attach: --detach-keys is checked" {
  run -0 rrun run -d -i --name as4 "$FIXTURE_IMAGE" cat
  run -125 rrun attach --detach-keys ctrl-1 as4
  [ "${lines[0]}" = 'rrun: invalid --detach-keys "ctrl-1": each key is ctrl-X (X a letter or one of @[\]^_) or one character' ]
  [ "${lines[1]}" = 'hint: keys are separated by commas: --detach-keys ctrl-p,ctrl-q (the default), or --detach-keys "" for none' ]
  run -125 rrun attach --detach-keys 'ctrl-p,,' as4
  run -125 rrun start -ai --detach-keys foo as4
  is_running as4
}

@test "run -d: a SIGKILLed monitor of a -dit container leaves a record that reads exited, rm works" {
  run -0 rrun run -dit --name as5 "$FIXTURE_IMAGE" sh
  local pid1 monitor
  pid1=$(rrun inspect --format '{{.State.Pid}}' as5)
  monitor=$(ps -o ppid= -p "$(ps -o ppid= -p "$pid1" | tr -d ' ')" | tr -d ' ')
  [ "$(cat "/proc/$monitor/comm")" = rrun ]
  kill -KILL "$monitor"
  wait_until is_exited as5
  run -125 rrun attach as5
  [ "${lines[0]}" = 'rrun: cannot attach to container "as5": it is not running' ]
  run -0 rrun rm as5
  no_leftovers
}

# A tmux pane (80x24) running `rrun attach ARGS...`, its status written to $t/status.
attach_in_tmux() { # SESSION ARGS...
  local t=$BATS_TEST_TMPDIR session=$1 script=$BATS_TEST_TMPDIR/$1.sh
  shift
  {
    echo "stty -g >$t/$session.before"
    printf '%q ' "${RRUN_CMD[@]}" attach "$@"
    echo
    echo "echo \$? >$t/$session.tmp; stty -g >$t/$session.after; mv $t/$session.tmp $t/$session.status"
    echo "sleep 60"
  } >"$script"
  tmux_t new-session -d -s "$session" -x 80 -y 24 "bash $script"
}

pane_has() { # SESSION TEXT
  tmux_t capture-pane -p -t "$1" | grep -qF -- "$2"
}

pane_line() { # SESSION LINE
  tmux_t capture-pane -p -t "$1" | grep -qx -- "$2"
}

@test "attach -t: type into sh of a run -dit container, window size, detach keys, attach again" {
  command -v tmux >/dev/null || skip "tmux is not installed"
  local t=$BATS_TEST_TMPDIR
  run -0 rrun run -dit --name as6 "$FIXTURE_IMAGE" sh
  attach_in_tmux a1 as6
  sleep 0.5
  # the prompt was written before the attach: a newline shows a new one
  tmux_t send-keys -t a1 Enter
  wait_until pane_has a1 '/ #'
  tmux_t send-keys -t a1 'echo "hello-""attach"' Enter
  wait_until pane_has a1 'hello-attach'
  # the pane's size reached the container's pty
  tmux_t send-keys -t a1 'stty size' Enter
  wait_until pane_line a1 '24 80'
  tmux_t send-keys -t a1 'tty' Enter
  wait_until pane_has a1 '/dev/pts/0'
  # Ctrl-P Ctrl-Q: detached, status 0, docker's words, the terminal restored
  tmux_t send-keys -t a1 C-p C-q
  wait_until test -f "$t/a1.status"
  [ "$(cat "$t/a1.status")" = 0 ]
  pane_has a1 'read escape sequence'
  [ "$(cat "$t/a1.before")" = "$(cat "$t/a1.after")" ]
  is_running as6
  # a second attach, with other detach keys and another size; exit gives its status
  attach_in_tmux a2 --detach-keys ctrl-a as6
  sleep 0.5
  tmux_t send-keys -t a2 Enter
  wait_until pane_has a2 '/ #'
  tmux_t resize-window -t a2 -x 100 -y 30 2>/dev/null || tmux_t resize-pane -t a2 -x 100 -y 30
  size_is() { tmux_t send-keys -t a2 'clear; stty size' Enter; sleep 0.2; pane_line a2 '30 100'; }
  wait_until size_is
  tmux_t send-keys -t a2 'exit 5' Enter
  wait_until test -f "$t/a2.status"
  [ "$(cat "$t/a2.status")" = 5 ]
  [ "$(cat "$t/a2.before")" = "$(cat "$t/a2.after")" ]
  wait_until is_exited as6
  run -0 rrun inspect --format '{{.State.ExitCode}}' as6
  [ "$output" = 5 ]
}

@test "attach -t: --detach-keys \"\" disables them; a custom sequence detaches" {
  command -v tmux >/dev/null || skip "tmux is not installed"
  local t=$BATS_TEST_TMPDIR
  run -0 rrun run -dit --name as7 "$FIXTURE_IMAGE" sh
  attach_in_tmux b1 --detach-keys '' as7
  sleep 0.5
  # with no detach keys Ctrl-P Ctrl-Q go to the shell, and the attach goes on
  tmux_t send-keys -t b1 C-p C-q Enter
  tmux_t send-keys -t b1 'echo "still-""here"' Enter
  wait_until pane_has b1 'still-here'
  [ ! -f "$t/b1.status" ]
  tmux_t kill-session -t b1
  sleep 0.5
  is_running as7
  attach_in_tmux b2 --detach-keys q,q as7
  sleep 0.5
  # a broken sequence is passed on: the q held back goes out when "-" follows it
  tmux_t send-keys -t b2 'echo "q-""ok"' Enter
  wait_until pane_has b2 'q-ok'
  tmux_t send-keys -t b2 q q
  wait_until test -f "$t/b2.status"
  [ "$(cat "$t/b2.status")" = 0 ]
  is_running as7
}
