#!/usr/bin/env bats
# issue 2: masked and read-only paths, capabilities, no_new_privs, --privileged.

load helpers

@test "masked: /proc/kcore, /proc/keys, /proc/timer_list read empty or are denied" {
  local p
  for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
    run -0 rrun run --rm "$FIXTURE_IMAGE" sh -c "cat $p 2>/dev/null | wc -c"
    [ "$output" -eq 0 ] || { echo "$p: $output bytes readable"; false; }
  done
}

@test "masked: /sys/firmware and /proc/acpi are empty" {
  run -0 rrun run --rm "$FIXTURE_IMAGE" sh -c 'ls -A /sys/firmware /proc/acpi 2>/dev/null | grep -v ":$" | grep -c . || true'
  [ "$output" = 0 ]
}

@test "read-only: /proc/sys, /proc/sysrq-trigger and /sys are mounted read-only" {
  run -0 rrun run --rm "$FIXTURE_IMAGE" \
    awk '$5 == "/proc/sys" || $5 == "/proc/sysrq-trigger" || $5 == "/sys" { print $5, $6 }' /proc/self/mountinfo
  [[ $output == *"/proc/sys ro"* ]]
  # not every kernel has /proc/sysrq-trigger (CONFIG_MAGIC_SYSRQ)
  if [[ -e /proc/sysrq-trigger ]]; then [[ $output == *"/proc/sysrq-trigger ro"* ]]; fi
  [[ $output == *"/sys ro"* ]]
  [[ $output != *" rw"* ]]
  # the read-only mount refuses a write before any permission check (EROFS, not EACCES)
  run -1 --separate-stderr rrun run --rm "$FIXTURE_IMAGE" sh -c 'echo 63 >/proc/sys/net/ipv4/ip_default_ttl'
  [ "$stderr" = "sh: can't create /proc/sys/net/ipv4/ip_default_ttl: Read-only file system" ]
  # --privileged mounts /proc/sys read-write, as docker does, but the UTS sysctls belong to
  # the host's root, whom the container's root is not
  run -1 --separate-stderr rrun run --rm --privileged "$FIXTURE_IMAGE" sh -c 'echo x >/proc/sys/kernel/domainname'
  [ "$stderr" = "sh: can't create /proc/sys/kernel/domainname: Permission denied" ]
}

@test "caps: the effective and bounding sets are docker's default set" {
  run -0 rrun run --rm "$FIXTURE_IMAGE" grep -E '^Cap(Eff|Bnd|Prm):' /proc/self/status
  [ "${#lines[@]}" -eq 3 ]
  local l
  for l in "${lines[@]}"; do
    [ "$(echo "$l" | awk '{ print $2 }')" = "$DOCKER_DEFAULT_CAPS" ]
  done
}

@test "caps: a user other than root has no effective capabilities" {
  run -0 rrun run --rm -u 1000:1000 "$FIXTURE_IMAGE" awk '/^CapEff:/ { print $2 }' /proc/self/status
  [ "$output" = 0000000000000000 ]
}

@test "caps: --cap-drop all gives none, --cap-add SYS_ADMIN adds bit 21" {
  run -0 rrun run --rm --cap-drop all "$FIXTURE_IMAGE" awk '/^CapEff:/ { print $2 }' /proc/self/status
  [ "$output" = 0000000000000000 ]
  run -0 rrun run --rm --cap-add SYS_ADMIN "$FIXTURE_IMAGE" awk '/^CapEff:/ { print $2 }' /proc/self/status
  [ "$output" = "$(printf '%016x' $((0x$DOCKER_DEFAULT_CAPS | (1 << 21))))" ]
  run -0 rrun run --rm --cap-drop CHOWN --cap-drop net_raw "$FIXTURE_IMAGE" awk '/^CapEff:/ { print $2 }' /proc/self/status
  [ "$output" = "$(printf '%016x' $((0x$DOCKER_DEFAULT_CAPS & ~(1 << 0) & ~(1 << 13))))" ]
}

@test "caps: an unknown capability name is refused with 125" {
  run -125 --separate-stderr rrun run --rm --cap-add NO_SUCH_CAP "$FIXTURE_IMAGE" true
  [[ ${stderr_lines[0]} == "rrun: "*NO_SUCH_CAP* ]]
}

@test "no_new_privs is set" {
  run -0 rrun run --rm "$FIXTURE_IMAGE" awk '/^NoNewPrivs:/ { print $2 }' /proc/self/status
  [ "$output" = 1 ]
}

@test "--privileged keeps every capability the user namespace gives" {
  local last full
  last=$(cat /proc/sys/kernel/cap_last_cap)
  full=$(printf '%016x' $(((1 << (last + 1)) - 1)))
  run -0 rrun run --rm --privileged "$FIXTURE_IMAGE" awk '/^CapEff:/ { print $2 }' /proc/self/status
  [ "$output" = "$full" ]
}

@test "image files keep their setuid bit and odd owners" {
  run -0 rrun run --rm "$FIXTURE_IMAGE" stat -c '%A %u:%g' /usr/local/bin/suid-id /srv/odd /home/tester/secret /tmp
  [ "${lines[0]}" = "-rwsr-xr-x 0:0" ]
  [ "${lines[1]}" = "-rw-r----- 1234:5678" ]
  [ "${lines[2]}" = "-rw------- 1000:1000" ]
  [ "${lines[3]}" = "drwxrwxrwt 0:0" ]
}

@test "devices: /dev has null, zero, full, random, urandom, tty, pts, ptmx, shm, fd" {
  run -0 rrun run --rm "$FIXTURE_IMAGE" sh -c '
    for d in null zero full random urandom tty; do test -c /dev/$d || echo "missing $d"; done
    test -d /dev/pts && test -e /dev/ptmx && test -d /dev/shm && test -d /dev/mqueue || echo missing-dirs
    test "$(readlink /dev/fd)" = /proc/self/fd || echo bad-fd
    test -L /dev/stdin && test -L /dev/stdout && test -L /dev/stderr || echo missing-std
    head -c 4 /dev/zero | wc -c; ls /dev | grep -c "^sd\|^nvme\|^vd" || true'
  [ "${lines[0]}" = 4 ]
  [ "${lines[1]}" = 0 ]
  [ "${#lines[@]}" -eq 2 ]
}

# issue 19: with --init, PID 1 was rrun itself, forked and never exec'd: the caller's whole
# environment, the store's lock fds and rrun's own binary, all reachable from the container
# with CAP_SYS_PTRACE. PID 1 must hold nothing of the host.
@test "--init: PID 1 has the container's environment only, even with SYS_PTRACE or --privileged" {
  local opt
  for opt in "--cap-add SYS_PTRACE" "--cap-add ALL" --privileged; do
    # shellcheck disable=SC2086 # $opt is one or two words on purpose
    MY_SECRET_TOKEN=hunter2 run -0 rrun run --rm --init $opt -e VISIBLE=yes \
      "$FIXTURE_IMAGE" sh -c 'tr "\0" "\n" </proc/1/environ'
    [[ $output == *VISIBLE=yes* ]] || { echo "$opt: /proc/1/environ unread: $output"; false; }
    [[ $output != *MY_SECRET_TOKEN* && $output != *hunter2* ]] || { echo "$opt: $output"; false; }
    [[ $output != *"HOME=$HOME"* ]] || { echo "$opt: the host's HOME: $output"; false; }
  done
}

@test "--init: PID 1 has only fds 0, 1 and 2, on /dev/null (no store lock, no rrun socket)" {
  run -0 rrun run --rm --init --cap-add SYS_PTRACE "$FIXTURE_IMAGE" \
    sh -c 'cd /proc/1/fd && for f in *; do echo "$f $(readlink "$f")"; done'
  [ "$output" = $'0 /dev/null\n1 /dev/null\n2 /dev/null' ]
}

@test "--init: PID 1's executable is a sealed memfd, not rrun, and cannot be written" {
  run -0 rrun run --rm --init --cap-add SYS_PTRACE "$FIXTURE_IMAGE" \
    sh -c 'readlink /proc/1/exe; cat /proc/1/comm
           if (printf x 1<>/proc/1/exe) 2>/dev/null; then echo written; else echo write-refused; fi
           if (: >/proc/1/exe) 2>/dev/null; then echo truncated; else echo truncate-refused; fi'
  [ "${lines[0]}" = "/memfd:rrun-init (deleted)" ]
  [ "${lines[1]}" = rrun-init ]
  [ "${lines[2]}" = write-refused ]
  [ "${lines[3]}" = truncate-refused ]
  [ "${#lines[@]}" -eq 4 ]
}
