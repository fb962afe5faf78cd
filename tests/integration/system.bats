#!/usr/bin/env bats
# rrun system check and rrun info (issue 6), and the move of a default storage root off a
# network file system. Run as the test user; every check provoked here is provoked without
# touching the machine: an empty subuid file, RRUN_TEST_FSTYPE, an unset XDG_RUNTIME_DIR,
# a private /dev without fuse in a user namespace of our own.

# shellcheck disable=SC2154 # bats sets $stderr for run --separate-stderr
load helpers

setup_file() {
  common_setup_file
}

# Every line is a check ("PASS|WARN|FAIL  name: detail") or the fix under the one before
# it; the exit status is 1 exactly when a line is FAIL.
check_shape() { # STATUS OUTPUT
  local status=$1 out=$2 line prev=PASS fails=0
  while IFS= read -r line; do
    if [[ $line =~ ^(PASS|WARN|FAIL)\ \ [a-z_-]+:\ . ]]; then
      prev=${BASH_REMATCH[1]}
      [[ $prev == FAIL ]] && fails=$((fails + 1))
    elif [[ $line =~ ^\ {6}fix:\ . ]]; then
      [[ $prev != PASS ]] || { echo "fix under a PASS: $line"; return 1; }
    else
      echo "unexpected line: $line"
      return 1
    fi
  done <<<"$out"
  if ((fails > 0)); then [ "$status" -eq 1 ]; else [ "$status" -eq 0 ]; fi
}

@test "system check: one line per check, a fix under each problem, exit 1 only on FAIL" {
  run rrun system check
  echo "$output"
  check_shape "$status" "$output"
  for name in subuid subgid newuidmap newgidmap max_user_namespaces userns fuse volumes \
    fuse-overlayfs kernel_overlay tun rrun-net storage run_root cgroups ping_group_range \
    unprivileged_ports; do
    grep -Eq "^(PASS|WARN|FAIL)  $name: " <<<"$output" || { echo "no check $name"; false; }
  done
}

@test "system check: a user with no subordinate range is a FAIL naming subuid-setup.sh" {
  use_no_subid_range
  run -1 rrun system check
  echo "$output"
  check_shape "$status" "$output"
  grep -q "^FAIL  subuid: no range for \"$(id -un)\" in $RRUN_SUBUID_FILE" <<<"$output"
  grep -A1 '^FAIL  subuid:' <<<"$output" | grep -qx "      fix: sudo subuid-setup.sh $(id -un)"
  grep -A1 '^FAIL  subgid:' <<<"$output" | grep -qx "      fix: sudo subuid-setup.sh $(id -un)"
}

@test "system check --format json: every check with status, detail and fix" {
  run rrun system check --format json
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
names = [c["name"] for c in d["checks"]]
assert "storage" in names and "subuid" in names, names
for c in d["checks"]:
    assert c["status"] in ("PASS", "WARN", "FAIL"), c
    assert c["detail"], c
    if c["status"] == "PASS":
        assert c["fix"] is None, c
assert d["ok"] == (not any(c["status"] == "FAIL" for c in d["checks"]))
assert d["ok"] == (int(sys.argv[2]) == 0)
' "$output" "$status"
}

@test "system check: storage on a network file system is a FAIL with the config fix" {
  # Everything looks like NFS here, so there is no local place to move to.
  RRUN_TEST_FSTYPE=nfs run -1 rrun system check
  echo "$output"
  grep -q "^FAIL  storage: $STORAGE_ROOT is on nfs, which cannot hold overlay layers" <<<"$output"
  grep -A1 '^FAIL  storage:' <<<"$output" | grep -q "^      fix: mkdir -p ~/.config/rrun && printf '\[storage\]"
}

@test "storage: a default root on NFS moves to a local directory, said once, and run works" {
  local base=$BATS_TEST_TMPDIR/local moved
  mkdir -p "$base"
  export RRUN_TEST_FSTYPE="nfs:$HOME" RRUN_TEST_LOCAL_BASE=$base
  moved=$base/rrun-$(id -u)/storage

  run -0 --separate-stderr rrun images
  [[ $stderr == *"rrun: warning: image storage \"$STORAGE_ROOT\" is on nfs"*"using \"$moved\" on this machine instead"* ]]
  [ "$(stat -c %a "$base/rrun-$(id -u)")" = 700 ]
  [ "$(stat -c %a "$moved")" = 700 ]
  run -0 --separate-stderr rrun images
  [ -z "$stderr" ]

  run -0 rrun system check
  grep -q "^WARN  storage: the default storage $STORAGE_ROOT is on nfs; images are kept in $moved" <<<"$output"

  run -0 rrun import "$FIXTURES/rootfs.tar" localhost/moved:latest
  run -0 rrun run --rm localhost/moved:latest echo moved-ok
  [ "${lines[-1]}" = moved-ok ]
  # the image's layer and record are in the moved store
  [ -n "$(ls -A "$moved/layers")" ]
  [ -n "$(ls -A "$moved/images")" ]

  run -0 rrun info --format json
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["storage"]["root"] == sys.argv[2], d["storage"]
assert d["storage"]["relocated_from"] == sys.argv[3], d["storage"]
assert d["storage"]["relocated_from_fs"] == "nfs"
' "$output" "$moved" "$STORAGE_ROOT"

  rrun rmi -f localhost/moved:latest >/dev/null
}

@test "storage: an explicit --root on NFS is refused, not moved" {
  RRUN_TEST_FSTYPE="nfs:$HOME" RRUN_TEST_LOCAL_BASE=$BATS_TEST_TMPDIR \
    run -125 rrun --root "$HOME/explicit-root" images
  [ "${lines[0]}" = "rrun: cannot use image storage \"$HOME/explicit-root\": it is on nfs, which cannot hold overlay layers or files of subordinate IDs" ]
  [[ ${lines[1]} == hint:* ]]
  [ ! -e "$BATS_TEST_TMPDIR/rrun-$(id -u)" ]
}

@test "storage: a local directory to move to that is open to others is refused; check still runs" {
  local base=$BATS_TEST_TMPDIR/hostile
  mkdir -p "$base/rrun-$(id -u)"
  chmod 0777 "$base/rrun-$(id -u)"
  export RRUN_TEST_FSTYPE="nfs:$HOME" RRUN_TEST_LOCAL_BASE=$base
  run -125 rrun images
  [ "${lines[0]}" = "rrun: cannot move image storage off nfs: cannot use directory \"$base/rrun-$(id -u)\": it is not a directory owned by uid $(id -u) and closed to others" ]
  [[ ${lines[1]} == hint:* ]]
  [ ! -e "$base/rrun-$(id -u)/storage" ]
  run -1 rrun system check
  grep -q "^FAIL  storage: $STORAGE_ROOT is on nfs" <<<"$output"
}

@test "system check: no XDG_RUNTIME_DIR is a WARN and containers still run" {
  local tmp=$BATS_TEST_TMPDIR/tmp
  mkdir -p "$tmp"
  run env -u XDG_RUNTIME_DIR TMPDIR="$tmp" "${RRUN_CMD[@]}" system check
  echo "$output"
  grep -q "^WARN  run_root: XDG_RUNTIME_DIR is not set: the /tmp fallback $tmp/rrun-$(id -u) is used" <<<"$output"
  [ "$(stat -c '%a %u' "$tmp/rrun-$(id -u)")" = "700 $(id -u)" ]
  run -0 env -u XDG_RUNTIME_DIR TMPDIR="$tmp" "${RRUN_CMD[@]}" run --rm "$FIXTURE_IMAGE" echo no-xdg-ok
  [ "${lines[-1]}" = no-xdg-ok ]
}

@test "system check: a run directory someone opened to others is a FAIL" {
  local tmp=$BATS_TEST_TMPDIR/tmp2
  mkdir -p "$tmp/rrun-$(id -u)"
  chmod 0777 "$tmp/rrun-$(id -u)"
  run -1 env -u XDG_RUNTIME_DIR TMPDIR="$tmp" "${RRUN_CMD[@]}" system check
  grep -q "^FAIL  run_root: cannot use run directory \"$tmp/rrun-$(id -u)\": it is not a directory owned by uid $(id -u) and closed to others" <<<"$output"
}

@test "system check: /dev/fuse and /dev/net/tun missing (private /dev) are WARNs with fixes" {
  unshare --user --map-root-user true 2>/dev/null || skip "unprivileged user namespaces are disabled"
  use_no_subid_range
  # root of a user namespace of our own, with a fresh /dev holding only null: no fuse, no tun.
  # shellcheck disable=SC2016 # expanded by the inner bash
  run unshare --user --map-root-user --mount --propagation private bash -c '
    set -e
    keep=$(mktemp -d); touch "$keep/null"; mount -n --bind /dev/null "$keep/null"
    mount -n -t tmpfs -o mode=755 none /dev
    touch /dev/null; mount -n --move "$keep/null" /dev/null
    exec "$@"' _ "$RRUN" system check
  echo "$output"
  grep -q '^WARN  fuse: cannot open "/dev/fuse": No such file or directory' <<<"$output"
  grep -A1 '^WARN  fuse:' <<<"$output" | grep -qx '      fix: sudo modprobe fuse'
  grep -q '^WARN  tun: cannot open "/dev/net/tun": No such file or directory' <<<"$output"
}

@test "system check: a /dev/fuse closed to this user is a WARN with the subuid-setup.sh --fix" {
  unshare --user --map-root-user true 2>/dev/null || skip "unprivileged user namespaces are disabled"
  # A file of the real root that this user cannot open stands in for a 0600 /dev/fuse: in
  # a user namespace of our own its owner is unmapped, so our "root" cannot override.
  [[ -e /etc/shadow && ! -r /etc/shadow ]] || skip "no root-only /etc/shadow to stand in for a closed /dev/fuse"
  use_no_subid_range
  # shellcheck disable=SC2016 # expanded by the inner bash
  run unshare --user --map-root-user --mount --propagation private bash -c '
    set -e
    keep=$(mktemp -d); touch "$keep/null"; mount -n --bind /dev/null "$keep/null"
    mount -n -t tmpfs -o mode=755 none /dev
    touch /dev/null; mount -n --move "$keep/null" /dev/null
    touch /dev/fuse; mount -n --bind /etc/shadow /dev/fuse
    exec "$@"' _ "$RRUN" system check
  echo "$output"
  grep -q '^WARN  fuse: cannot open "/dev/fuse": Permission denied (fuse-overlayfs needs it)$' <<<"$output"
  grep -A1 '^WARN  fuse:' <<<"$output" | grep -qx '      fix: sudo subuid-setup.sh --fix'
}

@test "info: the table names version, mappings, storage with its file system, cgroups" {
  run -0 rrun info
  echo "$output"
  [[ $output == *"version"*"kernel                   Linux $(uname -r)"* ]]
  grep -Eq "^  root +$STORAGE_ROOT \([a-z0-9]+\)$" <<<"$output"
  grep -Eq "^  uid_map +0 $(id -u) 1$" <<<"$output"
  grep -Eq '^  driver \(auto picks\) +(overlay|fuse-overlayfs): ' <<<"$output"
  grep -Eq '^  version +(none|v1|hybrid|v2)' <<<"$output"
}

@test "info --format json parses and names the storage root and the run root" {
  run -0 rrun info --format json
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["storage"]["root"] == sys.argv[2], d["storage"]
assert d["storage"]["root_fs"], d["storage"]
assert d["runtime"]["run_root"] == sys.argv[3], d["runtime"]
assert d["idmap"]["uid_map"].startswith("0 %s 1" % sys.argv[4]), d["idmap"]
assert d["cgroups"]["version"] in ("none", "v1", "hybrid", "v2")
assert isinstance(d["config_files"], list) and isinstance(d["registries"], list)
assert d["user"]["uid"] == int(sys.argv[4])
' "$output" "$STORAGE_ROOT" "$RUN_ROOT" "$(id -u)"
}

@test "info and system check: a bad --format is refused" {
  run -125 rrun info --format yaml
  [ "${lines[0]}" = 'rrun: invalid --format "yaml": expected table or json' ]
  run -125 rrun system check --format yaml
  run -125 rrun system
  [ "${lines[0]}" = 'rrun: system: missing subcommand' ]
}

@test "system reset: refused while a container runs, asks first, then empties the store (files of subordinate ids too)" {
  local root=$BATS_TEST_TMPDIR/reset
  local -a r=(--root "$root/storage" --runroot "$root/run")
  run -0 rrun "${r[@]}" import "$FIXTURES/rootfs.tar" localhost/reset
  # the fixture has files owned by 1000: on the host they belong to a subordinate id
  if [ -n "$(subid_base uid 2>/dev/null || true)" ]; then
    [ -n "$(find "$root/storage" ! -user "$(id -un)" -print -quit)" ]
  fi
  rrun_bg "${r[@]}" run --rm --init --network none "localhost/reset" sh -c 'echo ready; exec sleep 30'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  run -125 rrun "${r[@]}" system reset -f
  [ "${lines[0]}" = "rrun: cannot reset: 1 container is running" ]
  kill -TERM "$RRUN_PID"
  wait_bg
  run -125 bash -c 'echo n | "$@"' _ "${RRUN_CMD[@]}" "${r[@]}" system reset
  [[ $output == *"rrun: system reset cancelled: not confirmed"* ]]
  [ -d "$root/storage/layers" ]
  [ -n "$(ls -A "$root/storage/layers")" ]
  run -0 bash -c 'echo y | "$@"' _ "${RRUN_CMD[@]}" "${r[@]}" system reset
  [[ $output == *"Removed the image store $root/storage"* ]]
  [ "$(ls -A "$root/storage")" = lock ]
  run -0 rrun "${r[@]}" images -q
  [ -z "$output" ]
  rm -rf "$root"
  [ ! -e "$root" ]
}

# issue 19: a truncated image.json made the image vanish, with a warning on every command
# and "not found" from rmi -f ID; a corrupt container.json hid a running container; a
# directory as the store's lock stopped every command, reset included, with no hint.
@test "damaged records: listed as damaged, removable by id, found and fixed by system check --repair" {
  local root=$BATS_TEST_TMPDIR/store keep id id2 cid
  ensure_fixtures
  r() { rrun --root "$root" "$@"; }
  r import "$FIXTURES/rootfs.tar" keep >/dev/null
  keep=$(ls "$root/images")
  sleep 1 # another created time, another image id
  r import "$FIXTURES/rootfs.tar" dmg >/dev/null
  id=$(ls "$root/images" | grep -v "$keep")
  [ -n "$id" ]
  truncate -s 20 "$root/images/$id/image.json"
  run -0 --separate-stderr r images
  [[ $output == *"<damaged>"*"${id:0:12}"*DAMAGED* ]]
  [[ $stderr == "rrun: warning: image ${id:0:12} is damaged: "*"hint: remove it with 'rrun rmi -f ${id:0:12}'"* ]]
  # said where it is listed, not on every command
  run -0 --separate-stderr r run --rm keep true
  [ "$stderr" = "" ]
  run -125 --separate-stderr r run --rm "${id:0:12}" true
  [[ ${stderr_lines[0]} == "rrun: image ${id:0:12} is damaged: "* ]]
  run -0 r rmi -f "${id:0:12}"
  [ ! -e "$root/images/$id" ]

  r run --name dmgc keep true
  cid=$(ls "$root/containers")
  echo '{' >"$root/containers/$cid/container.json"
  run -0 --separate-stderr r ps -a
  [[ ${lines[1]} == "${cid:0:12} "*Damaged* ]]
  [[ $stderr == "rrun: warning: container ${cid:0:12} is damaged: "*"hint: remove it with 'rrun rm -f ${cid:0:12}'"* ]]
  run -125 --separate-stderr r start "${cid:0:12}"
  [[ ${stderr_lines[0]} == "rrun: container ${cid:0:12} is damaged: "* ]]
  run -0 r rm -f "${cid:0:12}"
  [ ! -e "$root/containers/$cid" ]

  # a running container whose record is damaged stays in ps; rm -f stops and removes it
  r run -d --name live keep sleep 100 >/dev/null
  cid=$(ls "$root/containers")
  truncate -s 10 "$root/containers/$cid/container.json"
  run -0 --separate-stderr r ps
  [[ ${lines[1]} == "${cid:0:12} "*"Damaged (its rrun is running)"* ]]
  run -0 r rm -f "$cid"
  [ ! -e "$root/containers/$cid" ]
  wait_until no_container_leftovers

  sleep 1
  r import "$FIXTURES/rootfs.tar" dmg2 >/dev/null
  id2=$(ls "$root/images" | grep -v "$keep")
  echo x >"$root/images/$id2/image.json"
  r run --name dmgc2 keep true
  cid=$(ls "$root/containers")
  echo '[]' >"$root/containers/$cid/container.json"
  run r system check
  [[ $output == *"WARN  image: image ${id2:0:12} is damaged: "* ]]
  [[ $output == *"fix: rrun rmi -f ${id2:0:12}"* ]]
  [[ $output == *"WARN  container: container ${cid:0:12} is damaged: "* ]]
  [[ $output == *"fix: rrun rm -f ${cid:0:12}"* ]]
  run r system check --repair
  [[ $output == *"PASS  image: repaired: removed the damaged image ${id2:0:12}"* ]]
  [[ $output == *"PASS  container: repaired: removed the damaged container ${cid:0:12}"* ]]
  [ "$(ls "$root/images")" = "$keep" ]
  [ "$(ls "$root/containers")" = "" ]
  run -0 r run --rm keep echo healthy
  [ "$output" = healthy ]

  rm "$root/lock"
  mkdir "$root/lock"
  run -125 --separate-stderr r images
  [ "${stderr_lines[0]}" = "rrun: cannot open lock file \"$root/lock\": Is a directory" ]
  [[ ${stderr_lines[1]} == "hint: "*"'rrun system check --repair'"* ]]
  run -1 r system check
  [[ $output == *"FAIL  store_lock: $root/lock is not a regular file"* ]]
  run r system check --repair
  [[ $output == *"PASS  store_lock: repaired: $root/lock was not a regular file, moved to $root/lock.damaged-"* ]]
  [ -f "$root/lock" ]
  run -0 r run --rm keep echo healthy
  [ "$output" = healthy ]
  run -0 r system reset -f # files of subordinate ids, which the test's cleanup cannot remove
  no_leftovers
}
