#!/usr/bin/env bats
# issue 14: exec into a running container: its namespaces, capabilities, seccomp,
# no_new_privs, environment, user and working directory; no fd of rrun reaches it.

load helpers

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
  rm -f "$XDG_CONFIG_HOME/rrun/rrun.conf"
  # the read-only store of the last test: its files belong to the user's range
  if [[ -d $BATS_TEST_TMPDIR/ro ]]; then
    rrun --root "$BATS_TEST_TMPDIR/ro" --runroot "$BATS_TEST_TMPDIR/ro-run" system reset -f >/dev/null 2>&1 || true
    rm -rf "$BATS_TEST_TMPDIR/ro" "$BATS_TEST_TMPDIR/ro-run"
  fi
}

start_target() { # [run options...]
  run -0 rrun run -d --name ex1 "$@" "$FIXTURE_IMAGE" sleep 60
}

@test "exec: runs in the container's namespaces, as its command would" {
  start_target -e FOO=bar -w /tmp --hostname exhost
  run -0 rrun exec ex1 sh -c 'echo $FOO; pwd; id -u; hostname; cat /proc/1/cmdline | tr "\0" " "'
  [ "${lines[0]}" = bar ]
  [ "${lines[1]}" = /tmp ]
  [ "${lines[2]}" = 0 ]
  [ "${lines[3]}" = exhost ]
  [ "${lines[4]}" = 'sleep 60 ' ]
  # the same namespaces as PID 1 (as the container sees them)
  local ns
  for ns in mnt pid uts ipc net user cgroup; do
    run -0 rrun exec ex1 sh -c "readlink /proc/1/ns/$ns; readlink /proc/self/ns/$ns"
    [ "${lines[0]}" = "${lines[1]}" ]
  done
  # a file written by exec is the container's
  run -0 rrun exec ex1 sh -c 'echo hi >/tmp/from-exec'
  run -0 rrun exec ex1 cat /tmp/from-exec
  [ "$output" = hi ]
}

@test "exec: capabilities, no_new_privs and seccomp as the container's; no rrun fd" {
  start_target
  local want
  want=$(rrun exec ex1 sh -c 'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/1/status')
  run -0 rrun exec ex1 sh -c 'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status'
  [ "$output" = "$want" ]
  [[ $output == *"CapEff:"*"$DOCKER_DEFAULT_CAPS"* ]]
  [[ $output == *"NoNewPrivs:"*1* ]]
  [[ $output == *"Seccomp:"*2* ]]
  # the same fds as the container's own command gets (stdio; nothing of rrun's), listed
  # by a child so that the listing opens none
  local fds_run
  fds_run=$(rrun run --rm "$FIXTURE_IMAGE" sh -c 'ls /proc/$$/fd' | tr '\n' ' ')
  run -0 rrun exec ex1 sh -c 'ls /proc/$$/fd'
  [ "$(tr '\n' ' ' <<<"$output")" = "$fds_run" ]
  [[ $fds_run == '0 1 2 '* ]]
}

@test "exec: -u, -w, -e and -i override the container's" {
  start_target -e A=1
  run -0 rrun exec -u 1000:1000 -w / -e A=2 -e B=3 ex1 sh -c 'id -u; id -g; pwd; echo $A$B'
  [ "${lines[*]}" = "1000 1000 / 23" ]
  run -0 bash -c 'echo piped | "$0" ${1:+--storage-driver "$1"} exec -i ex1 cat' "$RRUN" "${RRUN_STORAGE_DRIVER:-}"
  [ "$output" = piped ]
  # without -i stdin is /dev/null
  run -0 bash -c 'echo piped | "$0" ${1:+--storage-driver "$1"} exec ex1 cat' "$RRUN" "${RRUN_STORAGE_DRIVER:-}"
  [ -z "$output" ]
}

@test "exec: exit codes and errors as run's; a stopped container is refused" {
  start_target
  run -9 rrun exec ex1 sh -c 'exit 9'
  run -127 --separate-stderr rrun exec ex1 /no/such/cmd
  [ "$stderr" = "$MISSING_CMD_MSG" ]
  run -125 rrun exec nosuch true
  [ "${lines[0]}" = 'rrun: no container "nosuch"' ]
  run -0 rrun kill ex1
  run -0 rrun wait ex1
  run -125 rrun exec ex1 true
  [ "${lines[0]}" = 'rrun: cannot exec in container "ex1": it is not running' ]
  [ "${lines[1]}" = 'hint: start it first: rrun start ex1' ]
  run -125 rrun exec -d ex1 true
  [ "${lines[0]}" = 'rrun: cannot exec in container "ex1": it is not running' ]
}

@test "exec -d: returns once the command runs, its output goes nowhere; --env-file" {
  start_target
  # The command ends when the test creates /go (or after 30 s): exec -d returned while it
  # runs if /done is not there yet. No bound on exec -d's time, which a loaded machine
  # can stretch (SECONDS < 2 against a 2 s command allowed as little as 1 s).
  run -0 --separate-stderr rrun exec -d ex1 sh -c \
    'echo out; echo err >&2; i=0; while [ ! -e /go ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; touch /done'
  [ -z "$output" ]
  [ -z "$stderr" ]
  run -1 rrun exec ex1 test -e /done
  run -0 rrun exec ex1 touch /go
  done_file() { rrun exec ex1 test -e /done; }
  wait_until done_file
  # a start error is still reported, with run's status
  run -127 --separate-stderr rrun exec -d ex1 /no/such/cmd
  [ "$stderr" = "$MISSING_CMD_MSG" ]
  run -125 rrun exec -d -t ex1 true
  [ "${lines[0]}" = 'rrun: exec: -d and -t cannot go together' ]
  printf 'E1=from-file\nE2=file\n' >"$BATS_TEST_TMPDIR/env"
  run -0 rrun exec --env-file "$BATS_TEST_TMPDIR/env" -e E2=flag ex1 sh -c 'echo $E1 $E2'
  [ "$output" = 'from-file flag' ]
  run -125 rrun exec --env-file /no/such/envfile ex1 true
  [[ ${lines[0]} == 'rrun: '*'/no/such/envfile'* ]]
}

@test "exec: the joining process is not dumpable and its PID 1 check holds" {
  start_target
  # While exec runs, the container sees only its own processes and the command, whose
  # exe is the command's, never rrun's.
  run -0 rrun exec ex1 sh -c 'for p in /proc/[0-9]*; do readlink $p/exe; done | sort -u'
  [[ $output != *rrun* ]]
  # The joining process (rrun exec's child, on the host side the parent of the command)
  # is not dumpable: the kernel then makes its /proc files root's, whatever its uid, and
  # its exe and environ cannot be opened by its own user, let alone a container root.
  rrun_bg exec ex1 sleep 30
  local joiner=""
  found() { joiner=$(cat /proc/"$RRUN_PID"/task/*/children 2>/dev/null | awk '{print $1}'); [ -n "$joiner" ] && [ -n "$(cat /proc/"$joiner"/task/*/children 2>/dev/null)" ]; }
  wait_until found
  [ "$(stat -c %u "/proc/$RRUN_PID/environ")" = "$(id -u)" ]
  [ "$(stat -c %u "/proc/$joiner/environ")" = 0 ]
  run ! cat "/proc/$joiner/environ"
  run ! readlink "/proc/$joiner/exe"
  kill -KILL "$(cat /proc/"$joiner"/task/*/children)"
  wait_bg
  [ "$BG_STATUS" -eq 137 ]
  # a record whose PID 1 start time does not match (a reused PID) is not joined
  local rec
  rec=$STORAGE_ROOT/containers/$(rrun ps -q --no-trunc)/container.json
  cp "$rec" "$BATS_TEST_TMPDIR/rec"
  jq -c '.pid_start = 1' "$rec" >"$rec.new" && mv "$rec.new" "$rec"
  run -125 rrun exec ex1 true
  [ "${lines[0]}" = 'rrun: container "ex1" is not running' ]
  run -125 rrun kill ex1
  [ "${lines[0]}" = 'rrun: container "ex1" is not running' ]
  cp "$BATS_TEST_TMPDIR/rec" "$rec"
}

@test "exec -it: a shell on a terminal in the container's devpts; the size, the exit code, the terminal restored" {
  command -v tmux >/dev/null || skip "tmux is not installed"
  start_target
  local t=$BATS_TEST_TMPDIR script=$BATS_TEST_TMPDIR/exec-tty.sh
  {
    echo "stty -g >$t/before"
    printf '%q ' "${RRUN_CMD[@]}" exec -it ex1 sh
    echo
    echo "echo \$? >$t/status.tmp; stty -g >$t/after; mv $t/status.tmp $t/status"
    echo "sleep 60"
  } >"$script"
  tmux_t new-session -d -s rrun -x 80 -y 24 "bash $script"
  wait_until tmux_pane_has '/ #'
  tmux_t send-keys -t rrun 'tty; stty size; echo "T=$TERM"' Enter
  wait_until tmux_pane_has '24 80'
  tmux_pane_has '/dev/pts/'
  tmux_pane_has 'T=xterm'
  tmux_t send-keys -t rrun 'exit 5' Enter
  wait_until test -f "$t/status"
  [ "$(cat "$t/status")" = 5 ]
  [ "$(cat "$t/before")" = "$(cat "$t/after")" ]
  tmux_cleanup
  # -t without a terminal on stdin
  run -125 rrun exec -t ex1 true </dev/null
  [ "${lines[0]}" = 'rrun: exec: -t needs a terminal on stdin' ]
}

# A container of an image in a read-only store ([storage] additional_image_stores): its
# record names the image by full id, which exec and start find in that store (the lookup
# by full id reads one image's record, the user's own store first).
@test "exec, start: a container of an image from an additional read-only store" {
  local ro=$BATS_TEST_TMPDIR/ro
  run -0 rrun --root "$ro" --runroot "$BATS_TEST_TMPDIR/ro-run" import -q "$FIXTURES/rootfs.tar" localhost/rrun-test-ro
  local id=$output
  mkdir -p "$XDG_CONFIG_HOME/rrun"
  printf '[storage]\nadditional_image_stores = %s\n' "$ro" >"$XDG_CONFIG_HOME/rrun/rrun.conf"
  run -0 rrun images -q --no-trunc localhost/rrun-test-ro
  [ "$output" = "sha256:$id" ]
  run -0 rrun run -d --name ro1 -e FROM=ro localhost/rrun-test-ro sleep 60
  run -0 rrun exec ro1 sh -c 'echo $FROM; cat /proc/1/cmdline | tr "\0" " "'
  [ "${lines[0]}" = ro ]
  [ "${lines[1]}" = 'sleep 60 ' ]
  run -0 rrun stop -t 0 ro1
  run -0 rrun start ro1
  run -0 rrun exec ro1 echo again
  [ "$output" = again ]
  # without the store, the container's image is not found: said, with exit 125
  rm -f "$XDG_CONFIG_HOME/rrun/rrun.conf"
  run -125 rrun exec ro1 true
  [[ $output == *"${id:0:12}"*"not found"* || $output == *"not found"*"${id:0:12}"* ]]
}
