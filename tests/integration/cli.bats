#!/usr/bin/env bats
# Documented command-line behaviour not covered elsewhere: rrun version, help COMMAND, -h,
# --log-level and -v, ps -q and -a, image pull and image import, import -q and import -
# (standard input), load -q, save -q, --root-emulation.

load helpers

setup_file() {
  common_setup_file
  ensure_oci_fixtures
}

teardown() {
  if [[ -n ${RRUN_PID:-} ]] && kill -0 "$RRUN_PID" 2>/dev/null; then
    kill -TERM "$RRUN_PID"
    wait_bg
  fi
}

# ---- version and help --------------------------------------------------------------------

@test "version: rrun version and --version print the project's version and git commit" {
  local want commit
  want=$(sed -n "s/^  version : '\([^']*\)',$/\1/p" "$SRCDIR/meson.build")
  [ -n "$want" ]
  # the commit the build recorded (meson vcs_tag: the checkout's, -dirty with changes;
  # "unknown" outside git). Not asked of git here: the test user may not own the tree.
  commit=$(sed -n 's/^#define RRUN_COMMIT "\(.*\)"$/\1/p' "$(dirname "$RRUN")/rrun-commit.h")
  [[ $commit =~ ^[0-9a-f]{12}(-dirty)?$ || $commit == unknown ]]
  run -0 --separate-stderr rrun version
  [ "$output" = "rrun version $want"$'\n'"commit: $commit" ]
  [ -z "$stderr" ]
  run -0 rrun --version
  [ "$output" = "rrun version $want"$'\n'"commit: $commit" ]
  # --format json; no arguments (docs/rrun-version.1.md)
  run -0 rrun version --format json
  [ "$(jq -r .Version <<<"$output")" = "$want" ]
  [ "$(jq -r .GitCommit <<<"$output")" = "$commit" ]
  run -125 rrun version extra
  [ "${lines[0]}" = 'rrun: version: unexpected argument "extra"' ]
}

@test "help: rrun -h, --help and help print the usage and exit 0; help COMMAND is COMMAND --help" {
  local usage='Usage: rrun [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS...]'
  run -0 rrun -h
  [ "${lines[0]}" = "$usage" ]
  local top=$output
  run -0 rrun --help
  [ "$output" = "$top" ]
  run -0 rrun help
  [ "$output" = "$top" ]
  # every command of the table is listed
  local c
  for c in run pull tag import load save images rmi history image inspect login logout ps \
    stats update port info system version help; do
    [[ $top == *$'\n  '"$c "* ]] || {
      echo "rrun -h does not list $c" >&2
      return 1
    }
  done
  # without a command: the usage on stdout, status 1 (nothing was done)
  run -1 rrun
  [ "${lines[0]}" = "$usage" ]
  for c in run ps import save login; do
    run -0 rrun help "$c"
    local h=$output
    run -0 rrun "$c" --help
    [ "$output" = "$h" ]
    [[ $h == *"Usage:"* ]]
  done
  run -0 rrun help ps
  [[ $output == *"-q, --quiet"* ]]
  [[ $output == *"-a, --all"* ]]
  run -125 --separate-stderr rrun help no-such
  [ "${stderr_lines[0]}" = 'rrun: unknown command "no-such"' ]
  [ "${stderr_lines[1]}" = 'hint: see: rrun help' ]
}

# ---- log levels --------------------------------------------------------------------------

@test "--log-level and -v: info and debug lines appear, error hides warnings, a bad level is refused" {
  local driver=${RRUN_STORAGE_DRIVER:-}
  run -0 --separate-stderr rrun run --rm "$FIXTURE_IMAGE" true
  [ -z "$stderr" ]
  run -0 --separate-stderr rrun -v run --rm "$FIXTURE_IMAGE" true
  [[ $stderr == *"rrun: storage driver: ${driver}"* ]]
  [[ $stderr != *"rrun: debug: "* ]]
  run -0 --separate-stderr rrun --log-level info run --rm "$FIXTURE_IMAGE" true
  [[ $stderr == *"rrun: storage driver: ${driver}"* ]]
  run -0 --separate-stderr rrun --log-level=debug run --rm "$FIXTURE_IMAGE" true
  [[ $stderr == *$'\n'"rrun: debug: "* || $stderr == "rrun: debug: "* ]]
  [[ $stderr == *"rrun: storage driver: ${driver}"* ]]
  # a warning (no subordinate range: one ID mapped) shows by default, not at error level
  use_no_subid_range
  run -0 --separate-stderr rrun run --rm "$FIXTURE_IMAGE" true
  [[ ${stderr_lines[0]} == "rrun: warning: cannot map user IDs: "* ]]
  run -0 --separate-stderr rrun --log-level error run --rm "$FIXTURE_IMAGE" true
  [ -z "$stderr" ]
  run -125 --separate-stderr rrun --log-level loud images
  [ "$stderr" = 'rrun: invalid log level "loud": expected error, warning, info or debug' ]
  no_leftovers
}

# ---- ps ----------------------------------------------------------------------------------

@test "ps -q prints the running container's short id; ps -a lists it; an --rm container is gone once it exits" {
  run -0 rrun ps -q
  [ -z "$output" ]
  rrun_bg run --rm --name psq "$FIXTURE_IMAGE" sh -c 'trap "exit 0" TERM; echo ready; while :; do sleep 0.1; done'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  # the id as the run directory names it
  local dirs id
  dirs=$(find "$RUN_ROOT/containers" -mindepth 1 -maxdepth 1 -type d -printf '%f\n')
  [ "$(wc -l <<<"$dirs")" -eq 1 ]
  id=$dirs
  [[ $id =~ ^[0-9a-f]{64}$ ]]
  run -0 rrun ps -q
  [ "$output" = "${id:0:12}" ]
  run -0 rrun ps --quiet -a
  [ "$output" = "${id:0:12}" ]
  run -0 rrun ps -a
  [[ ${lines[0]} == "CONTAINER ID"*"NAMES" ]]
  [ "${#lines[@]}" -eq 2 ]
  [[ ${lines[1]} == "${id:0:12}  "*" psq" ]]
  kill -TERM "$RRUN_PID"
  wait_bg
  [ "$BG_STATUS" -eq 0 ]
  # an --rm container is not kept: ps -a lists nothing
  run -0 rrun ps -a -q
  [ -z "$output" ]
  run -0 rrun ps -a
  [ "${#lines[@]}" -eq 1 ]
  no_leftovers
}

# ---- import, load, save ------------------------------------------------------------------

@test "image import, import - (standard input) and import -q: stdout holds only the image id" {
  local id
  run -0 --separate-stderr rrun image import "$FIXTURES/rootfs.tar" localhost/rrun-test-cli-imp
  [[ $output =~ ^[0-9a-f]{64}$ ]]
  [ -z "$stderr" ]
  id=$output
  run -0 rrun images -q --no-trunc localhost/rrun-test-cli-imp
  [ "$output" = "sha256:$id" ]
  run -0 rrun run --rm localhost/rrun-test-cli-imp cat /srv/data/hello.txt
  [ "$output" = "hello from the image" ]
  # the tarball through standard input, plain and compressed (the id has the import time)
  gzip -c "$FIXTURES/rootfs.tar" >"$BATS_TEST_TMPDIR/rootfs.tar.gz"
  local tarball
  for tarball in "$FIXTURES/rootfs.tar" "$BATS_TEST_TMPDIR/rootfs.tar.gz"; do
    run -0 --separate-stderr bash -c '"$@" <"$0"' "$tarball" \
      "${RRUN_CMD[@]}" import - localhost/rrun-test-cli-stdin
    [[ $output =~ ^[0-9a-f]{64}$ ]]
    [ -z "$stderr" ]
    id=$output
    run -0 rrun images -q --no-trunc localhost/rrun-test-cli-stdin
    [ "$output" = "sha256:$id" ]
    run -0 rrun run --rm localhost/rrun-test-cli-stdin cat /srv/data/hello.txt
    [ "$output" = "hello from the image" ]
  done
  run -0 rrun rmi localhost/rrun-test-cli-imp localhost/rrun-test-cli-stdin
}

@test "import -q hides the warnings, not the id (a store without a subordinate range)" {
  use_no_subid_range
  local -a r=(--root "$BATS_TEST_TMPDIR/store" --runroot "$BATS_TEST_TMPDIR/run")
  run -0 --separate-stderr rrun "${r[@]}" import "$FIXTURES/rootfs.tar" localhost/rrun-test-q
  [[ $output =~ ^[0-9a-f]{64}$ ]]
  local id=$output
  # files of uid 1000 cannot keep their owner with one ID mapped: said, with the fix
  [[ $stderr == *"rrun: warning: "*"belong to IDs outside the 1 mapped ID"* ]]
  [[ $stderr == *"hint: "*"subuid-setup.sh"* ]]
  run -0 --separate-stderr rrun "${r[@]}" import -q "$FIXTURES/rootfs.tar" localhost/rrun-test-q
  [[ $output =~ ^[0-9a-f]{64}$ ]]
  [ -z "$stderr" ]
  id=$output
  run -0 rrun "${r[@]}" images -q --no-trunc localhost/rrun-test-q
  [ "$output" = "sha256:$id" ]
  run -0 rrun "${r[@]}" rmi localhost/rrun-test-q
  rm -rf "$BATS_TEST_TMPDIR/store" "$BATS_TEST_TMPDIR/run"
}

@test "load -q and save -q print nothing; what they moved is there" {
  local -a r=(--root "$BATS_TEST_TMPDIR/store" --runroot "$BATS_TEST_TMPDIR/run")
  run -0 --separate-stderr rrun "${r[@]}" load -q -i "$FIXTURES/oci/multi"
  [ -z "$output" ]
  [ -z "$stderr" ]
  run -0 rrun "${r[@]}" images -q
  [ "${#lines[@]}" -eq 1 ]
  local id=${lines[0]}
  run -0 rrun "${r[@]}" tag "$id" localhost/rrun-test-save:1
  run -0 --separate-stderr rrun "${r[@]}" save -q -o "$BATS_TEST_TMPDIR/s.tar" localhost/rrun-test-save:1
  [ -z "$output" ]
  [ -z "$stderr" ]
  tar tf "$BATS_TEST_TMPDIR/s.tar" | grep -qx manifest.json
  # save -q to standard output: the archive and nothing else
  rrun "${r[@]}" save -q localhost/rrun-test-save:1 >"$BATS_TEST_TMPDIR/stdout.tar" 2>"$BATS_TEST_TMPDIR/err"
  [ ! -s "$BATS_TEST_TMPDIR/err" ]
  cmp "$BATS_TEST_TMPDIR/s.tar" "$BATS_TEST_TMPDIR/stdout.tar"
  # load -q from standard input into a second store: the same id
  local -a r2=(--root "$BATS_TEST_TMPDIR/store2" --runroot "$BATS_TEST_TMPDIR/run2")
  run -0 --separate-stderr bash -c '"$@" <"$0"' "$BATS_TEST_TMPDIR/s.tar" \
    "${RRUN_CMD[@]}" "${r2[@]}" load -q
  [ -z "$output" ]
  [ -z "$stderr" ]
  run -0 rrun "${r2[@]}" images -q
  [ "$output" = "$id" ]
  run -0 rrun "${r[@]}" rmi -f localhost/rrun-test-save:1
  run -0 rrun "${r2[@]}" rmi -f localhost/rrun-test-save:1
}

# ---- image pull --------------------------------------------------------------------------

@test "image pull: pulls from a registry like rrun pull, -q prints the id" {
  [[ -n ${RRUN_TEST_REGISTRY:-} ]] || skip "no test registry (run.sh starts one)"
  push_oci "$FIXTURES/oci/config" "$TEST_REPO/cli-pull:latest"
  local ref=$RRUN_TEST_REGISTRY/$TEST_REPO/cli-pull:latest
  local -a r=(--root "$BATS_TEST_TMPDIR/store" --runroot "$BATS_TEST_TMPDIR/run")
  run -0 rrun "${r[@]}" image pull --tls-verify=false "$ref"
  [[ ${lines[-1]} =~ ^[0-9a-f]{64}$ ]]
  local id=${lines[-1]}
  # the id is the digest of the config blob the registry holds
  local cfg
  cfg=$(skopeo inspect --tls-verify=false --raw "docker://$ref" | jq -r .config.digest)
  [ "sha256:$id" = "$cfg" ]
  run -0 rrun "${r[@]}" image pull -q --tls-verify=false "$ref"
  [ "$output" = "$id" ]
  run -0 rrun "${r[@]}" images -q --no-trunc "$ref"
  [ "$output" = "sha256:$id" ]
  run -0 rrun "${r[@]}" rmi "$ref"
}

# ---- root emulation ----------------------------------------------------------------------

@test "--root-emulation: chown succeeds without effect even with a subordinate range" {
  require_subid_range
  # without it, the range makes chown real
  run -0 rrun run --rm "$FIXTURE_IMAGE" sh -c 'touch /x && chown 5:5 /x && stat -c %u:%g /x'
  [ "$output" = 5:5 ]
  run -0 rrun run --rm --root-emulation "$FIXTURE_IMAGE" sh -c 'touch /x && chown 5:5 /x && stat -c %u:%g /x'
  [ "$output" = 0:0 ]
  # -v says so, also with one ID mapped (where the default is honest: EINVAL)
  use_no_subid_range
  run -0 --separate-stderr rrun -v run --rm --root-emulation "$FIXTURE_IMAGE" sh -c 'touch /x && chown 5:5 /x && echo chown-ok'
  [ "$output" = chown-ok ]
  [[ $stderr == *"rrun: root emulation is on: chown and setuid calls succeed without effect"* ]]
  no_leftovers
}
