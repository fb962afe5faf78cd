#!/usr/bin/env bats
# --userns=nomap (issue 6, podman's): the user's own UID/GID is not mapped into the
# container; container 0..N-1 is the subordinate range only. rrun nests the command's
# user namespace in the default one, so the image store and fuse-overlayfs work as
# always, and fuse-overlayfs shows each stored id one up so image files keep their owners.

# shellcheck disable=SC2016 # the sh -c scripts expand inside the container
load helpers

# nomap needs fuse-overlayfs whatever pass this is (the overlay pass forces
# --storage-driver overlay, which nomap refuses: tested below with the driver given last).
setup() {
  command -v fuse-overlayfs >/dev/null || skip "--userns=nomap needs fuse-overlayfs"
  RRUN_STORAGE_DRIVER=fuse-overlayfs
}

@test "userns nomap: the command is root of a namespace holding only the subordinate range" {
  require_subid_range
  rrun_bg run --rm --userns=nomap "$FIXTURE_IMAGE" \
    sh -c 'trap "exit 0" TERM; id -u; id -g; echo ready; while :; do sleep 0.1; done'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  local pid count
  pid=$(container_pid1 "$RRUN_PID")
  [ -n "$pid" ]
  count=$(awk -F: -v u="$(id -un)" '$1 == u { print $3; exit }' /etc/subuid)
  # seen from the host: one line, container 0 = subuid_base, the range's length
  [ "$(awk '{ print $1, $2, $3 }' "/proc/$pid/uid_map")" = "0 $(subid_base uid) $count" ]
  [ "$(wc -l <"/proc/$pid/uid_map")" -eq 1 ]
  [ "$(awk '{ print $1, $2 }' "/proc/$pid/gid_map")" = "0 $(subid_base gid)" ]
  # the user's own id is nowhere in it
  run -0 awk -v u="$(id -u)" '$2 <= u && u < $2 + $3' "/proc/$pid/uid_map"
  [ -z "$output" ]
  [ "$(sed -n 1p "$BATS_TEST_TMPDIR/bg.out")" = 0 ]
  [ "$(sed -n 2p "$BATS_TEST_TMPDIR/bg.out")" = 0 ]
  kill -TERM "$RRUN_PID"
  wait_bg
  [ "$BG_STATUS" -eq 0 ]
  no_leftovers
}

@test "userns nomap: image files owned by root are root's inside, and writes work" {
  require_subid_range
  run -0 rrun run --rm --userns=nomap "$FIXTURE_IMAGE" sh -c '
    stat -c "%u:%g" /bin /etc
    echo x >/etc/new && stat -c "%u:%g" /etc/new
    chown 1000:1000 /etc/new && stat -c "%u:%g" /etc/new'
  [ "${lines[0]}" = 0:0 ]
  [ "${lines[1]}" = 0:0 ]
  [ "${lines[2]}" = 0:0 ]
  [ "${lines[3]}" = 1000:1000 ]
}

@test "userns nomap: a file created in a bind mount is subuid_base's on the host; the user's files are nobody's" {
  require_subid_range
  local dir=$BATS_TEST_TMPDIR/shared
  mkdir -p "$dir"
  chmod 0777 "$dir"
  echo mine >"$dir/mine"
  run -0 rrun run --rm --userns=nomap -v "$dir:/data" "$FIXTURE_IMAGE" sh -c '
    touch /data/made; stat -c "%u:%g" /data/mine'
  [ "$output" = 65534:65534 ]
  [ "$(stat -c %u "$dir/made")" -eq "$(subid_base uid)" ]
  [ "$(stat -c %g "$dir/made")" -eq "$(subid_base gid)" ]
  rm -f "$dir/made" 2>/dev/null || true
}

@test "userns nomap: the kernel overlay driver is refused with the fix" {
  require_subid_range
  run -125 rrun --storage-driver overlay run --rm --userns=nomap "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --userns=nomap with the kernel overlay driver: only fuse-overlayfs can show the image'"'"'s files with their owners remapped' ]
  [ "${lines[1]}" = 'hint: use --storage-driver fuse-overlayfs (the default for nomap)' ]
}

@test "userns nomap: without a subordinate range it is impossible, and says how to get one" {
  use_no_subid_range
  run -125 rrun run --rm --userns=nomap "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: cannot use --userns=nomap: no range for "'*'" in '* ]]
  [[ $output == *'hint: ask an administrator to run: sudo subuid-setup.sh '* ]]
}
