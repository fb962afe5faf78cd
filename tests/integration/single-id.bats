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
PIP_IMAGE=localhost/rrun-test-pip:latest
RPM_IMAGE=localhost/rrun-test-rpm:latest
APT_CONF=/etc/apt/apt.conf.d/99rrun-single-id

# serve DIR VAR FILE: busybox httpd for DIR on a free port of 127.0.0.1, exported as VAR,
# once DIR/FILE can be fetched.
serve() {
  local dir=$1 var=$2 file=$3 port
  port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  busybox httpd -f -p "127.0.0.1:$port" -h "$dir" &
  echo $! >>"$BATS_FILE_TMPDIR/httpd.pids"
  export "$var=$port"
  wait_until curl -fsS -o /dev/null "http://127.0.0.1:$port/$file"
}

setup_file() {
  common_setup_file
  mkdir -p -- "$FIXTURES"
  # The pip image (python3-pip) and the rpm image (rpm, dnf when the host has it, useradd)
  # are made like the Debian one, from the host's installed packages; the skips say why not.
  (
    flock 9
    if [[ ! -f $FIXTURES/pip.tar ]] && dpkg-query -W python3-pip >/dev/null 2>&1; then
      "$FIXTURE_SCRIPTS/make-debian-rootfs.sh" "$FIXTURES" pip python3-pip >&2 || exit 1
      /usr/bin/python3 "$FIXTURE_SCRIPTS/make-wheel.py" "$FIXTURES" || exit 1
    fi
    if [[ ! -f $FIXTURES/rpm.tar ]] && command -v rpmbuild >/dev/null \
        && dpkg-query -W rpm passwd bash >/dev/null 2>&1; then
      local seeds=(rpm passwd bash)
      if command -v createrepo_c >/dev/null && dpkg-query -W dnf >/dev/null 2>&1; then
        seeds+=(dnf)
      fi
      "$FIXTURE_SCRIPTS/make-rpm-repo.sh" "$FIXTURES" >&2 || exit 1
      "$FIXTURE_SCRIPTS/make-debian-rootfs.sh" "$FIXTURES" rpm "${seeds[@]}" >&2 || exit 1
    fi
  ) 9>"$FIXTURES/.lock-single-id"
  if [[ -f $FIXTURES/pip.tar ]]; then
    rrun -q import "$FIXTURES/pip.tar" "$PIP_IMAGE" >&2
    serve "$FIXTURES/pip-repo" PIP_PORT simple/index.html
  fi
  if [[ -f $FIXTURES/rpm.tar ]]; then
    rrun -q import "$FIXTURES/rpm.tar" "$RPM_IMAGE" >&2
    serve "$FIXTURES/rpm-repo" RPM_PORT repodata/repomd.xml
  fi
  for tool in dpkg-query dpkg-deb dpkg-scanpackages apt-get; do
    command -v "$tool" >/dev/null || return 0 # the Debian tests skip, saying why
  done
  (
    flock 9
    if [[ ! -f $FIXTURES/debian.tar ]]; then
      "$FIXTURE_SCRIPTS/make-debian-rootfs.sh" "$FIXTURES" >&2 || exit 1
    fi
  ) 9>"$FIXTURES/.lock-debian"
  rrun -q import "$FIXTURES/debian.tar" "$DEBIAN_IMAGE" >&2
  serve "$FIXTURES/apt-repo" APT_PORT Release
}

teardown_file() {
  local pid
  if [[ -f $BATS_FILE_TMPDIR/httpd.pids ]]; then
    while read -r pid; do
      kill "$pid" 2>/dev/null || true
    done <"$BATS_FILE_TMPDIR/httpd.pids"
  fi
}

require_debian() {
  [[ -f $FIXTURES/debian.tar ]] || skip "no Debian image: dpkg-query, dpkg-deb, dpkg-scanpackages or apt-get is missing"
}

require_pip() {
  [[ -f $FIXTURES/pip.tar ]] || skip "no pip image: the host has no python3-pip"
}

require_rpm() {
  [[ -f $FIXTURES/rpm.tar ]] || skip "no rpm image: the host has no rpm (rpmbuild), passwd or bash"
}

require_dnf() {
  require_rpm
  tar -tf "$FIXTURES/rpm.tar" ./usr/bin/dnf >/dev/null 2>&1 \
    || skip "no dnf in the rpm image: the host has no dnf or createrepo_c"
}

setup() {
  use_no_subid_range
}

# single_run MODE ARGS...: `rrun -q run --rm ARGS` in single-ID mode, reached either way:
# MODE norange (no subordinate range: setup's empty subuid file) or flag (the test user's
# own files, and --userns single).
single_run() {
  local mode=$1
  shift
  case $mode in
    norange) rrun -q run --rm "$@" ;;
    flag) env -u RRUN_SUBUID_FILE -u RRUN_SUBGID_FILE "$RRUN" -q run --rm --userns single "$@" ;;
  esac
}

@test "single-id: the warning says what works, what does not, and the fix" {
  run -0 --separate-stderr rrun run --rm "$FIXTURE_IMAGE" true
  [ "${#stderr_lines[@]}" -eq 2 ]
  [ "${stderr_lines[0]}" = "rrun: warning: cannot map user IDs: no range for \"$(id -un)\" in $RRUN_SUBUID_FILE; running with a single ID mapping: root, apt-get, dpkg, rpm, dnf and pip work; chown to another owner and switching to another user fail (EINVAL)" ]
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

@test "single-id: pip install as root from a package index; the command runs, root's files" {
  require_pip
  local mode
  for mode in norange flag; do
    run -0 single_run "$mode" --network host "$PIP_IMAGE" sh -c "
      pip install -q --break-system-packages --root-user-action=ignore \\
        --index-url http://127.0.0.1:$PIP_PORT/simple/ rrun-hello 2>&1 || exit 1
      rrun-hello
      stat -c %u:%g /usr/local/bin/rrun-hello"
    [ "${lines[0]}" = "hello from rrun-hello" ]
    [ "${lines[1]}" = 0:0 ]
    [ "${#lines[@]}" -eq 2 ]
  done
}

@test "single-id: rpm -i installs a root-owned package; one owned by the user its %pre adds fails, saying why" {
  require_rpm
  local mode
  for mode in norange flag; do
    # /usr/bin/rpm in full: busybox's sh runs its own rpm applet first
    run -0 single_run "$mode" -v "$FIXTURES/rpm-repo:/repo:ro" "$RPM_IMAGE" sh -c '
      cd /repo && /usr/bin/rpm -i rrun-base-1.0-1.noarch.rpm rrun-hello-1.0-1.noarch.rpm 2>/dev/null
      echo "rc=$?"
      rrun-hello
      cat /var/lib/rrun-hello/state
      stat -c %u:%g /usr/bin/rrun-hello
      /usr/bin/rpm -i rrun-owned-1.0-1.noarch.rpm 2>&1 | grep -v -e Alien -e "know what" -e nologin
      /usr/bin/rpm -q rrun-owned
      grep -c ^rrunsvc: /etc/passwd
      test -e /usr/share/rrun-owned/data || echo "no data"'
    [ "${lines[0]}" = rc=0 ]
    [ "${lines[1]}" = "hello from rrun-hello" ]
    [ "${lines[2]}" = configured ]
    [ "${lines[3]}" = 0:0 ]
    [[ ${lines[4]} == "error: unpacking of archive failed on file /usr/share/rrun-owned/data;"*": cpio: chown failed - Invalid argument" ]]
    [ "${lines[5]}" = "error: rrun-owned-1.0-1.noarch: install failed" ]
    [ "${lines[6]}" = "package rrun-owned is not installed" ]
    [ "${lines[7]}" = 1 ] # the %pre's useradd wrote /etc/passwd: root may
    [ "${lines[8]}" = "no data" ]
  done
}

@test "single-id: dnf installs from an HTTP repository with its dependency; a package owned by another user fails" {
  require_dnf
  local mode dnf="dnf -y -q --releasever=1 --nogpgcheck --repofrompath=local,http://127.0.0.1:$RPM_PORT/ --repo=local"
  for mode in norange flag; do
    run -0 single_run "$mode" --network host "$RPM_IMAGE" sh -c "
      $dnf install rrun-hello >/tmp/log 2>&1 || { cat /tmp/log; exit 1; }
      rrun-hello
      cat /var/lib/rrun-hello/state
      /usr/bin/rpm -qa | sort
      $dnf install rrun-owned >/tmp/log 2>&1; echo \"rc=\$?\"
      grep -c 'Error unpacking rpm package rrun-owned-1.0-1.noarch' /tmp/log
      /usr/bin/rpm -q rrun-owned; echo \"rc=\$?\""
    [ "${lines[0]}" = "hello from rrun-hello" ]
    [ "${lines[1]}" = configured ]
    [ "${lines[2]}" = rrun-base-1.0-1.noarch ]
    [ "${lines[3]}" = rrun-hello-1.0-1.noarch ]
    [ "${lines[4]}" = rc=1 ]
    [ "${lines[5]}" = 1 ]
    [ "${lines[6]}" = "package rrun-owned is not installed" ]
    [ "${lines[7]}" = rc=1 ]
  done
}

@test "single-id: system check explains the mode and names the fix" {
  run -1 rrun system check
  grep -qx "FAIL  subuid: no range for \"$(id -un)\" in $RRUN_SUBUID_FILE or from getsubids: only your own id is mapped (single-ID mode: root, apt-get, dpkg, rpm, dnf and pip work; chown to another owner and switching to another user fail with EINVAL)" <<<"$output"
  grep -A1 '^FAIL  subuid:' <<<"$output" | grep -qx "      fix: sudo subuid-setup.sh $(id -un)"
}
