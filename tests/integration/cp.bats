#!/usr/bin/env bats
# issue 14: rrun cp both ways, with docker's archive semantics.

load helpers

setup() {
  cd "$BATS_TEST_TMPDIR"
}

teardown() {
  rrun rm -f $(rrun ps -a -q) >/dev/null 2>&1 || true
}

start_c1() {
  run -0 rrun run -d --name c1 "$FIXTURE_IMAGE" sh -c \
    'mkdir -p /d/sub; echo hello >/d/f; echo s >/d/sub/s; ln -s /etc/passwd /d/link; ln -s ../../../../../../.. /d/up; chown 1000:1000 /d/f; touch /ready; exec sleep 60'
  ready() { rrun exec c1 test -e /ready; }
  wait_until ready
}

@test "cp: out of a running container: a file, a directory, DIR/., to stdout; owned by the user" {
  start_c1
  run -0 rrun cp c1:/d/f out1
  [ "$(cat out1)" = hello ]
  [ "$(stat -c %u out1)" = "$(id -u)" ]
  # a directory to a new path: created with the source's contents
  run -0 rrun cp c1:/d out2
  [ "$(cat out2/sub/s)" = s ]
  [ "$(readlink out2/link)" = /etc/passwd ]
  # into an existing directory: below it, under its own name
  mkdir out3
  run -0 rrun cp c1:/d out3
  [ "$(cat out3/d/f)" = hello ]
  # DIR/. : the contents
  mkdir out4
  run -0 rrun cp c1:/d/. out4
  [ "$(cat out4/f)" = hello ]
  # a file onto a file replaces it; a directory onto a file is refused
  echo old >out5
  run -0 rrun cp c1:/d/f out5
  [ "$(cat out5)" = hello ]
  run -125 rrun cp c1:/d out5
  [ "${lines[0]}" = "rrun: cannot copy a directory to \"$BATS_TEST_TMPDIR/out5\": it is a file" ]
  # - : a tar stream on stdout, owners as in the container
  rrun cp c1:/d/f - >f.tar
  [ "$(tar -tvf f.tar | awk '{print $2, $6}')" = '1000/1000 f' ]
}

@test "cp: into a running container: owned by its root, kept with -a, from a tar on stdin" {
  start_c1
  echo host >hf
  run -0 rrun cp hf c1:/hf
  run -0 rrun exec c1 stat -c '%u:%g %s' /hf
  [ "$output" = '0:0 5' ]
  mkdir hd
  echo a >hd/a
  run -0 rrun cp -a hd c1:/tmp/
  run -0 rrun exec c1 stat -c %u /tmp/hd/a
  [ "$output" = "$(id -u)" ]
  run -0 rrun cp hd/. c1:/newdir
  run -0 rrun exec c1 cat /newdir/a
  [ "$output" = a ]
  tar -cf - hf | rrun cp - c1:/d
  run -0 rrun exec c1 cat /d/hf
  [ "$output" = host ]
  # a file to a missing directory (trailing slash) is refused
  run -1 rrun cp hf c1:/nodir/
  [ "${lines[0]}" = 'rrun: cannot copy to "/nodir/": no such directory' ]
}

@test "cp: a symlink in the container never leads out of its root" {
  start_c1
  echo host >hf
  # /d/up points far above the root: it resolves to the container's own root
  run -0 rrun cp hf c1:/d/up/escaped
  run -0 rrun exec c1 cat /escaped
  [ "$output" = host ]
  [ ! -e /escaped ]
  run -0 rrun cp c1:/d/up/etc/hostname hn
  [ "$(cat hn)" = "$(rrun exec c1 cat /etc/hostname)" ]
  # a symlink named as the source is copied as a link, not followed
  run -0 rrun cp c1:/d/link l
  [ "$(readlink l)" = /etc/passwd ]
}

@test "cp: a missing path exits 1, a missing container 125, both ways" {
  start_c1
  run -1 rrun cp c1:/nope out
  [ "$output" = 'rrun: cannot find "/nope": No such file or directory' ]
  [ ! -e out ]
  run -1 rrun cp nosuch c1:/x
  [ "$output" = 'rrun: cannot find "nosuch": No such file or directory' ]
  run -125 rrun cp nosuch:/x y
  [ "${lines[0]}" = 'rrun: no container "nosuch"' ]
  run -125 rrun cp a b
  [ "${lines[0]}" = 'rrun: cp: one of SRC and DEST must be CONTAINER:PATH' ]
}

@test "cp: a stopped container, both ways, through its layers; it starts with the files" {
  run -0 rrun run --name s1 "$FIXTURE_IMAGE" sh -c \
    'mkdir -p /d; echo hello >/d/f; chown 1000:1000 /d/f; rm -f /etc/motd; if [ -e /d/hf ]; then cat /d/hf; fi'
  run -0 rrun cp s1:/d/f out1
  [ "$(cat out1)" = hello ]
  [ "$(stat -c %u out1)" = "$(id -u)" ]
  rrun cp s1:/d/f - >f.tar
  [ "$(tar -tvf f.tar | awk '{print $2, $6}')" = '1000/1000 f' ]
  # a file the container deleted is gone (the layers are seen as the container sees them)
  run -0 rrun run --rm "$FIXTURE_IMAGE" test -e /etc/motd
  run -1 rrun cp s1:/etc/motd motd
  [ "$output" = 'rrun: cannot find "/etc/motd": No such file or directory' ]
  run -0 rrun cp s1:/etc/passwd pw
  [[ $(head -1 pw) == root:* ]]
  echo host >hf
  run -0 rrun cp hf s1:/d/hf
  run -0 rrun start -a s1
  [ "$output" = host ]
  run -0 rrun rm s1
  no_leftovers
}

@test "cp -L: a symbolic link in SRC is followed, both ways, running and stopped" {
  start_c1
  # without -L the link itself; with -L its target's contents under the link's name
  run -0 rrun cp -L c1:/d/link l
  [ ! -L l ]
  [ "$(cat l)" = "$(rrun exec c1 cat /etc/passwd)" ]
  run -0 rrun exec c1 ln -s /d /dl
  run -0 rrun cp --follow-link c1:/dl dcopy
  [ "$(cat dcopy/f)" = hello ]
  echo host >hf
  ln -s hf hl
  run -0 rrun cp hl c1:/hl
  run -0 rrun exec c1 readlink /hl
  [ "$output" = hf ]
  run -0 rrun cp -L hl c1:/hl2
  run -0 rrun exec c1 sh -c 'test ! -L /hl2 && cat /hl2'
  [ "$output" = host ]
  # a link that leads above the container's root is followed inside it
  run -0 rrun exec c1 ln -s ../../../../etc/hostname /d/hn
  run -0 rrun cp -L c1:/d/hn hn
  [ "$(cat hn)" = "$(rrun exec c1 cat /etc/hostname)" ]
  run -0 rrun stop -t 0 c1
  run -0 rrun cp -L c1:/d/link l-stopped
  [ ! -L l-stopped ]
  [ "$(cat l-stopped)" = "$(cat l)" ]
  run -0 rrun cp -L hl c1:/hl3
  run -0 rrun start c1
  wait_until ready
  run -0 rrun exec c1 sh -c 'test ! -L /hl3 && cat /hl3'
  [ "$output" = host ]
}

@test "cp: hard links stay hard links within one copy, both ways, running and stopped" {
  run -0 rrun run -d --name c2 "$FIXTURE_IMAGE" sh -c \
    'mkdir -p /h; echo x >/h/a; ln /h/a /h/b; touch /ready; exec sleep 60'
  ready2() { rrun exec c2 test -e /ready; }
  wait_until ready2
  run -0 rrun cp c2:/h out
  [ "$(stat -c %i out/a)" = "$(stat -c %i out/b)" ]
  [ "$(stat -c %h out/a)" = 2 ]
  # the stream: the second name is a link to the first, without the data again (which
  # name comes first is the directory's order: fuse-overlayfs gives b before a)
  rrun cp c2:/h - >h.tar
  [ "$(tar -tvf h.tar | grep -c -E 'h/(a link to h/b|b link to h/a)$')" = 1 ]
  mkdir hd
  echo y >hd/a
  ln hd/a hd/b
  run -0 rrun cp hd c2:/in
  run -0 rrun exec c2 stat -c %i /in/a /in/b
  [ "${lines[0]}" = "${lines[1]}" ]
  run -0 rrun stop -t 0 c2
  run -0 rrun cp c2:/h out-stopped
  [ "$(stat -c %i out-stopped/a)" = "$(stat -c %i out-stopped/b)" ]
  run -0 rrun cp hd c2:/in2
  run -0 rrun start c2
  wait_until ready2
  run -0 rrun exec c2 stat -c %i /in2/a /in2/b
  [ "${lines[0]}" = "${lines[1]}" ]
}

@test "cp: a stopped container's layers are mounted with the driver it was created with" {
  command -v fuse-overlayfs >/dev/null || skip "fuse-overlayfs is not installed"
  # fuse-overlayfs marks a directory made anew where one was deleted (opaque) its own
  # way (.wh..wh..opq): kernel overlay would show the old directory's files and markers
  run -0 "$RRUN" --storage-driver fuse-overlayfs run --name sd1 "$FIXTURE_IMAGE" \
    sh -c 'rm -rf /srv; mkdir /srv; echo new >/srv/new; rm /etc/motd; echo kept >/kept'
  run -0 rrun inspect --format '{{.Driver}}' sd1
  [ "$output" = fuse-overlayfs ]
  run -0 "$RRUN" --storage-driver overlay cp sd1:/srv srv
  [ "$(ls -A srv)" = new ]
  run -1 "$RRUN" --storage-driver overlay cp sd1:/etc/motd motd
  [ "$output" = 'rrun: cannot find "/etc/motd": No such file or directory' ]
  run -0 "$RRUN" --storage-driver overlay cp sd1:/kept kept
  [ "$(cat kept)" = kept ]
  run -0 "$RRUN" --storage-driver overlay run --name sd2 "$FIXTURE_IMAGE" true
  run -0 rrun inspect --format '{{.Driver}}' sd2
  [ "$output" = overlay ]
  run -0 rrun rm sd1 sd2
}
