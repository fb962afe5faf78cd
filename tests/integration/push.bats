#!/usr/bin/env bats
# rrun push against registries on 127.0.0.1 (Debian's docker-registry): every blob sent
# once (HEAD first), mounted from another repository of the same registry, monolithic and
# chunked uploads, both manifest formats, the digest printed and written, pulled back by
# rrun and read by skopeo; credentials (--creds and rrun login) against an htpasswd
# registry; archive destinations and the errors.

load helpers
load registry-helpers

setup_file() {
  common_setup_file
  command -v docker-registry >/dev/null || skip "docker-registry is not installed"
  command -v skopeo >/dev/null || skip "skopeo is not installed"
  export PSTMP
  PSTMP=$(mktemp -d)
  export SCRATCH
  SCRATCH=$(reg_start "$PSTMP/scratch")
  make_busybox_oci "$PSTMP/bb" v1 >"$PSTMP/bb-digest"
  push_oci "$PSTMP/bb" v1 "$SCRATCH/rrtest/busybox:v1"
  cat >"$PSTMP/registries.conf" <<EOC
unqualified-search-registries = ["$SCRATCH"]
[[registry]]
location = "$SCRATCH"
insecure = true
EOC
  export RRUN_REGISTRIES_CONF=$PSTMP/registries.conf
  rrun pull -q "$SCRATCH/rrtest/busybox:v1" >/dev/null
}

teardown_file() {
  [[ -n ${PSTMP:-} ]] || return 0
  reg_stop "$PSTMP/scratch"
  [[ -d $PSTMP/auth ]] && reg_stop "$PSTMP/auth"
  rm -rf "$PSTMP"
}

setup() {
  export RRUN_REGISTRIES_CONF=$PSTMP/registries.conf
  export REGISTRY_AUTH_FILE=$PSTMP/auth.json
}

# podman's store holds files of subordinate ids: remove it through podman, and end the
# pause process it leaves in its runtime directory.
teardown() {
  local proot=$BATS_TEST_TMPDIR/pd pause runroot
  [[ -d $proot ]] || return 0
  runroot=$(cat "$proot/runroot" 2>/dev/null) || true
  XDG_RUNTIME_DIR=$proot/xdg timeout 60 podman unshare rm -rf "$proot/root" ${runroot:+"$runroot"} \
    || true
  pause=$(cat "$proot/xdg/libpod/tmp/pause.pid" 2>/dev/null) || true
  if [[ -n $pause ]]; then kill "$pause" 2>/dev/null || true; fi
}

# Requests of METHOD to a path matching RE in the scratch registry's access log since
# mark_log.
mark_log() { wc -l <"$PSTMP/scratch/log" >"$PSTMP/mark"; }
log_since() { tail -n +"$(($(cat "$PSTMP/mark") + 1))" "$PSTMP/scratch/log"; }

@test "push: to another repository mounts the blobs, prints the digest; a second push sends nothing" {
  mark_log
  run -0 rrun push --digestfile "$PSTMP/d1" "$SCRATCH/rrtest/busybox:v1" "$SCRATCH/rrtest/copy:v1"
  local digest=${lines[-1]}
  [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]]
  [ "$(cat "$PSTMP/d1")" = "$digest" ]
  # the image came from rrtest/busybox on this registry: its layers are mounted, and the
  # manifest it came with (its digest) is kept
  [ "$digest" = "$(cat "$PSTMP/bb-digest")" ]
  [ "$(grep -c 'mounted from rrtest/busybox' <<<"$output")" = 3 ]
  [[ $output == *"Pushed $SCRATCH/rrtest/copy:v1@$digest"* ]]
  # a second push: every blob is there already
  run -0 rrun push "$SCRATCH/rrtest/busybox:v1" "docker://$SCRATCH/rrtest/copy:v1"
  [ "$(grep -c 'skipped: already exists' <<<"$output")" = 3 ]
  [ "${lines[-1]}" = "$digest" ]
  run -0 skopeo inspect --tls-verify=false "docker://$SCRATCH/rrtest/copy:v1"
  [[ $output == *"\"Digest\": \"$digest\""* ]]
}

@test "push: a new image uploads every blob; pull it back, skopeo reads it" {
  local reg=$PSTMP/fresh
  local fresh
  fresh=$(reg_start "$reg")
  cat >"$PSTMP/fresh.conf" <<EOC
[[registry]]
location = "$SCRATCH"
insecure = true
[[registry]]
location = "$fresh"
insecure = true
EOC
  export RRUN_REGISTRIES_CONF=$PSTMP/fresh.conf
  run -0 rrun push -q "$SCRATCH/rrtest/busybox:v1" "$fresh/other/bb:t1"
  [ "${#lines[@]}" = 1 ]
  local digest=$output
  run -0 skopeo inspect --tls-verify=false "docker://$fresh/other/bb:t1"
  [[ $output == *"\"Digest\": \"$digest\""* ]]
  run -0 skopeo copy -q --src-tls-verify=false "docker://$fresh/other/bb:t1" "oci:$PSTMP/back:t1"
  # pulled back by rrun under the new name: the same image id, and it runs
  run -0 rrun pull -q "$SCRATCH/rrtest/busybox:v1"
  local id=$output
  run -0 rrun pull -q "$fresh/other/bb:t1"
  [ "$output" = "$id" ]
  run -0 rrun run --rm "$fresh/other/bb:t1" /bin/busybox cat /etc/hello
  [ "$output" = "hello from layer 2 (amd64)" ]
  reg_stop "$reg"
}

@test "push: --format v2s2 and oci write the manifest type asked for" {
  run -0 rrun push -q --format v2s2 "$SCRATCH/rrtest/busybox:v1" "$SCRATCH/rrtest/fmt:docker"
  run -0 skopeo inspect --raw --tls-verify=false "docker://$SCRATCH/rrtest/fmt:docker"
  [[ $output == *'"mediaType":"application/vnd.docker.distribution.manifest.v2+json"'* ]]
  [[ $output == *'application/vnd.docker.image.rootfs.diff.tar.gzip'* ]]
  [[ $output == *'application/vnd.docker.container.image.v1+json'* ]]
  run -0 rrun push -q --format oci "$SCRATCH/rrtest/busybox:v1" "$SCRATCH/rrtest/fmt:oci"
  run -0 skopeo inspect --raw --tls-verify=false "docker://$SCRATCH/rrtest/fmt:oci"
  [[ $output == *'"mediaType":"application/vnd.oci.image.manifest.v1+json"'* ]]
  run -125 rrun push --format v1 "$SCRATCH/rrtest/busybox:v1" "$SCRATCH/rrtest/fmt:x"
  [ "${lines[0]}" = 'rrun: invalid --format "v1": expected oci or v2s2' ]
}

@test "push: blobs above the chunk size go in PATCH chunks" {
  local reg=$PSTMP/chunk fresh
  fresh=$(reg_start "$reg")
  printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$fresh" >"$PSTMP/chunk.conf"
  export RRUN_REGISTRIES_CONF=$PSTMP/chunk.conf
  # busybox's layer is ~1 MB compressed: 100 kB chunks make ten or more PATCHes
  RRUN_PUSH_CHUNK_SIZE=100000 run -0 rrun push -q "$SCRATCH/rrtest/busybox:v1" "$fresh/c/bb:1"
  run -0 skopeo copy -q --src-tls-verify=false "docker://$fresh/c/bb:1" "oci:$PSTMP/chunked:1"
  run -0 rrun pull -q --tls-verify=false "$fresh/c/bb:1"
  run -0 rrun run --rm "$fresh/c/bb:1" /bin/busybox cat /etc/hello
  [ "$output" = "hello from layer 2 (amd64)" ]
  reg_stop "$reg"
}

@test "push: credentials from --creds and from rrun login; refused without" {
  local auth
  command -v htpasswd >/dev/null || skip "htpasswd (apache2-utils) is not installed"
  htpasswd -bBc "$PSTMP/htpasswd" alice s3cret 2>/dev/null
  auth=$(reg_start "$PSTMP/auth" "$PSTMP/htpasswd")
  printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$auth" >"$PSTMP/auth.conf"
  export RRUN_REGISTRIES_CONF=$PSTMP/auth.conf
  rm -f "$REGISTRY_AUTH_FILE"
  run -125 rrun push -q "$SCRATCH/rrtest/busybox:v1" "$auth/a/bb:1"
  [[ ${lines[0]} == "rrun: cannot push \"$auth/a/bb:1"*"HTTP 401"* ]]
  [[ $output == *"hint: pushing needs credentials with write access: rrun login $auth"* ]]
  run -125 rrun push -q --creds alice "$SCRATCH/rrtest/busybox:v1" "$auth/a/bb:1"
  [ "${lines[0]}" = "rrun: invalid --creds: expected USER:PASSWORD" ]
  run -0 rrun push -q --creds alice:s3cret "$SCRATCH/rrtest/busybox:v1" "$auth/a/bb:1"
  run -0 rrun login -u alice --password-stdin "$auth" <<<"s3cret"
  run -0 rrun push -q "$SCRATCH/rrtest/busybox:v1" "$auth/a/bb:2"
  run -0 skopeo inspect --tls-verify=false --creds alice:s3cret "docker://$auth/a/bb:2"
}

@test "push: docker-archive and oci-archive destinations" {
  run -0 rrun push -q "$SCRATCH/rrtest/busybox:v1" "docker-archive:$PSTMP/bb.tar"
  run -0 tar -tf "$PSTMP/bb.tar"
  [[ $output == *manifest.json* ]]
  run -0 rrun push -q "$SCRATCH/rrtest/busybox:v1" "oci-archive:$PSTMP/bb-oci.tar"
  # the archive holds the manifest the image was pulled with (one index entry per name
  # of the image, as save writes it), and loads again
  run -0 tar -xOf "$PSTMP/bb-oci.tar" index.json
  [[ $output == *"$(cat "$PSTMP/bb-digest")"* ]]
  run -0 rrun load -q -i "$PSTMP/bb-oci.tar"
}

@test "push: errors name the image and the destination" {
  run -125 rrun push
  [ "${lines[0]}" = "rrun: push: expected an image and at most one destination, got 0 arguments" ]
  run -125 rrun push no-such-image "$SCRATCH/x/y:1"
  [[ ${lines[0]} == "rrun: cannot push \"no-such-image\": "*"no-such-image"* ]]
  run -0 rrun tag "$SCRATCH/rrtest/busybox:v1" localonly:1
  run -125 rrun push localonly:1
  [ "${lines[0]}" = 'rrun: cannot push "localonly:1": "localonly:1" names no registry to push to' ]
  [ "${lines[1]}" = "hint: name one: rrun push localonly:1 REGISTRY/localonly:1" ]
  run -125 rrun push localhost/localonly:1
  [ "${lines[0]}" = 'rrun: cannot push "localhost/localonly:1": "localhost/localonly:1" is a local name: it names no registry to push to' ]
  run -125 rrun push localonly:1 "$SCRATCH/x/y@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  [[ ${lines[0]} == *"a destination is a tag, not a digest"* ]]
  run -0 rrun rmi localonly:1
}

# A built image keeps its layers as plain tars; push gzips them as docker and podman do:
# the manifest lists tar+gzip layers whose digests are those of the blobs the registry
# serves, and a second push finds them all there (the same bytes: no timestamp in gzip).
@test "push: a built image's layers go out gzip-compressed with matching digests" {
  mkdir -p "$PSTMP/ctx"
  printf 'FROM %s\nRUN echo built >/file\nCOPY hello.txt /hello.txt\n' \
    "$SCRATCH/rrtest/busybox:v1" >"$PSTMP/ctx/Dockerfile"
  echo hi >"$PSTMP/ctx/hello.txt"
  run -0 rrun build -q --network none -t pushed-build:1 "$PSTMP/ctx"
  run -0 rrun push -q pushed-build:1 "$SCRATCH/rrtest/built:1"
  local digest=$output
  run -0 skopeo inspect --raw --tls-verify=false "docker://$SCRATCH/rrtest/built:1"
  local manifest=$output
  [ "$(jq -r .mediaType <<<"$manifest")" = application/vnd.oci.image.manifest.v1+json ]
  [ "$(jq -r '.layers | length' <<<"$manifest")" = 4 ]
  [ "$(jq -r '[.layers[].mediaType] | unique | join(" ")' <<<"$manifest")" = \
    application/vnd.oci.image.layer.v1.tar+gzip ]
  local d h n=0
  for d in $(jq -r '.layers[].digest' <<<"$manifest"); do
    curl -sf "http://$SCRATCH/v2/rrtest/built/blobs/$d" -o "$PSTMP/blob"
    h=$(sha256sum <"$PSTMP/blob")
    [ "sha256:${h%% *}" = "$d" ]
    [ "$(file -b --mime-type "$PSTMP/blob")" = application/gzip ]
    n=$((n + 1))
  done
  [ "$n" = 4 ]
  # layers and config all there already
  run -0 rrun push --format v2s2 pushed-build:1 "$SCRATCH/rrtest/built:v2s2"
  [ "$(grep -c 'skipped: already exists' <<<"$output")" = 5 ]
  run -0 skopeo inspect --raw --tls-verify=false "docker://$SCRATCH/rrtest/built:v2s2"
  [ "$(jq -r '[.layers[].mediaType] | unique | join(" ")' <<<"$output")" = \
    application/vnd.docker.image.rootfs.diff.tar.gzip ]
  run -0 rrun push -q pushed-build:1 "$SCRATCH/rrtest/built:1"
  [ "$output" = "$digest" ]
  # pulled back under another name: it runs
  run -0 rrun rmi pushed-build:1
  run -0 rrun pull -q "$SCRATCH/rrtest/built:1"
  run -0 rrun run --rm "$SCRATCH/rrtest/built:1" /bin/busybox cat /file /hello.txt
  [ "$output" = $'built\nhi' ]
}

# An image built by rrun, pushed by rrun, pulled and run by podman (rootless, vfs, runc
# with cgroupfs as bench/build.sh drives it).
@test "push: podman pulls and runs an image rrun built and pushed" {
  command -v podman >/dev/null || skip "podman is not installed"
  local proot=$BATS_TEST_TMPDIR/pd runroot
  mkdir -p -m 0700 "$proot/xdg"
  # podman refuses a runroot path longer than 50 characters
  runroot=$(mktemp -d /tmp/rrpd.XXXXXX)
  echo "$runroot" >"$proot/runroot"
  pm() {
    # (setup's REGISTRY_AUTH_FILE names no file yet: podman refuses that)
    env -u REGISTRY_AUTH_FILE XDG_RUNTIME_DIR="$proot/xdg" timeout 120 podman \
      --root "$proot/root" --runroot "$runroot" --storage-driver vfs --cgroup-manager cgroupfs \
      --events-backend none --runtime runc "$@"
  }
  local why
  why=$(pm images 2>&1 >/dev/null) || skip "podman does not work for this user here: ${why##*$'\n'}"
  mkdir -p "$PSTMP/pctx"
  printf 'FROM %s\nRUN echo from-rrun >/file\nCMD ["/bin/busybox", "cat", "/file"]\n' \
    "$SCRATCH/rrtest/busybox:v1" >"$PSTMP/pctx/Dockerfile"
  run -0 rrun build -q --network none -t pd-build:1 "$PSTMP/pctx"
  run -0 rrun push -q pd-build:1 "$SCRATCH/rrtest/pd:1"
  local digest=$output
  run pm pull -q --tls-verify=false "$SCRATCH/rrtest/pd:1"
  [ "$status" = 0 ] || { echo "podman pull: $output"; false; }
  run -0 pm image inspect --format '{{.Digest}}' "$SCRATCH/rrtest/pd:1"
  [ "$output" = "$digest" ]
  run -0 pm run --rm --network none "$SCRATCH/rrtest/pd:1"
  [ "$output" = from-rrun ]
  run -0 pm run --rm --network none "$SCRATCH/rrtest/pd:1" /bin/busybox cat /etc/hello
  [ "$output" = "hello from layer 2 (amd64)" ]
}

# oci:DIR[:TAG]: an OCI image layout as skopeo and podman write it. A second tag keeps
# the first; the same tag again replaces its entry; skopeo and rrun's pull oci: read it.
@test "push: oci:DIR:TAG writes an OCI layout; a second tag keeps the first" {
  local L=$PSTMP/layout
  mkdir -p "$PSTMP/lctx"
  printf 'FROM %s\nRUN echo layout >/file\n' "$SCRATCH/rrtest/busybox:v1" >"$PSTMP/lctx/Dockerfile"
  run -0 rrun build -q --network none -t layout-build:1 "$PSTMP/lctx"
  local built=$output
  run -0 rrun push -q "$SCRATCH/rrtest/busybox:v1" "oci:$L:v1"
  local d1=$output
  # the image's own manifest, kept
  [ "$d1" = "$(cat "$PSTMP/bb-digest")" ]
  [ "$(jq -c . "$L/oci-layout")" = '{"imageLayoutVersion":"1.0.0"}' ]
  run -0 rrun push layout-build:1 "oci:$L:v2"
  local d2=${lines[-1]}
  [[ $output == *"Pushed oci:$L:v2@$d2"* ]]
  [ "$(jq -r '[.manifests[] | .annotations["org.opencontainers.image.ref.name"] + "=" + .digest] | join(" ")' "$L/index.json")" = "v1=$d1 v2=$d2" ]
  # the built image's plain layers went in gzip-compressed
  [ "$(jq -r '[.layers[].mediaType] | unique | join(" ")' "$L/blobs/sha256/${d2#sha256:}")" = \
    application/vnd.oci.image.layer.v1.tar+gzip ]
  check_blob_dir "$L"
  # the same tag again: its entry is replaced, not doubled
  run -0 rrun push -q layout-build:1 "oci:$L:v1"
  [ "$(jq -r '[.manifests[] | .annotations["org.opencontainers.image.ref.name"] + "=" + .digest] | join(" ")' "$L/index.json")" = "v2=$d2 v1=$d2" ]
  run -0 rrun push -q "$SCRATCH/rrtest/busybox:v1" "oci:$L:v1"
  # skopeo reads both tags
  run -0 skopeo inspect "oci:$L:v1"
  [ "$(jq -r .Digest <<<"$output")" = "$d1" ]
  run -0 skopeo inspect "oci:$L:v2"
  [ "$(jq -r .Digest <<<"$output")" = "$d2" ]
  run -0 skopeo copy -q "oci:$L:v2" "oci:$PSTMP/layout-copy:x"
  # rrun pulls it back: the same image, named as load names it
  run -0 rrun rmi layout-build:1
  run -0 rrun pull -q "oci:$L:v2"
  [ "$output" = "$built" ]
  run -0 rrun run --rm docker.io/library/v2:latest /bin/busybox cat /file
  [ "$output" = layout ]
  run -0 rrun rmi docker.io/library/v2:latest
  # a layout of one image pulls without a name: the image gets none
  run -0 rrun pull -q "oci:$PSTMP/layout-copy"
  [ "$output" = "$built" ]
  run -0 rrun rmi "$built"
  run -125 rrun pull "oci:$L"
  [ "${lines[0]}" = "rrun: cannot pull \"oci:$L\": \"$L\" holds 2 images: name one" ]
  [ "${lines[1]}" = "hint: its names: v2, v1" ]
  run -125 rrun pull "oci:$L:v3"
  [ "${lines[0]}" = "rrun: cannot pull \"oci:$L:v3\": \"$L\" has no image named \"v3\"" ]
  run -125 rrun pull "oci:$PSTMP/lctx:v1"
  [ "${lines[0]}" = "rrun: cannot pull \"oci:$PSTMP/lctx:v1\": \"$PSTMP/lctx\" is not an OCI image layout: it has no index.json" ]
}

# Bad input is refused before anything is written; a push that fails half-way (a blob
# cannot be written) leaves the layout as it was: the same index.json, no temporary
# file, both tags readable.
@test "push: oci: bad input and a failed push leave the layout as it was" {
  local L=$PSTMP/layout-fail
  run -0 rrun push -q "$SCRATCH/rrtest/busybox:v1" "oci:$L:v1"
  run -125 rrun push "$SCRATCH/rrtest/busybox:v1" "oci:"
  [ "${lines[0]}" = 'rrun: invalid destination "oci:": no directory named' ]
  [ "${#lines[@]}" = 2 ]
  run -125 rrun push "$SCRATCH/rrtest/busybox:v1" "oci:$PSTMP/new-layout:-bad"
  [ "${lines[0]}" = "rrun: cannot push \"$SCRATCH/rrtest/busybox:v1\" to \"oci:$PSTMP/new-layout:-bad\": invalid name \"-bad\" in an OCI layout: expected letters and digits joined by \"-._:@+\" or \"/\"" ]
  run -125 rrun push no-such-image "oci:$PSTMP/new-layout:v1"
  [[ ${lines[0]} == "rrun: cannot push \"no-such-image\" to \"oci:$PSTMP/new-layout:v1\": "*no-such-image* ]]
  [ ! -e "$PSTMP/new-layout" ]
  mkdir -p "$PSTMP/bad-index"
  echo '{"manifests":3}' >"$PSTMP/bad-index/index.json"
  run -125 rrun push "$SCRATCH/rrtest/busybox:v1" "oci:$PSTMP/bad-index:v1"
  [ "${lines[0]}" = "rrun: cannot push \"$SCRATCH/rrtest/busybox:v1\" to \"oci:$PSTMP/bad-index:v1\": \"$PSTMP/bad-index/index.json\" is not an OCI image index" ]
  [ "$(cat "$PSTMP/bad-index/index.json")" = '{"manifests":3}' ]
  [ ! -e "$PSTMP/bad-index/blobs" ]
  # new blobs cannot be written: the push fails and the layout is untouched
  mkdir -p "$PSTMP/fctx"
  printf 'FROM %s\nRUN echo fail >/file\n' "$SCRATCH/rrtest/busybox:v1" >"$PSTMP/fctx/Dockerfile"
  run -0 rrun build -q --network none -t layout-fail:1 "$PSTMP/fctx"
  cp "$L/index.json" "$PSTMP/index.before"
  ls -A "$L/blobs/sha256" >"$PSTMP/blobs.before"
  chmod 0555 "$L/blobs/sha256"
  run -125 rrun push layout-fail:1 "oci:$L:v2"
  chmod 0755 "$L/blobs/sha256"
  [[ ${lines[0]} == "rrun: cannot push \"layout-fail:1\" to \"oci:$L:v2\": cannot create \"$L/blobs/sha256/.tmp-"*"\": Permission denied" ]]
  cmp "$L/index.json" "$PSTMP/index.before"
  ls -A "$L/blobs/sha256" | cmp - "$PSTMP/blobs.before"
  run -0 skopeo inspect "oci:$L:v1"
  # archives take the blobs as save writes them: no compression to choose
  run -125 rrun push --compression-format zstd layout-fail:1 "docker-archive:$PSTMP/x.tar"
  [ "${lines[0]}" = 'rrun: --compression-format and --compression-level do not apply to "docker-archive"' ]
  [ ! -e "$PSTMP/x.tar" ]
  run -0 rrun rmi layout-fail:1
}

# --compression-format zstd: every layer zstd (the plain ones compressed, the gzip ones
# recompressed, their diff IDs checked), the OCI zstd media type; the same blobs again on
# a second push; rrun, skopeo and podman read it back with the same files.
@test "push: --compression-format zstd; pulled back by rrun, skopeo and podman with the same files" {
  mkdir -p "$PSTMP/zctx"
  printf 'FROM %s\nRUN echo zstd >/file && chmod 4755 /file\nCOPY big /big\n' \
    "$SCRATCH/rrtest/busybox:v1" >"$PSTMP/zctx/Dockerfile"
  head -c 3000000 /dev/urandom >"$PSTMP/zctx/big"
  run -0 rrun build -q --network none -t zstd-build:1 "$PSTMP/zctx"
  local id=$output
  run -0 rrun run --rm zstd-build:1 /bin/busybox sh -c \
    'cd / && busybox sha256sum file big bin/busybox etc/hello && busybox stat -c "%a %u %n" file'
  local files=$output
  run -0 rrun push -q --compression-format zstd --compression-level 5 zstd-build:1 "$SCRATCH/rrtest/z:1"
  local digest=$output
  run -0 skopeo inspect --raw --tls-verify=false "docker://$SCRATCH/rrtest/z:1"
  local manifest=$output
  [ "$(jq -r .mediaType <<<"$manifest")" = application/vnd.oci.image.manifest.v1+json ]
  [ "$(jq -r '[.layers[].mediaType] | unique | join(" ")' <<<"$manifest")" = \
    application/vnd.oci.image.layer.v1.tar+zstd ]
  local d n=0
  for d in $(jq -r '.layers[].digest' <<<"$manifest"); do
    curl -sf "http://$SCRATCH/v2/rrtest/z/blobs/$d" -o "$PSTMP/zblob"
    [ "$(file -b --mime-type "$PSTMP/zblob")" = application/zstd ]
    zstd -t -q "$PSTMP/zblob"
    n=$((n + 1))
  done
  [ "$n" = 4 ]
  # the same bytes again: every blob is there
  run -0 rrun push --compression-format zstd --compression-level 5 zstd-build:1 "$SCRATCH/rrtest/z:1"
  [ "$(grep -c 'skipped: already exists' <<<"$output")" = 5 ]
  [ "${lines[-1]}" = "$digest" ]
  # and into a layout
  run -0 rrun push -q --compression-format zstd zstd-build:1 "oci:$PSTMP/zlayout:z"
  [ "$(jq -r '[.layers[].mediaType] | unique | join(" ")' "$PSTMP/zlayout/blobs/sha256/${output#sha256:}")" = \
    application/vnd.oci.image.layer.v1.tar+zstd ]
  # rrun pulls both back: the same image, the same files
  run -0 rrun rmi zstd-build:1
  run -0 rrun pull -q "$SCRATCH/rrtest/z:1"
  [ "$output" = "$id" ]
  run -0 rrun run --rm "$SCRATCH/rrtest/z:1" /bin/busybox sh -c \
    'cd / && busybox sha256sum file big bin/busybox etc/hello && busybox stat -c "%a %u %n" file'
  [ "$output" = "$files" ]
  run -0 rrun rmi "$SCRATCH/rrtest/z:1"
  run -0 rrun pull -q "oci:$PSTMP/zlayout:z"
  [ "$output" = "$id" ]
  run -0 rrun rmi "$id"
  # skopeo copies it (checking every digest) into a layout whose layers are the same
  run -0 skopeo copy -q --src-tls-verify=false "docker://$SCRATCH/rrtest/z:1" "oci:$PSTMP/zsk:1"
  run -0 skopeo inspect --raw "oci:$PSTMP/zsk:1"
  [ "$(jq -c '[.layers[].digest]' <<<"$output")" = "$(jq -c '[.layers[].digest]' <<<"$manifest")" ]
  # a gzip image recompressed: the same image ID when pulled back
  run -0 rrun push -q --compression-format zstd "$SCRATCH/rrtest/busybox:v1" "$SCRATCH/rrtest/zbb:1"
  run -0 skopeo inspect --raw --tls-verify=false "docker://$SCRATCH/rrtest/zbb:1"
  [ "$(jq -r '[.layers[].mediaType] | unique | join(" ")' <<<"$output")" = \
    application/vnd.oci.image.layer.v1.tar+zstd ]
  run -0 rrun pull -q "$SCRATCH/rrtest/busybox:v1"
  local bbid=$output
  run -0 rrun pull -q "$SCRATCH/rrtest/zbb:1"
  [ "$output" = "$bbid" ]
  # podman pulls and runs it
  command -v podman >/dev/null || skip "podman is not installed"
  local proot=$BATS_TEST_TMPDIR/pd runroot
  mkdir -p -m 0700 "$proot/xdg"
  runroot=$(mktemp -d /tmp/rrpd.XXXXXX)
  echo "$runroot" >"$proot/runroot"
  pm() {
    env -u REGISTRY_AUTH_FILE XDG_RUNTIME_DIR="$proot/xdg" timeout 120 podman \
      --root "$proot/root" --runroot "$runroot" --storage-driver vfs --cgroup-manager cgroupfs \
      --events-backend none --runtime runc "$@"
  }
  local why
  why=$(pm images 2>&1 >/dev/null) || skip "podman does not work for this user here: ${why##*$'\n'}"
  run pm pull -q --tls-verify=false "$SCRATCH/rrtest/z:1"
  [ "$status" = 0 ] || { echo "podman pull: $output"; false; }
  run -0 pm run --rm --network none "$SCRATCH/rrtest/z:1" /bin/busybox sh -c \
    'cd / && busybox sha256sum file big bin/busybox etc/hello && busybox stat -c "%a %u %n" file'
  [ "$output" = "$files" ]
}

@test "push: compression flags' bad input" {
  run -125 rrun push --compression-format lz4 "$SCRATCH/rrtest/busybox:v1" "$SCRATCH/rrtest/c:1"
  [ "${lines[0]}" = 'rrun: invalid --compression-format "lz4": expected gzip or zstd' ]
  [ "${lines[1]}" = 'hint: see: rrun push --help' ]
  run -125 rrun push --compression-format zstd --compression-level 20 "$SCRATCH/rrtest/busybox:v1" "$SCRATCH/rrtest/c:1"
  [ "${lines[0]}" = 'rrun: invalid --compression-level "20": expected 1 to 19 for zstd' ]
  run -125 rrun push --compression-level 0 "$SCRATCH/rrtest/busybox:v1" "$SCRATCH/rrtest/c:1"
  [ "${lines[0]}" = 'rrun: invalid --compression-level "0": expected 1 to 9 for gzip' ]
  run -125 rrun push --format v2s2 --compression-format zstd "$SCRATCH/rrtest/busybox:v1" "$SCRATCH/rrtest/c:1"
  [ "${lines[0]}" = "rrun: cannot push \"$SCRATCH/rrtest/busybox:v1\": --compression-format zstd needs an OCI manifest: docker schema 2 (--format v2s2) cannot describe zstd layers" ]
  [ "${lines[1]}" = 'hint: push with --format oci, or with --compression-format gzip' ]
  run ! skopeo inspect --tls-verify=false "docker://$SCRATCH/rrtest/c:1"
}

# A push killed at any moment (SIGKILL, no cleanup) leaves the layout valid: index.json
# as before or as after, every blob under its final name complete; the next push
# completes.
@test "push: oci: a push killed part-way leaves the layout valid" {
  local L=$PSTMP/layout-kill d
  run -0 rrun push -q "$SCRATCH/rrtest/busybox:v1" "oci:$L:v1"
  mkdir -p "$PSTMP/kctx"
  head -c 20000000 /dev/urandom >"$PSTMP/kctx/big"
  printf 'FROM %s\nCOPY big /big\n' "$SCRATCH/rrtest/busybox:v1" >"$PSTMP/kctx/Dockerfile"
  run -0 rrun build -q --network none -t layout-kill:1 "$PSTMP/kctx"
  for d in 0.2 0.5 1 2; do
    run timeout -s KILL "$d" rrun push -q layout-kill:1 "oci:$L:v2"
    run -0 jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | join(" ")' "$L/index.json"
    [[ $output == v1 || $output == "v1 v2" ]]
    run -0 skopeo inspect "oci:$L:v1"
    for f in "$L"/blobs/sha256/*; do
      [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(basename "$f")" ]
    done
  done
  run -0 rrun push -q layout-kill:1 "oci:$L:v2"
  run -0 skopeo inspect "oci:$L:v2"
  [ "$(jq -r .Digest <<<"$output")" = "$(rrun push -q layout-kill:1 "oci:$L:v2")" ]
  run -0 rrun rmi layout-kill:1
}
