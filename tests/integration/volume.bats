#!/usr/bin/env bats
# issue 15: rrun volume create, ls, inspect, rm, prune, exists, and where volumes live.

load helpers

VOLUMES=${XDG_DATA_HOME:-$HOME/.local/share}/rrun/volumes

teardown() {
  # containers are kept once stopped: theirs would hold the volumes
  rrun rm -f $(rrun ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  rrun volume rm -f $(rrun volume ls -q 2>/dev/null) >/dev/null 2>&1 || true
}

@test "volume create: a named volume with labels; inspect shows docker's fields" {
  run -0 rrun volume create --label app=web --label tier data1
  [ "$output" = data1 ]
  [ -d "$VOLUMES/data1/_data" ]
  run -0 rrun volume inspect --format '{{.Name}} {{.Driver}} {{.Mountpoint}} {{.Scope}} {{json .Labels}} {{json .Options}}' data1
  [ "$output" = "data1 local $VOLUMES/data1/_data local {\"app\":\"web\",\"tier\":\"\"} {}" ]
  run -0 rrun volume inspect data1
  [[ $output == *'"CreatedAt": "20'* ]]
  [ "${lines[0]}" = "[" ]
  # create is idempotent, as docker's
  run -0 rrun volume create data1
  [ "$output" = data1 ]
  run -0 rrun volume exists data1
  run -1 rrun volume exists nope1
  run -0 rrun volume rm data1
  [ "$output" = data1 ]
  [ ! -e "$VOLUMES/data1" ]
  run -125 --separate-stderr rrun volume rm data1
  [ "${stderr_lines[0]}" = 'rrun: no such volume "data1"' ]
  run -0 rrun volume rm -f data1
}

@test "volume inspect and rm: a missing name among several is reported, the others are done" {
  rrun volume create several1 >/dev/null
  rrun volume create several2 >/dev/null
  run -125 --separate-stderr rrun volume inspect --format '{{.Name}}' several1 nope1 several2
  [ "$output" = "$(printf 'several1\nseveral2')" ]
  [ "${stderr_lines[0]}" = 'rrun: no such volume "nope1"' ]
  run -125 --separate-stderr rrun volume inspect several1 nope1
  [ "${lines[0]}" = "[" ]
  [[ $output == *'"Name": "several1"'* ]]
  [ "${lines[-1]}" = "]" ]
  run -125 --separate-stderr rrun volume rm several1 nope1
  [ "$output" = several1 ]
  [ "${stderr_lines[0]}" = 'rrun: no such volume "nope1"' ]
  run -0 --separate-stderr rrun volume rm -f nope1 several2
  [ "$output" = several2 ]
  [ "$stderr" = "" ]
  run -1 rrun volume exists several2
}

@test "volume create: a random name without one; bad names, drivers and root-only options are refused" {
  run -0 rrun volume create
  [[ $output =~ ^[0-9a-f]{64}$ ]]
  run -125 --separate-stderr rrun volume create _bad
  [ "${stderr_lines[0]}" = 'rrun: cannot create volume: invalid volume name "_bad"' ]
  [[ ${stderr_lines[1]} == 'hint: a volume name has at least two characters'* ]]
  run -125 --separate-stderr rrun volume create 'a/b'
  [ "${stderr_lines[0]}" = 'rrun: cannot create volume: invalid volume name "a/b"' ]
  run -125 --separate-stderr rrun volume create --driver nfsplugin v2
  [ "${stderr_lines[0]}" = 'rrun: cannot create volume: driver "nfsplugin" is not available' ]
  run -125 --separate-stderr rrun volume create --opt type=nfs --opt o=addr=10.0.0.1 --opt device=:/export v2
  [ "${stderr_lines[0]}" = 'rrun: cannot create volume: cannot use volume option type=nfs: rootless containers cannot mount it (only root may mount that file system)' ]
  [[ ${stderr_lines[1]} == 'hint: mount it on the host'*'then bind the mounted directory'* ]]
  run -125 --separate-stderr rrun volume create --opt color=red v2
  [[ ${stderr_lines[0]} == *'invalid volume option "color=red": expected type=, o= or device='* ]]
  run -1 rrun volume exists v2
}

@test "volume ls: table, -q, --format json and the name, label and dangling filters" {
  rrun volume create --label env=prod alpha1 >/dev/null
  rrun volume create --label env=dev beta1 >/dev/null
  run -0 rrun volume ls
  [ "${lines[0]}" = "DRIVER    VOLUME NAME" ]
  [ "${lines[1]}" = "local     alpha1" ]
  [ "${lines[2]}" = "local     beta1" ]
  run -0 rrun volume ls -q --filter name=alp
  [ "$output" = alpha1 ]
  run -0 rrun volume ls -q --filter label=env=dev
  [ "$output" = beta1 ]
  run -0 rrun volume ls -q --filter label=env
  [ "${#lines[@]}" -eq 2 ]
  run -0 rrun volume ls -q --filter dangling=true
  [ "${#lines[@]}" -eq 2 ]
  run -0 rrun volume ls --format json
  [[ $output == *'"Name": "alpha1"'* && $output == *'"Scope": "local"'* ]]
  run -125 --separate-stderr rrun volume ls --filter colour=red
  [ "${stderr_lines[0]}" = 'rrun: invalid filter "colour=red"' ]
}

@test "volume prune: anonymous volumes by default, named ones with --all; asks first" {
  rrun volume create keep1 >/dev/null
  rrun run --name pruned1 -v /anon "$FIXTURE_IMAGE" true
  local anon
  anon=$(rrun volume ls -q --filter dangling=false | grep -E '^[0-9a-f]{64}$')
  [ -n "$anon" ]
  # the stopped container still uses it: prune keeps it until the container is removed
  run -0 rrun volume prune -f
  run -0 rrun volume exists "$anon"
  run -0 rrun rm pruned1
  run -0 bash -c 'echo n | "$@" volume prune' _ "${RRUN_CMD[@]}"
  run -0 rrun volume exists "$anon"
  run -0 rrun volume prune -f
  [ "${lines[0]}" = "Deleted Volumes:" ]
  [[ $output == *"$anon"* && $output != *keep1* ]]
  [[ $output == *"Total reclaimed space:"* ]]
  run -1 rrun volume exists "$anon"
  run -0 rrun volume exists keep1
  run -0 rrun volume prune -f --all
  [[ $output == *keep1* ]]
  run -1 rrun volume exists keep1
}

@test "volume rm: a volume whose files belong to subordinate IDs is removed through the user namespace" {
  require_subid_range
  run -0 rrun run --rm -v owned1:/d "$FIXTURE_IMAGE" sh -c 'mkdir /d/sub && echo x >/d/sub/f && chown -R 1234:1234 /d/sub && chmod 700 /d/sub'
  [ "$(stat -c %u "$VOLUMES/owned1/_data/sub")" = $(($(subid_base uid) + 1233)) ]
  run -0 rrun volume rm owned1
  [ ! -e "$VOLUMES/owned1" ]
  run -0 find "$VOLUMES" -mindepth 1 -maxdepth 1 -name '.*'
  [ -z "$output" ]
}

@test "volumes live in XDG_DATA_HOME, [storage] volume_path overrides, and a network home moves them" {
  run -0 rrun info
  [[ $output == *"volumes"*"$VOLUMES ("* ]]
  local cfg=$BATS_TEST_TMPDIR/cfg
  mkdir -p "$cfg/rrun"
  printf '[storage]\nvolume_path = %s\n' "$BATS_TEST_TMPDIR/vols" >"$cfg/rrun/rrun.conf"
  XDG_CONFIG_HOME=$cfg run -0 rrun volume create over1
  [ -d "$BATS_TEST_TMPDIR/vols/over1/_data" ]
  XDG_CONFIG_HOME=$cfg run -0 rrun volume rm over1
  # a home on NFS: volumes go to local disk, as the image store does, and info says why
  local base=$BATS_TEST_TMPDIR/local
  mkdir -p "$base"
  RRUN_TEST_FSTYPE="nfs:$HOME" RRUN_TEST_LOCAL_BASE=$base run -0 rrun info
  [[ $output == *"volumes"*"$base/rrun-$(id -u)/volumes"* ]]
  [[ $output == *"volumes relocated from"*"$VOLUMES is on nfs"* ]]
  RRUN_TEST_FSTYPE="nfs:$HOME" RRUN_TEST_LOCAL_BASE=$base run rrun system check
  [[ $output == *"WARN  volumes: the default volume directory $VOLUMES is on nfs; volumes are kept in $base/rrun-$(id -u)/volumes instead"* ]]
  RRUN_TEST_FSTYPE="nfs:$HOME" RRUN_TEST_LOCAL_BASE=$base run -0 rrun volume create moved1
  [ -d "$base/rrun-$(id -u)/volumes/moved1/_data" ]
  [ ! -e "$VOLUMES/moved1" ]
  RRUN_TEST_FSTYPE="nfs:$HOME" RRUN_TEST_LOCAL_BASE=$base run -0 rrun volume rm moved1
}
