#!/usr/bin/env bats
# issue 14: ps --format with a Go template per container (docker's ps fields).

load helpers

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
}

@test "ps --format: a template per container with docker's fields" {
  run -2 rrun run --name pf1 "$FIXTURE_IMAGE" sh -c 'exit 2'
  local id
  id=$(rrun ps -a -q --no-trunc)
  run -0 rrun ps -a --format '{{.ID}}|{{.Names}}|{{.State}}|{{.ExitCode}}|{{.Command}}|{{.Image}}'
  [ "$output" = "${id:0:12}|pf1|exited|2|\"sh -c exit 2\"|$FIXTURE_IMAGE" ]
  run -0 rrun ps -a --no-trunc --format '{{.ID}}'
  [ "$output" = "$id" ]
  run -0 rrun ps -a --format '{{.Status}}'
  [[ $output == 'Exited (2) '*' ago' ]]
  run -0 rrun ps -a --format '{{.CreatedAt}}'
  [[ $output =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9:]{8}\ \+0000\ UTC$ ]]
  run -0 rrun ps -a --format table
  [[ ${lines[0]} == "CONTAINER ID"* ]]
  # table TEMPLATE: a header row, columns aligned at the tabs (\t written out, as docker)
  run -0 rrun ps -a --format 'table {{.ID}}\t{{.Names}}\t{{.State}}'
  [ "${lines[0]}" = 'CONTAINER ID   NAMES     STATE' ]
  [ "${lines[1]}" = "${id:0:12}   pf1       exited" ]
  run -0 rrun ps -a --format 'table {{.Names}}\t{{.ExitCode}}'
  [ "${lines[0]}" = 'NAMES     EXIT CODE' ]
  [ "${lines[1]}" = 'pf1       2' ]
  # -q wins over a template, as docker's
  run -0 rrun ps -a -q --format 'table {{.Names}}'
  [ "$output" = "${id:0:12}" ]
  run -125 rrun ps -a --format '{{.ID'
  [[ ${lines[0]} == 'rrun: '*'{{.ID'* ]]
}

# A record's summary (what ps -a reads of a stopped container instead of container.json),
# one field a line: the magic, the stamp of the container.json it was made from, then
# name and value lines.
summary_lines() {
  tr '\0' '\n' <"$STORAGE_ROOT/containers/$1/summary"
}

# The summary of container $1 was made from its current container.json (inode, size,
# mtime) and names it $2.
summary_is_current() {
  local f=$STORAGE_ROOT/containers/$1/container.json ino size m
  read -r ino size < <(stat -c '%i %s' "$f")
  m=$(stat -c '%.9Y' "$f")
  run -0 summary_lines "$1"
  [ "${lines[0]}" = rrun-summary-1 ]
  [ "${lines[1]}" = "$ino $size ${m%.*} $((10#${m#*.}))" ]
  [[ $'\n'"$output"$'\n' == *$'\nname\n'"$2"$'\n'* ]]
}

PS_FIELDS='{{.ID}}|{{.Names}}|{{.State}}|{{.ExitCode}}|{{.Command}}|{{.Image}}|{{.Labels}}|{{.Pid}}|{{.CreatedAt}}'

@test "ps -a: the summary stays current across exit, rename, start and restart" {
  local id
  run -0 rrun run -d --name sm1 --label k=v "$FIXTURE_IMAGE" sh -c 'exit 3'
  id=$output
  run -0 rrun wait sm1
  [ "$output" = 3 ]
  summary_is_current "$id" sm1
  run -0 summary_lines "$id"
  [[ $'\n'"$output"$'\n' == *$'\nstatus\nexited\nexit_code\n3\n'* ]]
  [[ $'\n'"$output"$'\n' == *$'\nlabel\nk=v\n'* ]]
  run -0 rrun rename sm1 sm2
  summary_is_current "$id" sm2
  run -0 rrun ps -a --format '{{.Names}} {{.State}} {{.ExitCode}} {{.Labels}}'
  [ "$output" = 'sm2 exited 3 k=v' ]
  run -0 rrun ps -a --filter label=k=v --filter exited=3 --filter status=exited -q --no-trunc
  [ "$output" = "$id" ]
  # found through its summary, read in full (the summary has no argv)
  run -0 rrun inspect sm2 --format '{{.Path}} {{.Args}} {{.State.ExitCode}}'
  [ "$output" = 'sh [-c exit 3] 3' ]
  # start again: running (read in full), then exited again
  run -0 rrun start sm2
  run -0 rrun wait sm2
  [ "$output" = 3 ]
  summary_is_current "$id" sm2
  run -0 rrun ps -a --format '{{.Names}} {{.State}} {{.ExitCode}}'
  [ "$output" = 'sm2 exited 3' ]
  # restart of a running one, then stop: status and exit code as recorded
  run -0 rrun run -d --name sm3 "$FIXTURE_IMAGE" sleep 60
  local id3=$output
  run -0 rrun restart -t 0 sm3
  summary_is_current "$id3" sm3
  run -0 rrun ps --format '{{.Names}} {{.State}}'
  [ "$output" = 'sm3 running' ]
  run -0 rrun stop -t 0 sm3
  summary_is_current "$id3" sm3
  run -0 rrun ps -a --filter name=sm3 --format '{{.Names}} {{.State}} {{.ExitCode}}'
  [[ $output =~ ^'sm3 exited '(137|143)$ ]]
}

@test "ps -a: a record without a summary, or with a stale one, is read from container.json" {
  local id brief f
  run -3 rrun run --name sm4 --label a=b "$FIXTURE_IMAGE" sh -c 'exit 3'
  run -0 rrun create --name sm5 "$FIXTURE_IMAGE" true
  id=$(rrun ps -a -q --no-trunc --filter name=sm4)
  [ -f "$STORAGE_ROOT/containers/$id/summary" ]
  run -0 rrun ps -a --format "$PS_FIELDS"
  brief=$output
  [[ $brief == *'|sm4|exited|3|"sh -c exit 3"|'"$FIXTURE_IMAGE|a=b|0|"* ]]
  [[ $brief == *'|sm5|created|0|'* ]]
  # container.json rewritten after its summary (a kill between the two writes, an older
  # rrun's write): the summary is not believed
  f=$STORAGE_ROOT/containers/$id/container.json
  sed 's/"exit_code":3,/"exit_code":5,/' "$f" >"$f.new"
  mv "$f.new" "$f"
  run -0 rrun ps -a --filter name=sm4 --format '{{.Names}} {{.State}} {{.ExitCode}}'
  [ "$output" = 'sm4 exited 5' ]
  # a record written by an older rrun: no summary, the same listing
  rm "$STORAGE_ROOT/containers/$id/summary"
  run -0 rrun ps -a --format "$PS_FIELDS"
  [ "$output" = "${brief/|sm4|exited|3|/|sm4|exited|5|}" ]
  run -0 rrun ps -a --format '{{.Names}} {{.Status}}'
  [[ $output == *'sm4 Exited (5) '*' ago'* ]]
  run -0 rrun rm sm4 sm5
  run -0 rrun ps -a -q
  [ "$output" = '' ]
}
