#!/usr/bin/env bats
# issue 14: run -d under a monitor per container (no daemon), logs, wait, stop, kill,
# start and restart.

load helpers

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
}

is_running() { [ -n "$(rrun ps -q --filter "name=$1")" ]; }
is_stopped() { [ -z "$(rrun ps -q --filter "name=$1")" ]; }

@test "run -d: prints the full ID and returns while the command runs" {
  run -0 --separate-stderr rrun run -d --name d1 "$FIXTURE_IMAGE" sleep 60
  [[ $output =~ ^[0-9a-f]{64}$ ]]
  [ -z "$stderr" ]
  local id=$output
  run -0 rrun ps --no-trunc -q
  [ "$output" = "$id" ]
  run -0 rrun ps --format json
  [ "$(jq -r '.[0].State' <<<"$output")" = running ]
  # the container's PID 1 is no child of this shell: the monitor runs it in its own session
  local pid1
  pid1=$(jq -r '.[0].Pid' <<<"$output")
  [ "$(ps -o sid= -p "$pid1" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ]
  run -0 rrun rm -f d1
  run -0 rrun ps -a -q
  [ -z "$output" ]
  no_leftovers
}

@test "run -d: a start error is reported with run's exit status, and nothing is left" {
  run -127 --separate-stderr rrun run -d "$FIXTURE_IMAGE" /no/such/cmd
  [ "$stderr" = "$MISSING_CMD_MSG" ]
  [ -z "$output" ]
  run -125 rrun run -d --pull=never localhost/no-such-image:1 true
  [[ ${lines[0]} == "rrun: "*"no-such-image"* ]]
  run -0 rrun ps -a -q
  [ -z "$output" ]
  no_leftovers
}

@test "logs: the k8s-file log holds stdout and stderr, whole and partial lines" {
  run -0 rrun run -d --name l1 "$FIXTURE_IMAGE" sh -c 'echo out1; echo err1 >&2; printf part; sleep 0.2; echo ial'
  run -0 rrun wait l1
  [ "$output" = 0 ]
  local log
  log=$STORAGE_ROOT/containers/$(rrun ps -a -q --no-trunc --filter name=l1)/ctr.log
  [ -f "$log" ]
  # RFC 3339 nanoseconds, stream, F or P, text
  grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z stdout F out1$' "$log"
  grep -Eq ' stderr F err1$' "$log"
  grep -Eq ' stdout P part$' "$log"
  grep -Eq ' stdout F ial$' "$log"
  run -0 --separate-stderr rrun logs l1
  [ "$output" = "$(printf 'out1\npartial')" ]
  [ "$stderr" = err1 ]
  run -0 --separate-stderr rrun logs --tail 1 l1
  [ "$output" = partial ]
  run -0 --separate-stderr rrun logs -t l1
  [[ ${lines[0]} =~ ^[0-9-]{10}T[0-9:]{8}\.[0-9]{9}Z\ out1$ ]]
  run -0 rrun logs --since 1h l1
  [ "${#lines[@]}" -eq 3 ]
  run -0 rrun logs --until 2000-01-01T00:00:00Z l1
  [ -z "$output" ]
  run -125 rrun logs --since yesterday-ish l1
  [ "${lines[0]}" = 'rrun: invalid time "yesterday-ish"' ]
  # a time without a zone, and a date, are local time (docker): 9 hours east of UTC, a
  # minute ago by the local clock is still a minute ago
  run -0 env TZ=JST-9 "${RRUN_CMD[@]}" logs --since "$(TZ=JST-9 date -d '-1 min' +%Y-%m-%dT%H:%M:%S)" l1
  [ "${#lines[@]}" -eq 3 ]
  run -0 env TZ=JST-9 "${RRUN_CMD[@]}" logs --until "$(TZ=JST-9 date -d '-1 min' +%Y-%m-%dT%H:%M:%S)" l1
  [ -z "$output" ]
  run -0 env TZ=JST-9 "${RRUN_CMD[@]}" logs --since "$(TZ=JST-9 date -d '+1 day' +%Y-%m-%d)" l1
  [ -z "$output" ]
}

@test "logs -f: follows until the container exits, with every line" {
  run -0 rrun run -d --name f1 "$FIXTURE_IMAGE" sh -c 'i=0; while [ $i -lt 20 ]; do echo n$i; i=$((i+1)); sleep 0.05; done'
  run -0 timeout 20 "$RRUN" ${RRUN_STORAGE_DRIVER:+--storage-driver "$RRUN_STORAGE_DRIVER"} logs -f f1
  [ "${#lines[@]}" -eq 20 ]
  [ "${lines[0]}" = n0 ]
  [ "${lines[19]}" = n19 ]
}

@test "logs: a large output is all in the log, in order" {
  run -0 rrun run -d --name big1 "$FIXTURE_IMAGE" sh -c 'seq 1 200000'
  run -0 rrun wait big1
  [ "$output" = 0 ]
  run -0 bash -c '"$0" ${1:+--storage-driver "$1"} logs big1 | md5sum' "$RRUN" "${RRUN_STORAGE_DRIVER:-}"
  [ "$output" = "$(seq 1 200000 | md5sum)" ]
}

@test "logs: a foreground container has no log, and says so" {
  run -0 rrun run --name fg1 "$FIXTURE_IMAGE" true
  run -125 rrun logs fg1
  [ "${lines[0]}" = 'rrun: container "fg1" has no log' ]
  run -125 rrun logs nosuch
  [ "${lines[0]}" = 'rrun: no container "nosuch"' ]
}

@test "wait: prints the exit code, 128+N for signal N" {
  run -0 rrun run -d --name w1 "$FIXTURE_IMAGE" sh -c 'sleep 0.3; exit 7'
  run -0 rrun wait w1
  [ "$output" = 7 ]
  run -0 rrun ps -a --filter name=w1
  [[ ${lines[1]} == *"Exited (7) "* ]]
  run -0 rrun run -d --name w2 "$FIXTURE_IMAGE" sleep 60
  run -0 rrun kill -s USR1 w2   # PID 1 without a handler ignores it
  sleep 0.3
  is_running w2
  run -0 rrun kill w2
  [ "$output" = w2 ]
  run -0 rrun wait w2
  [ "$output" = 137 ]
  run -125 rrun kill w2
  [ "${lines[0]}" = 'rrun: cannot kill container "w2": it is not running' ]
  run -125 rrun kill -s NOPE w1
  [ "${lines[0]}" = 'rrun: invalid signal "NOPE"' ]
}

@test "stop: the stop signal, then SIGKILL after -t; --stop-signal is used" {
  # sleep as PID 1 ignores SIGTERM: killed after 1 s
  run -0 rrun run -d --name s1 "$FIXTURE_IMAGE" sleep 60
  SECONDS=0
  run -0 rrun stop -t 1 s1
  [ "$output" = s1 ]
  [ "$SECONDS" -le 5 ]
  run -0 rrun ps -a --format json --filter name=s1
  [ "$(jq -r '.[0].ExitCode' <<<"$output")" = 137 ]
  # a shell that traps the stop signal exits with its own status
  run -0 rrun run -d --name s2 --stop-signal USR1 "$FIXTURE_IMAGE" sh -c 'trap "exit 42" USR1; while :; do sleep 0.1; done'
  # once the trap is in place (SIGUSR1, 10): before it, PID 1 ignores the signal
  wait_until pid1_catches_signal s2 10
  run -0 rrun stop -t 20 s2
  run -0 rrun wait s2
  [ "$output" = 42 ]
  # stopping a stopped container is no error
  run -0 rrun stop s2
  run -125 rrun run -d --stop-signal BOGUS "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --stop-signal: invalid signal "BOGUS"' ]
  run -0 rrun rm s1 s2
  no_leftovers
}

@test "start and restart: a stopped container runs again with its writable layer" {
  run -0 rrun run -d --name r1 "$FIXTURE_IMAGE" sh -c 'echo run >>/count; wc -l </count'
  run -0 rrun wait r1
  local created
  created=$(rrun ps -a --format json | jq -r '.[0].Created')
  sleep 1
  run -0 rrun start r1
  [ "$output" = r1 ]
  # docker keeps the creation time across starts
  [ "$(rrun ps -a --format json | jq -r '.[0].Created')" = "$created" ]
  run -0 rrun wait r1
  [ "$output" = 0 ]
  run -0 rrun restart r1
  run -0 rrun wait r1
  run -0 rrun logs r1
  [ "$output" = "$(printf '1\n2\n3')" ]
  run -0 rrun ps -a --format json
  [ "$(jq -r 'length' <<<"$output")" = 1 ]
  # start of a running container does nothing; restart stops and starts it
  run -0 rrun run -d --name r2 "$FIXTURE_IMAGE" sh -c 'echo up; exec sleep 60'
  local pid
  pid=$(rrun ps --format json --filter name=r2 | jq -r '.[0].Pid')
  run -0 rrun start r2
  [ "$(rrun ps --format json --filter name=r2 | jq -r '.[0].Pid')" = "$pid" ]
  run -0 rrun restart -t 0 r2
  is_running r2
  [ "$(rrun ps --format json --filter name=r2 | jq -r '.[0].Pid')" != "$pid" ]
  run -125 rrun start nosuch
  [ "${lines[0]}" = 'rrun: no container "nosuch"' ]
}

@test "run -d --rm: the record goes when the container exits" {
  run -0 rrun run -d --rm --name rm1 "$FIXTURE_IMAGE" sh -c 'sleep 0.3'
  wait_until is_stopped rm1
  gone() { [ -z "$(rrun ps -a -q)" ]; }
  wait_until gone
  no_leftovers
}

@test "run -d: a SIGKILLed monitor leaves a record that reads exited (unknown), rm works" {
  run -0 rrun run -d --name mk1 "$FIXTURE_IMAGE" sleep 60
  local pid1 monitor
  pid1=$(rrun ps --format json | jq -r '.[0].Pid')
  # the monitor is the parent of the namespace holder, whose child PID 1 is
  monitor=$(ps -o ppid= -p "$(ps -o ppid= -p "$pid1" | tr -d ' ')" | tr -d ' ')
  [ "$(cat "/proc/$monitor/comm")" = rrun ]
  kill -KILL "$monitor"
  wait_until is_stopped mk1
  run -0 rrun ps -a --filter name=mk1
  [[ ${lines[1]} == *"Exited (unknown) "*mk1 ]]
  run -0 rrun rm mk1
  no_leftovers
}

@test "create: a container that has not run is Created; start runs it" {
  run -0 --separate-stderr rrun create --name cr1 "$FIXTURE_IMAGE" sh -c 'echo created-ran; exit 4'
  [[ $output =~ ^[0-9a-f]{64}$ ]]
  run -0 rrun ps -a --filter name=cr1
  [[ ${lines[1]} == *" Created "*cr1 ]]
  run -0 rrun inspect --format '{{.State.Status}} {{.State.Running}}' cr1
  [ "$output" = 'created false' ]
  run -0 rrun start cr1
  run -0 rrun wait cr1
  [ "$output" = 4 ]
  run -0 rrun logs cr1
  [ "$output" = created-ran ]
  # a command that does not exist: create succeeds, start says why, as docker
  run -0 rrun create --name cr2 "$FIXTURE_IMAGE" /no/such/cmd
  run -127 --separate-stderr rrun start cr2
  [ "$stderr" = "$MISSING_CMD_MSG" ]
  run -0 rrun ps -a --filter name=cr2
  [[ ${lines[1]} == *" Created "*cr2 ]]
  run -125 rrun create --name cr1 "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: cannot create container "cr1": the name is in use by container '* ]]
  run -0 rrun rm cr1 cr2
  no_leftovers
}
