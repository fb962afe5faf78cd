#!/usr/bin/env bats
# issue 14: docker's and podman's command words are commands first, never image names.

load helpers

@test "commands: a docker command word rrun lacks is an error, never an image to pull" {
  local word
  for word in compose pod diff events export checkpoint; do
    # no registry may be asked: a pull would be slow and name the registry
    run -125 --separate-stderr rrun "$word" web
    [ "${#stderr_lines[@]}" -eq 3 ]
    [ "${stderr_lines[0]}" = "rrun: $word: not a command rrun has yet" ]
    [ "${stderr_lines[1]}" = 'hint: see the commands there are with: rrun --help' ]
    [ "${stderr_lines[2]}" = "hint: to run an image called \"$word\", use: rrun run $word" ]
    [ -z "$output" ]
  done
  # nothing was pulled or created
  run -0 rrun images --format json
  [[ $output != *'"build'* ]]
}

@test "commands: an image name that is no command word still runs" {
  run -0 rrun "$FIXTURE_IMAGE" echo ok
  [ "$output" = ok ]
}
