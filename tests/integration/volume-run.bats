#!/usr/bin/env bats
# issue 15: volumes in `rrun run`: -v NAME:/path, anonymous volumes (-v /path and the
# image's VOLUME), copy-up of the image's content, --mount and inspect's Mounts.

load helpers

VOLUMES=${XDG_DATA_HOME:-$HOME/.local/share}/rrun/volumes
# PID 1 of a container ignores signals it has no handler for: this one ends on SIGTERM
SLEEPER='trap "exit 0" TERM; sleep 30 & wait'

setup_file() {
  common_setup_file
  ensure_oci_fixtures
  # the multi image (opaque /srv/data, whiteout of /etc/motd, hard links, a dir of
  # 4000:4000) and the same layers with VOLUME /srv/data and /var/cache/app
  MULTI_ID=$(rrun load -i "$FIXTURES/oci/multi" | sed -n 's/^Loaded image ID: sha256://p')
  VOLUME_ID=$(rrun load -i "$FIXTURES/oci/volume" | sed -n 's/^Loaded image ID: sha256://p')
  export MULTI_ID VOLUME_ID
}

teardown() {
  # containers are kept once stopped: theirs would hold the volumes
  rrun rm -f $(rrun ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  rrun volume rm -f $(rrun volume ls -q 2>/dev/null) >/dev/null 2>&1 || true
}

@test "-v NAME:/path creates the volume on first use; data and owners persist across containers" {
  run -1 rrun volume exists keep1
  run -0 rrun run --rm -v keep1:/data "$FIXTURE_IMAGE" sh -c 'echo one >/data/f; mkdir /data/d; chown 1234:4321 /data/d'
  run -0 rrun volume exists keep1
  run -1 rrun run --rm -v keep1:/data:ro "$FIXTURE_IMAGE" sh -c 'cat /data/f; stat -c "%u:%g" /data/d; touch /data/x'
  [ "${lines[0]}" = one ]
  [[ $output == *"Read-only file system"* ]]
  if [[ -n $(subid_base uid) ]]; then
    [ "${lines[1]}" = 1234:4321 ]
    [ "$(stat -c %u "$VOLUMES/keep1/_data/d")" = $(($(subid_base uid) + 1233)) ]
  fi
  # named volumes outlive --rm
  run -0 rrun volume exists keep1
  no_leftovers
}

@test "copy-up: a new volume gets the image's files, owners and modes; nocopy leaves it empty" {
  require_subid_range
  run -0 rrun run --rm -v home1:/home/tester "$FIXTURE_IMAGE" sh -c 'stat -c "%u:%g %a" /home/tester /home/tester/secret; cat /home/tester/secret'
  [ "${lines[0]}" = "1000:1000 755" ]
  [ "${lines[1]}" = "1000:1000 600" ]
  [ "${lines[2]}" = "secret of tester" ]
  [ "$(stat -c %u "$VOLUMES/home1/_data/secret")" = $(($(subid_base uid) + 999)) ]
  # a volume with content is not filled again
  run -0 rrun run --rm -v home1:/home/tester "$FIXTURE_IMAGE" sh -c 'echo changed >/home/tester/secret; touch /home/tester/mine'
  run -0 rrun run --rm -v home1:/home/tester "$FIXTURE_IMAGE" cat /home/tester/secret
  [ "$output" = changed ]
  # a volume whose root became a subordinate ID's, closed to me, is used again as it is
  run -0 rrun run --rm -v closed1:/home/tester "$FIXTURE_IMAGE" chmod 700 /home/tester
  run -0 rrun run --rm -v closed1:/home/tester "$FIXTURE_IMAGE" cat /home/tester/secret
  [ "$output" = "secret of tester" ]
  run -0 rrun run --rm -v empty1:/home/tester:nocopy "$FIXTURE_IMAGE" ls -A /home/tester
  [ -z "$output" ]
  run -0 rrun run --rm --mount source=empty2,target=/home/tester,volume-nocopy "$FIXTURE_IMAGE" ls -A /home/tester
  [ -z "$output" ]
  no_leftovers
}

@test "copy-up: the merged view of the layers (opaque dirs, whiteouts, hard links, odd owners)" {
  require_subid_range
  run -0 rrun run --rm -v srv1:/srv -v bin1:/usr/local/bin -v etc1:/etc "$MULTI_ID" sh -c '
    ls /srv/data; stat -c "%u:%g %a" /srv/owned; test -e /etc/motd && echo motd;
    stat -c %i /usr/local/bin/hl-a /usr/local/bin/hl-b | uniq | wc -l; hl-b'
  [ "${lines[0]}" = new.txt ]
  [ "${lines[1]}" = "4000:4000 750" ]
  [ "${lines[2]}" = 1 ]
  [ "${lines[3]}" = hardlinked ]
}

@test "anonymous volumes: -v /path and the image's VOLUME make one each, filled from the image; --rm removes them" {
  run -0 rrun run --rm -v /scratch "$VOLUME_ID" sh -c 'ls /srv/data; grep -c -e " /scratch " -e " /srv/data " -e " /var/cache/app " /proc/self/mountinfo'
  [ "${lines[0]}" = new.txt ]
  [ "${lines[1]}" = 3 ]
  run -0 rrun volume ls -q
  [ -z "$output" ]
  # without --rm they stay with the stopped container, marked anonymous
  run -0 rrun run --name anon1 -v /scratch -v keep2:/keep "$FIXTURE_IMAGE" true
  run -0 rrun volume ls -q
  [ "${#lines[@]}" -eq 2 ]
  local anon
  anon=$(rrun volume ls -q | grep -v '^keep2$')
  run -0 rrun volume inspect --format '{{.Anonymous}}' "$anon"
  [ "$output" = true ]
  # rrun rm keeps them; rm -v removes the anonymous one, never the named one
  run -0 rrun run --name anon2 -v /scratch "$FIXTURE_IMAGE" true
  local anon2
  anon2=$(rrun volume ls -q | grep -v -e '^keep2$' -e "^$anon\$")
  run -0 rrun rm anon2
  run -0 rrun volume exists "$anon2"
  run -0 rrun rm -v anon1
  [ "$output" = anon1 ]
  run -1 rrun volume exists "$anon"
  run -0 rrun volume exists keep2
  # a named volume over the image's VOLUME replaces the anonymous one
  run -0 rrun run --rm -v named1:/srv/data "$VOLUME_ID" ls /srv/data
  [ "$output" = new.txt ]
  run -0 rrun volume exists named1
  no_leftovers
}

@test "volume rm: refused while a container uses the volume, allowed once it is gone" {
  rrun_bg run --rm -v busy1:/b "$FIXTURE_IMAGE" sh -c "$SLEEPER"
  # PID 1 with its SIGTERM trap in place (15): the kill -TERM below then ends it
  has_pid1() { local p; p=$(container_pid1 "$RRUN_PID"); [[ -n $p ]] && catches_signal "$p" 15; }
  wait_until has_pid1 || { cat "$BATS_TEST_TMPDIR/bg.err"; false; }
  run -125 --separate-stderr rrun volume rm busy1
  [[ ${stderr_lines[0]} =~ ^'rrun: cannot remove volume "busy1": it is in use by container "'[0-9a-f]{12}'"'$ ]]
  [[ ${stderr_lines[1]} =~ ^'hint: stop and remove the running container first: rrun rm -f '[0-9a-f]{12}$ ]]
  run -0 rrun volume prune -f --all
  [[ $output != *busy1* ]]
  run -0 rrun volume ls -q --filter dangling=false
  [ "$output" = busy1 ]
  kill -TERM "$RRUN_PID"
  wait_bg
  run -0 rrun volume rm busy1
  no_leftovers
}

@test "volume rm and prune: a stopped container still uses its volumes; the message names it and the fix" {
  run -0 rrun run --name holder1 -v held1:/h -v /anon "$FIXTURE_IMAGE" true
  local anon
  anon=$(rrun volume ls -q | grep -v '^held1$')
  run -125 --separate-stderr rrun volume rm held1
  [ "${stderr_lines[0]}" = 'rrun: cannot remove volume "held1": it is in use by container "holder1"' ]
  [ "${stderr_lines[1]}" = 'hint: remove the stopped container first: rrun rm holder1' ]
  # ps finds it by the volume's name or its path inside
  run -0 rrun ps -a --filter volume=held1 --format '{{.Names}}'
  [ "$output" = holder1 ]
  run -0 rrun ps -a --filter volume=/h --format '{{.Names}}'
  [ "$output" = holder1 ]
  run -0 rrun ps -a --filter volume=other1 --format '{{.Names}}'
  [ -z "$output" ]
  run -125 --separate-stderr rrun volume rm "$anon"
  [ "${stderr_lines[0]}" = "rrun: cannot remove volume \"$anon\": it is in use by container \"holder1\"" ]
  run -0 rrun volume prune -f --all
  [[ $output != *held1* && $output != *"$anon"* ]]
  run -0 rrun volume exists held1
  run -0 rrun volume exists "$anon"
  run -0 rrun rm holder1
  run -0 rrun volume rm held1
  run -0 rrun volume prune -f
  [[ $output == *"$anon"* ]]
  no_leftovers
}

@test "run -d --rm: the container's anonymous volumes go with it, named ones stay" {
  run -0 rrun run -d --rm --name drm1 -v /gone -v stay1:/s "$FIXTURE_IMAGE" true
  only_stay1() { [ "$(rrun volume ls -q)" = stay1 ]; }
  wait_until only_stay1
  no_leftovers
}

@test "start: a stopped container started again keeps its anonymous volumes" {
  run -0 rrun run --name again1 -v /keep "$FIXTURE_IMAGE" sh -c 'test -e /keep/f && cat /keep/f; echo once >>/keep/f'
  [ -z "$output" ]
  run -0 rrun start -a again1
  [ "$output" = once ]
  run -0 rrun volume ls -q
  [ "${#lines[@]}" -eq 1 ]
  run -0 rrun rm -v again1
  run -0 rrun volume ls -q
  [ -z "$output" ]
}

@test "--volumes-from: another container's volumes and binds at the same paths, stopped or running; :ro" {
  local dir=$BATS_TEST_TMPDIR/vf
  mkdir -p "$dir"
  run -0 rrun run --name src1 -v vf1:/data -v /anon -v "$dir:/b" --tmpfs /t "$FIXTURE_IMAGE" sh -c 'echo named >/data/f; echo anon >/anon/f'
  local anon
  anon=$(rrun volume ls -q | grep -v '^vf1$')
  # a stopped one: its volumes and binds, not its tmpfs
  run -0 rrun run --rm --volumes-from src1 "$FIXTURE_IMAGE" sh -c 'cat /data/f /anon/f; echo via-b >/b/g; grep -c " /t " /proc/self/mountinfo || true'
  [ "${lines[0]}" = named ]
  [ "${lines[1]}" = anon ]
  [ "${lines[2]}" = 0 ]
  [ "$(cat "$dir/g")" = via-b ]
  run -1 rrun run --rm --volumes-from src1:ro "$FIXTURE_IMAGE" touch /data/x
  [[ $output == *"Read-only file system"* ]]
  # what an option mounts itself wins
  run -0 rrun run --rm --volumes-from src1 -v other1:/data "$FIXTURE_IMAGE" ls -A /data
  [ -z "$output" ]
  # a container made with them uses them too: volume rm names it, rm -v of the first
  # keeps the anonymous volume while the second holds it
  run -0 rrun run --name user1 --volumes-from src1 "$FIXTURE_IMAGE" true
  run -0 rrun inspect --format '{{json .HostConfig.VolumesFrom}}' user1
  [ "$output" = '["src1"]' ]
  run -0 rrun rm -v src1
  run -0 rrun volume exists "$anon"
  run -125 --separate-stderr rrun volume rm vf1
  [ "${stderr_lines[0]}" = 'rrun: cannot remove volume "vf1": it is in use by container "user1"' ]
  run -0 rrun rm -v user1
  run -1 rrun volume exists "$anon"
  run -0 rrun volume exists vf1
  # a running one
  run -0 rrun run -d --name live1 -v livev1:/l "$FIXTURE_IMAGE" sh -c "echo live >/l/f; $SLEEPER"
  written() { [ -s "$VOLUMES/livev1/_data/f" ]; }
  wait_until written
  run -0 rrun run --rm --volumes-from live1:rw "$FIXTURE_IMAGE" cat /l/f
  [ "$output" = live ]
  run -0 rrun rm -f live1
  no_leftovers
}

@test "--volumes-from: a missing container or a bad mode is an error (125) and makes nothing" {
  run -125 --separate-stderr rrun run --rm --volumes-from nosuch1 "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = 'rrun: cannot use --volumes-from "nosuch1": no such container "nosuch1"' ]
  [ "${stderr_lines[1]}" = 'hint: rrun ps -a lists containers, running or stopped' ]
  run -125 --separate-stderr rrun run --rm --volumes-from src1:rx "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = 'rrun: invalid --volumes-from "src1:rx": unknown mode "rx"' ]
  run -0 rrun volume ls -q
  [ -z "$output" ]
  no_leftovers
}

@test "--mount: docker's syntax for volumes, binds and tmpfs" {
  local dir=$BATS_TEST_TMPDIR/host
  mkdir -p "$dir"
  echo host >"$dir/f"
  run -0 rrun run --rm --mount source=app1,target=/app --mount type=bind,src="$dir",dst=/h,readonly \
    --mount type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=700 "$FIXTURE_IMAGE" sh -c '
      echo v >/app/v; cat /h/f; touch /h/x 2>/dev/null || echo ro; stat -c %a /t;
      grep " /t " /proc/self/mountinfo | grep -o "size=[0-9]*k"'
  [ "${lines[0]}" = host ]
  [ "${lines[1]}" = ro ]
  [ "${lines[2]}" = 700 ]
  [ "${lines[3]}" = size=1024k ]
  run -0 rrun run --rm --mount src=app1,dst=/app,ro=true "$FIXTURE_IMAGE" cat /app/v
  [ "$output" = v ]
  run -0 rrun run --rm --mount type=bind,source="$dir",target=/h,bind-propagation=rslave,bind-nonrecursive "$FIXTURE_IMAGE" cat /h/f
  [ "$output" = host ]
}

@test "--mount: unknown keys, missing targets and options that need root are clear errors" {
  run -125 --separate-stderr rrun run --rm --mount source=v1,target=/a,colour=red "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = 'rrun: invalid --mount "source=v1,target=/a,colour=red": unknown key "colour"' ]
  [[ ${stderr_lines[1]} == 'hint: keys: type, source (src), target'* ]]
  run -125 --separate-stderr rrun run --rm --mount source=v1 "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = 'rrun: invalid --mount "source=v1": no target' ]
  run -125 --separate-stderr rrun run --rm --mount type=tmpfs,target=/a,volume-nocopy "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = 'rrun: invalid --mount "type=tmpfs,target=/a,volume-nocopy": volume-nocopy does not apply to type=tmpfs' ]
  run -125 --separate-stderr rrun run --rm --mount type=volume,source=nfs1,target=/n,volume-opt=type=nfs,volume-opt=device=:/export "$FIXTURE_IMAGE" true
  [[ ${stderr_lines[0]} == *'cannot use volume option type=nfs: rootless containers cannot mount it'* ]]
  [[ ${stderr_lines[1]} == 'hint: mount it on the host'* ]]
  run -125 --separate-stderr rrun run --rm -v ./rel:/r "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = 'rrun: invalid volume "./rel:/r": "./rel" is neither an absolute host path nor a volume name' ]
  run -125 --separate-stderr rrun run --rm -v a1:/d -v b1:/d "$FIXTURE_IMAGE" true
  [ "${stderr_lines[0]}" = 'rrun: duplicate mount point "/d"' ]
  # nothing was made or pulled for a refused option
  run -0 rrun volume ls -q
  [ -z "$output" ]
  no_leftovers
}

@test "volume options: a tmpfs volume and a bind volume (type=bind,device=)" {
  local dir=$BATS_TEST_TMPDIR/dev
  mkdir -p "$dir"
  rrun volume create --opt type=tmpfs --opt device=tmpfs --opt o=size=2m t1 >/dev/null
  rrun volume create --opt type=none --opt o=bind --opt device="$dir" b1 >/dev/null
  run -0 rrun run --rm -v t1:/t -v b1:/b "$FIXTURE_IMAGE" sh -c 'grep " /t " /proc/self/mountinfo | grep -o "tmpfs.*size=2048k"; echo in-b >/b/f'
  [ -n "$output" ]
  [ "$(cat "$dir/f")" = in-b ]
}

@test "-v NAME:/path:U gives the volume to the container's user" {
  require_subid_range
  run -0 rrun run --rm -u 1000:1000 -v u1:/data:U "$FIXTURE_IMAGE" sh -c 'touch /data/mine && stat -c %u:%g /data /data/mine'
  [ "${lines[0]}" = 1000:1000 ]
  [ "${lines[1]}" = 1000:1000 ]
}

@test "inspect: Mounts lists volumes, binds and tmpfs mounts with docker's fields" {
  local dir=$BATS_TEST_TMPDIR/b
  mkdir -p "$dir"
  rrun_bg run --rm --name mnt1 -v ins1:/data:ro -v "$dir:/b" --tmpfs /t "$FIXTURE_IMAGE" sh -c "$SLEEPER"
  inspectable() { rrun inspect mnt1 >/dev/null 2>&1; }
  wait_until inspectable || { cat "$BATS_TEST_TMPDIR/bg.err"; false; }
  run -0 rrun inspect --format '{{json .Mounts}}' mnt1
  # the record comes before the command runs: SIGTERM once its trap is in place
  wait_until pid1_catches_signal mnt1 15
  kill -TERM "$RRUN_PID"
  wait_bg
  [ "$output" = "[{\"Type\":\"volume\",\"Name\":\"ins1\",\"Source\":\"$VOLUMES/ins1/_data\",\"Destination\":\"/data\",\"Driver\":\"local\",\"Mode\":\"ro\",\"RW\":false,\"Propagation\":\"\"},{\"Type\":\"bind\",\"Source\":\"$dir\",\"Destination\":\"/b\",\"Mode\":\"\",\"RW\":true,\"Propagation\":\"rprivate\"},{\"Type\":\"tmpfs\",\"Source\":\"\",\"Destination\":\"/t\",\"Mode\":\"\",\"RW\":true,\"Propagation\":\"\"}]" ]
}

@test "a volume path on a file system that cannot hold subordinate owners gives a clear message" {
  require_subid_range
  command -v fuse-overlayfs >/dev/null || skip "fuse-overlayfs is not installed"
  [[ -w /dev/fuse ]] || skip "/dev/fuse is not usable"
  local m=$BATS_TEST_TMPDIR/fuse cfg=$BATS_TEST_TMPDIR/cfg
  mkdir -p "$m"/{lower,upper,work,merged} "$cfg/rrun"
  # fuse-overlayfs run by the user (not in a user namespace) cannot chown to other IDs,
  # as NFS with root squashing cannot
  fuse-overlayfs -o "lowerdir=$m/lower,upperdir=$m/upper,workdir=$m/work" "$m/merged" || skip "cannot mount fuse-overlayfs"
  printf '[storage]\nvolume_path = %s\n' "$m/merged/vols" >"$cfg/rrun/rrun.conf"
  XDG_CONFIG_HOME=$cfg run -125 --separate-stderr rrun run --rm -v nfs1:/home/tester "$FIXTURE_IMAGE" true
  fusermount3 -u "$m/merged" || true
  [[ ${stderr_lines[0]} == "rrun: cannot copy the image's /home/tester into volume \"nfs1\": cannot give \""*"\" its owner 1000:1000: Operation not permitted" ]]
  [[ ${stderr_lines[1]} == 'hint: the volume is on a file system that cannot hold files of subordinate IDs'* ]]
}
