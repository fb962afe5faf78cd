#!/usr/bin/env bats
# issue 14: rename, running or stopped; names stay unique.

load helpers

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
}

@test "rename: a running container keeps its new name when it exits; names stay unique" {
  run -0 rrun run -d --name rn1 "$FIXTURE_IMAGE" sh -c 'sleep 1; exit 3'
  run -0 rrun run --name rn2 "$FIXTURE_IMAGE" true
  run -0 rrun rename rn1 renamed1
  [ -z "$output" ]
  run -0 rrun ps --format json
  [ "$(jq -r '.[0].Name' <<<"$output")" = renamed1 ]
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
