#!/usr/bin/env bats
# The container spec (docs/architecture.md, "Containers: spec, verbs, record"): every
# option is checked before the image is looked up or pulled, and the spec is stored in the
# container's one record in the store.

load helpers

# An image whose lookup would fail loudly (no such registry: 127.0.0.1:1 refuses), pulled
# always: an option error that came after the lookup would read as a registry error.
NO_IMAGE=127.0.0.1:1/no/such-image:latest

@test "spec: a bad -p fails before the image lookup, naming the option" {
  run -125 timeout 20 "$RRUN" run --rm --pull=always -p notaport "$NO_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid -p "notaport": bad container port "notaport" (1-65535 or a range A-B)' ]
}

@test "spec: a relative -v fails before the image lookup, naming the option" {
  run -125 timeout 20 "$RRUN" run --rm --pull=always -v ./relative:/x "$NO_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid volume "./relative:/x": "./relative" is neither an absolute host path nor a volume name' ]
}

@test "spec: a bad --memory fails before the image lookup, naming the option" {
  run -125 timeout 20 "$RRUN" run --rm --pull=always --memory 1x "$NO_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "1x" for --memory: expected a size such as 512m or 2g' ]
}

@test "spec: a bad --network fails before the image lookup, naming the option" {
  run -125 timeout 20 "$RRUN" run --rm --pull=always --network bogus "$NO_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --network "bogus": no such network' ]
}

@test "spec: --ipc, --userns, --cgroups, --pull and --name are checked before the lookup" {
  run -125 timeout 20 "$RRUN" run --rm --pull=always --ipc weird "$NO_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "weird" for --ipc: expected private, host, shareable, none or container:NAME' ]
  run -125 timeout 20 "$RRUN" run --rm --pull=always --userns what "$NO_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "what" for --userns: expected auto, keep-id, nomap or single' ]
  run -125 timeout 20 "$RRUN" run --rm --pull=always --cgroups on "$NO_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "on" for --cgroups: expected enabled or disabled' ]
  run -125 timeout 20 "$RRUN" run --rm --pull=sometimes "$NO_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid pull policy "sometimes"' ]
  run -125 timeout 20 "$RRUN" run --rm --pull=always --name $'web\nfake row' "$NO_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid container name "web\nfake row": only [a-zA-Z0-9][a-zA-Z0-9_.-]* is allowed' ]
  # and none of them left anything in the store
  run -0 find "$STORAGE_ROOT/containers" -mindepth 1
  [ -z "$output" ]
}

@test "spec: the running container's record in the store holds its spec" {
  # PID 1 ignores signals it has no handler for: this one ends on SIGTERM
  rrun_bg run --rm --name spec-rec -e GREETING=hi --tmpfs /scratch -w /tmp "$FIXTURE_IMAGE" \
    sh -c 'trap "exit 0" TERM; sleep 30 & wait'

  local rec
  rec_found() { rec=$(grep -l '"spec-rec"' "$STORAGE_ROOT"/containers/*/container.json 2>/dev/null); [ -n "$rec" ]; }
  wait_until rec_found
  run -0 jq -r '.spec.name, .spec.env[0], .spec.tmpfs[0], .spec.workdir, .spec.rm, .spec.args[0]' "$rec"
  [ "${lines[*]}" = "spec-rec GREETING=hi /scratch /tmp true sh" ]
  # the record sits beside the writable layer and its lock, in one directory
  local dir
  dir=$(dirname "$rec")
  [ -d "$dir/upper" ]
  [ -d "$dir/work" ]
  [ -f "$dir/lock" ]
  # the record is written before the command runs: SIGTERM once its trap is in place
  wait_until pid1_catches_signal spec-rec 15
  kill -TERM "$RRUN_PID"
  wait_bg
  [ "$BG_STATUS" -eq 0 ]
  [ ! -e "$dir" ]
  no_leftovers
}

@test "spec: a record whose rrun was killed is not listed and the next run removes it" {
  rrun_bg run --rm --name spec-killed "$FIXTURE_IMAGE" sleep 30
  local id
  ps_has() { id=$(rrun ps --format json 2>/dev/null | jq -r '.[0].Id // empty'); [ -n "$id" ]; }
  wait_until ps_has
  [ -d "$STORAGE_ROOT/containers/$id" ]
  [ -d "$RUN_ROOT/containers/$id" ]
  kill -KILL "$RRUN_PID"
  wait "$RRUN_PID" || true
  # its PID 1 dies with the holder; the record stays, unlocked: stale
  gone() { [ -z "$(rrun ps -q)" ]; }
  wait_until gone
  run -0 rrun run --rm "$FIXTURE_IMAGE" true
  [ ! -e "$STORAGE_ROOT/containers/$id" ]
  [ ! -e "$RUN_ROOT/containers/$id" ]
  no_leftovers
}
