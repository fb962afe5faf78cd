#!/usr/bin/env bats
# rrun-test: one pass
# issue 19 item 8: docker's default seccomp profile (an allow list), the calls it gates on
# capabilities, --security-opt seccomp=unconfined|PROFILE.json, mask= and unmask=.

load helpers

setup_file() {
  common_setup_file
  [[ -n ${SYSCALL_PROBE:-} && -x $SYSCALL_PROBE ]] || {
    echo "SYSCALL_PROBE must name the built tests/integration/syscall-probe" >&2
    return 1
  }
  # the test user must read the probe through the bind mount
  export PROBE_DIR="$BATS_FILE_TMPDIR/probe"
  mkdir -p "$PROBE_DIR"
  cp "$SYSCALL_PROBE" "$PROBE_DIR/syscall-probe"
}

probe() { # [run options...] -- CALL...
  local -a opts=()
  while [[ $1 != -- ]]; do
    opts+=("$1")
    shift
  done
  shift
  rrun run --rm -v "$PROBE_DIR:/probe:ro" "${opts[@]}" "$FIXTURE_IMAGE" /probe/syscall-probe "$@"
}

@test "seccomp: io_uring, perf_event_open, keyctl and bpf are refused with EPERM" {
  run -0 probe -- io_uring_setup io_uring_enter perf_event_open keyctl bpf socket-vsock
  [ "${lines[0]}" = "io_uring_setup: EPERM" ]
  [ "${lines[1]}" = "io_uring_enter: EPERM" ]
  [ "${lines[2]}" = "perf_event_open: EPERM" ]
  [ "${lines[3]}" = "keyctl: EPERM" ]
  [ "${lines[4]}" = "bpf: EPERM" ]
  [ "${lines[5]}" = "socket-vsock: EPERM" ]
  # the ordinary calls still work, and the filter is on
  run -0 probe -- getpid personality-query
  [ "$output" = $'getpid: ok\npersonality-query: ok' ]
  run -0 rrun run --rm "$FIXTURE_IMAGE" awk '/^Seccomp:/ { print $2 }' /proc/self/status
  [ "$output" = 2 ]
}

@test "seccomp: personality is filtered by argument" {
  run -0 probe -- personality-bad
  [ "$output" = "personality-bad: EPERM" ]
}

@test "seccomp: a call newer than the filter knows says ENOSYS, so libc falls back" {
  # 470 is past every x86_64 and arm64 call libseccomp 2.5 names (and past today's kernels)
  run -0 probe -- nr:470 clone3
  [ "${lines[0]}" = "nr:470: ENOSYS" ]
  [ "${lines[1]}" = "clone3: ENOSYS" ]
}

@test "seccomp: unshare, clone of a namespace and mount need CAP_SYS_ADMIN" {
  run -0 probe -- unshare-mount clone-newns mount-tmpfs
  [ "$output" = $'unshare-mount: EPERM\nclone-newns: EPERM\nmount-tmpfs: EPERM' ]
  run -0 probe --cap-add SYS_ADMIN -- unshare-mount clone-newns mount-tmpfs
  [ "$output" = $'unshare-mount: ok\nclone-newns: ok\nmount-tmpfs: ok' ]
}

@test "seccomp: ptrace's family: kcmp-like calls need CAP_SYS_PTRACE, perf_event_open CAP_PERFMON" {
  if (($(cat /proc/sys/kernel/cap_last_cap) < 38)); then
    skip "the kernel has no CAP_PERFMON"
  fi
  run -0 probe --cap-add PERFMON -- perf_event_open
  [ "$output" != "perf_event_open: EPERM" ]
}

@test "seccomp: --security-opt seccomp=unconfined lifts the filter" {
  # (unshare without CAP_SYS_ADMIN stays EPERM: the kernel's own check)
  run -0 probe --security-opt seccomp=unconfined -- io_uring_setup perf_event_open
  [ "${lines[0]}" != "io_uring_setup: EPERM" ]
  [ "${lines[1]}" != "perf_event_open: EPERM" ]
  run -0 rrun run --rm --security-opt seccomp=unconfined "$FIXTURE_IMAGE" awk '/^Seccomp:/ { print $2 }' /proc/self/status
  [ "$output" = 0 ]
  # and --privileged, as docker
  run -0 rrun run --rm --privileged "$FIXTURE_IMAGE" awk '/^Seccomp:/ { print $2 }' /proc/self/status
  [ "$output" = 0 ]
}

@test "seccomp: a custom JSON profile denies mkdir; exec uses the container's profile" {
  cat >"$BATS_TEST_TMPDIR/p.json" <<'JSON'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [
    { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13 }
  ]
}
JSON
  if [[ $(uname -m) != x86_64 ]]; then
    sed -i 's/"architectures": .*/"architectures": [],/' "$BATS_TEST_TMPDIR/p.json"
  fi
  run -0 probe --security-opt "seccomp=$BATS_TEST_TMPDIR/p.json" -- mkdir io_uring_setup
  [ "${lines[0]}" = "mkdir: EACCES" ]
  [ "${lines[1]}" != "io_uring_setup: EPERM" ]
  # the record keeps the profile's text: exec uses it even once the file is gone
  run -0 rrun run -d --name sc1 --security-opt "seccomp=$BATS_TEST_TMPDIR/p.json" "$FIXTURE_IMAGE" sleep 60
  rm "$BATS_TEST_TMPDIR/p.json"
  run -1 --separate-stderr rrun exec sc1 mkdir /tmp/x
  [ "$stderr" = "mkdir: can't create directory '/tmp/x': Permission denied" ]
  rrun rm -f sc1
}

@test "seccomp: a bad profile is refused with 125, naming the file and the reason" {
  local p=$BATS_TEST_TMPDIR/bad.json
  echo '{ "defaultAction": "SCMP_ACT_NOPE" }' >"$p"
  run -125 --separate-stderr rrun run --rm --security-opt "seccomp=$p" "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = "rrun: --security-opt seccomp=$p: defaultAction: unknown action \"SCMP_ACT_NOPE\"" ]
  echo '{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [ { "index": 9, "value": 1, "op": "SCMP_CMP_EQ" } ] } ] }' >"$p"
  run -125 --separate-stderr rrun run --rm --security-opt "seccomp=$p" "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = "rrun: --security-opt seccomp=$p: syscalls[0]: args: index: expected 0 to 5" ]
  echo '{ "defaultAction": ' >"$p"
  run -125 --separate-stderr rrun run --rm --security-opt "seccomp=$p" "$FIXTURE_IMAGE" true
  [[ ${stderr_lines[0]} == "rrun: --security-opt seccomp=$p: not JSON: "* ]]
  run -125 --separate-stderr rrun run --rm --security-opt "seccomp=$BATS_TEST_TMPDIR/none.json" "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = "rrun: cannot read seccomp profile \"$BATS_TEST_TMPDIR/none.json\": No such file or directory" ]
  run -125 --separate-stderr rrun run --rm --security-opt seccomp=/dev/zero "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = 'rrun: cannot read seccomp profile "/dev/zero": a character device, not a regular file' ]
  run -125 --separate-stderr rrun run --rm --security-opt apparmor=foo "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = 'rrun: invalid --security-opt "apparmor=foo"' ]
  # no container was left behind by any of these
  run -0 rrun ps -a -q
  [ "$output" = "" ]
}

@test "security-opt: no-new-privileges and label=disable are accepted" {
  run -0 rrun run --rm --security-opt no-new-privileges --security-opt label=disable "$FIXTURE_IMAGE" awk '/^NoNewPrivs:/ { print $2 }' /proc/self/status
  [ "$output" = 1 ]
  run -125 --separate-stderr rrun run --rm --security-opt no-new-privileges=false "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = "rrun: --security-opt no-new-privileges=false: rrun always sets no_new_privs" ]
}

@test "security-opt: mask= hides a path, unmask= shows a masked one" {
  run -0 rrun run --rm --security-opt mask=/proc/cpuinfo:/etc/os-release "$FIXTURE_IMAGE" sh -c 'wc -c </proc/cpuinfo; ls /etc/os-release 2>&1 | wc -l'
  [ "${lines[0]}" = 0 ]
  # /proc/keys and /proc/timer_list are masked by default (/dev/null over them)
  [[ -e /proc/keys && -e /proc/timer_list ]] || skip "the kernel has no /proc/keys or /proc/timer_list"
  local kinds='for p in /proc/keys /proc/timer_list; do if [ -c $p ]; then echo masked; else echo open; fi; done'
  run -0 rrun run --rm "$FIXTURE_IMAGE" sh -c "$kinds"
  [ "$output" = $'masked\nmasked' ]
  run -0 rrun run --rm --security-opt unmask=/proc/keys "$FIXTURE_IMAGE" sh -c "$kinds"
  [ "$output" = $'open\nmasked' ]
  run -0 rrun run --rm --security-opt 'unmask=/proc/*' "$FIXTURE_IMAGE" sh -c "$kinds"
  [ "$output" = $'open\nopen' ]
  # unmask=ALL: neither masked nor read-only paths
  run -0 rrun run --rm --security-opt unmask=ALL "$FIXTURE_IMAGE" awk '$5 == "/proc/keys" || $5 == "/proc/sys" { print $5 }' /proc/self/mountinfo
  [ "$output" = "" ]
  run -0 rrun run --rm "$FIXTURE_IMAGE" awk '$5 == "/proc/keys" || $5 == "/proc/sys" { print $5 }' /proc/self/mountinfo
  [ "$output" = $'/proc/keys\n/proc/sys' ]
  run -125 --separate-stderr rrun run --rm --security-opt mask=proc/x "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = 'rrun: invalid --security-opt mask=proc/x: "proc/x" is not an absolute path' ]
}
