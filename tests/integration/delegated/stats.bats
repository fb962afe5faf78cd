#!/usr/bin/env bats
# issue 5: rrun stats reads a running container's own cgroup (delegated subtree).

load ../helpers
load delegated

# delegated.bash's teardown, and the tmux server of the streaming test
teardown() {
  tmux_cleanup
  if [[ -n ${RRUN_PID:-} ]] && kill -0 "$RRUN_PID" 2>/dev/null; then
    kill -KILL "$RRUN_PID" 2>/dev/null || true
    wait "$RRUN_PID" 2>/dev/null || true
  fi
}

@test "stats: a running container in a delegated subtree has a cgroup and a CPU figure" {
  rrun_bg run --rm --name busy "$FIXTURE_IMAGE" \
    sh -c 'trap "exit 0" TERM; echo ready; while :; do :; done'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  run -0 rrun stats --no-stream --format json busy
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert len(r)==1 and r[0]["Name"]=="busy" and r[0]["CgroupAvailable"], r; assert r[0]["CPUPercent"] > 1, r; assert r[0]["MemoryUsage"] is None or r[0]["MemoryUsage"] > 0, r' "$output"
  run -0 rrun stats --no-stream busy
  [[ ${lines[1]} == *busy*%* ]]
  kill -TERM "$RRUN_PID"
  wait_bg
  no_leftovers
}

@test "stats: on a terminal it streams (a refreshing view until interrupted); to a pipe, one sample" {
  command -v tmux >/dev/null || skip "tmux is not installed"
  rrun_bg run --rm --name streamed "$FIXTURE_IMAGE" \
    sh -c 'trap "exit 0" TERM; echo ready; while :; do sleep 0.1; done'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  # a pipe: one table, then exit 0
  run -0 timeout 10 bash -c '"$@" | cat' _ "${RRUN_CMD[@]}" stats streamed
  [ "${#lines[@]}" -eq 2 ]
  [[ ${lines[0]} == "CONTAINER ID"* ]]
  [[ ${lines[1]} == *streamed* ]]
  # a terminal: still running after several samples (0.5 s each), the view redrawn
  local st=$BATS_TEST_TMPDIR/status
  {
    # a trap, not the default: a script killed by the same ^C would not record the status
    echo 'trap : INT'
    printf '%q ' "${RRUN_CMD[@]}" stats streamed
    printf '; echo $? >%q.tmp; mv %q.tmp %q; sleep 60\n' "$st" "$st" "$st"
  } >"$BATS_TEST_TMPDIR/stats.sh"
  tmux_t new-session -d -s rrun -x 120 -y 10 "bash $BATS_TEST_TMPDIR/stats.sh" 3>&-
  wait_until tmux_pane_has streamed
  sleep 2
  [ ! -e "$st" ]
  tmux_pane_has "CONTAINER ID"
  # one table on the screen, not one appended per sample
  [ "$(tmux_t capture-pane -p -t rrun | grep -c 'CONTAINER ID')" -eq 1 ]
  tmux_t send-keys -t rrun C-c
  wait_until test -f "$st"
  [ "$(cat "$st")" = 130 ]
  tmux_cleanup
  kill -TERM "$RRUN_PID"
  wait_bg
  no_leftovers
}
