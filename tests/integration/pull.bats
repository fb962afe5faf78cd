#!/usr/bin/env bats
# rrun pull, rrun tag and run's implicit pull against registries on 127.0.0.1: by tag and
# by digest, whiteouts across layers, layer sharing, concurrency, SIGKILL, a corrupted
# blob, and the short name `alpine` resolved through registries.conf exactly as typed, then
# found again by every command with the registry hung.
# A scratch registry of our own is started: its storage is ours to corrupt and prune.

load helpers
load registry-helpers

setup_file() {
  common_setup_file
  command -v docker-registry >/dev/null || skip "docker-registry is not installed"
  command -v skopeo >/dev/null || skip "skopeo is not installed"
  export PTMP
  PTMP=$(mktemp -d)
  export SCRATCH
  SCRATCH=$(reg_start "$PTMP/scratch")
  make_busybox_oci "$PTMP/bb" v1 >"$PTMP/bb-digest"
  push_oci "$PTMP/bb" v1 "$SCRATCH/rrtest/busybox:v1"
  push_oci "$PTMP/bb" v1 "$SCRATCH/alpine:latest"
  # bb3: the busybox image plus a third layer that deletes /etc/hello (whiteout) and adds
  # a big file of random bytes (so a pull takes long enough to be killed halfway).
  python3 - "$PTMP/bb" "$PTMP/bb3" <<'EOF'
import gzip, hashlib, io, json, os, shutil, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
shutil.copytree(src, dst)
blobs = os.path.join(dst, "blobs", "sha256")
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, h), "wb").write(data)
    return h
idx = json.load(open(os.path.join(dst, "index.json")))
man = json.load(open(os.path.join(blobs, idx["manifests"][0]["digest"][7:])))
cfg = json.load(open(os.path.join(blobs, man["config"]["digest"][7:])))
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    for name, data in ((".wh.hello", b""), ("big", os.urandom(24 << 20))):
        ti = tarfile.TarInfo("etc/" + name if name.startswith(".wh") else name)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
raw = buf.getvalue()
gz = gzip.compress(raw, compresslevel=1, mtime=0)
cfg["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(raw).hexdigest())
cj = json.dumps(cfg).encode()
man["config"] = {"mediaType": man["config"]["mediaType"], "digest": "sha256:" + put(cj), "size": len(cj)}
man["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + put(gz), "size": len(gz)})
mj = json.dumps(man).encode()
idx["manifests"][0].update(digest="sha256:" + put(mj), size=len(mj))
idx["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] = "v3"
json.dump(idx, open(os.path.join(dst, "index.json"), "w"))
print(man["layers"][2]["digest"])
EOF
  push_oci "$PTMP/bb3" v3 "$SCRATCH/rrtest/bb3:v3"
  cat >"$PTMP/registries.conf" <<EOC
unqualified-search-registries = ["$SCRATCH"]
[[registry]]
location = "$SCRATCH"
insecure = true
EOC
  export RRUN_REGISTRIES_CONF=$PTMP/registries.conf
}

teardown_file() {
  [[ -n ${PTMP:-} ]] || return 0
  reg_stop "$PTMP/scratch"
  # The short-name test freezes its registry: thaw it so that it can end.
  if [[ -f $PTMP/acc/pid ]]; then kill -CONT "$(cat "$PTMP/acc/pid")" 2>/dev/null || true; fi
  reg_stop "$PTMP/acc"
  rm -rf "$PTMP"
}

setup() {
  export RRUN_REGISTRIES_CONF=$PTMP/registries.conf
}

# The registry's file for blob DIGEST.
blob_data() {
  local d=${1#sha256:}
  echo "$PTMP/scratch/storage/docker/registry/v2/blobs/sha256/${d:0:2}/$d/data"
}

layer_count() { find "$STORAGE_ROOT/layers" -mindepth 1 -maxdepth 1 | wc -l; }

remove_all() { # names...
  local n
  for n in "$@"; do rrun rmi -f "$n" >/dev/null 2>&1 || true; done
}

@test "pull: by tag prints the image id; pull by digest finds the same image" {
  remove_all "$SCRATCH/rrtest/busybox:v1"
  run -0 rrun pull "$SCRATCH/rrtest/busybox:v1"
  [[ $output =~ ^[0-9a-f]{64}$ ]]
  local id=$output
  run -0 rrun images
  [[ $output == *"$SCRATCH/rrtest/busybox"*v1*"${id:0:12}"* ]]
  run -0 rrun pull -q "$SCRATCH/rrtest/busybox@$(cat "$PTMP/bb-digest")"
  [ "$output" = "$id" ]
  run -0 rrun run --rm "$SCRATCH/rrtest/busybox@$(cat "$PTMP/bb-digest")" /bin/busybox cat /etc/hello
  [ "$output" = "hello from layer 2 (amd64)" ]
}

@test "pull: a pulled image runs; tag adds a name" {
  run -0 rrun pull -q "$SCRATCH/rrtest/busybox:v1"
  local id=$output
  run -0 rrun run --rm "$SCRATCH/rrtest/busybox:v1" /bin/busybox cat /etc/hello
  [ "$output" = "hello from layer 2 (amd64)" ]
  run -0 rrun tag "$SCRATCH/rrtest/busybox:v1" mybusybox:2
  run -0 rrun images
  [[ $output == *"localhost/mybusybox"*2*"${id:0:12}"* ]]
  run -0 rrun run --rm mybusybox:2 /bin/busybox cat /etc/hello
  [ "$output" = "hello from layer 2 (amd64)" ]
  run -0 rrun rmi mybusybox:2
  run -125 rrun tag no-such-image x:1
  [[ $output == *"no-such-image"* ]]
}

@test "pull: run pulls a missing image (--pull=missing), --pull=never refuses, bad policy" {
  remove_all "$SCRATCH/rrtest/busybox:v1"
  run -125 rrun run --rm --pull=never "$SCRATCH/rrtest/busybox:v1" true
  run -0 rrun run --rm "$SCRATCH/rrtest/busybox:v1" /bin/busybox cat /etc/hello
  [ "${lines[-1]}" = "hello from layer 2 (amd64)" ]
  run -0 rrun run --rm --pull=always "$SCRATCH/rrtest/busybox:v1" /bin/busybox true
  run -125 rrun run --rm --pull=sometimes "$SCRATCH/rrtest/busybox:v1" true
  [[ $output == *'invalid pull policy "sometimes"'* ]]
}

@test "pull: the short name alpine through registries.conf, as a user types it" {
  remove_all "$SCRATCH/alpine:latest"
  run -0 rrun alpine sh -c 'echo ok'
  [ "${lines[-1]}" = ok ]
  run -0 rrun images
  [[ $output == *"$SCRATCH/alpine"*latest* ]]
}

# rrun as the rrun function runs it, bounded: a command that waits on the frozen registry
# ends with timeout's status 124.
rrun_bounded() { # SECONDS args...
  local s=$1
  shift
  timeout "$s" "$RRUN" ${RRUN_STORAGE_DRIVER:+--storage-driver "$RRUN_STORAGE_DRIVER"} "$@"
}

@test "pull: a short name pulled through the search list is found offline by every command" {
  local reg id
  # A registry of this test's own, frozen (SIGSTOP) after the pull: the kernel still
  # accepts connections on its port, but nothing answers them, as a hung registry.
  reg=$(reg_start "$PTMP/acc")
  push_oci "$PTMP/bb" v1 "$reg/acc/busybox:latest"
  printf 'unqualified-search-registries = ["%s"]\n[[registry]]\nlocation = "%s"\ninsecure = true\n' \
    "$reg" "$reg" >"$PTMP/acc.conf"
  export RRUN_REGISTRIES_CONF=$PTMP/acc.conf
  # The same image under the names other tests pulled: gone, so that rmi deletes it.
  remove_all "$SCRATCH/rrtest/busybox:v1" "$SCRATCH/alpine:latest"
  run -0 rrun pull -q acc/busybox
  id=$output
  kill -STOP "$(cat "$PTMP/acc/pid")"

  run -0 rrun_bounded 30 run --rm acc/busybox /bin/busybox echo ok
  [ "${lines[-1]}" = ok ]
  run -0 rrun_bounded 30 inspect --format '{{.Id}}' acc/busybox
  [ "$output" = "$id" ]
  run -0 rrun_bounded 30 history acc/busybox
  run -0 rrun_bounded 30 save -o "$PTMP/acc.tar" acc/busybox
  [ -s "$PTMP/acc.tar" ]
  run -0 rrun_bounded 30 tag acc/busybox acc-copy:1
  run -0 rrun_bounded 30 rmi acc-copy:1
  [ "$output" = "Untagged: localhost/acc-copy:1" ]
  # rmi of the short name removes the stored $reg/acc/busybox.
  run -0 rrun_bounded 30 rmi acc/busybox
  [ "${lines[0]}" = "Untagged: $reg/acc/busybox:latest" ]
  [ "${lines[1]}" = "Deleted: $id" ]
  # The registry really is out of reach: a pull (in-process, killed while it waits for
  # the manifest, before it stages anything) hangs.
  run -124 rrun_bounded 5 pull -q acc/busybox

  kill -CONT "$(cat "$PTMP/acc/pid")"
  reg_stop "$PTMP/acc"
  rm -f "$PTMP/acc.tar"
}

@test "pull: a second image sharing the base layers fetches only its new layer; whiteouts hide" {
  local base_blob new_blob saved
  remove_all "$SCRATCH/rrtest/bb3:v3"
  run -0 rrun pull -q "$SCRATCH/rrtest/busybox:v1"
  # Take the base layers away from the registry: the pull must not need them.
  saved=$PTMP/saved-blobs
  mkdir -p "$saved"
  for base_blob in $(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(" ".join(l["digest"] for l in m["layers"][:2]))' \
    "$PTMP/bb/blobs/sha256/$(cut -d: -f2 "$PTMP/bb-digest")"); do
    mv "$(blob_data "$base_blob")" "$saved/${base_blob#sha256:}"
  done
  run rrun pull -q "$SCRATCH/rrtest/bb3:v3"
  for base_blob in "$saved"/*; do
    mv "$base_blob" "$(blob_data "sha256:$(basename "$base_blob")")"
  done
  [ "$status" -eq 0 ]
  # /etc/hello (layer 2) is whited out by layer 3
  run -0 rrun run --rm "$SCRATCH/rrtest/bb3:v3" /bin/busybox sh -c 'ls /etc; test ! -e /etc/hello && echo gone; test -f /big && echo big'
  [[ $output == *gone* ]]
  [[ $output == *big* ]]
}

@test "pull: three concurrent pulls of one image succeed and leave one copy" {
  remove_all "$SCRATCH/rrtest/bb3:v3" "$SCRATCH/rrtest/busybox:v1" "$SCRATCH/alpine:latest"
  local before pids=() p
  before=$(layer_count)
  for p in 1 2 3; do
    rrun pull -q "$SCRATCH/rrtest/bb3:v3" >"$BATS_TEST_TMPDIR/out$p" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  [ "$(cat "$BATS_TEST_TMPDIR/out1")" = "$(cat "$BATS_TEST_TMPDIR/out2")" ]
  [ "$(cat "$BATS_TEST_TMPDIR/out1")" = "$(cat "$BATS_TEST_TMPDIR/out3")" ]
  [[ $(cat "$BATS_TEST_TMPDIR/out1") =~ ^[0-9a-f]{64}$ ]]
  [ "$(layer_count)" -le $((before + 3)) ]
  run -0 rrun images
  [ "$(grep -c "$SCRATCH/rrtest/bb3" <<<"$output")" = 1 ]
}

@test "pull: SIGKILL in the middle, then pull again succeeds" {
  remove_all "$SCRATCH/rrtest/bb3:v3" "$SCRATCH/rrtest/busybox:v1" "$SCRATCH/alpine:latest"
  local pid i
  "$RRUN" pull -q "$SCRATCH/rrtest/bb3:v3" >/dev/null 2>&1 &
  pid=$!
  # kill it once the store has a staging dir (a layer is on its way)
  for ((i = 0; i < 100; i++)); do
    if [[ -n $(find "$STORAGE_ROOT/tmp" -mindepth 1 -maxdepth 1 2>/dev/null) ]]; then break; fi
    sleep 0.02
  done
  kill -9 "$pid"
  wait "$pid" || true
  run -125 rrun run --rm --pull=never "$SCRATCH/rrtest/bb3:v3" true
  run -0 rrun pull -q "$SCRATCH/rrtest/bb3:v3"
  run -0 rrun run --rm "$SCRATCH/rrtest/bb3:v3" /bin/busybox test -f /big
}

@test "pull: a blob that does not match its digest fails and leaves nothing" {
  remove_all "$SCRATCH/rrtest/bb3:v3" "$SCRATCH/rrtest/busybox:v1" "$SCRATCH/alpine:latest"
  local data before
  data=$(blob_data "$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["layers"][1]["digest"])' \
    "$PTMP/bb/blobs/sha256/$(cut -d: -f2 "$PTMP/bb-digest")")")
  [ -f "$data" ]
  before=$(layer_count)
  cp "$data" "$PTMP/good"
  python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[-1]^=0xff; open(p,"wb").write(b)' "$data"
  run rrun pull -q "$SCRATCH/rrtest/busybox:v1"
  cp "$PTMP/good" "$data"
  [ "$status" -eq 125 ]
  [[ $output == *"does not match"* ]]
  [ "$(layer_count)" = "$before" ]
  run -0 rrun images
  [[ $output != *"$SCRATCH/rrtest/busybox"* ]]
}

@test "pull: fixture layers: whiteout, opaque dir, hardlink, owner, zstd; index by --platform" {
  ensure_oci_fixtures
  skopeo copy --quiet --dest-tls-verify=false "oci:$FIXTURES/oci/multi:latest" \
    "docker://$SCRATCH/rrtest/multi:latest" >&2
  skopeo copy --quiet --all --dest-tls-verify=false "oci:$FIXTURES/oci/index:latest" \
    "docker://$SCRATCH/rrtest/index:latest" >&2
  run -0 rrun pull -q "$SCRATCH/rrtest/multi:latest"
  run -0 rrun run --rm "$SCRATCH/rrtest/multi:latest" sh -c \
    'test ! -e /etc/motd && echo motd-gone; ls /srv/data; cat /zstd/marker; /usr/local/bin/hl-b; stat -c %u:%g /srv/owned; [ "$(stat -c %i /usr/local/bin/hl-a)" = "$(stat -c %i /usr/local/bin/hl-b)" ] && echo same-inode'
  [ "${lines[0]}" = motd-gone ]
  [ "${lines[1]}" = new.txt ]
  [ "${lines[2]}" = "zstd layer" ]
  [ "${lines[3]}" = hardlinked ]
  [ "${lines[4]}" = 4000:4000 ]
  [ "${lines[5]}" = same-inode ]
  run -0 rrun pull -q --platform linux/arm64 "$SCRATCH/rrtest/index:latest"
  run -0 rrun run --rm --pull=never "$SCRATCH/rrtest/index:latest"
  [ "$output" = arm64 ]
  run -0 rrun pull -q "$SCRATCH/rrtest/index:latest"
  run -0 rrun run --rm --pull=never "$SCRATCH/rrtest/index:latest"
  [ "$output" = amd64 ]
}
