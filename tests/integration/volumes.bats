#!/usr/bin/env bats
# issue 6 on laptops and HPC nodes: bind mounts, tmpfs, a read-only root, --userns=keep-id
# (files written into a bind mount keep the user's own owner, layers are not copied), root
# emulation (--root-emulation) and single-ID mode's honest chown, and the host's IPC namespace for MPI.

load helpers

setup() {
  DATA=$BATS_TEST_TMPDIR/data
  mkdir -p "$DATA"
  echo from-host >"$DATA/file"
}

@test "volumes: a bind-mounted directory is read and written; the file keeps its content" {
  run -0 rrun run --rm -v "$DATA:/data" "$FIXTURE_IMAGE" sh -c 'cat /data/file; echo new >/data/out'
  [ "$output" = from-host ]
  [ "$(cat "$DATA/out")" = new ]
  no_leftovers
}

@test "volumes: :ro makes writes fail with EROFS; a single file can be bound too" {
  run -1 rrun run --rm -v "$DATA:/data:ro" "$FIXTURE_IMAGE" touch /data/x
  [[ $output == *"Read-only file system"* ]]
  [ ! -e "$DATA/x" ]
  run -0 rrun run --rm -v "$DATA/file:/etc/from-host:ro" "$FIXTURE_IMAGE" cat /etc/from-host
  [ "$output" = from-host ]
}

@test "volumes: a command a volume brings onto PATH is found in PATH order, before the image's" {
  # rrun skips PATH entries whose directory lacks the command in every layer; one under a
  # volume must still be searched (busybox's true is in /bin, after /usr/local/bin).
  mkdir -p "$DATA/bin"
  printf '#!/bin/sh\necho from-volume\n' >"$DATA/bin/true"
  chmod 755 "$DATA/bin/true"
  run -0 rrun run --rm -v "$DATA/bin:/usr/local/bin:ro" "$FIXTURE_IMAGE" true
  [ "$output" = from-volume ]
  run -0 rrun run --rm -v "$DATA/bin/true:/usr/sbin/true:ro" "$FIXTURE_IMAGE" true
  [ "$output" = from-volume ]
  if command -v fuse-overlayfs >/dev/null; then
    run -0 "$RRUN" --storage-driver fuse-overlayfs run --rm --userns keep-id \
      -v "$DATA/bin:/usr/local/bin:ro" "$FIXTURE_IMAGE" true
    [ "$output" = from-volume ]
  fi
  run -127 rrun run --rm "$FIXTURE_IMAGE" no-such-command
  no_leftovers
}

@test "volumes: relative and missing host paths are refused with a hint, and nothing is left" {
  run -125 --separate-stderr rrun run --rm -v data/x:/data "$FIXTURE_IMAGE" true
  [[ ${stderr_lines[0]} == 'rrun: invalid volume "data/x:/data": "data/x" is neither an absolute host path nor a volume name' ]]
  [[ ${stderr_lines[1]} == hint:* ]]
  run -125 --separate-stderr rrun run --rm -v "$DATA/missing:/m" "$FIXTURE_IMAGE" true
  [[ ${stderr_lines[0]} == "rrun: cannot mount volume \"$DATA/missing\": No such file or directory" ]]
  [ ! -e "$DATA/missing" ]
  no_leftovers
}

@test "volumes: a volume holding the run root brings in no mount of rrun's, and 13 of them fit" {
  # Without XDG_RUNTIME_DIR the run root is /tmp/rrun-UID: -v /tmp:/x once showed this
  # container's own root tree (merged/, its /proc unmasked) under /x, 18 mounts a volume.
  local parent expected inside volumes=()
  parent=$(dirname "$RUN_ROOT")
  [[ $parent != / ]] || skip "the run root's parent is /"
  run -0 rrun run -d --name vol-other "$FIXTURE_IMAGE" sleep 60
  # inside: the volume itself, then one mount per host mount below its source
  expected=$(($(awk -v p="$parent/" 'index($5, p) == 1' /proc/self/mountinfo | wc -l) + 1))
  run -0 rrun run --rm -v "$parent:/x" "$FIXTURE_IMAGE" \
    awk '$5 == "/x" || index($5, "/x/") == 1 { print $5 }' /proc/self/mountinfo
  inside=$output
  [[ $inside != *merged* ]]
  [ "${#lines[@]}" -eq "$expected" ]
  run -0 rrun run --rm -v "$parent:/x" "$FIXTURE_IMAGE" \
    find "/x/$(basename "$RUN_ROOT")/containers" -mindepth 3 -maxdepth 3 -path '*/merged/*'
  [ "$output" = "" ]
  for i in $(seq 13); do volumes+=(-v "$parent:/x$i"); done
  run -0 rrun run --rm "${volumes[@]}" "$FIXTURE_IMAGE" sh -c 'wc -l </proc/self/mountinfo'
  [ "$output" -lt 200 ]
  run -0 rrun rm -f vol-other
  no_leftovers
}

@test "tmpfs and read-only: --tmpfs mounts a tmpfs; --read-only refuses writes to the root" {
  run -0 rrun run --rm --tmpfs /scratch:size=1m,mode=700 "$FIXTURE_IMAGE" \
    sh -c 'grep " /scratch " /proc/self/mountinfo; stat -c %a /scratch'
  [[ ${lines[0]} == *tmpfs* ]]
  [ "${lines[1]}" = 700 ]
  run -1 rrun run --rm --read-only "$FIXTURE_IMAGE" touch /newfile
  [[ $output == *"Read-only file system"* ]]
  run -0 rrun run --rm --read-only --tmpfs /tmp "$FIXTURE_IMAGE" touch /tmp/ok
}

@test "keep-id: my uid inside equals the host's, files in a bind mount keep my owner" {
  command -v fuse-overlayfs >/dev/null || skip "keep-id needs fuse-overlayfs"
  # keep-id needs fuse-overlayfs whatever pass this is (overlay refuses it, with a hint)
  run -0 "$RRUN" --storage-driver fuse-overlayfs run --rm --userns keep-id -v "$DATA:/data" \
    "$FIXTURE_IMAGE" sh -c 'id -u; id -g; touch /data/mine; id -un; stat -c %u /bin/busybox'
  [ "${lines[0]}" = "$(id -u)" ]
  [ "${lines[1]}" = "$(id -g)" ]
  [ "${lines[2]}" = "$(id -un)" ]
  # the image's root-owned files still show as root: remapped at mount time, not copied
  [ "${lines[3]}" = 0 ]
  [ "$(stat -c %u "$DATA/mine")" = "$(id -u)" ]
  no_leftovers
  run -125 "$RRUN" --storage-driver overlay run --rm --userns keep-id "$FIXTURE_IMAGE" true
  [[ $output == *"--storage-driver fuse-overlayfs"* ]]
}

@test "root emulation: without a subuid range, chown to another owner fails as the kernel says; --root-emulation fakes it" {
  local empty=$BATS_TEST_TMPDIR/empty
  : >"$empty"
  RRUN_SUBUID_FILE=$empty RRUN_SUBGID_FILE=$empty \
    run -1 rrun -q run --rm "$FIXTURE_IMAGE" sh -c 'touch /x && chown 5:5 /x'
  [ "$output" = "chown: /x: Invalid argument" ]
  RRUN_SUBUID_FILE=$empty RRUN_SUBGID_FILE=$empty \
    run -0 rrun -q run --rm --root-emulation "$FIXTURE_IMAGE" sh -c 'touch /x && chown 5:5 /x && echo chown-ok'
  [ "$output" = chown-ok ]
  RRUN_SUBUID_FILE=$empty RRUN_SUBGID_FILE=$empty \
    run -1 rrun -q run --rm --no-root-emulation "$FIXTURE_IMAGE" sh -c 'touch /x && chown 5:5 /x'
  no_leftovers
}

@test "ipc host: the host's System V message queues are visible with --ipc host only" {
  command -v ipcmk >/dev/null || skip "ipcmk is not installed"
  local id
  id=$(ipcmk -Q | awk '{print $NF}')
  run -0 rrun run --rm --ipc host "$FIXTURE_IMAGE" cat /proc/sysvipc/msg
  [[ $output == *" $id "* ]]
  run -0 rrun run --rm "$FIXTURE_IMAGE" cat /proc/sysvipc/msg
  [[ $output != *" $id "* ]]
  ipcrm -q "$id"
}

@test "batch use: stdio passes through, the exit code propagates, SIGTERM reaches the command" {
  run -0 bash -c 'printf "a\nb\n" | "$@" run --rm -i --network host --ipc host "'"$FIXTURE_IMAGE"'" wc -l' _ "${RRUN_CMD[@]}"
  [ "$output" = 2 ]
  run -3 rrun run --rm --network host "$FIXTURE_IMAGE" sh -c 'exit 3'
  no_leftovers
}
