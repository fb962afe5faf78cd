#!/usr/bin/env bats
# issue 2: import, images, rmi, the IMAGE shorthand, version and help.

load helpers

@test "import: a rootfs tarball becomes an image listed by rrun images" {
  run -0 rrun images
  [[ $output == *localhost/rrun-test-busybox* ]]
  run -0 rrun images --format json
  printf '%s' "$output" | /usr/bin/python3 -c '
import json, sys
data = json.load(sys.stdin)
assert isinstance(data, list), "a JSON list"
assert any("localhost/rrun-test-busybox" in json.dumps(i) for i in data), data'
}

@test "import: a gzip tarball works and a second import of the same name replaces it" {
  gzip -c "$FIXTURES/rootfs.tar" >"$BATS_TEST_TMPDIR/rootfs.tar.gz"
  run -0 rrun import "$BATS_TEST_TMPDIR/rootfs.tar.gz" localhost/rrun-test-gz
  run -0 rrun run --rm localhost/rrun-test-gz cat /srv/data/hello.txt
  [ "$output" = "hello from the image" ]
  run -0 rrun import "$FIXTURES/rootfs.tar" localhost/rrun-test-gz
  run -0 rrun images
  [ "$(grep -c 'localhost/rrun-test-gz' <<<"$output")" -eq 1 ]
  run -0 rrun rmi localhost/rrun-test-gz
}

@test "import: a short name becomes localhost/NAME:latest" {
  run -0 rrun import "$FIXTURES/rootfs.tar" rrun-test-short
  run -0 rrun run --rm localhost/rrun-test-short:latest true
  run -0 rrun rmi rrun-test-short
}

@test "import: a missing or broken tarball is an error and leaves nothing behind" {
  run -125 --separate-stderr rrun import /no/such/rootfs.tar localhost/rrun-test-missing
  [[ ${stderr_lines[0]} == "rrun: "*"/no/such/rootfs.tar"* ]]
  head -c 10000 "$FIXTURES/rootfs.tar" >"$BATS_TEST_TMPDIR/truncated.tar"
  run -125 --separate-stderr rrun import "$BATS_TEST_TMPDIR/truncated.tar" localhost/rrun-test-broken
  [[ ${stderr_lines[0]} == "rrun: "* ]]
  run -0 rrun images
  [[ $output != *rrun-test-missing* && $output != *rrun-test-broken* ]]
  no_leftovers
}

@test "import without a subordinate range: owners lost, and a run with a range says so" {
  local empty=$BATS_TEST_TMPDIR/empty store=$BATS_TEST_TMPDIR/store
  : >"$empty"
  # A private store: the shared one must keep its layers with their real owners.
  RRUN_SUBUID_FILE=$empty RRUN_SUBGID_FILE=$empty \
    run -0 rrun --root "$store" import "$FIXTURES/rootfs.tar" localhost/rrun-test-single
  [[ $output == *"belong to IDs outside the 1 mapped ID"* ]]
  run -0 rrun --root "$store" run --rm localhost/rrun-test-single stat -c %u /home/tester/secret
  [[ ${lines[0]} == *"of localhost/rrun-test-single lost "*" owner when the image was unpacked without a subordinate ID range"* ]]
  [[ $output == *"hint: to restore them, remove the image (rrun rmi localhost/rrun-test-single)"* ]]
  [ "${lines[-1]}" = 0 ]
  # Unpacked again with the range: the owners are back and the warning is gone.
  run -0 rrun --root "$store" rmi localhost/rrun-test-single
  run -0 rrun --root "$store" import "$FIXTURES/rootfs.tar" localhost/rrun-test-single
  run -0 rrun --root "$store" run --rm localhost/rrun-test-single stat -c %u /home/tester/secret
  [ "$output" = 1000 ]
  run -0 rrun --root "$store" system reset -f
}

@test "rmi: removes an image; a missing one is an error" {
  run -0 rrun import "$FIXTURES/rootfs.tar" localhost/rrun-test-rmi
  run -0 rrun rmi localhost/rrun-test-rmi
  run -0 rrun images
  [[ $output != *rrun-test-rmi* ]]
  run -125 --separate-stderr rrun run --rm localhost/rrun-test-rmi true
  run -125 --separate-stderr rrun rmi localhost/rrun-test-rmi
  [[ ${stderr_lines[0]} == "rrun: "*rrun-test-rmi* ]]
}

@test "rmi: by ID, an image with several names is refused without -f (as docker)" {
  local id
  run -0 rrun import "$FIXTURES/rootfs.tar" localhost/rrun-test-two
  id=${output:0:12}
  run -0 rrun tag localhost/rrun-test-two localhost/rrun-test-two:second
  run -125 rrun rmi "$id"
  [[ ${lines[0]} == "rrun: cannot remove image \"$id\": it has 2 names ("*"localhost/rrun-test-two:latest"*")" ]]
  [[ ${lines[1]} == "hint: remove the names one by one"* ]]
  run -0 rrun images
  [[ $output == *rrun-test-two* ]]
  run -0 rrun rmi -f "$id"
  run -0 rrun images
  [[ $output != *rrun-test-two* ]]
}

@test "shorthand: rrun IMAGE CMD runs like rrun run --rm -i" {
  run -0 rrun "$FIXTURE_IMAGE" echo hi
  [ "$output" = hi ]
  run -0 bash -c 'echo piped | "$@"' _ "${RRUN_CMD[@]}" "$FIXTURE_IMAGE" cat
  [ "$output" = piped ]
  run -3 rrun "$FIXTURE_IMAGE" sh -c 'exit 3'
  no_leftovers
}

@test "version and help" {
  run -0 rrun --version
  [[ $output == "rrun version "* ]]
  run -0 rrun help
  [[ $output == *run* && $output == *import* && $output == *images* && $output == *rmi* ]]
  run -0 rrun run --help
  [[ $output == *--rm* && $output == *--env* ]]
  run -125 rrun no-such-command-or-image-XYZ
}

# issue 19: a pull killed while it wrote a blob left blobs/sha256/HEX.tmp-PID for good.
@test "store: blob temp files of dead processes are removed by the next image write" {
  local dir=$STORAGE_ROOT/blobs/sha256 hex dead
  hex=$(printf '%064d' 7)
  sh -c 'exit 0' &
  dead=$!
  wait "$dead"
  sleep 30 &
  local live=$!
  touch "$dir/$hex.tmp-$dead" "$dir/$hex.tmp-$live" "$dir/$hex.tmp-notapid"
  run -0 rrun import "$FIXTURES/rootfs.tar" localhost/rrun-test-tmpblobs
  kill "$live"
  [ ! -e "$dir/$hex.tmp-$dead" ]
  # a live writer's file and names that are not ours stay
  [ -e "$dir/$hex.tmp-$live" ]
  [ -e "$dir/$hex.tmp-notapid" ]
  rm -f "$dir/$hex.tmp-$live" "$dir/$hex.tmp-notapid"
  run -0 rrun rmi localhost/rrun-test-tmpblobs
}
