#!/usr/bin/env bats
# issue 2: env, working dir, user, entrypoint, HOME, hostname, --init, --network.

load helpers

@test "env: -e K=V, -e K from the host, --env-file, and the image's PATH" {
  printf 'FROM_FILE=file\n# a comment\n\nFILE_FROM_HOST\n' >"$BATS_TEST_TMPDIR/env"
  FROM_HOST=host-value FILE_FROM_HOST=fh run -0 rrun run --rm -e A=1 -e FROM_HOST \
    -e NOT_SET_ON_HOST_XYZ --env-file "$BATS_TEST_TMPDIR/env" "$FIXTURE_IMAGE" env
  [[ $'\n'$output$'\n' == *$'\nA=1\n'* ]]
  [[ $'\n'$output$'\n' == *$'\nFROM_HOST=host-value\n'* ]]
  [[ $'\n'$output$'\n' == *$'\nFROM_FILE=file\n'* ]]
  [[ $'\n'$output$'\n' == *$'\nFILE_FROM_HOST=fh\n'* ]]
  [[ $'\n'$output$'\n' == *$'\nPATH='* ]]
  [[ $output != *NOT_SET_ON_HOST_XYZ* ]]   # docker drops -e K when K is unset
  [[ $output != *BATS_* ]]                 # the host environment does not leak in
}

@test "env: -e overrides an earlier value and --env-file comes before -e" {
  printf 'X=from-file\n' >"$BATS_TEST_TMPDIR/env"
  run -0 rrun run --rm --env-file "$BATS_TEST_TMPDIR/env" -e X=from-flag "$FIXTURE_IMAGE" \
    sh -c 'echo $X'
  [ "$output" = from-flag ]
  run -0 rrun run --rm -e PATH=/bin "$FIXTURE_IMAGE" sh -c 'echo $PATH'
  [ "$output" = /bin ]
}

@test "env: a missing --env-file is an error naming it" {
  run -125 --separate-stderr rrun run --rm --env-file /no/such/envfile "$FIXTURE_IMAGE" true
  [[ ${stderr_lines[0]} == "rrun: "*"/no/such/envfile"* ]]
}

@test "env: files rrun reads are bounded; a device, a NUL, bad UTF-8 are refused by line" {
  # issue 19: --env-file /dev/zero and RRUN_REGISTRIES_CONF=/dev/zero grew without bound;
  # a NUL byte dropped the rest of the file silently; a binary file printed raw bytes.
  run -125 --separate-stderr timeout 20 "$RRUN" run --rm --env-file /dev/zero "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = 'rrun: cannot read env file "/dev/zero": a character device, not a regular file' ]
  printf 'A=1\nB=2\0C=3\n' >"$BATS_TEST_TMPDIR/nul"
  run -125 --separate-stderr rrun run --rm --env-file "$BATS_TEST_TMPDIR/nul" "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = "rrun: cannot read env file \"$BATS_TEST_TMPDIR/nul\": line 2 holds a NUL byte" ]
  printf 'A=1\n\nB=\xff\x1b[2J\n' >"$BATS_TEST_TMPDIR/bin"
  run -125 --separate-stderr rrun run --rm --label-file "$BATS_TEST_TMPDIR/bin" "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = "rrun: cannot read label file \"$BATS_TEST_TMPDIR/bin\": line 3 is not valid UTF-8" ]
  printf 'A B\x1b[2J=1\n' >"$BATS_TEST_TMPDIR/esc"
  run -125 --separate-stderr rrun run --rm --env-file "$BATS_TEST_TMPDIR/esc" "$FIXTURE_IMAGE" true
  [[ $stderr != *$'\x1b'* ]]
  [[ ${stderr_lines[0]} == *'"A B\x1b[2J=1"'* ]]
  run -125 --separate-stderr env RRUN_REGISTRIES_CONF=/dev/zero timeout 20 "$RRUN" pull -q busybox
  [ "${stderr_lines[0]}" = 'rrun: cannot read registries.conf "/dev/zero": a character device, not a regular file' ]
  # a pipe is still an env file, as with docker: --env-file <(cmd)
  run -0 rrun run --rm --env-file <(echo FROM_PIPE=yes) "$FIXTURE_IMAGE" sh -c 'echo "$FROM_PIPE"'
  [ "$output" = yes ]
}

@test "workdir: / by default, -w sets it" {
  run -0 rrun run --rm "$FIXTURE_IMAGE" pwd
  [ "$output" = / ]
  run -0 rrun run --rm -w /tmp "$FIXTURE_IMAGE" pwd
  [ "$output" = /tmp ]
}

@test "user: -u 1000:1000 and the issue's example" {
  run -0 rrun run --rm -e A=1 -w /tmp -u 1000:1000 --hostname box "$FIXTURE_IMAGE" \
    sh -c 'id -u; id -g; pwd; echo $A; hostname'
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = 1000 ]
  [ "${lines[2]}" = /tmp ]
  [ "${lines[3]}" = 1 ]
  [ "${lines[4]}" = box ]
}

@test "user: -u tester takes uid, gid, groups and HOME from the image's passwd and group" {
  run -0 rrun run --rm -u tester "$FIXTURE_IMAGE" sh -c 'id -u; id -g; id -G; echo $HOME; cat ~/secret'
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = 1000 ]
  local groups=" ${lines[2]} "
  [[ $groups == *" 1000 "* && $groups == *" 10 "* && $groups == *" 29 "* && $groups == *" 50 "* ]]
  [[ $groups != *" 0 "* && $groups != *" 1 "* ]]
  [ "${lines[3]}" = /home/tester ]
  [ "${lines[4]}" = "secret of tester" ]   # the 0600 file owned by 1000 is readable by 1000
}

@test "user: tester cannot read root's files; an unknown user name is an error" {
  # ls's own refusal (status 1, EACCES), not rrun failing to start (125-127)
  run -1 --separate-stderr rrun run --rm -u tester "$FIXTURE_IMAGE" ls /root
  [ "$stderr" = "ls: can't open '/root': Permission denied" ]
  run -125 --separate-stderr rrun run --rm -u no-such-user "$FIXTURE_IMAGE" true
  [[ ${stderr_lines[0]} == "rrun: "*'"no-such-user"'* ]]
}

@test "user: HOME like docker: /root for root, / for a uid without a passwd entry" {
  run -0 rrun run --rm "$FIXTURE_IMAGE" sh -c 'echo $HOME'
  [ "$output" = /root ]
  run -0 rrun run --rm -u 4321 "$FIXTURE_IMAGE" sh -c 'id -u; echo $HOME'
  [ "${lines[0]}" = 4321 ]
  [ "${lines[1]}" = / ]
  run -0 rrun run --rm -e HOME=/srv "$FIXTURE_IMAGE" sh -c 'echo $HOME'
  [ "$output" = /srv ]
}

@test "entrypoint: --entrypoint replaces it and the arguments follow" {
  run -0 rrun run --rm --entrypoint /bin/echo "$FIXTURE_IMAGE" hello world
  [ "$output" = "hello world" ]
}

@test "hostname: --hostname sets it and /etc/hostname and /etc/hosts agree" {
  run -0 rrun run --rm --hostname box "$FIXTURE_IMAGE" sh -c 'hostname; cat /etc/hostname; grep -c box /etc/hosts'
  [ "${lines[0]}" = box ]
  [ "${lines[1]}" = box ]
  [ "${lines[2]}" -ge 1 ]
  run -0 rrun run --rm "$FIXTURE_IMAGE" cat /etc/resolv.conf
}

@test "--init: PID 1 is rrun's init, zombies are reaped, the status is passed on" {
  run -0 rrun run --rm --init "$FIXTURE_IMAGE" sh -c 'echo $$; cat /proc/1/comm'
  [ "${lines[0]}" != 1 ]
  [[ ${lines[1]} == rrun* ]]
  # An orphan is reparented to init; once it exits, init must reap it. (Zombies are looked
  # for once it is gone, reaped, or after 10 s: not after a fixed 1.5 s, which a loaded
  # machine may need all of for the orphan's 0.2 s.)
  run -0 rrun run --rm --init "$FIXTURE_IMAGE" \
    sh -c 'sh -c "sleep 0.2 & echo \$! >/tmp/orphan; exit 0"; o=$(cat /tmp/orphan); i=0
           while [ -e /proc/$o ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
           grep -l "^State:.*Z" /proc/[0-9]*/status || echo no-zombies'
  [ "$output" = no-zombies ]
  run -5 rrun run --rm --init "$FIXTURE_IMAGE" sh -c 'exit 5'
}

@test "--init: SIGTERM to rrun reaches the command through init" {
  rrun_bg run --rm --init "$FIXTURE_IMAGE" \
    sh -c 'trap "echo got-TERM; exit 8" TERM; echo ready; while :; do sleep 0.1; done'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  kill -TERM "$RRUN_PID"
  wait_bg
  [ "$BG_STATUS" -eq 8 ]
  no_leftovers
}

net_devs='awk -F: "NR > 2 { gsub(/ /, \"\", \$1); print \$1 }" /proc/net/dev | sort'

@test "network: --network none has only lo, and it is up" {
  run -0 rrun run --rm --network none "$FIXTURE_IMAGE" sh -c "$net_devs"
  [ "$output" = lo ]
  run -0 rrun run --rm --network none "$FIXTURE_IMAGE" ip -o link show lo
  [[ $output == *UP* ]]
}

@test "network: --network host shows the host's interfaces" {
  local host
  host=$(sh -c "$net_devs")
  run -0 rrun run --rm --network host "$FIXTURE_IMAGE" sh -c "$net_devs"
  [ "$output" = "$host" ]
}
