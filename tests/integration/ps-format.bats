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
