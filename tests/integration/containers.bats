#!/usr/bin/env bats
# issue 14: stopped containers are kept (ps -a, rm, container prune, rmi refusal, unique
# names), and a killed rrun leaves a record that reads as exited with an unknown status.

load helpers

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
}

# The full id of the only container named NAME.
cid() {
  rrun ps -a --no-trunc -q --filter "name=$1"
}

@test "ps -a: a container run without --rm is kept with its exit status" {
  run -3 rrun run --name kept3 "$FIXTURE_IMAGE" sh -c 'exit 3'
  # not running: ps leaves it out, ps -a shows it
  run -0 rrun ps -q
  [ -z "$output" ]
  run -0 rrun ps -a
  [ "${#lines[@]}" -eq 2 ]
  [[ ${lines[0]} == "CONTAINER ID"*"STATUS"*"NAMES" ]]
  [[ ${lines[1]} == *'"sh -c exit 3"'*"Exited (3) "*" ago"*kept3 ]]
  run -0 rrun ps -a --format json
  [ "$(jq -r '.[0].State' <<<"$output")" = exited ]
  [ "$(jq -r '.[0].ExitCode' <<<"$output")" = 3 ]
  [ "$(jq -r '.[0].Name' <<<"$output")" = kept3 ]
  [ "$(jq -r '.[0].Pid' <<<"$output")" = 0 ]
  [ "$(jq -r '.[0].Id | length' <<<"$output")" = 64 ]
  # the record holds the state, the run dir is gone
  local id
  id=$(cid kept3)
  [ -f "$STORAGE_ROOT/containers/$id/container.json" ]
  [ ! -e "$RUN_ROOT/containers/$id" ]
  [ "$(jq -r .status "$STORAGE_ROOT/containers/$id/container.json")" = exited ]
  [ "$(jq -r .exit_code "$STORAGE_ROOT/containers/$id/container.json")" = 3 ]
  # another run (and its garbage collection) keeps it
  run -0 rrun run --rm "$FIXTURE_IMAGE" true
  run -0 rrun ps -a -q
  [ "$output" = "${id:0:12}" ]
  # --rm containers are not kept
  [ "$(find "$STORAGE_ROOT/containers" -mindepth 1 -maxdepth 1 | wc -l)" -eq 1 ]
}

@test "ps: -a, -q, -l, -n, --no-trunc and --filter pick containers as docker does" {
  run -0 rrun run --name first "$FIXTURE_IMAGE" true
  run -4 rrun run --name second "$FIXTURE_IMAGE" sh -c 'exit 4'
  run -0 rrun run --name third "$FIXTURE_IMAGE" true
  run -0 rrun ps -a --format json
  [ "$(jq -r 'map(.Name) | join(" ")' <<<"$output")" = "third second first" ]
  run -0 rrun ps -l --format json
  [ "$(jq -r 'map(.Name) | join(" ")' <<<"$output")" = third ]
  run -0 rrun ps -n 2 --format json
  [ "$(jq -r 'map(.Name) | join(" ")' <<<"$output")" = "third second" ]
  run -0 rrun ps -a -q --filter exited=4
  [ "$output" = "$(cid second | cut -c1-12)" ]
  run -0 rrun ps -a -q --filter status=exited --filter name=ir
  [ "${#lines[@]}" -eq 2 ] # first, third
  run -0 rrun ps -q --filter status=running
  [ -z "$output" ]
  run -0 rrun ps -a -q --filter "ancestor=$FIXTURE_IMAGE" --filter "id=$(cid first | cut -c1-5)"
  [ "$output" = "$(cid first | cut -c1-12)" ]
  run -0 rrun ps -a -q --no-trunc --filter name=third
  [ "${#output}" -eq 64 ]
  run -0 rrun ps -a --no-trunc --filter name=third
  [[ ${lines[1]} == "$(cid third) "* ]]
  run -125 rrun ps -a --filter colour=red
  [ "${lines[0]}" = 'rrun: ps: invalid filter "colour=red"' ]
  run -125 rrun ps -a --filter status=sleeping
  [ "${lines[0]}" = 'rrun: ps: invalid status "sleeping"' ]
}

@test "ps: a running container is Up with its PID" {
  rrun_bg run --name up1 "$FIXTURE_IMAGE" sleep 30
  running() { [ -n "$(rrun ps -q --filter name=up1)" ]; }
  wait_until running
  run -0 rrun ps --filter status=running
  [[ ${lines[1]} == *" Up "*up1 ]]
  run -0 rrun ps --format json
  [ "$(jq -r '.[0].State' <<<"$output")" = running ]
  [ "$(jq -r '.[0].Pid' <<<"$output")" -gt 1 ]
  kill -TERM "$RRUN_PID"
  wait_bg
}

@test "rm: a stopped container goes with its layer; a running one only with -f" {
  run -0 rrun run --name gone1 "$FIXTURE_IMAGE" sh -c 'echo x >/file'
  local id
  id=$(cid gone1)
  [ -d "$STORAGE_ROOT/containers/$id/upper" ]
  run -0 rrun rm gone1
  [ "$output" = gone1 ]
  [ ! -e "$STORAGE_ROOT/containers/$id" ]
  run -125 rrun rm gone1
  [ "${lines[0]}" = 'rrun: no container "gone1"' ]
  [ "${lines[1]}" = 'hint: list containers with: rrun ps -a' ]

  rrun_bg run --name busy1 "$FIXTURE_IMAGE" sleep 60
  running() { [ -n "$(rrun ps -q --filter name=busy1)" ]; }
  wait_until running
  run -125 rrun rm busy1
  [ "${lines[0]}" = 'rrun: cannot remove container "busy1": it is running' ]
  [ "${lines[1]}" = 'hint: stop it first (rrun stop busy1), or kill and remove it with: rrun rm -f busy1' ]
  # nothing changed
  run -0 rrun ps -q --filter name=busy1
  [ -n "$output" ]
  run -0 rrun rm -f busy1
  [ "$output" = busy1 ]
  wait_bg
  [ "$BG_STATUS" -eq 137 ]
  run -0 rrun ps -a -q
  [ -z "$output" ]
  no_leftovers
}

@test "rm: several at once, one missing: the others go, exit 125" {
  run -0 rrun run --name a1 "$FIXTURE_IMAGE" true
  run -0 rrun run --name a2 "$FIXTURE_IMAGE" true
  run -125 --separate-stderr rrun rm a1 nosuch a2
  [ "$output" = "$(printf 'a1\na2')" ]
  [ "${stderr_lines[0]}" = 'rrun: no container "nosuch"' ]
  run -0 rrun ps -a -q
  [ -z "$output" ]
}

@test "rm: a container whose rrun was SIGKILLed reads as exited (unknown) and rm removes it" {
  rrun_bg run --name killed1 "$FIXTURE_IMAGE" sleep 60
  running() { [ -n "$(rrun ps -q --filter name=killed1)" ]; }
  wait_until running
  kill -KILL "$RRUN_PID"
  wait "$RRUN_PID" || true
  stopped() { [ -z "$(rrun ps -q --filter name=killed1)" ]; }
  wait_until stopped
  run -0 rrun ps -a --filter name=killed1
  [[ ${lines[1]} == *"Exited (unknown) "*killed1 ]]
  run -0 rrun ps -a --format json
  [ "$(jq -r '.[0].ExitCode' <<<"$output")" = -1 ]
  run -0 rrun rm killed1
  no_leftovers
}

@test "run --name: a name is unique among running and stopped containers" {
  run -0 rrun run --name dup1 "$FIXTURE_IMAGE" true
  local id
  id=$(cid dup1)
  run -125 rrun run --rm --name dup1 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = "rrun: cannot create container \"dup1\": the name is in use by container ${id:0:12}" ]
  [ "${lines[1]}" = 'hint: remove that container (rrun rm dup1) or choose another name' ]
  run -0 rrun rm dup1
  run -0 rrun run --rm --name dup1 "$FIXTURE_IMAGE" true
}

@test "rmi: an image a stopped container uses is refused unless -f" {
  run -0 rrun tag "$FIXTURE_IMAGE" localhost/rmi-kept:1
  run -0 rrun run --name user1 localhost/rmi-kept:1 true
  local id
  id=$(cid user1)
  # by its only other name: untagging is fine, the image stays
  run -0 rrun rmi localhost/rmi-kept:1
  run -0 rrun tag "$FIXTURE_IMAGE" localhost/rmi-kept:1
  rrun rmi "$FIXTURE_IMAGE" >/dev/null # leave one name
  run -125 rrun rmi localhost/rmi-kept:1
  [ "${lines[0]}" = "rrun: cannot remove image \"localhost/rmi-kept:1\": container ${id:0:12} is using it" ]
  run -0 rrun images -q localhost/rmi-kept:1
  [ -n "$output" ]
  # the container still runs again... and once removed, the image can go
  run -0 rrun rm user1
  run -0 rrun tag localhost/rmi-kept:1 "$FIXTURE_IMAGE"
  run -0 rrun rmi localhost/rmi-kept:1
}

@test "container prune: removes stopped containers, not running ones" {
  run -0 rrun run --name p1 "$FIXTURE_IMAGE" true
  run -0 rrun run --name p2 "$FIXTURE_IMAGE" true
  rrun_bg run --name p3 "$FIXTURE_IMAGE" sleep 60
  running() { [ -n "$(rrun ps -q --filter name=p3)" ]; }
  wait_until running
  local ids
  ids=$(rrun ps -a --no-trunc -q --filter status=exited | sort)
  # no answer is no
  run -0 rrun container prune </dev/null
  [ "$(rrun ps -a -q | wc -l)" -eq 3 ]
  run -0 rrun container prune -f
  [ "${lines[0]}" = 'Deleted Containers:' ]
  [ "$(printf '%s\n' "${lines[@]:1}" | sort)" = "$ids" ]
  run -0 rrun container ls -a --format json
  [ "$(jq -r 'map(.Name) | join(" ")' <<<"$output")" = p3 ]
  kill -TERM "$RRUN_PID"
  wait_bg
}

@test "container prune --filter: until=, label=, label!= as docker's; a bad filter exits 125" {
  run -0 rrun run --name pf1 --label keep=yes "$FIXTURE_IMAGE" true
  run -0 rrun run --name pf2 --label tier=web "$FIXTURE_IMAGE" true
  run -0 rrun run --name pf3 "$FIXTURE_IMAGE" true
  names() { rrun ps -a --format '{{.Names}}' | sort | tr '\n' ' '; }
  # created before an hour ago: none
  run -0 rrun container prune -f --filter until=1h
  [ "$output" = 'Deleted Containers:' ]
  [ "$(names)" = 'pf1 pf2 pf3 ' ]
  run -0 rrun container prune -f --filter label=tier=web
  [ "${#lines[@]}" = 2 ]
  [ "$(names)" = 'pf1 pf3 ' ]
  run -0 rrun container prune -f --filter label!=keep
  [ "$(names)" = 'pf1 ' ]
  run -125 rrun container prune -f --filter color=red
  [ "${lines[0]}" = 'rrun: container prune: invalid filter "color=red"' ]
  run -125 rrun container prune -f --filter until=soon
  [ "${lines[0]}" = 'rrun: container prune: invalid filter "until=soon": invalid time "soon"' ]
  # created before a time to come: all
  run -0 rrun container prune -f --filter "until=$(($(date +%s) + 60))"
  [ "$(names)" = '' ]
}

@test "inspect: a stopped container has docker's State fields" {
  run -3 rrun run --name insp1 "$FIXTURE_IMAGE" sh -c 'exit 3'
  run -0 rrun inspect --format '{{.State.Status}} {{.State.Running}} {{.State.ExitCode}} {{.State.Pid}}' insp1
  [ "$output" = 'exited false 3 0' ]
  run -0 rrun inspect insp1
  [[ $(jq -r '.[0].State.StartedAt' <<<"$output") =~ ^[0-9-]{10}T[0-9:]{8}\.[0-9]{9}Z$ ]]
  [[ $(jq -r '.[0].State.FinishedAt' <<<"$output") =~ ^[0-9-]{10}T[0-9:]{8}\.[0-9]{9}Z$ ]]
  [ "$(jq -r '.[0].State.OOMKilled' <<<"$output")" = false ]
  [ "$(jq -r '.[0].HostConfig.AutoRemove' <<<"$output")" = false ]
  rrun_bg run --name insp2 "$FIXTURE_IMAGE" sleep 60
  running() { [ -n "$(rrun ps -q --filter name=insp2)" ]; }
  wait_until running
  run -0 rrun inspect --format '{{.State.Status}} {{.State.Running}} {{.State.FinishedAt}}' insp2
  [ "$output" = 'running true 0001-01-01T00:00:00Z' ]
  run -0 rrun kill insp2
  wait_bg
  [ "$BG_STATUS" -eq 137 ]
}
