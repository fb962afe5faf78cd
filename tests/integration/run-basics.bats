#!/usr/bin/env bats
# issue 2: user namespace and ids, PID/UTS/IPC/mount isolation, exit codes, stdio, signals.

load helpers

@test "run: uid_map and gid_map show container 0 = the user and 1..N = the subordinate range" {
  require_subid_range
  local base count
  base=$(subid_base uid)
  count=$(subid_count)
  run -0 rrun run --rm "$FIXTURE_IMAGE" cat /proc/self/uid_map
  [ "${#lines[@]}" -eq 2 ]
  [ "$(echo "${lines[0]}" | awk '{ print $1, $2, $3 }')" = "0 $(id -u) 1" ]
  [ "$(echo "${lines[1]}" | awk '{ print $1, $2, $3 }')" = "1 $base $count" ]
  run -0 rrun run --rm "$FIXTURE_IMAGE" cat /proc/self/gid_map
  [ "${#lines[@]}" -eq 2 ]
  [ "$(echo "${lines[0]}" | awk '{ print $1, $2, $3 }')" = "0 $(id -g) 1" ]
  [ "$(echo "${lines[1]}" | awk '{ print $1, $2 }')" = "1 $(subid_base gid)" ]
}

@test "run: without a subordinate range rrun maps one id and warns once with the fix" {
  use_no_subid_range
  run -0 --separate-stderr rrun run --rm "$FIXTURE_IMAGE" cat /proc/self/uid_map
  [ "${#lines[@]}" -eq 1 ]
  [ "$(echo "${lines[0]}" | awk '{ print $1, $2, $3 }')" = "0 $(id -u) 1" ]
  # exactly one warning, naming the file and the command that fixes it
  [ "$(grep -c '^rrun: warning:' <<<"$stderr")" -eq 1 ]
  grep -q 'subuid' <<<"$stderr"
  grep -q 'subuid-setup.sh' <<<"$stderr"
  run -0 rrun run --rm "$FIXTURE_IMAGE" cat /proc/self/setgroups
  [[ $output == *deny* ]]
}

@test "run: the command runs as root of the container" {
  run -0 rrun run --rm "$FIXTURE_IMAGE" sh -c 'id -u; id -g; id -un'
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = 0 ]
  [ "${lines[2]}" = root ]
}

@test "run: a file chowned to 1000 inside is owned by subuid_base+999 on the host" {
  require_subid_range
  local base upper
  base=$(subid_base uid)
  run -0 rrun run "$FIXTURE_IMAGE" sh -c 'echo x >/owned && chown 1000:1000 /owned'
  upper=$(container_upper_dirs)
  [ "$(echo "$upper" | wc -l)" -eq 1 ]
  [ -f "$upper/owned" ]
  [ "$(stat -c %u "$upper/owned")" -eq $((base + 999)) ]
  [ "$(stat -c %g "$upper/owned")" -eq $(($(subid_base gid) + 999)) ]
  # no `rrun rm` yet: the container's dir is ours, the file can be unlinked from it
  chmod -R u+rwX "$STORAGE_ROOT/containers" 2>/dev/null || true
  rm -rf "${STORAGE_ROOT:?}/containers/"*
}

@test "run: the command is PID 1 and ps shows only the container's processes" {
  run -0 rrun run --rm "$FIXTURE_IMAGE" sh -c 'echo $$'
  [ "$output" = 1 ]
  run -0 rrun run --rm "$FIXTURE_IMAGE" ps -o pid,comm
  [ "${#lines[@]}" -eq 2 ]
  [[ ${lines[1]} =~ ^\ *1\ +ps$ ]]
}

@test "run: the hostname is the container's own" {
  run -0 rrun run --rm "$FIXTURE_IMAGE" hostname
  [ -n "$output" ]
  [ "$output" != "$(hostname)" ]
  local before
  before=$(hostname)
  run -0 rrun run --rm --privileged "$FIXTURE_IMAGE" sh -c 'hostname changed-inside && hostname'
  [ "$output" = changed-inside ]
  [ "$(hostname)" = "$before" ]
}

@test "run: System V IPC objects of the host are not visible inside" {
  local id
  id=$(ipcmk -Q | grep -o '[0-9]*$')
  # the host sees its queue
  [ -n "$(awk -v i="$id" '$2 == i' /proc/sysvipc/msg)" ]
  run rrun run --rm "$FIXTURE_IMAGE" cat /proc/sysvipc/msg
  ipcrm -q "$id"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ] # the header only
}

@test "run: a mount made inside is invisible on the host" {
  local before
  before=$(awk '{ print $5, $9, $10 }' /proc/self/mountinfo | sort)
  rrun_bg run --rm --privileged "$FIXTURE_IMAGE" \
    sh -c 'mount -t tmpfs rrun-test-tmpfs /tmp && echo mounted && sleep 3'
  wait_until grep -q mounted "$BATS_TEST_TMPDIR/bg.out"
  [ "$(awk '{ print $5, $9, $10 }' /proc/self/mountinfo | sort)" = "$before" ]
  run -1 grep -q rrun-test-tmpfs /proc/self/mountinfo
  wait_bg
  [ "$BG_STATUS" -eq 0 ]
}

@test "exit: the command's own status 0 and 42" {
  run -0 rrun run --rm "$FIXTURE_IMAGE" true
  run -42 rrun run --rm "$FIXTURE_IMAGE" sh -c 'exit 42'
}

@test "exit: 125 for a bad option and for a missing image" {
  run -125 --separate-stderr rrun run --rm --no-such-option "$FIXTURE_IMAGE" true
  [[ ${stderr_lines[0]} == "rrun: "* ]]
  [[ $stderr == *no-such-option* ]]
  run -125 --separate-stderr rrun run --rm localhost/no-such-image:latest true
  [[ ${stderr_lines[0]} == "rrun: "* ]]
  [[ $stderr == *no-such-image* ]]
  no_leftovers
}

@test "exit: 126 when the command exists but cannot be executed" {
  run -126 --separate-stderr rrun run --rm "$FIXTURE_IMAGE" /usr/local/bin/not-executable
  [[ ${stderr_lines[0]} == 'rrun: '*'"/usr/local/bin/not-executable"'* ]]
  [[ $stderr == *"Permission denied"* ]]
  run -126 rrun run --rm "$FIXTURE_IMAGE" /etc
  no_leftovers
}

@test "exit: 127 and the exact message when the command does not exist" {
  run -127 --separate-stderr rrun run --rm "$FIXTURE_IMAGE" /no/such/cmd
  [ "${stderr_lines[0]}" = "$MISSING_CMD_MSG" ]
  run -127 --separate-stderr rrun run --rm "$FIXTURE_IMAGE" no-such-command-in-path
  [[ ${stderr_lines[0]} == 'rrun: '*'"no-such-command-in-path"'* ]]
  no_leftovers
}

@test "exit: 128+N when the command is killed by signal N" {
  # PID 1 of a PID namespace ignores SIGKILL sent from inside, so kill it from the host.
  rrun_bg run --rm "$FIXTURE_IMAGE" sh -c 'echo ready; exec sleep 60'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  local pid1
  wait_until has_container_pid1 "$RRUN_PID"
  pid1=$(container_pid1 "$RRUN_PID")
  kill -KILL "$pid1"
  wait_bg
  [ "$BG_STATUS" -eq 137 ]
  no_leftovers
}

@test "exit: kill -9 \$\$ under --init gives 137" {
  run -137 rrun run --rm --init "$FIXTURE_IMAGE" sh -c 'kill -9 $$'
}

@test "stdio: stdin is piped with -i and is empty without it" {
  run -0 bash -c 'echo hello | "$@"' _ "${RRUN_CMD[@]}" run --rm -i "$FIXTURE_IMAGE" cat
  [ "$output" = hello ]
  run -0 bash -c 'echo hello | "$@"' _ "${RRUN_CMD[@]}" run --rm "$FIXTURE_IMAGE" cat
  [ "$output" = "" ]
}

@test "stdio: stdout and stderr stay separate and are the caller's own descriptors" {
  run -0 --separate-stderr rrun -q run --rm "$FIXTURE_IMAGE" sh -c 'echo out; echo err >&2'
  [ "$output" = out ]
  [ "$stderr" = err ]
  # Without -t rrun copies nothing: the container writes to the very same pipe.
  run -0 bash -c 'readlink /proc/self/fd/1; "$@" readlink /proc/self/fd/1' _ \
    "${RRUN_CMD[@]}" run --rm "$FIXTURE_IMAGE"
  [ "${#lines[@]}" -eq 2 ]
  [[ ${lines[0]} == pipe:* ]]
  [ "${lines[0]}" = "${lines[1]}" ]
}

@test "signals: SIGTERM to rrun reaches the command" {
  rrun_bg run --rm "$FIXTURE_IMAGE" \
    sh -c 'trap "echo got-TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  kill -TERM "$RRUN_PID"
  wait_bg
  [ "$BG_STATUS" -eq 7 ]
  grep -q got-TERM "$BATS_TEST_TMPDIR/bg.out"
  no_leftovers
}

@test "signals: SIGINT, SIGHUP and SIGUSR1 are forwarded too" {
  local sig
  for sig in INT HUP USR1; do
    rrun_bg run --rm "$FIXTURE_IMAGE" \
      sh -c "trap 'echo got-$sig; exit 9' $sig; echo ready; while :; do sleep 0.1; done"
    wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
    kill -s "$sig" "$RRUN_PID"
    wait_bg
    [ "$BG_STATUS" -eq 9 ]
    grep -q "got-$sig" "$BATS_TEST_TMPDIR/bg.out"
  done
}

@test "cleanup: --rm leaves no processes, mounts or directories behind" {
  run -0 rrun run --rm "$FIXTURE_IMAGE" true
  no_leftovers
}

# issue 19: --name took a newline (into ps and the state), --hostname a newline that added
# lines to /etc/hosts, and -v X:/proc hid the container's procfs.
@test "run: --name, --hostname and a volume on /proc are checked before anything starts" {
  run -125 rrun run --rm --name $'web\nx' "$FIXTURE_IMAGE" true
  [ "$output" = 'rrun: invalid container name "web\nx": only [a-zA-Z0-9][a-zA-Z0-9_.-]* is allowed' ]
  run -125 rrun run --rm --name -web "$FIXTURE_IMAGE" true
  [[ $output == 'rrun: invalid container name "-web"'* ]]
  run -125 rrun run --rm --hostname $'h\n6.6.6.6 evil.example' "$FIXTURE_IMAGE" cat /etc/hosts
  [ "$output" = "rrun: invalid hostname \"h\\n6.6.6.6 evil.example\": only letters, digits, '-' and '.' are allowed" ]
  run -125 rrun run --rm --hostname -h "$FIXTURE_IMAGE" true
  [ "$output" = "rrun: invalid hostname \"-h\": a label starts with '-'" ]
  run -125 rrun run --rm -v "$BATS_TEST_TMPDIR:/proc" "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = "rrun: invalid volume \"$BATS_TEST_TMPDIR:/proc\": invalid container path \"/proc\": cannot mount over or into /proc" ]
  [ "${lines[1]}" = "hint: /proc is the container's own; mount the host path elsewhere" ]
  run -125 rrun run --rm --tmpfs /proc/sys "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == *'"/proc/sys": cannot mount over or into /proc' ]]
  # what stays valid
  run -0 rrun run --rm --name web_1.a-b --hostname web-1.example "$FIXTURE_IMAGE" hostname
  [ "$output" = web-1.example ]
  no_leftovers
}
