#!/usr/bin/env bats
# issue 14: how a container is named: rename (running or stopped; names stay unique) and
# --cidfile.

load helpers

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
}

@test "rename: a running container keeps its new name when it exits; names stay unique" {
  # it runs until the test creates /go (at most 30 s), not for 1 s that a loaded machine
  # could spend before the rename
  run -0 rrun run -d --name rn1 "$FIXTURE_IMAGE" sh -c \
    'i=0; while [ ! -e /go ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; exit 3'
  run -0 rrun run --name rn2 "$FIXTURE_IMAGE" true
  run -0 rrun rename rn1 renamed1
  [ -z "$output" ]
  run -0 rrun ps --format json
  [ "$(jq -r '.[0].Name' <<<"$output")" = renamed1 ]
  run -0 rrun exec renamed1 touch /go
  run -0 rrun wait renamed1
  [ "$output" = 3 ]
  run -0 rrun inspect --format '{{.Name}} {{.State.ExitCode}}' renamed1
  [ "$output" = 'renamed1 3' ]
  run -125 rrun rename rn2 renamed1
  [[ ${lines[0]} == 'rrun: cannot rename container "rn2": the name "renamed1" is in use by container '* ]]
  run -125 rrun rename rn2 'bad name'
  [ "${lines[0]}" = 'rrun: invalid container name "bad name"' ]
  run -125 rrun rename nosuch x
  [ "${lines[0]}" = 'rrun: no container "nosuch"' ]
  # the old name is free again
  run -0 rrun run --rm --name rn1 "$FIXTURE_IMAGE" true
}

@test "run --cidfile: the full ID is written at create; an existing file is refused" {
  local cid=$BATS_TEST_TMPDIR/cid
  run -0 rrun run --cidfile "$cid" --name cf1 "$FIXTURE_IMAGE" true
  [ "$(cat "$cid")" = "$(rrun ps -a -q --no-trunc --filter name=cf1)" ]
  run -125 rrun run --cidfile "$cid" "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = "rrun: --cidfile \"$cid\": the file exists" ]
  # start does not write it again
  run -0 rrun start cf1
  run -0 rrun wait cf1
  rm "$cid"
  run -0 rrun run -d --cidfile "$cid" "$FIXTURE_IMAGE" true
  [ "$output" = "$(cat "$cid")" ]
}

@test "run --label, --label-file: in ps --filter label=, ps --format, inspect Config.Labels" {
  printf 'team=infra\n# a comment\n\ntier=db\n' >"$BATS_TEST_TMPDIR/labels"
  run -0 rrun run --name lb1 -l app=web --label flag --label-file "$BATS_TEST_TMPDIR/labels" "$FIXTURE_IMAGE" true
  run -0 rrun run --name lb2 -l app=db "$FIXTURE_IMAGE" true
  run -0 rrun ps -a --filter label=app=web --format '{{.Names}} {{.Labels}}'
  [ "$output" = 'lb1 team=infra,tier=db,app=web,flag' ]
  run -0 rrun ps -a --filter label=app --format '{{.Names}}'
  [ "${lines[*]}" = 'lb2 lb1' ]
  run -0 rrun ps -a --filter label=flag --filter label=app=db --format '{{.Names}}'
  [ "${lines[*]}" = 'lb2 lb1' ]
  run -0 rrun ps -a --filter label=nope --format '{{.Names}}'
  [ -z "$output" ]
  run -0 rrun inspect --format '{{.Config.Labels}}' lb1
  [ "$output" = 'map[app:web flag: team:infra tier:db]' ]
  run -125 rrun run -l =x "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --label "=x": no key' ]
  # start keeps them (they are in the stored spec)
  run -0 rrun start lb1
  run -0 rrun wait lb1
  run -0 rrun ps -a --filter label=team=infra --format '{{.Names}}'
  [ "$output" = lb1 ]
}

@test "top: the processes of a running container, with host PIDs" {
  run -0 rrun run -d --name tp1 "$FIXTURE_IMAGE" sh -c 'sleep 100 & exec sleep 200'
  local pid1
  pid1=$(rrun ps --format json | jq -r '.[0].Pid')
  has_child() { [ "$(rrun top tp1 | wc -l)" -eq 3 ]; }
  wait_until has_child
  run -0 rrun top tp1
  [ "${lines[0]}" = "$(printf '%-10s %-8s %-8s %s' UID PID PPID CMD)" ]
  # in PID order, which is not start order once PIDs wrap (pid_max may be 32768)
  local main child
  main=$(printf '%s\n' "${lines[@]:1}" | grep ' sleep 200$')
  child=$(printf '%s\n' "${lines[@]:1}" | grep ' sleep 100$')
  [[ $main == "$(id -un)"*" $pid1 "*"sleep 200" ]] # a name of 10 or more has one space
  [[ $child == *" $pid1 "*"sleep 100" ]]
  run -125 rrun top nosuch
  [ "${lines[0]}" = 'rrun: no running container "nosuch"' ]
}
