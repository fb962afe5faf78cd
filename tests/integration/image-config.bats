#!/usr/bin/env bats
# Image config semantics (Env merge, Entrypoint + Cmd, WorkingDir, User) need an image
# whose config sets them: tests/fixtures/make-oci.py writes one, pushed to the test
# registry and pulled (issue 3).

load helpers

setup_file() {
  common_setup_file
  [[ -n ${RRUN_TEST_REGISTRY:-} ]] || skip "no test registry (run.sh starts one)"
  ensure_oci_fixtures
  push_oci "$FIXTURES/oci/config" "$TEST_REPO/config:latest"
  export CONFIG_IMAGE=$RRUN_TEST_REGISTRY/$TEST_REPO/config:latest
  mkdir -p "$XDG_CONFIG_HOME/rrun"
  printf '[registries]\ninsecure = %s\n' "$RRUN_TEST_REGISTRY" >"$XDG_CONFIG_HOME/rrun/rrun.conf"
  rrun pull "$CONFIG_IMAGE" >&2
}

teardown_file() {
  rm -f "$XDG_CONFIG_HOME/rrun/rrun.conf"
}

@test "image config: Entrypoint + Cmd run as the image's User in its WorkingDir" {
  run -0 rrun run --rm "$CONFIG_IMAGE"
  [ "$output" = "entry default-cmd" ]
  run -0 rrun run --rm "$CONFIG_IMAGE" given args
  [ "$output" = "entry given args" ]
  run -0 rrun run --rm --entrypoint sh "$CONFIG_IMAGE" -c 'id -un; pwd; echo $HOME'
  [ "${lines[0]}" = tester ]
  [ "${lines[1]}" = /home/tester ]
  [ "${lines[2]}" = /home/tester ]
}

@test "image config: Env is merged with -e (flag wins) and --env-file" {
  printf 'FROM_FILE=1\n' >"$BATS_TEST_TMPDIR/env"
  run -0 rrun run --rm --entrypoint env -e OVERRIDE=flag --env-file "$BATS_TEST_TMPDIR/env" "$CONFIG_IMAGE"
  [[ $'\n'$output$'\n' == *$'\nIMG_ONLY=from-image\n'* ]]
  [[ $'\n'$output$'\n' == *$'\nOVERRIDE=flag\n'* ]]
  [[ $'\n'$output$'\n' == *$'\nFROM_FILE=1\n'* ]]
  [[ $output != *OVERRIDE=image* ]]
}

@test "image config: -u root and -w override the image's User and WorkingDir" {
  run -0 rrun run --rm -u root -w /srv --entrypoint sh "$CONFIG_IMAGE" -c 'id -u; pwd'
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = /srv ]
}
