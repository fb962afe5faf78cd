#!/usr/bin/env bats
# issue 2: -t through a real terminal (tmux): prompt, pty inside, window size, exit status,
# and the caller's terminal settings restored.

load helpers

setup() {
  command -v tmux >/dev/null || skip "tmux is not installed"
}

teardown() {
  tmux_cleanup
}

# Start `rrun run -it --rm IMAGE sh` in a detached 80x24 tmux pane, recording the pane's
# stty settings before and after and rrun's status.
start_tty_session() {
  local t=$BATS_TEST_TMPDIR script=$BATS_TEST_TMPDIR/tty.sh
  {
    echo "stty -g >$t/before"
    printf '%q ' "${RRUN_CMD[@]}" run -it --rm "$@" "$FIXTURE_IMAGE" sh
    echo
    echo "echo \$? >$t/status.tmp; stty -g >$t/after; mv $t/status.tmp $t/status"
    echo "sleep 60"
  } >"$script"
  tmux_t new-session -d -s rrun -x 80 -y 24 "bash $script"
}

@test "tty: a shell session shows its prompt, runs commands, and exit 3 gives 3" {
  start_tty_session
  wait_until tmux_pane_has '/ #' 
  tmux_t send-keys -t rrun 'echo "hello-""tty"' Enter
  wait_until tmux_pane_has 'hello-tty'
  tmux_t send-keys -t rrun 'tty; stty size' Enter
  wait_until tmux_pane_has '24 80'
  tmux_pane_has '/dev/pts/0'
  tmux_t send-keys -t rrun 'exit 3' Enter
  wait_until test -f "$BATS_TEST_TMPDIR/status"
  [ "$(cat "$BATS_TEST_TMPDIR/status")" = 3 ]
  [ "$(cat "$BATS_TEST_TMPDIR/before")" = "$(cat "$BATS_TEST_TMPDIR/after")" ]
  no_leftovers
}

# Type `stty size` into the pane and look for ROWS COLS in what it printed.
stty_size_is() { # "ROWS COLS"
  tmux_t send-keys -t rrun 'clear; stty size' Enter
  sleep 0.2
  tmux_t capture-pane -p -t rrun | grep -qx -- "$1"
}

@test "tty: the window size follows the terminal (SIGWINCH)" {
  start_tty_session
  wait_until tmux_pane_has '/ #'
  tmux_t resize-window -t rrun -x 100 -y 30 2>/dev/null || tmux_t resize-pane -t rrun -x 100 -y 30
  # SIGWINCH reaches rrun some time after the resize: ask again until the size shows
  wait_until stty_size_is '30 100'
  tmux_t send-keys -t rrun 'exit 0' Enter
  wait_until test -f "$BATS_TEST_TMPDIR/status"
  [ "$(cat "$BATS_TEST_TMPDIR/status")" = 0 ]
}

@test "tty: the terminal is restored when rrun gets SIGHUP" {
  start_tty_session
  wait_until tmux_pane_has '/ #'
  local rrun_pid
  rrun_pid=$(pgrep -u "$(id -u)" -f -- "run -it --rm $FIXTURE_IMAGE sh" | head -n1)
  [ -n "$rrun_pid" ]
  # SIGHUP means our terminal went away: rrun hangs up the container's terminal, the
  # shell reads EOF and ends, and rrun exits with the shell's own status (not 125).
  kill -HUP "$rrun_pid"
  wait_until test -f "$BATS_TEST_TMPDIR/status"
  # PID 1 ignores the SIGHUP, so the shell's end is the EOF: its status 0 (a prompt with
  # no command run), not 129 and not rrun's own 125
  [ "$(cat "$BATS_TEST_TMPDIR/status")" = 0 ]
  [ "$(cat "$BATS_TEST_TMPDIR/before")" = "$(cat "$BATS_TEST_TMPDIR/after")" ]
  no_leftovers
}

@test "tty: the shorthand rrun IMAGE sh is interactive on a terminal" {
  local t=$BATS_TEST_TMPDIR
  {
    printf '%q ' "${RRUN_CMD[@]}" "$FIXTURE_IMAGE" sh
    echo
    echo "echo \$? >$t/status.tmp; mv $t/status.tmp $t/status; sleep 60"
  } >"$t/short.sh"
  tmux_t new-session -d -s rrun -x 80 -y 24 "bash $t/short.sh"
  wait_until tmux_pane_has '/ #'
  tmux_t send-keys -t rrun 'test -t 0 && echo "is-a-""tty"; exit 4' Enter
  wait_until test -f "$t/status"
  [ "$(cat "$t/status")" = 4 ]
  tmux_pane_has 'is-a-tty'
  no_leftovers
}
