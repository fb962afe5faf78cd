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
