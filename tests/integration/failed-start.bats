#!/usr/bin/env bats
# issue 2: a start that fails leaves no processes (fuse-overlayfs included), no mounts and
# no directories behind, and says why.

load helpers

@test "failed start: a nonexistent command leaves nothing behind" {
  run -127 --separate-stderr rrun run --rm "$FIXTURE_IMAGE" /no/such/cmd
  [ "${stderr_lines[0]}" = "$MISSING_CMD_MSG" ]
  no_leftovers
}

@test "failed start: a working dir that cannot exist is reported and leaves nothing behind" {
  # /etc/passwd is a file, so no runtime can create or enter /etc/passwd/x
  run -125 --separate-stderr rrun run --rm -w /etc/passwd/x "$FIXTURE_IMAGE" true
  [[ ${stderr_lines[0]} == "rrun: "*"/etc/passwd/x"* ]]
  no_leftovers
}

@test "failed start: a relative working dir is refused" {
  run -125 --separate-stderr rrun run --rm -w relative/dir "$FIXTURE_IMAGE" true
  [[ ${stderr_lines[0]} == "rrun: "*"relative/dir"* ]]
  no_leftovers
}

@test "failed start: without --rm a failed start still leaves no processes or mounts" {
  run -127 rrun run "$FIXTURE_IMAGE" /no/such/cmd
  local procs
  wait_until no_container_leftovers || true
  procs=$(container_leftovers)
  [ -z "$procs" ] || { echo "left: $procs"; false; }
  run -1 grep -qF "$STORAGE_ROOT" /proc/self/mountinfo
  chmod -R u+rwX "$STORAGE_ROOT/containers" 2>/dev/null || true
  rm -rf "${STORAGE_ROOT:?}/containers/"*
}

# How /dev/fuse is made unusable without touching the host: a user namespace of our own
# (unshare -r: we are root in it) with a private mount namespace where /dev is a fresh
# tmpfs holding only binds of null, zero, full, random, urandom, tty, pts, shm: no fuse.
# rrun runs in there as "root" of that namespace: newuidmap cannot help (its setuid owner
# is unmapped), so it maps one id, and fuse-overlayfs cannot open /dev/fuse (ENOENT).
run_without_dev_fuse() {
  unshare --user --map-root-user --mount -n --propagation private bash -c '
    set -e
    keep=$(mktemp -d)
    mount -n -t tmpfs none "$keep"
    for n in null zero full random urandom tty; do
      touch "$keep/$n"; mount -n --bind "/dev/$n" "$keep/$n"
    done
    mkdir "$keep/pts" "$keep/shm"
    mount -n --rbind /dev/pts "$keep/pts"
    mount -n --rbind /dev/shm "$keep/shm"
    mount -n -t tmpfs -o mode=755 none /dev
    for n in null zero full random urandom tty pts shm; do
      if [ -d "$keep/$n" ]; then mkdir "/dev/$n"; else touch "/dev/$n"; fi
      mount -n --move "$keep/$n" "/dev/$n"
    done
    ln -s pts/ptmx /dev/ptmx
    test ! -e /dev/fuse
    exec "$@"' _ "$@"
}

@test "failed start: an unusable /dev/fuse with fuse-overlayfs is a clear error and leaves nothing" {
  command -v fuse-overlayfs >/dev/null || skip "fuse-overlayfs is not installed"
  unshare --user --map-root-user true 2>/dev/null || skip "unprivileged user namespaces are disabled"
  run -125 --separate-stderr run_without_dev_fuse "$RRUN" --storage-driver fuse-overlayfs \
    run --rm "$FIXTURE_IMAGE" true
  local err
  echo "stderr: $stderr"
  # The single-mapping warning (with its hint) may come first; then the error and its hint.
  grep -q '^rrun: cannot [^:]*fuse-overlayfs: .*"/dev/fuse"' <<<"$stderr"
  grep -A1 '^rrun: cannot [^:]*fuse-overlayfs' <<<"$stderr" | grep -q '^hint: '

  no_leftovers
}

@test "failed start: fuse-overlayfs missing from PATH is a clear error naming the package" {
  local bin=$BATS_TEST_TMPDIR/bin p
  mkdir -p "$bin"
  # a PATH with everything of /usr/bin and /bin but fuse-overlayfs
  for p in /usr/bin/*; do
    [[ -d $p || ${p##*/} == fuse-overlayfs ]] || ln -sf "$p" "$bin/${p##*/}"
  done
  PATH=$bin run -125 --separate-stderr "$RRUN" --storage-driver fuse-overlayfs \
    run --rm "$FIXTURE_IMAGE" true
  [[ ${stderr_lines[0]} == "rrun: "*fuse-overlayfs* ]]
  [[ $stderr == *$'\nhint: '*"install fuse-overlayfs"* ]]
  no_leftovers
}

# issue 19: a setup error in the container (after PID 1 was reported) raced the host side's
# "go" byte and the network helper joining PID 1: "cannot start the container: Broken
# pipe", "cannot read the container's setup report: Connection reset by peer" or
# "rrun-net: cannot open /proc/PID/ns/net" came instead of the cause, ~8 times in 20.
@test "failed start: a mount error in the container is always the message (20 runs each)" {
  local attempt dir=$BATS_TEST_TMPDIR/dir
  mkdir -p "$dir"
  # Not for ((i...)): bats's run sets a global i of its own; a list cannot be reset.
  for attempt in {1..20}; do
    run -125 --separate-stderr rrun run --rm --tmpfs /etc/passwd/x "$FIXTURE_IMAGE" true
    [ "$stderr" = 'rrun: cannot create "/etc/passwd/x": Not a directory' ] \
      || { echo "run $attempt: $stderr"; false; }
    run -125 --separate-stderr rrun run --rm -v "$dir:/bin/sh" "$FIXTURE_IMAGE" true
    [ "$stderr" = 'rrun: cannot mount "/bin/sh": Not a directory' ] \
      || { echo "run $attempt: $stderr"; false; }
  done
  no_leftovers
}

@test "after all failures: no leftovers" {
  no_leftovers
}
