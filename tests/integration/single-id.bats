#!/usr/bin/env bats
# Single-ID mode (issue 23): a user with no subordinate range. Package managers work as
# root; ownership stays honest: chown and set*id to an ID other than 0 fail with EINVAL
# (never a success that stat or getuid contradicts); apt runs its downloads as root.
# The Debian image is made from the host's dpkg and apt (tests/fixtures/make-debian-rootfs.sh)
# and the apt repository is served by busybox httpd on 127.0.0.1. The image's sh is
# busybox's, which runs its own applets first (dpkg too): /usr/bin/dpkg is named in full.

# shellcheck disable=SC2016 # the sh -c scripts expand inside the container
load helpers

DEBIAN_IMAGE=localhost/rrun-test-debian:latest
APT_CONF=/etc/apt/apt.conf.d/99rrun-single-id

setup_file() {
  common_setup_file
  for tool in dpkg-query dpkg-deb dpkg-scanpackages apt-get; do
    command -v "$tool" >/dev/null || return 0 # the Debian tests skip, saying why
  done
  mkdir -p -- "$FIXTURES"
  (
    flock 9
    if [[ ! -f $FIXTURES/debian.tar ]]; then
      "$FIXTURE_SCRIPTS/make-debian-rootfs.sh" "$FIXTURES" >&2 || exit 1
    fi
  ) 9>"$FIXTURES/.lock-debian"
  rrun -q import "$FIXTURES/debian.tar" "$DEBIAN_IMAGE" >&2
  APT_PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  busybox httpd -f -p "127.0.0.1:$APT_PORT" -h "$FIXTURES/apt-repo" &
  echo $! >"$BATS_FILE_TMPDIR/httpd.pid"
  export APT_PORT
  wait_until curl -fsS -o /dev/null "http://127.0.0.1:$APT_PORT/Release"
}

teardown_file() {
  if [[ -f $BATS_FILE_TMPDIR/httpd.pid ]]; then
    kill "$(cat "$BATS_FILE_TMPDIR/httpd.pid")" 2>/dev/null || true
  fi
}

require_debian() {
  [[ -f $FIXTURES/debian.tar ]] || skip "no Debian image: dpkg-query, dpkg-deb, dpkg-scanpackages or apt-get is missing"
}

setup() {
  use_no_subid_range
}

@test "single-id: the warning says what works, what does not, and the fix" {
  run -0 --separate-stderr rrun run --rm "$FIXTURE_IMAGE" true
  [ "${#stderr_lines[@]}" -eq 2 ]
  [ "${stderr_lines[0]}" = "rrun: warning: cannot map user IDs: no range for \"$(id -un)\" in $RRUN_SUBUID_FILE; running with a single ID mapping: root, apt-get, dpkg and pip work; chown to another owner and switching to another user fail (EINVAL)" ]
  [ "${stderr_lines[1]}" = "hint: ask an administrator to run: sudo subuid-setup.sh $(id -un)" ]
}

@test "single-id: chown to another owner fails with EINVAL and stat agrees; to root it works" {
  run -0 rrun -q run --rm "$FIXTURE_IMAGE" sh -c '
    touch /x
    chown 1000:1000 /x 2>&1; echo "rc=$?"
    stat -c %u:%g /x
    chown 0:0 /x; echo "rc=$?"
    chown -h 5 /x 2>/dev/null; echo "rc=$?"
    stat -c %u:%g /x'
  [ "${lines[0]}" = "chown: /x: Invalid argument" ]
  [ "${lines[1]}" = rc=1 ]
  [ "${lines[2]}" = 0:0 ]
  [ "${lines[3]}" = rc=0 ]
  [ "${lines[4]}" = rc=1 ]
  [ "${lines[5]}" = 0:0 ]
  # --root-emulation is the old fake, asked for by name: success that stat contradicts
  run -0 rrun -q run --rm --root-emulation "$FIXTURE_IMAGE" sh -c 'touch /x && chown 5:5 /x && stat -c %u:%g /x'
  [ "$output" = 0:0 ]
  no_leftovers
}

@test "single-id: a program dropping to another user is told it cannot; staying root works" {
  require_debian
  run -0 rrun -q run --rm "$DEBIAN_IMAGE" sh -c '
    su -s /bin/sh nobody -c "id -u" 2>&1; echo "rc=$?"
    su -s /bin/sh root -c "id -u"; echo "rc=$?"'
  [ "${lines[0]}" = "su: setgid: Invalid argument" ]
  [ "${lines[1]}" = rc=1 ]
  [ "${lines[2]}" = 0 ]
  [ "${lines[3]}" = rc=0 ]
}

@test "single-id: apt-get update and install from a local repository; the package runs" {
  require_debian
  run -0 rrun -q run --rm --network host "$DEBIAN_IMAGE" sh -c "
    cat $APT_CONF | grep -v '^//'
    echo 'deb [trusted=yes] http://127.0.0.1:$APT_PORT/ ./' >/etc/apt/sources.list
    apt-get update -q >/tmp/log 2>&1 || { cat /tmp/log; exit 1; }
    apt-get install -y -q rrun-hello >/tmp/log 2>&1 || { cat /tmp/log; exit 1; }
    rrun-hello
    cat /var/lib/rrun-hello/state
    dpkg-query -W -f '\${Status}\n' rrun-hello
    stat -c %u:%g /usr/bin/rrun-hello"
  [ "${lines[0]}" = 'APT::Sandbox::User "root";' ]
  [ "${lines[1]}" = "hello from rrun-hello" ]
  [ "${lines[2]}" = configured ]
  [ "${lines[3]}" = "install ok installed" ]
  [ "${lines[4]}" = 0:0 ]
  no_leftovers
}

@test "single-id: dpkg -i installs a root-owned package; one owned by another user fails, saying why" {
  require_debian
  run -0 rrun -q run --rm -v "$FIXTURES/apt-repo:/repo:ro" "$DEBIAN_IMAGE" sh -c '
    /usr/bin/dpkg -i /repo/rrun-hello_1.0_all.deb >/dev/null && rrun-hello'
  [ "$output" = "hello from rrun-hello" ]
  run -1 rrun -q run --rm -v "$FIXTURES/apt-repo:/repo:ro" "$DEBIAN_IMAGE" sh -c '
    /usr/bin/dpkg -i /repo/rrun-owned_1.0_all.deb'
  [[ $output == *"error setting ownership of '/usr/share/rrun-owned"*"': Invalid argument"* ]]
}

@test "single-id: the apt configuration is rrun's, not the image's: a commit leaves it out" {
  require_debian
  local name=single-id-$RANDOM
  run -0 rrun -q run --name "$name" "$DEBIAN_IMAGE" sh -c "test -s $APT_CONF && touch /made"
  run -0 rrun -q commit "$name" localhost/single-id-commit:latest
  run -0 rrun -q rm "$name"
  # without root emulation nothing is bound there: what shows is the image's own
  run -0 rrun -q run --rm --no-root-emulation localhost/single-id-commit:latest sh -c \
    "test -e /made && ! test -e $APT_CONF && echo clean"
  [ "$output" = clean ]
  run -0 rrun -q rmi localhost/single-id-commit:latest
}

@test "single-id: system check explains the mode and names the fix" {
  run -1 rrun system check
  grep -qx "FAIL  subuid: no range for \"$(id -un)\" in $RRUN_SUBUID_FILE or from getsubids: only your own id is mapped (single-ID mode: root, apt-get, dpkg and pip work; chown to another owner and switching to another user fail with EINVAL)" <<<"$output"
  grep -A1 '^FAIL  subuid:' <<<"$output" | grep -qx "      fix: sudo subuid-setup.sh $(id -un)"
}
