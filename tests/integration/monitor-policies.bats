#!/usr/bin/env bats
# issue 14: what a detached container's monitor carries out besides running it: restart
# policies with docker's back-off, health checks on a timer, log drivers and rotation,
# output never lost; start --all and generate systemd for starting containers at login.

# shellcheck disable=SC2016 # the sh -c scripts expand inside the container
load helpers

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
}

is_running() { [ -n "$(rrun ps -q --filter "name=$1")" ]; }
is_stopped() { [ -z "$(rrun ps -q --filter "name=$1")" ]; }
restarts() { rrun inspect --format '{{.RestartCount}}' "$1"; }
restarts_at_least() { (($(restarts "$1") >= $2)); }
health() { rrun inspect --format '{{.State.Health.Status}}' "$1"; }
is_live() { # the monitor holds the record (running or restarting)
  [ -n "$(rrun ps -a --format json --filter "name=$1" | jq -r '.[] | select(.State == "running" or (.Status | startswith("Restarting"))) | .Names')" ]
}
is_done() { ! is_live "$1"; } # exited, and its monitor will not start it again
status_of() { rrun ps -a --filter "name=$1" --format '{{.Status}}'; }

# --- bad values ---------------------------------------------------------------------

@test "run: bad --restart, --health-*, --log-driver and --log-opt values exit 125 and create nothing" {
  run -125 rrun run -d --restart sometimes "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --restart "sometimes"' ]
  [ "${lines[1]}" = 'hint: use no, on-failure[:N], always or unless-stopped' ]
  run -125 rrun run -d --restart on-failure:x "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --restart "on-failure:x": the retry count must be a number' ]
  run -125 rrun run -d --restart always --rm "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --restart always conflicts with --rm' ]
  run -125 rrun run -d --health-interval 0s --health-cmd true "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --health-interval "0s": expected a duration of at least 1ms' ]
  run -125 rrun run -d --health-timeout soon --health-cmd true "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --health-timeout "soon": expected a duration of at least 1ms' ]
  run -125 rrun run -d --health-retries 0 --health-cmd true "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --health-retries "0": expected a number of at least 1' ]
  run -125 rrun run -d --health-start-period x --health-cmd true "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --health-start-period "x": expected a duration' ]
  run -125 rrun run -d --no-healthcheck --health-cmd true "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --no-healthcheck conflicts with the --health-* options' ]
  run -125 rrun run -d --health-cmd '["CMD"]' "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --health-cmd "["CMD"]"' ]
  run -125 rrun run -d --log-driver journald "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: unsupported --log-driver "journald"' ]
  run -125 rrun run -d --log-driver passthrough "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --log-driver passthrough: a detached container has no stdio to pass through' ]
  run -125 rrun create --log-driver passthrough "$FIXTURE_IMAGE" true
  run -125 rrun run -d --log-opt max-size=ten "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --log-opt "max-size=ten": expected a size' ]
  run -125 rrun run -d --log-opt max-file=2 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --log-opt max-file needs max-size: files are rotated when they reach it' ]
  run -125 rrun run -d --log-opt compress=true "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: unknown --log-opt "compress=true"' ]
  run -125 rrun run -d --log-driver none --log-opt max-size=1m "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --log-opt "max-size=1m": the none log driver takes no options' ]
  run -0 rrun ps -a -q
  [ -z "$output" ]
  no_leftovers
}

# --- restart policies ---------------------------------------------------------------

@test "restart on-failure:2: two restarts with back-off, then the last exit stays" {
  run -0 rrun run -d --name of1 --restart on-failure:2 "$FIXTURE_IMAGE" sh -c 'echo run; exit 3'
  # wait returns at each exit (docker): the last run is the third
  wait_until restarts_at_least of1 2
  wait_until is_done of1
  run -0 timeout 30 "${RRUN_CMD[@]}" wait of1
  [ "$output" = 3 ]
  [ "$(restarts of1)" = 2 ]
  run -0 rrun logs of1
  [ "$output" = "$(printf 'run\nrun\nrun')" ]
  run -0 rrun inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}' of1
  [ "$output" = 'exited 3 on-failure 2' ]
  # exit 0 is no failure: not restarted
  run -0 rrun run -d --name of2 --restart on-failure "$FIXTURE_IMAGE" true
  run -0 timeout 30 "${RRUN_CMD[@]}" wait of2
  [ "$output" = 0 ]
  [ "$(restarts of2)" = 0 ]
  run -0 rrun rm of1 of2
  no_leftovers
}

@test "restart always: restarted after exit 0, Restarting in ps during the back-off" {
  run -0 rrun run -d --name al1 --restart always "$FIXTURE_IMAGE" sh -c 'echo up; sleep 0.1'
  wait_until restarts_at_least al1 3
  # the back-off doubles (100 ms, 200, 400, 800, ...): soon most of the time is spent in it
  restarting() { [[ $(status_of al1) == "Restarting (0) "* ]]; }
  wait_until restarting
  run -0 rrun inspect --format '{{.State.Status}} {{.State.Restarting}}' al1
  [[ $output == 'restarting true' || $output == 'running false' ]]
  # the output of every run is in the log
  run -0 rrun logs al1
  ((${#lines[@]} >= 3))
  [ "${lines[0]}" = up ]
}

@test "restart always: stop ends it and it stays stopped until started again" {
  run -0 rrun run -d --name al2 --restart always "$FIXTURE_IMAGE" sh -c 'sleep 0.2'
  wait_until restarts_at_least al2 2
  run -0 rrun stop -t 1 al2
  [ "$output" = al2 ]
  wait_until is_stopped al2
  local n
  n=$(restarts al2)
  sleep 2
  # no restart after stop: the record is not live and the count did not move
  run -1 is_live al2
  [ "$(restarts al2)" = "$n" ]
  [[ $(status_of al2) == "Exited ("* ]]
  # start: the policy applies again, counted from 0
  run -0 rrun start al2
  wait_until restarts_at_least al2 1
  run -0 rrun stop al2
  run -0 rrun rm al2
  no_leftovers
}

@test "restart always: rm -f ends it, in the back-off or running, and nothing is left" {
  run -0 rrun run -d --name al3 --restart always "$FIXTURE_IMAGE" sh -c 'exit 1'
  wait_until restarts_at_least al3 4
  run -0 rrun rm -f al3
  run -0 rrun run -d --name al4 --restart unless-stopped "$FIXTURE_IMAGE" sleep 60
  run -0 rrun rm -f al4
  run -0 rrun ps -a -q
  [ -z "$output" ]
  no_leftovers
}

@test "restart: a PID 1 killed from outside is restarted (always); rrun kill ends it" {
  # PID 1 ignores signals it has no handler for: this one ends on HUP
  run -0 rrun run -d --name al5 --restart always "$FIXTURE_IMAGE" \
    sh -c 'trap "exit 1" HUP; while :; do sleep 0.1; done'
  local pid
  pid=$(rrun inspect --format '{{.State.Pid}}' al5)
  kill -KILL "$pid"
  wait_until restarts_at_least al5 1
  wait_until is_running al5
  [ "$(rrun inspect --format '{{.State.Pid}}' al5)" != "$pid" ]
  # a reload signal leaves the policy alone; SIGKILL through rrun kill is a manual stop
  # (HUP once the new run's shell has its trap (SIGHUP, 1): PID 1 ignores it before)
  wait_until pid1_catches_signal al5 1
  run -0 rrun kill -s HUP al5
  wait_until restarts_at_least al5 2
  wait_until is_running al5
  run -0 rrun kill al5
  wait_until is_stopped al5
  local n
  n=$(restarts al5)
  sleep 1.5
  [ "$(restarts al5)" = "$n" ]
  is_stopped al5
}

# --- start --all, generate systemd --------------------------------------------------

@test "start --all --filter restart-policy=...: starts those, not a stopped unless-stopped one" {
  run -0 rrun create --name sa1 --restart always "$FIXTURE_IMAGE" sleep 60
  run -0 rrun create --name sa2 "$FIXTURE_IMAGE" sleep 60
  run -0 rrun run -d --name sa3 --restart unless-stopped "$FIXTURE_IMAGE" sleep 60
  run -0 rrun stop -t 0 sa3
  # a monitor killed (as by a reboot) leaves an always container that start --all starts
  run -0 rrun run -d --name sa4 --restart always "$FIXTURE_IMAGE" sleep 60
  local pid1 monitor
  pid1=$(rrun inspect --format '{{.State.Pid}}' sa4)
  monitor=$(ps -o ppid= -p "$(ps -o ppid= -p "$pid1" | tr -d ' ')" | tr -d ' ')
  kill -KILL "$monitor" "$pid1"
  wait_until is_stopped sa4
  run -0 rrun start --all --filter restart-policy=always --filter restart-policy=unless-stopped
  [ "$(sort <<<"$output" | tr '\n' ' ')" = 'sa1 sa4 ' ]
  is_running sa1
  is_running sa4
  is_stopped sa2
  is_stopped sa3
  run -125 rrun start --filter restart-policy=always
  [ "${lines[0]}" = 'rrun: start: --filter needs --all' ]
  run -125 rrun start --all --filter status=exited
  [ "${lines[0]}" = 'rrun: start: invalid filter "status=exited"' ]
  run -125 rrun start --all sa2
  [ "${lines[0]}" = 'rrun: start: --all takes no container names' ]
  run -125 rrun start
  [ "${lines[0]}" = 'rrun: start: no container given' ]
}

@test "generate systemd: a user unit that starts a container, or every --restart one" {
  run -0 rrun create --name gs1 --restart always "$FIXTURE_IMAGE" sleep 60
  run -0 rrun generate systemd gs1
  [[ $output == *$'\n[Service]\n'* ]]
  grep -qx "ExecStart=$(readlink -f "$RRUN") --root $STORAGE_ROOT --runroot .* start gs1" <<<"$output"
  grep -qx "ExecStop=.* stop gs1" <<<"$output"
  grep -qx 'WantedBy=default.target' <<<"$output"
  run -0 rrun generate systemd --all
  grep -qx 'ExecStart=.* start --all --filter restart-policy=always --filter restart-policy=unless-stopped' <<<"$output"
  if command -v systemd-analyze >/dev/null; then
    rrun generate systemd gs1 >"$BATS_TEST_TMPDIR/container-gs1.service"
    run -0 systemd-analyze --user verify "$BATS_TEST_TMPDIR/container-gs1.service"
  fi
  run -125 rrun generate systemd
  [ "${lines[0]}" = 'rrun: generate systemd: give one container or --all' ]
  run -125 rrun generate kube gs1
  [ "${lines[0]}" = 'rrun: generate: unknown subcommand "kube"' ]
  run -125 rrun generate systemd nosuch
  [ "${lines[0]}" = 'rrun: no container "nosuch"' ]
}

@test "wait: returns at each exit of a container with a restart policy, as docker's" {
  run -0 rrun run -d --name wr1 --restart always "$FIXTURE_IMAGE" sh -c 'sleep 1; exit 3'
  run -0 timeout 20 "${RRUN_CMD[@]}" wait wr1
  [ "$output" = 3 ]
  (($(restarts wr1) <= 1))
  wait_until is_live wr1
  # in its back-off or its next run: wait returns when that run ends
  run -0 timeout 20 "${RRUN_CMD[@]}" wait wr1
  [ "$output" = 3 ]
  (($(restarts wr1) >= 1))
  run -0 rrun run -d --name wr2 --restart on-failure:5 "$FIXTURE_IMAGE" sh -c 'sleep 0.5; exit 4'
  run -0 timeout 20 "${RRUN_CMD[@]}" wait wr2
  [ "$output" = 4 ]
  # stopped for good: wait returns its last exit code at once
  run -0 timeout 20 "${RRUN_CMD[@]}" stop -t 0 wr1
  run -0 timeout 20 "${RRUN_CMD[@]}" wait wr1
  [[ $output =~ ^(3|137|143)$ ]]
}

# --- health checks ------------------------------------------------------------------

@test "health: --health-cmd goes starting -> healthy -> unhealthy; ps, inspect, wait --condition" {
  # ready when the test says so: failing checks (each 0.3 s) in the start period do not
  # count, so it is starting until then however slow this machine is (without one, two
  # failures 0.6 s after the start would already make it unhealthy)
  run -0 rrun run -d --name h1 --health-cmd 'test -f /tmp/ready' --health-interval 0.3s \
    --health-retries 2 --health-start-period 1h "$FIXTURE_IMAGE" sleep 60
  [ "$(health h1)" = starting ]
  run -0 rrun exec h1 touch /tmp/ready
  run -0 timeout 30 "${RRUN_CMD[@]}" wait --condition=healthy h1
  [ "$output" = -1 ]
  [ "$(health h1)" = healthy ]
  [[ $(status_of h1) == "Up "*" (healthy)" ]]
  run -0 rrun inspect h1
  local h
  h=$(jq '.[0].State.Health' <<<"$output")
  [ "$(jq -r '.FailingStreak' <<<"$h")" = 0 ]
  [ "$(jq -r '.Log[-1].ExitCode' <<<"$h")" = 0 ]
  [[ $(jq -r '.Log[-1].Start' <<<"$h") =~ ^[0-9-]{10}T[0-9:]{8}\.[0-9]{9}Z$ ]]
  (($(jq -r '.Log | length' <<<"$h") <= 5))
  run -0 rrun exec h1 rm /tmp/ready
  run -0 timeout 30 "${RRUN_CMD[@]}" wait --condition=unhealthy h1
  [[ $(status_of h1) == "Up "*" (unhealthy)" ]]
  run -0 rrun inspect h1
  h=$(jq '.[0].State.Health' <<<"$output")
  (($(jq -r '.FailingStreak' <<<"$h") >= 2))
  [ "$(jq -r '.Log[-1].ExitCode' <<<"$h")" = 1 ]
  run -0 rrun stop -t 0 h1
}

@test "health: a check running past --health-timeout fails with docker's message" {
  run -0 rrun run -d --name h2 --health-cmd 'sleep 10' --health-interval 0.2s \
    --health-timeout 0.5s --health-retries 1 "$FIXTURE_IMAGE" sleep 60
  run -0 timeout 30 "${RRUN_CMD[@]}" wait --condition=unhealthy h2
  run -0 rrun inspect --format '{{json .State.Health.Log}}' h2
  [ "$(jq -r '.[0].ExitCode' <<<"$output")" = -1 ]
  [ "$(jq -r '.[0].Output' <<<"$output")" = 'Health check exceeded timeout (0.5s)' ]
  run -0 rrun stop -t 0 h2
}

# The processes of a check command (its sleeps) still alive, seen from the host: ours
# only (our subordinate ids, or our own uid without a range), since another test user
# may run the same test at the same time.
check_procs() {
  local base count
  base=$(subid_base uid)
  count=$(subid_count)
  if [[ -z $base || -z $count ]]; then base=$(id -u) count=1; fi
  ps -e -o uid=,args= | awk -v s="$base" -v c="$count" -v want="sleep $1" '
    $1 >= s && $1 < s + c { $1 = ""; sub(/^ +/, ""); if ($0 == want) n++ }
    END { print n + 0 }'
}
failing_streak_at_least() {
  (($(rrun inspect --format '{{.State.Health.FailingStreak}}' "$1") >= $2))
}

@test "health: a check past --health-timeout is killed with its children; stop does not hang" {
  # Through healthcheck run: once it returns, nothing of the check is left.
  run -0 rrun run -d --name ht1 --health-cmd 'sleep 4242 & sleep 4243' --health-interval 1h \
    --health-timeout 0.5s --health-retries 1 "$FIXTURE_IMAGE" sleep 60
  run -1 timeout 30 "${RRUN_CMD[@]}" healthcheck run ht1
  [ "$output" = unhealthy ]
  [ "$(check_procs 4242)" = 0 ]
  [ "$(check_procs 4243)" = 0 ]
  run -0 rrun inspect --format '{{json .State.Health.Log}}' ht1
  [ "$(jq -r '.[-1].ExitCode' <<<"$output")" = -1 ]
  run -0 timeout 30 "${RRUN_CMD[@]}" stop -t 1 ht1

  # Through the monitor's timer: checks time out one after another, none stays behind
  # (at most the one running now), and stop ends the container at once.
  run -0 rrun run -d --name ht2 --health-cmd 'sleep 4244 & sleep 4245' \
    --health-interval 0.2s --health-timeout 0.3s --health-retries 1 "$FIXTURE_IMAGE" sleep 60
  wait_until failing_streak_at_least ht2 4
  (($(check_procs 4244) <= 1))
  (($(check_procs 4245) <= 1))
  [ "$(health ht2)" = unhealthy ]
  run -0 timeout 30 "${RRUN_CMD[@]}" stop -t 1 ht2
  is_stopped ht2
  [ "$(check_procs 4244)" = 0 ]
  [ "$(check_procs 4245)" = 0 ]
}

@test "healthcheck run: runs the check now; 0 healthy, 1 unhealthy; errors exit 125" {
  run -0 rrun run -d --name h3 --health-cmd '["CMD", "test", "-f", "/tmp/ok"]' \
    --health-interval 1h --health-retries 1 "$FIXTURE_IMAGE" sleep 60
  run -1 rrun healthcheck run h3
  [ "$output" = unhealthy ]
  [ "$(health h3)" = unhealthy ]
  run -0 rrun exec h3 touch /tmp/ok
  run -0 rrun healthcheck run h3
  [ -z "$output" ]
  [ "$(health h3)" = healthy ]
  run -0 rrun run -d --name h4 "$FIXTURE_IMAGE" sleep 60
  run -125 rrun healthcheck run h4
  [ "${lines[0]}" = 'rrun: container "h4" has no health check' ]
  run -125 rrun wait --condition=healthy h4
  [ "${lines[0]}" = 'rrun: cannot wait for container "h4" to be healthy: it has no health check' ]
  run -0 rrun stop -t 0 h4
  run -125 rrun healthcheck run h4
  [ "${lines[0]}" = 'rrun: cannot check the health of container "h4": it is not running' ]
  run -125 rrun healthcheck run nosuch
  [ "${lines[0]}" = 'rrun: no container "nosuch"' ]
  run -125 rrun healthcheck h3
  [ "${lines[0]}" = 'rrun: healthcheck: unknown subcommand "h3"' ]
  run -125 rrun wait --condition=sideways h3
  [ "${lines[0]}" = 'rrun: wait: invalid condition "sideways"' ]
  run -0 rrun stop -t 0 h3
}

@test "health: wait --condition=healthy fails when the container exits first" {
  run -0 rrun run -d --name h5 --health-cmd false --health-interval 1h "$FIXTURE_IMAGE" sh -c 'sleep 0.5'
  run -125 timeout 30 "${RRUN_CMD[@]}" wait --condition=healthy h5
  [ "${lines[0]}" = 'rrun: container "h5" exited before it was healthy' ]
}

@test "health: the image's HEALTHCHECK runs; --no-healthcheck turns it off" {
  [[ -n ${RRUN_TEST_REGISTRY:-} ]] || skip "no test registry (run.sh starts one)"
  ensure_oci_fixtures
  push_oci "$FIXTURES/oci/health" "$TEST_REPO/health:latest"
  local img=$RRUN_TEST_REGISTRY/$TEST_REPO/health:latest
  run -0 rrun run -d --tls-verify=false --name hi1 "$img"
  run -0 timeout 30 "${RRUN_CMD[@]}" wait --condition=healthy hi1
  run -0 rrun inspect --format '{{json .State.Health.Log}}' hi1
  [ "$(jq -r '.[-1].ExitCode' <<<"$output")" = 0 ]
  run -0 rrun run -d --tls-verify=false --name hi2 --no-healthcheck "$img"
  sleep 1
  run -0 rrun inspect hi2
  [ "$(jq -r '.[0].State.Health' <<<"$output")" = null ]
  [[ $(status_of hi2) != *"(healthy)"* ]]
  # flags override the image's check
  run -0 rrun run -d --tls-verify=false --name hi3 --health-cmd 'exit 1' --health-retries 1 "$img"
  run -0 timeout 30 "${RRUN_CMD[@]}" wait --condition=unhealthy hi3
}

# --- logs ---------------------------------------------------------------------------

@test "logs: --log-opt max-size rotates by rename; every line arrives in order, -f too" {
  run -0 rrun run -d --name lr1 --log-opt max-size=64k --log-opt max-file=1000 \
    "$FIXTURE_IMAGE" sh -c 'sleep 0.5; seq 1 100000'
  local id=$output
  # -f from the start follows the live file through every rename
  run -0 bash -c 'timeout 60 "$@" logs -f lr1 | md5sum' _ "${RRUN_CMD[@]}"
  [ "$output" = "$(seq 1 100000 | md5sum)" ]
  run -0 timeout 30 "${RRUN_CMD[@]}" wait lr1
  local dir=$STORAGE_ROOT/containers/$id
  [ -f "$dir/ctr.log.1" ]
  local n
  n=$(find "$dir" -maxdepth 1 -name 'ctr.log.*' | wc -l)
  ((n > 5))
  # every rotated file ends at the first whole line past max-size
  for f in "$dir"/ctr.log.*; do
    local size
    size=$(stat -c %s "$f")
    ((size >= 64 * 1024 && size < 64 * 1024 + 100))
  done
  run -0 bash -c '"$@" logs lr1 | md5sum' _ "${RRUN_CMD[@]}"
  [ "$output" = "$(seq 1 100000 | md5sum)" ]
  run -0 bash -c '"$@" logs --tail 3 lr1' _ "${RRUN_CMD[@]}"
  [ "$output" = "$(printf '99998\n99999\n100000')" ]
}

@test "logs: a log read while it rotates misses no file: each snapshot is lines 1..K" {
  # 100 chunks of 1000 lines over about 3 s, rotated every 8 KiB (about 500 files, each
  # some 200 records: all kept): a rotation (up to 999 renames) is often under way while
  # logs finds and opens the files
  run -0 rrun run -d --name lr3 --log-opt max-size=8k --log-opt max-file=1000 \
    "$FIXTURE_IMAGE" sh -c 'i=0; while [ $i -lt 100 ]; do seq $((i * 1000 + 1)) $((i * 1000 + 1000)); usleep 30000; i=$((i + 1)); done'
  local i
  for i in $(seq 40); do
    run -0 bash -c '"$@" logs lr3 | awk '\''$0 != NR { print "line " NR ": " $0; exit 1 }'\''' _ "${RRUN_CMD[@]}"
  done
  run -0 timeout 60 "${RRUN_CMD[@]}" wait lr3
  # and at the end all of it
  run -0 bash -c '"$@" logs lr3 | md5sum' _ "${RRUN_CMD[@]}"
  [ "$output" = "$(seq 1 100000 | md5sum)" ]
}

@test "logs: max-file keeps that many files: the newest output, in whole lines" {
  run -0 rrun run -d --name lr2 --log-opt max-size=16k --log-opt max-file=2 \
    "$FIXTURE_IMAGE" sh -c 'seq 1 50000'
  local id=$output
  run -0 timeout 30 "${RRUN_CMD[@]}" wait lr2
  local dir=$STORAGE_ROOT/containers/$id
  [ "$(find "$dir" -maxdepth 1 -name 'ctr.log*' | wc -l)" -le 2 ]
  [ ! -e "$dir/ctr.log.2" ]
  run -0 rrun logs lr2
  # a run of consecutive numbers ending with the last one
  [ "${lines[-1]}" = 50000 ]
  local first=${lines[0]}
  [ "$output" = "$(seq "$first" 50000)" ]
}

@test "logs: --log-driver none keeps no log; passthrough in the foreground is rrun's stdio" {
  run -0 rrun run -d --name ln1 --log-driver none "$FIXTURE_IMAGE" sh -c 'echo gone'
  local id=$output
  run -0 timeout 30 "${RRUN_CMD[@]}" wait ln1
  [ ! -e "$STORAGE_ROOT/containers/$id/ctr.log" ]
  run -125 rrun logs ln1
  [ "${lines[0]}" = 'rrun: container "ln1" has no log: it was run with --log-driver none' ]
  run -0 --separate-stderr rrun run --rm --log-driver passthrough "$FIXTURE_IMAGE" sh -c 'echo out; echo err >&2'
  [ "$output" = out ]
  [ "$stderr" = err ]
  # json-file is taken as k8s-file, as podman does
  run -0 rrun run -d --name ln2 --log-driver json-file "$FIXTURE_IMAGE" echo kept
  run -0 timeout 30 "${RRUN_CMD[@]}" wait ln2
  run -0 rrun logs ln2
  [ "$output" = kept ]
}

@test "logs: 100 MB written as fast as possible to stdout are all in the log, in order" {
  local line=0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ
  run -0 rrun run -d --name lb1 "$FIXTURE_IMAGE" sh -c "yes $line | head -c 100000000"
  run -0 timeout 120 "${RRUN_CMD[@]}" wait lb1
  [ "$output" = 0 ]
  run -0 bash -c '"$@" logs lb1 | md5sum' _ "${RRUN_CMD[@]}"
  [ "$output" = "$(yes "$line" | head -c 100000000 | md5sum)" ]
}
