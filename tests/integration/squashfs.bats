#!/usr/bin/env bats
# Single-file images: rrun image export --format squashfs, then rrun run FILE (and
# --image-file, run -d, create/start): the image config applied from inside the file,
# owners as the container sees them, a read-only lower with a writable upper, nothing
# written beside the file, and clear errors for files that are not rrun's.

load helpers

setup_file() {
  common_setup_file
  SQ_MISSING=
  command -v jq >/dev/null || SQ_MISSING="jq is not installed"
  command -v squashfuse >/dev/null || SQ_MISSING="squashfuse is not installed"
  command -v mksquashfs >/dev/null || SQ_MISSING="mksquashfs is not installed (squashfs-tools)"
  export SQ_MISSING
  [[ -z $SQ_MISSING ]] || return 0
  local ctx=$BATS_FILE_TMPDIR/ctx
  mkdir -p "$ctx"
  cat >"$ctx/Dockerfile" <<EOF2
FROM $FIXTURE_IMAGE
ENV SQ_VAR=from-image
WORKDIR /srv/app
RUN echo layer2 > /srv/app/file && rm /srv/odd
USER tester
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo default \$SQ_VAR \$(pwd) \$(id -u)"]
EOF2
  rrun build -q -t localhost/sq-cfg:1 "$ctx" >/dev/null
  SQ_DIR=$BATS_FILE_TMPDIR/images
  mkdir -p "$SQ_DIR"
  rrun image export --format squashfs localhost/sq-cfg:1 -o "$SQ_DIR/cfg.sqsh"
  rrun image export --format squashfs "$FIXTURE_IMAGE" -o "$SQ_DIR/base.sqsh"
  export SQ_DIR
}

setup() {
  [[ -z $SQ_MISSING ]] || skip "$SQ_MISSING"
}

teardown_file() {
  rrun rm -f sq-d sq-c >/dev/null 2>&1 || true
  rrun rmi -f localhost/sq-cfg:1 >/dev/null 2>&1 || true
}

@test "squashfs: export writes one squashfs file with the config inside and no temp file" {
  run -0 unsquashfs -s "$SQ_DIR/cfg.sqsh"
  [[ ${lines[0]} == "Found a valid SQUASHFS 4:0 superblock on $SQ_DIR/cfg.sqsh." ]]
  [[ $output == *$'\nCompression lz4\n'* ]]
  run -0 unsquashfs -lln "$SQ_DIR/cfg.sqsh" /.rrun/config.json /srv/app/file /srv/odd /home/tester
  # Owners as the container sees them: root is 0, tester 1000; the whiteout applied.
  [[ $output =~ \ 0/0\ [^$'\n']*squashfs-root/.rrun/config.json ]]
  [[ $output =~ \ 0/0\ [^$'\n']*squashfs-root/srv/app/file ]]
  [[ $output =~ \ 1000/1000\ [^$'\n']*squashfs-root/home/tester ]]
  [[ $output != *"srv/odd"* ]]
  # The image config inside, at /.rrun/config.json
  unsquashfs -no-xattrs -d "$BATS_TEST_TMPDIR/x" "$SQ_DIR/cfg.sqsh" /.rrun/config.json >/dev/null
  run -0 cat "$BATS_TEST_TMPDIR/x/.rrun/config.json"
  [ "$(jq -r '.config.Env[]' <<<"$output" | grep SQ_VAR)" = SQ_VAR=from-image ]
  [ "$(jq -r '.config.WorkingDir, .config.User' <<<"$output")" = $'/srv/app\ntester' ]
  run -0 ls -A "$SQ_DIR"
  [ "$output" = $'base.sqsh\ncfg.sqsh' ]
}

@test "squashfs: run FILE applies the image's entrypoint, cmd, env, workdir and user" {
  run -0 rrun run --rm "$SQ_DIR/cfg.sqsh"
  [ "$output" = "default from-image /srv/app 1000" ]
  run -0 rrun run --rm -e SQ_VAR=cli "$SQ_DIR/cfg.sqsh" 'echo $SQ_VAR; cat file; id -un'
  [ "$output" = $'cli\nlayer2\ntester' ]
}

@test "squashfs: --image-file takes the file, the operands are the command" {
  cd "$SQ_DIR"
  run -0 rrun run --rm --image-file cfg.sqsh 'echo flag $(pwd)'
  [ "$output" = "flag /srv/app" ]
  run -0 rrun run --rm ./base.sqsh cat /home/tester/secret
  [ "$output" = "$(cat "$FIXTURES/rootfs/home/tester/secret")" ]
}

@test "squashfs: the file is a read-only lower, writes go to the container's own layer" {
  local before
  before=$(stat -c '%s %Y' "$SQ_DIR/base.sqsh")
  run -0 rrun run --rm "$SQ_DIR/base.sqsh" sh -c 'echo new > /bin/busybox-note && rm /etc/motd 2>/dev/null; echo x > /srv/data/f && cat /srv/data/f /bin/busybox-note'
  [ "$output" = $'x\nnew' ]
  # A second container sees the file's content, not the first one's writes.
  run -0 rrun run --rm "$SQ_DIR/base.sqsh" sh -c 'test ! -e /bin/busybox-note && test ! -e /srv/data/f && echo clean'
  [ "$output" = clean ]
  [ "$(stat -c '%s %Y' "$SQ_DIR/base.sqsh")" = "$before" ]
  run -0 ls -A "$SQ_DIR"
  [ "$output" = $'base.sqsh\ncfg.sqsh' ]
  # --read-only: no writable layer at all
  run -1 rrun run --rm --read-only "$SQ_DIR/base.sqsh" touch /x
  [[ $output == *"Read-only file system"* ]]
}

@test "squashfs: the file works from a read-only directory shared by others" {
  local shared=$BATS_TEST_TMPDIR/shared
  mkdir -p "$shared"
  cp "$SQ_DIR/base.sqsh" "$shared/img.sqsh"
  chmod 0444 "$shared/img.sqsh"
  chmod 0555 "$shared"
  run -0 rrun run --rm "$shared/img.sqsh" cat /etc/hostname
  run -0 ls -A "$shared"
  [ "$output" = img.sqsh ]
  chmod 0755 "$shared"
}

@test "squashfs: run -d, exec, create and start use the file too" {
  run -0 rrun run -d --name sq-d "$SQ_DIR/base.sqsh" sleep 60
  run -0 rrun exec sq-d cat /srv/data/hello.txt
  run -0 rrun ps --format '{{.Image}}' --filter name=sq-d
  [ "$output" = "$SQ_DIR/base.sqsh" ]
  run -0 rrun rm -f sq-d
  cd "$SQ_DIR"
  run -0 rrun create --name sq-c cfg.sqsh 'echo started $SQ_VAR'
  cd /
  run -0 rrun start -a sq-c
  [ "$output" = "started from-image" ]
  run -0 rrun rm sq-c
}

@test "squashfs: commit and cp of a stopped container say why they cannot" {
  run -0 rrun run --name sq-c "$SQ_DIR/base.sqsh" true
  run -125 rrun commit sq-c localhost/sq-commit
  [ "${lines[0]}" = "rrun: cannot commit \"sq-c\": the container runs from the image file \"$SQ_DIR/base.sqsh\", not from a stored image" ]
  run -125 rrun cp sq-c:/etc/hostname "$BATS_TEST_TMPDIR/h"
  [ "${lines[0]}" = "rrun: cannot copy files of a stopped container: the container runs from the image file \"$SQ_DIR/base.sqsh\", not from a stored image" ]
  run -0 rrun rm sq-c
}

@test "squashfs: files that are not rrun's images fail with what is wrong" {
  printf 'not a squashfs file\n' >"$BATS_TEST_TMPDIR/bad.sqsh"
  run -125 rrun run --rm "$BATS_TEST_TMPDIR/bad.sqsh" true
  [ "${lines[0]}" = "rrun: cannot use the image file: $BATS_TEST_TMPDIR/bad.sqsh: not a squashfs file" ]
  [ "${lines[1]}" = "hint: make one with: rrun image export --format squashfs IMAGE -o FILE" ]
  mkdir -p "$BATS_TEST_TMPDIR/tree/bin"
  cp "$FIXTURES/rootfs/bin/busybox" "$BATS_TEST_TMPDIR/tree/bin/"
  mksquashfs "$BATS_TEST_TMPDIR/tree" "$BATS_TEST_TMPDIR/plain.sqsh" -quiet -no-progress >/dev/null
  run -125 rrun run --rm "$BATS_TEST_TMPDIR/plain.sqsh" true
  [ "${lines[0]}" = "rrun: cannot use the image file: $BATS_TEST_TMPDIR/plain.sqsh: it holds no image config" ]
  head -c 8192 "$SQ_DIR/base.sqsh" >"$BATS_TEST_TMPDIR/trunc.sqsh"
  run -125 rrun run --rm "$BATS_TEST_TMPDIR/trunc.sqsh" true
  [ "${lines[0]}" = "rrun: cannot use the image file: $BATS_TEST_TMPDIR/trunc.sqsh: it holds no image config" ]
  run -125 rrun run --rm "$BATS_TEST_TMPDIR/missing.sqsh" true
  [ "${lines[0]}" = "rrun: cannot use the image file: $BATS_TEST_TMPDIR/missing.sqsh: no such file" ]
  RRUN_SQUASHFUSE=/no/such/squashfuse run -125 rrun run --rm "$SQ_DIR/base.sqsh" true
  [ "${lines[0]}" = "rrun: cannot mount a squashfs image: squashfuse is not installed" ]
  RRUN_SQUASHFUSE=/bin/false run -125 rrun run --rm "$SQ_DIR/base.sqsh" true
  [ "${lines[0]}" = "rrun: cannot mount the image with squashfuse: it exited without a message" ]
}

@test "squashfs: --compression picks mksquashfs's compressor" {
  run -0 rrun image export --compression gzip "$FIXTURE_IMAGE" -o "$BATS_TEST_TMPDIR/gz.sqsh"
  run -0 unsquashfs -s "$BATS_TEST_TMPDIR/gz.sqsh"
  [[ $output == *$'\nCompression gzip\n'* ]]
  run -0 rrun run --rm "$BATS_TEST_TMPDIR/gz.sqsh" cat /srv/data/hello.txt
  [ "$output" = "$(cat "$FIXTURES/rootfs/srv/data/hello.txt")" ]
  run -125 rrun image export --compression brotli "$FIXTURE_IMAGE" -o "$BATS_TEST_TMPDIR/x.sqsh"
  [ "$output" = 'rrun: invalid --compression "brotli": expected lz4, gzip, zstd, xz or lzo' ]
}

@test "squashfs: export errors leave no file behind" {
  run -125 rrun image export --format tar "$FIXTURE_IMAGE" -o "$BATS_TEST_TMPDIR/x"
  [ "${lines[0]}" = 'rrun: invalid --format "tar": expected squashfs' ]
  run -125 rrun image export --format squashfs no-such-image -o "$BATS_TEST_TMPDIR/x.sqsh"
  RRUN_MKSQUASHFS=/bin/false run -125 rrun image export --format squashfs "$FIXTURE_IMAGE" -o "$BATS_TEST_TMPDIR/y.sqsh"
  [[ ${lines[0]} == "rrun: cannot export \"$FIXTURE_IMAGE\": mksquashfs failed (status 1)" ]]
  run -0 ls -A "$BATS_TEST_TMPDIR"
  [ "$output" = "" ]
  run -0 ls -A "$STORAGE_ROOT/tmp"
  [[ $output != *flatten-* ]]
}
