#!/usr/bin/env bats
# subuid-setup.sh, run as root: against temporary copies of the files (--etc, --dev), and
# for real on the test user run.sh created.

bats_require_minimum_version 1.5.0

setup_file() {
  (($(id -u) == 0)) || skip "subuid-setup.sh tests need root"
  export SETUP=${RRUN_TEST_SRCDIR:-$BATS_TEST_DIRNAME/../../..}/subuid-setup.sh
}

setup() {
  E=$BATS_TEST_TMPDIR/etc
  mkdir -p "$E"
  cat >"$E/passwd" <<'P'
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
svc:x:998:998:service:/srv:/bin/bash
alice:x:1000:1000::/home/alice:/bin/bash
bob:x:1001:1001::/home/bob:/bin/sh
carol:x:1002:1002::/home/carol:/usr/sbin/nologin
dave:x:1003:1003::/home/dave:/bin/zsh-not-listed
big:x:70000:70000::/home/big:/bin/bash
P
  printf '/bin/sh\n/bin/bash\n' >"$E/shells"
  printf 'UID_MIN\t\t 1000\nUID_MAX\t\t60000\n' >"$E/login.defs"
  printf '# keep me\nother:200000:65536\n' >"$E/subuid"
  printf 'other:100000:10\n' >"$E/subgid"
}

@test "subuid-setup: a user gets 65536 ids above every existing range, in both files" {
  run -0 "$SETUP" --etc "$E" alice
  grep -qx 'alice:265536:65536' "$E/subuid"
  grep -qx 'alice:265536:65536' "$E/subgid"
  # existing entries and comments are kept as they were
  [ "$(head -n2 "$E/subuid")" = $'# keep me\nother:200000:65536' ]
  [ "$(head -n1 "$E/subgid")" = 'other:100000:10' ]
}

@test "subuid-setup: ranges start at 100000 or above on empty files" {
  : >"$E/subuid"
  rm -f "$E/subgid"
  run -0 "$SETUP" --etc "$E" alice bob
  [ "$(cat "$E/subuid")" = $'alice:100000:65536\nbob:165536:65536' ]
  [ "$(cat "$E/subgid")" = $'alice:100000:65536\nbob:165536:65536' ]
  [ "$(stat -c %a "$E/subgid")" = 644 ]
}

@test "subuid-setup: a second run changes nothing" {
  run -0 "$SETUP" --etc "$E" alice bob
  cp "$E/subuid" "$BATS_TEST_TMPDIR/u1"
  cp "$E/subgid" "$BATS_TEST_TMPDIR/g1"
  run -0 "$SETUP" --etc "$E" alice bob
  [[ $output == *"alice: already has"*"left alone"* ]]
  cmp "$E/subuid" "$BATS_TEST_TMPDIR/u1"
  cmp "$E/subgid" "$BATS_TEST_TMPDIR/g1"
}

@test "subuid-setup: a user with a range in one file only gets the other, never a duplicate" {
  printf 'alice:300000:65536\n' >>"$E/subuid"
  run -0 "$SETUP" --etc "$E" alice
  [ "$(grep -c '^alice:' "$E/subuid")" -eq 1 ]
  [ "$(grep -c '^alice:' "$E/subgid")" -eq 1 ]
  # numeric uid entries count as the user's too
  printf '1001:400000:65536\n' >>"$E/subuid"
  printf '1001:400000:65536\n' >>"$E/subgid"
  run -0 "$SETUP" --etc "$E" bob
  run -1 grep -q '^bob:' "$E/subuid"
}

@test "subuid-setup: --count N" {
  run -0 "$SETUP" --etc "$E" --count 1000 alice
  grep -qx 'alice:265536:1000' "$E/subuid"
  run -2 "$SETUP" --etc "$E" --count 0 bob
  run -2 "$SETUP" --etc "$E" --count abc bob
}

@test "subuid-setup: --dry-run prints the diff and changes nothing" {
  cp "$E/subuid" "$BATS_TEST_TMPDIR/u0"
  run -0 "$SETUP" --etc "$E" --dry-run alice
  [[ $output == *"+alice:265536:65536"* ]]
  cmp "$E/subuid" "$BATS_TEST_TMPDIR/u0"
  run -1 grep -q alice "$E/subgid"
}

@test "subuid-setup: --all takes UID_MIN..UID_MAX accounts with a real shell" {
  run -0 "$SETUP" --etc "$E" --all
  grep -q '^alice:' "$E/subuid"
  grep -q '^bob:' "$E/subuid"
  run -1 grep -q -e '^carol:' -e '^dave:' -e '^svc:' -e '^big:' -e '^root:' -e '^daemon:' "$E/subuid"
}

@test "subuid-setup: ranges of different users never overlap" {
  run -0 "$SETUP" --etc "$E" --all
  run -0 "$SETUP" --etc "$E" --count 5 root
  awk -F: '$1 !~ /^#/ { print $2, $2 + $3 }' "$E/subuid" | sort -n | awk '
    NR > 1 && $1 < end { exit 1 } { end = $2 }'
}

@test "subuid-setup: --remove drops the user's lines from both files only" {
  run -0 "$SETUP" --etc "$E" alice bob
  run -0 "$SETUP" --etc "$E" --remove alice
  run -1 grep -q '^alice:' "$E/subuid" "$E/subgid"
  grep -q '^bob:' "$E/subuid"
  grep -q '^other:' "$E/subuid"
  grep -qx '# keep me' "$E/subuid"
}

@test "subuid-setup: an unknown user is a problem (exit 1), bad options are usage (exit 2)" {
  run -1 "$SETUP" --etc "$E" nosuchuser
  [[ $output == *'no such user "nosuchuser"'* ]]
  run -2 "$SETUP" --etc "$E" --bogus
  run -2 "$SETUP" --etc "$E"
  run -2 "$SETUP" --etc "$E" --all alice
  run -2 "$SETUP" --etc "$E" --remove
  run -0 "$SETUP" --help
  [[ $output == usage:* ]]
}

@test "subuid-setup: --check reports a missing range with the fix, exit 1" {
  run -1 "$SETUP" --etc "$E" --dev /dev --check alice
  [[ $output == *"FAIL  alice has no range in $E/subuid"* ]]
  [[ $output == *"fix: sudo subuid-setup.sh alice"* ]]
  run "$SETUP" --etc "$E" alice
  run "$SETUP" --etc "$E" --dev /dev --check alice
  [[ $output == *"PASS  alice has subordinate uids 265536:65536"* ]]
}

@test "subuid-setup: --check finds overlapping ranges" {
  printf 'x:200010:5\n' >>"$E/subuid"
  run -1 "$SETUP" --etc "$E" --dev /dev --check
  [[ $output == *"FAIL  $E/subuid: other:200000:65536 overlaps x:200010:5"* ]]
}

@test "subuid-setup: a stale lock is taken over; a live one makes it fail, files untouched" {
  echo 999999999 >"$E/subuid.lock"
  run -0 "$SETUP" --etc "$E" alice
  [ ! -e "$E/subuid.lock" ]
  sleep 30 &
  local holder=$!
  printf '%s' "$holder" >"$E/subgid.lock"
  cp "$E/subuid" "$BATS_TEST_TMPDIR/u0"
  run -1 "$SETUP" --etc "$E" bob
  kill "$holder"
  [[ $output == *"is held by process $holder"* ]]
  cmp "$E/subuid" "$BATS_TEST_TMPDIR/u0"
  [ ! -e "$E/subuid.lock" ]      # its own lock is released
  rm -f "$E/subgid.lock"
}

@test "subuid-setup: ranges from NSS are reported, files not edited" {
  printf 'passwd: files\nsubid: sss\n' >"$E/nsswitch.conf"
  cp "$E/subuid" "$BATS_TEST_TMPDIR/u0"
  run "$SETUP" --etc "$E" alice
  [[ $output == *"come from NSS"* ]]
  cmp "$E/subuid" "$BATS_TEST_TMPDIR/u0"
}

@test "subuid-setup: --fix makes a 0600 /dev/fuse 0666 and keeps it in a udev rule" {
  local d=$BATS_TEST_TMPDIR/dev
  mkdir -p "$d/net"
  mknod -m 0600 "$d/fuse" c 10 229
  mknod -m 0666 "$d/net/tun" c 10 200
  run -1 "$SETUP" --etc "$E" --dev "$d" --check
  [[ $output == *"FAIL  $d/fuse is mode 600"* ]]
  run "$SETUP" --etc "$E" --dev "$d" --fix
  [[ $output == *"FIXED $d/fuse is mode 0666"* ]]
  [ "$(stat -c %a "$d/fuse")" = 666 ]
  grep -qx 'KERNEL=="fuse", MODE="0666"' "$E/udev/rules.d/60-rrun.rules"
  run "$SETUP" --etc "$E" --dev "$d" --fix
  [[ $output != *FIXED* ]]
  [ "$(grep -c fuse "$E/udev/rules.d/60-rrun.rules")" -eq 1 ]
}

# issue 19: `ldconfig -p | grep -q` under pipefail: grep's early exit killed ldconfig with
# SIGPIPE, and the library read as missing at random. A long ldconfig listing that names
# the library first makes that certain.
@test "subuid-setup: --check finds an installed library however long ldconfig's list is" {
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  cat >"$BATS_TEST_TMPDIR/bin/ldconfig" <<'L'
#!/bin/bash
printf '\tlibslirp.so.0 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libslirp.so.0\n'
for ((i = 0; i < 20000; i++)); do printf '\tlibfake%d.so.1 (libc6,x86-64) => /usr/lib/libfake%d.so.1\n' $i $i; done
L
  chmod +x "$BATS_TEST_TMPDIR/bin/ldconfig"
  PATH=$BATS_TEST_TMPDIR/bin:$PATH run "$SETUP" --etc "$E" --dev /dev --check alice
  [[ $output == *"PASS  libslirp.so.0 is installed"* ]] || { echo "$output"; false; }
}

@test "subuid-setup: shellcheck-clean" {
  command -v shellcheck >/dev/null || skip "shellcheck is not installed"
  shellcheck "$SETUP"
}

@test "subuid-setup: for real, the test user has a range and a rerun changes nothing" {
  [[ -n ${RRUN_TEST_USER:-} ]] || skip "no test user (run.sh creates one)"
  local line start count
  line=$(grep "^$RRUN_TEST_USER:" /etc/subuid)
  IFS=: read -r _ start count <<<"$line"
  [ "$start" -ge 100000 ]
  [ "$count" -eq 65536 ]
  grep -qx "$line" /etc/subgid
  cp /etc/subuid "$BATS_TEST_TMPDIR/u0"
  cp /etc/subgid "$BATS_TEST_TMPDIR/g0"
  run -0 "$SETUP" "$RRUN_TEST_USER"
  [[ $output == *"left alone"* ]]
  cmp /etc/subuid "$BATS_TEST_TMPDIR/u0"
  cmp /etc/subgid "$BATS_TEST_TMPDIR/g0"
  run "$SETUP" --check "$RRUN_TEST_USER"
  [[ $output == *"PASS  $RRUN_TEST_USER has subordinate uids $start:65536 in /etc/subuid"* ]]
  [[ $output != *FAIL* ]] || { echo "$output"; false; }
  [ "$status" -eq 0 ]
  # getsubids (what newuidmap's NSS path sees) agrees
  if command -v getsubids >/dev/null; then
    run -0 getsubids "$RRUN_TEST_USER"
    [[ $output == *"$RRUN_TEST_USER $start 65536"* ]]
  fi
}
