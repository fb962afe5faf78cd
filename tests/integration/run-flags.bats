#!/usr/bin/env bats
# issue 20: docker's and podman's other run flags, each with its effect inside the
# container and a bad value refused with exit 125.

# shellcheck disable=SC2016 # $VARS in single quotes are for the container's shell
load helpers

@test "flags: --ulimit sets soft and hard limits; bad or raised limits exit 125" {
  run -0 rrun run --rm --ulimit nofile=100:200 --ulimit core=0 "$FIXTURE_IMAGE" \
    sh -c 'ulimit -Sn; ulimit -Hn; ulimit -c'
  [ "${lines[0]}" = 100 ]
  [ "${lines[1]}" = 200 ]
  [ "${lines[2]}" = 0 ]
  run -125 rrun run --rm --ulimit nofile=300:200 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --ulimit "nofile=300:200": the soft limit is above the hard limit' ]
  run -125 rrun run --rm --ulimit nofiles=1 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --ulimit "nofiles=1": unknown limit' ]
  [[ ${lines[1]} == hint:*nofile* ]]
  local hard
  hard=$(ulimit -Hn)
  if [[ $hard != unlimited ]]; then
    run -125 rrun run --rm --ulimit "nofile=10:$((hard + 1))" "$FIXTURE_IMAGE" true
    [ "${lines[0]}" = "rrun: --ulimit nofile=10:$((hard + 1)): cannot raise a hard limit without privileges" ]
    [ "${lines[1]}" = "hint: this session's hard limit of nofile is $hard; ask for that or less (ulimit -H shows it)" ]
  fi
}

@test "flags: --shm-size sizes /dev/shm; a bad size exits 125" {
  run -0 rrun run --rm --shm-size 2m "$FIXTURE_IMAGE" sh -c 'grep " /dev/shm " /proc/mounts'
  [[ $output == *size=2048k* ]]
  run -125 rrun run --rm --shm-size 2x "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --shm-size "2x": expected a size such as 64m or 1g' ]
}

@test "flags: --sysctl sets namespaced parameters and refuses the host's" {
  run -0 rrun run --rm --sysctl kernel.shmmax=1048576 --sysctl fs.mqueue.msg_max=20 \
    --sysctl net.ipv4.tcp_keepalive_time=600 "$FIXTURE_IMAGE" \
    sh -c 'cat /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max /proc/sys/net/ipv4/tcp_keepalive_time'
  echo "$output"
  [ "${lines[0]}" = 1048576 ]
  [ "${lines[1]}" = 20 ]
  [ "${lines[2]}" = 600 ]
  # the host keeps its own values
  [ "$(cat /proc/sys/kernel/shmmax)" != 1048576 ]
  run -125 rrun run --rm --sysctl kernel.pid_max=100000 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --sysctl "kernel.pid_max=100000": not a namespaced parameter: it would change the host' ]
  [[ ${lines[1]} == hint:* ]]
  run -125 rrun run --rm --ipc host --sysctl kernel.shmmax=1 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --sysctl "kernel.shmmax=1": the container shares the host'"'"'s IPC namespace (--ipc host)' ]
  run -125 rrun run --rm --network host --sysctl net.ipv4.ip_forward=1 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --sysctl "net.ipv4.ip_forward=1": the container has no network namespace of its own' ]
  run -125 rrun run --rm --sysctl novalue "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --sysctl "novalue": expected KEY=VALUE' ]
}

@test "flags: --group-add adds groups; keep-groups keeps the caller's; bad ones exit 125" {
  run -0 rrun run --rm --group-add 1234 --group-add 4321 "$FIXTURE_IMAGE" id -G
  [[ " $output " == *" 1234 "* && " $output " == *" 4321 "* ]]
  run -125 rrun run --rm --group-add no-such-group "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --group-add "no-such-group": no such group in the image'"'"'s /etc/group' ]
  run -125 rrun run --rm --group-add keep-groups --group-add 10 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --group-add "keep-groups": it cannot go with other groups' ]
  # keep-groups: no setgroups, so the command has as many groups as the caller has here
  # (those outside the container's map shown as 65534)
  run -0 rrun run --rm --user 1000:1000 --group-add keep-groups "$FIXTURE_IMAGE" \
    sh -c 'grep ^Groups: /proc/self/status'
  [ "$(echo "$output" | awk '{ print NF - 1 }')" -eq "$(id -G | wc -w)" ]
  run -0 rrun run --rm --user 1000:1000 --group-add 77 "$FIXTURE_IMAGE" \
    sh -c 'grep ^Groups: /proc/self/status'
  [ "$(echo "$output" | awk '{ print $2 }')" = 77 ]
}

@test "flags: --pid, --uts, --ipc and --cgroupns host share the host's namespaces" {
  local ns
  for ns in pid uts ipc cgroup; do
    local flag=--$ns
    [[ $ns == cgroup ]] && flag=--cgroupns
    run -0 rrun run --rm "$flag" host "$FIXTURE_IMAGE" readlink /proc/self/ns/$ns
    [ "$output" = "$(readlink /proc/self/ns/$ns)" ] || {
      echo "$flag host: $output" >&2
      return 1
    }
    run -0 rrun run --rm "$flag" private "$FIXTURE_IMAGE" readlink /proc/self/ns/$ns
    [ "$output" != "$(readlink /proc/self/ns/$ns)" ]
  done
  run -0 rrun run --rm --pid host "$FIXTURE_IMAGE" sh -c 'echo $$'
  [ "$output" != 1 ]
  run -0 rrun run --rm --uts host "$FIXTURE_IMAGE" hostname
  [ "$output" = "$(hostname)" ]
  run -125 rrun run --rm --uts host --hostname x "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --hostname "x": the container shares the host'"'"'s UTS namespace (--uts host)' ]
  run -125 rrun run --rm --pid other "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --pid "other": expected private, host, container:NAME' ]
  run -125 rrun run --rm --cgroupns x "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --cgroupns "x": expected private, host' ]
}

@test "flags: --ipc none has no /dev/shm, shareable is private; others exit 125" {
  run -0 rrun run --rm --ipc none "$FIXTURE_IMAGE" sh -c 'test -e /dev/shm; echo $?'
  [ "$output" = 1 ]
  run -0 rrun run --rm --ipc shareable "$FIXTURE_IMAGE" readlink /proc/self/ns/ipc
  [ "$output" != "$(readlink /proc/self/ns/ipc)" ]
  run -125 rrun run --rm --ipc bogus "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid value "bogus" for --ipc: expected private, host, shareable, none or container:NAME' ]
}

@test "flags: --pid container:NAME sees the target's processes, --ipc container:NAME shares its IPC namespace" {
  run -0 rrun run -d --name pida "$FIXTURE_IMAGE" sleep 1234
  run -0 rrun run --rm --pid container:pida "$FIXTURE_IMAGE" ps -o pid,args
  [[ $output == *"sleep 1234"* ]]
  # the target is PID 1 there; the joining command is not
  grep -Eq '^ *1 +sleep 1234$' <<<"$output"
  local a pid_ns ipc_ns
  a=$(rrun exec pida sh -c 'readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc')
  pid_ns=$(echo "$a" | sed -n 1p)
  ipc_ns=$(echo "$a" | sed -n 2p)
  [[ $pid_ns == pid:* && $ipc_ns == ipc:* ]]
  run -0 rrun run --rm --pid container:pida --ipc container:pida "$FIXTURE_IMAGE" \
    sh -c 'readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc'
  [ "$output" = "$a" ]
  run -0 rrun run --rm --ipc container:pida "$FIXTURE_IMAGE" \
    sh -c 'readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid'
  [ "${lines[0]}" = "$ipc_ns" ]
  [ "${lines[1]}" != "$pid_ns" ]
  # with the network of the same container too
  run -0 rrun run --rm --pid container:pida --network container:pida "$FIXTURE_IMAGE" \
    readlink /proc/self/ns/pid
  [ "$output" = "$pid_ns" ]
  run -0 rrun rm -f pida
}

@test "flags: --pid/--ipc container: a missing target, or two targets, exit 125" {
  run -125 rrun run --rm --pid container:nosuch "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot join the PID namespace of container "nosuch": no running container has that name or id' ]
  [ "${lines[1]}" = 'hint: list running containers with: rrun ps' ]
  run -125 rrun run --rm --ipc container:nosuch "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot join the IPC namespace of container "nosuch": no running container has that name or id' ]
  run -125 rrun run --rm --pid container:a --ipc container:b "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --pid container:a and --ipc container:b: a container joins the namespaces of one other container only' ]
  run -125 rrun run --rm --ipc container:a --network container:b "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --ipc container:a and --network container:b: a container joins the namespaces of one other container only' ]
  run -125 rrun run --rm --pid container: "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --pid "container:": expected private, host, container:NAME' ]
  # a stopped one is not running
  run -0 rrun create --name pidb "$FIXTURE_IMAGE" true
  run -125 rrun run --rm --pid container:pidb "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot join the PID namespace of container "pidb": no running container has that name or id' ]
  run -0 rrun rm pidb
}

@test "flags: --tz sets /etc/localtime; an unknown zone exits 125" {
  [[ -f /usr/share/zoneinfo/Asia/Tokyo ]] || skip "no tzdata on this machine"
  run -0 rrun run --rm --tz Asia/Tokyo "$FIXTURE_IMAGE" date +%Z
  [ "$output" = JST ]
  run -125 rrun run --rm --tz Nowhere/City "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --tz "Nowhere/City": no such time zone in /usr/share/zoneinfo' ]
  run -125 rrun run --rm --tz ../../etc/passwd "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: invalid --tz "../../etc/passwd": expected local or a zone'* ]]
}

@test "flags: --umask sets the command's umask; a bad mask exits 125" {
  run -0 rrun run --rm --umask 0077 "$FIXTURE_IMAGE" sh -c 'umask; touch /f; stat -c %a /f'
  [ "${lines[0]}" = 0077 ]
  [ "${lines[1]}" = 600 ]
  run -125 rrun run --rm --umask 0999 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --umask "0999": expected an octal mask from 0000 to 0777' ]
}

@test "flags: --no-hosts keeps the image's /etc/hosts" {
  run -0 rrun run --rm --hostname flagbox "$FIXTURE_IMAGE" cat /etc/hosts
  [[ $output == *flagbox* ]]
  run -0 rrun run --rm --hostname flagbox --no-hosts "$FIXTURE_IMAGE" sh -c 'cat /etc/hosts 2>/dev/null; true'
  [[ $output != *flagbox* ]]
  run -125 rrun run --rm --no-hosts=maybe "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: run: invalid value "maybe" for --no-hosts: expected true or false' ]]
}

@test "flags: --expose adds ports -P publishes; a bad port exits 125" {
  rrun_bg run --rm --init --name exposer --expose 7070 -P "$FIXTURE_IMAGE" \
    sh -c 'echo ready; exec sleep 20'
  wait_until grep -qx ready "$BATS_TEST_TMPDIR/bg.out"
  run -0 rrun port exposer
  [[ ${lines[0]} =~ ^7070/tcp\ -\>\ [0-9.]+:[0-9]+$ ]]
  kill -TERM "$RRUN_PID"
  wait_bg
  run -125 rrun run --rm --expose 70000 "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: invalid --expose "70000": expected PORT[-PORT][/tcp|udp|sctp]'* ]]
}

@test "flags: --env-host, --env-merge, --unsetenv, --unsetenv-all and --http-proxy" {
  # the host's PATH comes too: absolute paths
  FLAGS_FROM_HOST=yes run -0 rrun run --rm --env-host "$FIXTURE_IMAGE" /bin/sh -c 'echo "$FLAGS_FROM_HOST"; echo "$PATH"'
  [ "${lines[0]}" = yes ]
  [ "${lines[1]}" = "$PATH" ]
  FLAGS_FROM_HOST=yes run -0 rrun run --rm "$FIXTURE_IMAGE" sh -c 'echo "${FLAGS_FROM_HOST-unset}"'
  [ "$output" = unset ]
  run -0 rrun run --rm --env-merge 'PATH=${PATH}:/opt/extra' "$FIXTURE_IMAGE" /bin/sh -c 'echo "$PATH"' 
  [[ $output == /*:/opt/extra ]]
  # (busybox sh sets a HOSTNAME shell variable of its own: look at the environment)
  run -0 rrun run --rm --unsetenv HOSTNAME "$FIXTURE_IMAGE" sh -c 'env | grep -c ^HOSTNAME= || true'
  [ "$output" = 0 ]
  run -0 rrun run --rm --unsetenv-all -e ONLY=1 "$FIXTURE_IMAGE" /bin/env
  [ "$output" = ONLY=1 ]
  http_proxy=http://proxy.example:3128 run -0 rrun run --rm "$FIXTURE_IMAGE" sh -c 'echo "$http_proxy"'
  [ "$output" = http://proxy.example:3128 ]
  http_proxy=http://proxy.example:3128 run -0 rrun run --rm --http-proxy=false "$FIXTURE_IMAGE" \
    sh -c 'echo "${http_proxy-unset}"'
  [ "$output" = unset ]
  run -125 rrun run --rm --unsetenv 'A B' "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --unsetenv "A B": expected a variable name' ]
  run -125 rrun run --rm --env-merge novalue "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: invalid --env-merge "novalue": expected KEY=VALUE'* ]]
}

@test "flags: -u UID gets a passwd line (--passwd, --passwd-entry); --hostuser copies the host's" {
  run -0 rrun run --rm --user 12345 "$FIXTURE_IMAGE" sh -c 'whoami; grep ^12345: /etc/passwd'
  [ "${lines[0]}" = 12345 ]
  [ "${lines[1]}" = '12345:*:12345:0:container user:/:/bin/sh' ]
  run -0 rrun run --rm --user 12345:12345 --passwd-entry '$USERNAME:x:$UID:$GID:Tester:/home/t:/bin/sh' \
    "$FIXTURE_IMAGE" grep ^12345: /etc/passwd
  [ "$output" = '12345:x:12345:12345:Tester:/home/t:/bin/sh' ]
  run -1 rrun run --rm --user 12345 --passwd=false "$FIXTURE_IMAGE" grep -q ^12345: /etc/passwd
  run -0 rrun run --rm --hostuser "$(id -un)" "$FIXTURE_IMAGE" grep -c "^$(id -un):x:$(id -u):" /etc/passwd
  [ "$output" = 1 ]
  run -125 rrun run --rm --hostuser no-such-user-here "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --hostuser "no-such-user-here": no such user on this machine' ]
  run -125 rrun run --rm --passwd-entry "$(printf 'a\nb')" "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: invalid --passwd-entry "a' ]]
}

@test "flags: --annotation is shown by inspect; an empty key exits 125" {
  run -0 rrun create --name annotated --annotation org.example/k=v1 "$FIXTURE_IMAGE" true
  run -0 rrun inspect --format json annotated
  [[ $output == *'"Annotations"'*'"org.example/k": "v1"'* ]]
  run -0 rrun rm annotated
  run -125 rrun run --rm --annotation =v "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --annotation "=v": no key' ]
}

@test "flags: --oom-score-adj and --personality apply to the command; bad values exit 125" {
  run -0 rrun run --rm --oom-score-adj 500 "$FIXTURE_IMAGE" cat /proc/self/oom_score_adj
  [ "$output" = 500 ]
  run -125 rrun run --rm --oom-score-adj 2000 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --oom-score-adj "2000": expected a number from -1000 to 1000' ]
  if [[ $(uname -m) == x86_64 ]]; then
    run -0 rrun run --rm --personality LINUX32 "$FIXTURE_IMAGE" uname -m
    [ "$output" = i686 ]
  fi
  run -125 rrun run --rm --personality LINUX64 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --personality "LINUX64": expected LINUX or LINUX32' ]
}

@test "flags: --preserve-fds passes fd 3 to the command; a closed fd exits 125" {
  echo from-fd-3 >"$BATS_TEST_TMPDIR/in"
  run -0 bash -c '"$@" 3<"$0"' "$BATS_TEST_TMPDIR/in" "${RRUN_CMD[@]}" run --rm \
    --preserve-fds 1 "$FIXTURE_IMAGE" sh -c 'cat <&3'
  [ "$output" = from-fd-3 ]
  run -0 bash -c '"$@" 3<"$0"' "$BATS_TEST_TMPDIR/in" "${RRUN_CMD[@]}" run --rm \
    "$FIXTURE_IMAGE" sh -c 'if [ -e /proc/self/fd/3 ]; then echo open; else echo closed; fi'
  [ "$output" = closed ]
  run -125 bash -c '"$@" 3<&- 4<&- 5<&-' _ "${RRUN_CMD[@]}" run --rm --preserve-fds 3 \
    "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --preserve-fds "3": fd 3 is not open' ]
}

@test "flags: --pidfile, --timeout (exit 255) and --sig-proxy=false" {
  run -0 rrun run --rm --pidfile "$BATS_TEST_TMPDIR/pid" "$FIXTURE_IMAGE" true
  [[ $(cat "$BATS_TEST_TMPDIR/pid") =~ ^[0-9]+$ ]]
  SECONDS=0
  run -255 rrun run --rm --timeout 1 "$FIXTURE_IMAGE" sleep 20
  ((SECONDS < 10))
  run -125 rrun run --rm --timeout 1s "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --timeout "1s": expected seconds' ]
  # without forwarding, SIGTERM to rrun does not reach the command's trap
  rrun_bg run --rm --sig-proxy=false "$FIXTURE_IMAGE" \
    sh -c 'trap "echo got-term; exit 3" TERM; echo ready; sleep 2; echo done'
  wait_until grep -qx ready "$BATS_TEST_TMPDIR/bg.out"
  kill -TERM "$RRUN_PID"
  wait_bg
  [ "$BG_STATUS" -eq 0 ]
  grep -qx done "$BATS_TEST_TMPDIR/bg.out"
  run ! grep -q got-term "$BATS_TEST_TMPDIR/bg.out"
}

@test "flags: --timeout under -d and create/start: the monitor kills the container, 255 recorded" {
  SECONDS=0
  run -0 rrun run -d --name tmo --timeout 1 "$FIXTURE_IMAGE" sleep 100
  run -0 timeout 30 "${RRUN_CMD[@]}" wait tmo
  [ "$output" = 255 ]
  ((SECONDS < 20))
  run -0 rrun inspect --format '{{.State.ExitCode}}' tmo
  [ "$output" = 255 ]
  run -0 rrun create --name tmo2 --timeout 1 "$FIXTURE_IMAGE" sleep 100
  run -0 rrun start tmo2
  run -0 timeout 30 "${RRUN_CMD[@]}" wait tmo2
  [ "$output" = 255 ]
  run -0 rrun rm tmo tmo2
}

@test "flags: --replace removes the container holding the name; it needs --name" {
  run -0 rrun create --name replaced "$FIXTURE_IMAGE" true
  run -0 rrun run --rm --replace --name replaced "$FIXTURE_IMAGE" echo new
  [ "$output" = new ]
  run -125 rrun run --rm --replace "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --replace needs --name' ]
}

@test "flags: --read-only-tmpfs gives --read-only a writable /tmp, /var/tmp and /run" {
  run -0 rrun run --rm --read-only "$FIXTURE_IMAGE" sh -c 'touch /tmp/a /run/b && echo ok'
  [ "$output" = ok ]
  run -1 rrun run --rm --read-only --read-only-tmpfs=false "$FIXTURE_IMAGE" \
    sh -c 'mkdir -p /tmp 2>/dev/null; touch /tmp/a'
}

@test "flags: --sdnotify, --image-volume, --detach-keys and --authfile are checked" {
  run -125 rrun run --rm --sdnotify always "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --sdnotify "always": expected container, conmon, ignore' ]
  run -125 rrun run --rm --image-volume copy "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --image-volume "copy": expected bind, tmpfs, ignore' ]
  run -125 rrun run --rm --detach-keys ctrl-1 "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: invalid --detach-keys "ctrl-1": expected keys such as ctrl-p,ctrl-q'* ]]
  run -0 rrun run --rm --detach-keys ctrl-p,ctrl-q --sdnotify ignore -q "$FIXTURE_IMAGE" true
  run -125 rrun run --rm --authfile /no/such/auth.json "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --authfile "/no/such/auth.json": No such file or directory' ]
  run -125 rrun run --rmi "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --rmi needs --rm' ]
}

@test "flags: --image-volume tmpfs and ignore" {
  ensure_oci_fixtures
  local id
  id=$(rrun load -i "$FIXTURES/oci/volume" | sed -n 's/^Loaded image ID: sha256://p')
  [ -n "$id" ]
  run -0 rrun run --rm --image-volume tmpfs "$id" sh -c 'grep -c " tmpfs " /proc/mounts'
  local with=$output
  run -0 rrun run --rm --image-volume ignore "$id" sh -c 'grep -c " tmpfs " /proc/mounts'
  ((with > output))
  run -0 rrun rmi "$id"
}

@test "flags: --rmi removes the image after --rm" {
  run -0 rrun tag "$FIXTURE_IMAGE" localhost/rrun-rmi-test:latest
  local before
  before=$(rrun images -q | wc -l)
  run -0 rrun run --rm --rmi localhost/rrun-rmi-test:latest true
  run -125 rrun run --rm --pull never localhost/rrun-rmi-test:latest true
  [ "$(rrun images -q | wc -l)" -eq "$before" ]
}

@test "flags: --init-path runs the user's init; --chrootdirs gets the /etc files" {
  printf '#!/bin/sh\nshift\necho via-custom-init\nexec "$@"\n' >"$BATS_TEST_TMPDIR/myinit"
  chmod 755 "$BATS_TEST_TMPDIR/myinit"
  run -0 rrun run --rm --init-path "$BATS_TEST_TMPDIR/myinit" "$FIXTURE_IMAGE" echo cmd
  [ "${lines[0]}" = via-custom-init ]
  [ "${lines[1]}" = cmd ]
  run -125 rrun run --rm --init-path relative/init "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --init-path "relative/init": not an executable file' ]
  run -0 rrun run --rm --hostname chrooted --chrootdirs /jail "$FIXTURE_IMAGE" cat /jail/etc/hostname
  [ "$output" = chrooted ]
  run -125 rrun run --rm --chrootdirs jail "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --chrootdirs "jail": expected an absolute path inside the container' ]
}

@test "flags: --requires starts stopped required containers first (as podman)" {
  run -125 rrun run --rm --requires no-such-ctr "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --requires: no such container "no-such-ctr"' ]
  run -0 rrun create --name required "$FIXTURE_IMAGE" sleep 100
  run -0 rrun run --rm --requires required "$FIXTURE_IMAGE" true
  run -0 rrun inspect --format '{{.State.Status}}' required
  [ "$output" = running ]
  run -0 rrun rm -f required
  # rrun create accepts a stopped one; start and run -d start it
  run -0 rrun create --name required "$FIXTURE_IMAGE" sleep 100
  run -0 rrun create --name requiring --requires required "$FIXTURE_IMAGE" sleep 100
  run -0 rrun inspect --format '{{.State.Status}}' required
  [ "$output" = created ]
  run -0 rrun start requiring
  run -0 rrun inspect --format '{{.State.Status}}' required
  [ "$output" = running ]
  run -0 rrun rm -f required requiring
  run -0 rrun create --name required "$FIXTURE_IMAGE" sleep 100
  run -0 rrun run -d --name requiring --requires required "$FIXTURE_IMAGE" sleep 100
  run -0 rrun inspect --format '{{.State.Status}}' required
  [ "$output" = running ]
  run -0 rrun rm -f required requiring
}

@test "flags: --platform of this machine runs; a foreign one needs emulation" {
  run -0 rrun run --rm --platform "linux/$(uname -m)" "$FIXTURE_IMAGE" true
  if [[ $(uname -m) == x86_64 && ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
    run -125 rrun run --rm --platform linux/arm64 "$FIXTURE_IMAGE" true
    [ "${lines[0]}" = 'rrun: --platform linux/arm64: cannot run on this linux/amd64 machine without emulation' ]
    run -125 rrun run --rm --arch arm64 "$FIXTURE_IMAGE" true
  fi
  run -125 rrun run --rm --os windows "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: --platform windows/'*': rrun runs Linux images only' ]]
  run -125 rrun run --rm --platform linux/amd64 --arch arm64 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --platform cannot go with --os, --arch or --variant' ]
}

@test "flags: --secret mounts a stored secret at /run/secrets or sets it as a variable" {
  printf 's3cr3t' >"$BATS_TEST_TMPDIR/pw"
  run -0 rrun secret create dbpw "$BATS_TEST_TMPDIR/pw"
  run -0 rrun secret ls -q
  [ "$output" = dbpw ]
  run -0 rrun run --rm --secret dbpw "$FIXTURE_IMAGE" sh -c 'cat /run/secrets/dbpw; echo; stat -c %a /run/secrets/dbpw'
  [ "${lines[0]}" = s3cr3t ]
  [ "${lines[1]}" = 400 ]
  run -0 rrun run --rm --secret dbpw,target=/etc/pw,mode=0444 "$FIXTURE_IMAGE" stat -c %a /etc/pw
  [ "$output" = 444 ]
  run -0 rrun run --rm --secret dbpw,type=env,target=DB_PW "$FIXTURE_IMAGE" sh -c 'echo "$DB_PW"' 
  [ "$output" = s3cr3t ]
  run -125 rrun run --rm --secret nosuch "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --secret nosuch: no such secret "nosuch"' ]
  run -125 rrun run --rm --secret dbpw,type=file "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --secret "dbpw,type=file": "type=file"' ]
  run -125 rrun secret create dbpw "$BATS_TEST_TMPDIR/pw"
  [ "${lines[0]}" = 'rrun: cannot create secret: secret "dbpw" exists' ]
  run -0 rrun secret rm dbpw
  run -0 rrun secret ls -q
  [ -z "$output" ]
}

@test "flags: --sdnotify conmon sends READY=1 to NOTIFY_SOCKET; container passes the socket in" {
  local dir
  dir=$(mktemp -d /tmp/rrun-notify.XXXXXX)
  /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(20); open(sys.argv[2], "w").close()
print(s.recv(4096).decode())' "$dir/n.sock" "$dir/ready" >"$dir/got" 3>&- &
  local listener=$!
  wait_until test -e "$dir/ready"
  NOTIFY_SOCKET=$dir/n.sock run -0 rrun run --rm "$FIXTURE_IMAGE" true
  wait "$listener"
  grep -qx READY=1 "$dir/got"
  grep -q '^MAINPID=[0-9]*$' "$dir/got"
  NOTIFY_SOCKET=$dir/n.sock run -0 rrun run --rm --sdnotify container "$FIXTURE_IMAGE" \
    sh -c 'echo "$NOTIFY_SOCKET"; test -S /run/notify/notify.sock && echo socket'
  [ "${lines[0]}" = /run/notify/notify.sock ]
  [ "${lines[1]}" = socket ]
  rm -rf "$dir"
}

@test "flags: --uidmap and --gidmap map within your ranges; others are refused" {
  require_subid_range
  local base gbase
  base=$(subid_base uid)
  gbase=$(subid_base gid)
  # container 0..999 = your subordinate IDs 1..1000 (the default map's 1 = subuid_base);
  # fuse-overlayfs shows the stored layers under the new map
  # (you must be mapped somewhere: here at 65535)
  run -0 "$RRUN" run --rm --uidmap 0:1:1000 --uidmap 65535:0:1 "$FIXTURE_IMAGE" \
    sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u:%g /etc/passwd'
  [ "$(echo "${lines[0]}" | awk '{ print $1, $2, $3 }')" = "0 $base 1000" ]
  [ "$(echo "${lines[1]}" | awk '{ print $1, $2, $3 }')" = "65535 $(id -u) 1" ]
  [ "$(echo "${lines[2]}" | awk '{ print $1, $2, $3 }')" = "0 $gbase 1000" ]
  [ "${lines[4]}" = 0 ]
  [ "${lines[5]}" = 0:0 ]
  run -125 "$RRUN" run --rm --uidmap 0:1:1000 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --uidmap: your own UID (ID 0 of the middle field) must be mapped' ]
  # --gidmap defaults to the --uidmap entries
  run -0 "$RRUN" run --rm --uidmap 0:0:1 --uidmap 1:1:100 "$FIXTURE_IMAGE" cat /proc/self/uid_map
  [ "$(echo "${lines[0]}" | awk '{ print $1, $2, $3 }')" = "0 $(id -u) 1" ]
  [ "$(echo "${lines[1]}" | awk '{ print $1, $2, $3 }')" = "1 $base 100" ]
  run -125 "$RRUN" run --rm --uidmap 0:1:99999999 "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: --uidmap "0:1:99999999": ID '*" is outside your namespace's "*' IDs' ]]
  run -125 "$RRUN" run --rm --uidmap 1:1:10 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --uidmap: container ID 0 must be mapped: the container is set up as its root' ]
  run -125 "$RRUN" run --rm --uidmap 0-1-2 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --uidmap "0-1-2": expected CONTAINER:ID:COUNT such as 0:1:65536' ]
  run -125 "$RRUN" run --rm --uidmap 0:1:10 --userns keep-id "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: --uidmap cannot go with --userns=keep-id' ]
  run -125 "$RRUN" run --rm --subuidname root "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = "rrun: --subuidname \"root\": newuidmap and newgidmap map only your own ranges (\"$(id -un)\")" ]
  run -0 "$RRUN" run --rm --subuidname "$(id -un)" "$FIXTURE_IMAGE" true
  run -125 "$RRUN" run --rm --subgidname root "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = "rrun: --subgidname \"root\": newuidmap and newgidmap map only your own ranges (\"$(id -un)\")" ]
  # newuidmap and newgidmap take the caller's entries by name or by uid: so does rrun
  run -0 "$RRUN" run --rm --subuidname "$(id -u)" --subgidname "$(id -u)" "$FIXTURE_IMAGE" \
    sh -c 'cat /proc/self/uid_map /proc/self/gid_map | wc -l'
  [ "$output" -ge 2 ]
}
