#!/usr/bin/env bats
# rrun load and rrun save: OCI layout dirs, OCI archives and docker-archives from rrun,
# skopeo and podman; round trips keep the image ID; kept blobs are what save writes and
# rmi removes them; hostile archives fail clearly and leave nothing in the store.
# Each test uses a store of its own (XDG_DATA_HOME under the test's temp dir).

load helpers
load registry-helpers

setup_file() {
  common_setup_file
  # .ci/packages installs it: without jq two failed reads would compare equal
  command -v jq >/dev/null || {
    echo "jq is not installed (apt-get install jq)" >&2
    return 1
  }
  ensure_oci_fixtures
  export LTMP
  LTMP=$(mktemp -d)
  # The fixture layouts' image ids (config digests), read from the layouts themselves.
  python3 - "$FIXTURES/oci" >"$LTMP/ids" <<'EOF'
import json, os, sys
root = sys.argv[1]
for name in ("multi", "config"):
    d = os.path.join(root, name)
    idx = json.load(open(os.path.join(d, "index.json")))
    mdig = idx["manifests"][0]["digest"]
    man = json.load(open(os.path.join(d, "blobs", "sha256", mdig[7:])))
    print(name, man["config"]["digest"][7:], mdig)
EOF
  # a registry of our own for the pull test (started here: a server started inside a
  # test would keep bats' output open)
  if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
    export LREG
    LREG=$(reg_start "$LTMP/reg" 3>&-) || LREG=
  fi
}

teardown_file() {
  if [[ -n ${LREG:-} ]]; then reg_stop "$LTMP/reg"; fi
  rm -rf -- "$LTMP"
}

# The stores and podman's hold files of subordinate ids: remove them through the tools.
teardown() {
  local s data id
  for s in "$BATS_TEST_TMPDIR"/*/rrun/storage; do
    [[ -d $s ]] || continue
    data=${s%/rrun/storage}
    for id in $(XDG_DATA_HOME=$data rrun images --format json 2>/dev/null | jq -r '.[].Id'); do
      XDG_DATA_HOME=$data rrun rmi -f "$id" >/dev/null 2>&1 || true
    done
  done
  local proot=$BATS_TEST_TMPDIR/podman pause
  if [[ -d $proot ]]; then
    XDG_RUNTIME_DIR=$proot/xdg timeout 60 podman unshare rm -rf "$proot/root" "$proot/run" || true
    pause=$(cat "$proot/xdg/libpod/tmp/pause.pid" 2>/dev/null) || true
    if [[ -n $pause ]]; then kill "$pause" 2>/dev/null || true; fi
  fi
}

setup() {
  export XDG_DATA_HOME=$BATS_TEST_TMPDIR/data
  mkdir -p "$XDG_DATA_HOME"
  STORE=$XDG_DATA_HOME/rrun/storage
  cd "$BATS_TEST_TMPDIR" || return 1
}

image_ids() { rrun images --format json | jq -r '.[].Id'; }
fixture_id() { awk -v n="$1" '$1 == n { print $2 }' "$LTMP/ids"; }
fixture_manifest() { awk -v n="$1" '$1 == n { print $3 }' "$LTMP/ids"; }

# Nothing of a failed load may stay: no image, layer, blob or staging debris.
assert_store_empty() {
  run rrun images -q
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  [ -z "$(ls -A "$STORE/layers")" ]
  [ -z "$(ls -A "$STORE/images")" ]
  [ -z "$(ls -A "$STORE/blobs/sha256")" ]
  [ -z "$(ls -A "$STORE/tmp")" ]
}

# A docker-archive made with python3 tarfile from a layer tar: hostile NAME variants.
make_docker_archive() { # OUT MODE
  python3 - "$1" "$2" <<'EOF'
import hashlib, io, json, sys, tarfile
out, mode = sys.argv[1], sys.argv[2]
lbuf = io.BytesIO()
with tarfile.open(fileobj=lbuf, mode="w") as t:
    data = b"hello\n"
    ti = tarfile.TarInfo("../../escaped" if mode == "layer-traversal" else "hello.txt")
    ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))
layer = lbuf.getvalue()
diff = hashlib.sha256(layer).hexdigest()
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff]}}).encode()
cid = hashlib.sha256(cfg).hexdigest()
layer_name = diff + ".tar"
if mode == "diff-mismatch":
    layer = layer[:-1024] + b"x" * 1024
members = {cid + ".json": cfg, layer_name: layer}
man = [{"Config": cid + ".json", "RepoTags": ["hostile:1"], "Layers": [layer_name]}]
if mode == "dotdot":
    man[0]["Layers"] = ["../" + layer_name]
if mode == "absolute":
    man[0]["Layers"] = ["/etc/passwd"]
if mode == "many-layers":
    man[0]["Layers"] = [layer_name] * 5000
if mode == "missing":
    del members[layer_name]
members["manifest.json"] = json.dumps(man).encode()
with open(out, "wb") as f, tarfile.open(fileobj=f, mode="w") as t:
    for name, data in members.items():
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    if mode == "member-dotdot":
        ti = tarfile.TarInfo("../outside")
        ti.size = 3
        t.addfile(ti, io.BytesIO(b"bad"))
    if mode == "member-absolute":
        ti = tarfile.TarInfo("/tmp/outside")
        ti.size = 3
        t.addfile(ti, io.BytesIO(b"bad"))
    if mode == "symlink-out":
        ti = tarfile.TarInfo("evil.json")
        ti.type = tarfile.SYMTYPE
        ti.linkname = "../../../../etc/passwd"
        t.addfile(ti)
EOF
}

@test "load: an OCI layout dir loads untagged with the config digest as its id" {
  run -0 rrun load -i "$FIXTURES/oci/multi"
  # ref.name "latest" is a tag alone: no name
  [ "$output" = "Loaded image ID: sha256:$(fixture_id multi)" ]
  run -0 image_ids
  [[ $output == *"$(fixture_id multi)"* ]]
  run -0 rrun run --rm "$(fixture_id multi)" cat /zstd/marker
  [ "$output" = "zstd layer" ]
}

@test "save: docker-archive and oci-archive round trips keep the image id" {
  rrun load -i "$FIXTURES/oci/multi" >/dev/null
  rrun tag "$(fixture_id multi)" multi:1
  run -0 rrun save -o d.tar multi:1
  [ -z "$output" ]
  run -0 rrun save --format oci-archive -o o.tar multi:1
  # docker-archive: uncompressed layers named by diff id, config by id
  tar tf d.tar | grep -qx "$(fixture_id multi).json"
  tar tf d.tar | grep -qx manifest.json
  # the OCI archive holds the kept manifest: its digest survives
  tar tf o.tar | grep -qx "blobs/sha256/$(fixture_manifest multi | cut -c8-)"
  [ -z "$(find . -maxdepth 1 -name '.*' ! -name .)" ] # no temp file left next to them
  for f in d.tar o.tar; do
    export XDG_DATA_HOME=$BATS_TEST_TMPDIR/$f.store
    run -0 rrun load -i "$f"
    [ "$output" = "Loaded image: localhost/multi:1" ]
    run -0 image_ids
    [ "$output" = "$(fixture_id multi)" ]
    run -0 rrun run --rm multi:1 cat /zstd/marker
    [ "$output" = "zstd layer" ]
  done
}

@test "load: standard input, -i - and save to a pipe" {
  rrun load -i "$FIXTURES/oci/multi" >/dev/null
  rrun tag "$(fixture_id multi)" piped
  rrun save piped >p.tar
  rrun save -o - piped | cmp - p.tar
  export XDG_DATA_HOME=$BATS_TEST_TMPDIR/d2
  run -0 rrun load <p.tar
  [ "$output" = "Loaded image: localhost/piped:latest" ]
  export XDG_DATA_HOME=$BATS_TEST_TMPDIR/d3
  run -0 rrun load -i - <p.tar
  [ "$output" = "Loaded image: localhost/piped:latest" ]
  # a gzip-compressed archive as a whole (docker save | gzip) loads too
  gzip -c p.tar >p.tar.gz
  export XDG_DATA_HOME=$BATS_TEST_TMPDIR/d4
  run -0 rrun load -i p.tar.gz
  [ "$output" = "Loaded image: localhost/piped:latest" ]
}

@test "save: refuses to write to a terminal, like docker" {
  rrun load -i "$FIXTURES/oci/multi" >/dev/null
  run script -qec "$RRUN save $(fixture_id multi)" /dev/null
  [[ $output == *"rrun: cannot save to standard output: cannot write an archive to a terminal"* ]]
  [[ $output == *"hint: name a file with -o FILE"* ]]
}

@test "load: archives made by skopeo (docker-archive: and oci-archive:) load" {
  command -v skopeo >/dev/null || skip "skopeo is not installed"
  skopeo copy -q "oci:$FIXTURES/oci/config:latest" docker-archive:sk-d.tar:sk/one:1
  skopeo copy -q "oci:$FIXTURES/oci/multi:latest" oci-archive:sk-o.tar:localhost/sk/two:2
  run -0 rrun load -i sk-d.tar
  # RepoTags read as docker reads them
  [ "$output" = "Loaded image: docker.io/sk/one:1" ]
  run -0 rrun load -i sk-o.tar
  [ "$output" = "Loaded image: localhost/sk/two:2" ]
  run -0 rrun images --format json
  [[ $output == *"$(fixture_id config)"* && $output == *"$(fixture_id multi)"* ]]
  run -0 rrun run --rm --entrypoint /bin/cat sk/one:1 /srv/data/hello.txt
  [ "$output" = "hello from the image" ]
}

@test "save: what rrun writes is read by skopeo" {
  command -v skopeo >/dev/null || skip "skopeo is not installed"
  rrun load -i "$FIXTURES/oci/config" >/dev/null
  rrun tag "$(fixture_id config)" cfg:1
  rrun save -o d.tar cfg:1
  rrun save --format oci-archive -o o.tar cfg:1
  run -0 skopeo inspect --raw docker-archive:d.tar
  [[ $output == *"$(fixture_id config)"* ]]
  run -0 skopeo inspect oci-archive:o.tar
  [[ $output == *"\"Digest\": \"$(fixture_manifest config)\""* ]]
  skopeo copy -q docker-archive:d.tar oci:copy:x
  run -0 skopeo inspect --config oci:copy:x
  local got want
  got=$(jq -c .rootfs.diff_ids <<<"$output")
  want=$(jq -c .rootfs.diff_ids "$FIXTURES/oci/config/blobs/sha256/$(fixture_id config)")
  [[ $want == '["sha256:'* ]]
  [ "$got" = "$want" ]
}

@test "save/load: podman reads rrun's archives and rrun reads podman's" {
  command -v podman >/dev/null || skip "podman is not installed"
  local proot=$BATS_TEST_TMPDIR/podman
  # its own runtime dir, so the pause process podman leaves is found and ended (teardown)
  mkdir -p -m 0700 "$proot/xdg"
  pm() {
    XDG_RUNTIME_DIR=$proot/xdg timeout 120 podman --root "$proot/root" --runroot "$proot/run" \
      --storage-driver vfs "$@"
  }
  pm images >/dev/null 2>&1 || skip "podman does not work for this user here"
  rrun load -i "$FIXTURES/oci/config" >/dev/null
  rrun tag "$(fixture_id config)" cfg:1
  rrun save -o d.tar cfg:1
  rrun save --format oci-archive -o o.tar cfg:1
  run -0 pm load -i d.tar
  [[ $output == *"Loaded image: localhost/cfg:1"* ]]
  run -0 pm images --no-trunc --format '{{.ID}}'
  [[ $output == *"$(fixture_id config)" ]]
  pm rmi -a >/dev/null
  run -0 pm load -i o.tar
  [[ $output == *"localhost/cfg:1"* ]]
  # and back: podman's docker-archive (with its legacy HEX/layer.tar symlinks)
  pm save -o from-podman.tar localhost/cfg:1
  export XDG_DATA_HOME=$BATS_TEST_TMPDIR/d2
  run -0 rrun load -i from-podman.tar
  [ "$output" = "Loaded image: localhost/cfg:1" ]
  run -0 image_ids
  [ "$output" = "$(fixture_id config)" ]
}

@test "import keeps the tarball: save writes it back byte for byte" {
  rrun import "$FIXTURES/rootfs.tar" imp >/dev/null
  rrun save -o i.tar imp
  local diff
  diff=$(sha256sum "$FIXTURES/rootfs.tar" | cut -d' ' -f1)
  tar xOf i.tar "$diff.tar" | cmp - "$FIXTURES/rootfs.tar"
}

@test "rmi removes the blobs no image keeps, and keeps shared ones" {
  # multi and config share their bottom layer's gzip blob
  rrun load -i "$FIXTURES/oci/multi" >/dev/null
  rrun load -i "$FIXTURES/oci/config" >/dev/null
  rrun import "$FIXTURES/rootfs.tar" imp >/dev/null
  local shared
  shared=$(ls "$FIXTURES/oci/config/blobs/sha256" | grep -xf - <(ls "$FIXTURES/oci/multi/blobs/sha256"))
  [ -n "$shared" ]
  # multi: config, manifest, 3 layers; config: config, manifest; imp: config, tarball
  [ "$(ls "$STORE/blobs/sha256" | wc -l)" -eq 9 ]
  rrun rmi imp
  [ "$(ls "$STORE/blobs/sha256" | wc -l)" -eq 7 ]
  rrun rmi "$(fixture_id config)"
  [ "$(ls "$STORE/blobs/sha256" | wc -l)" -eq 5 ]
  [ -f "$STORE/blobs/sha256/$shared" ]
  rrun save -o m.tar "$(fixture_id multi)" # still complete
  rrun rmi "$(fixture_id multi)"
  assert_store_empty
}

@test "save: a layer without a kept blob is refused with a hint, nothing written" {
  rrun load -i "$FIXTURES/oci/multi" >/dev/null
  # what a store from before kept blobs looks like
  python3 - "$STORE/images/$(fixture_id multi)/image.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
del m["layer_blobs"]
json.dump(m, open(sys.argv[1], "w"))
EOF
  run -125 rrun save -o old.tar "$(fixture_id multi)"
  [[ ${lines[0]} == "rrun: cannot save \"old.tar\": image \"$(fixture_id multi)\" has no kept blob for its layer 1 "* ]]
  [[ ${lines[1]} == "hint: remove it and pull or import it again"* ]]
  [ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep -v '^data$')" ]
}

@test "pull keeps the layer blobs as received: save reproduces the registry's digests" {
  command -v docker-registry >/dev/null || skip "docker-registry is not installed"
  command -v skopeo >/dev/null || skip "skopeo is not installed"
  [[ -n ${LREG:-} ]] || skip "the registry did not start"
  skopeo copy -q --dest-tls-verify=false "oci:$FIXTURES/oci/multi:latest" "docker://$LREG/multi:1"
  run -0 rrun pull --tls-verify=false "$LREG/multi:1"
  rrun save --format oci-archive -o p.tar "$LREG/multi:1"
  # the registry's manifest as pushed, with the gzip and zstd blobs unchanged
  tar tf p.tar | grep -qx "blobs/sha256/$(fixture_manifest multi | cut -c8-)"
  rrun rmi "$LREG/multi:1"
  assert_store_empty
  run -0 rrun load -i p.tar
  run -0 image_ids
  [ "$output" = "$(fixture_id multi)" ]
}

@test "pull of an image whose layers the store has without blobs fetches only the blobs" {
  [[ -n ${LREG:-} ]] || skip "the registry did not start"
  skopeo copy -q --dest-tls-verify=false "oci:$FIXTURES/oci/multi:latest" "docker://$LREG/multi:2"
  rrun load -i "$FIXTURES/oci/multi" >/dev/null
  # what a store from before kept blobs looks like: layers, no layer blobs
  python3 - "$STORE/images/$(fixture_id multi)/image.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
del m["layer_blobs"]
json.dump(m, open(sys.argv[1], "w"))
EOF
  for b in $(ls "$FIXTURES/oci/multi/blobs/sha256"); do
    [[ $b == "$(fixture_id multi)" ]] || rm -f "$STORE/blobs/sha256/$b"
  done
  run -125 rrun save -o x.tar "$(fixture_id multi)"
  local layers_before
  layers_before=$(ls "$STORE/layers")
  run -0 rrun pull --tls-verify=false "$LREG/multi:2"
  [ "$(ls "$STORE/layers")" = "$layers_before" ]
  run -0 rrun save --format oci-archive -o x.tar "$LREG/multi:2"
  for b in $(ls "$FIXTURES/oci/multi/blobs/sha256"); do
    tar tf x.tar | grep -qx "blobs/sha256/$b"
  done
}

hostile() { # MODE EXPECTED-SUBSTRING
  make_docker_archive bad.tar "$1"
  run -125 rrun load -i bad.tar
  [[ ${lines[0]} == 'rrun: cannot load "bad.tar": '* ]]
  [[ ${lines[0]} == *"$2"* ]]
  [[ $output == *"hint: "* ]]
  assert_store_empty
  # one check a line: in an && list only the last check can fail the test
  [ ! -e "$STORE/outside" ]
  [ ! -e "$STORE/tmp/outside" ]
  [ ! -e /tmp/outside ]
  [ ! -e "$BATS_TEST_TMPDIR/escaped" ]
  [ ! -e "$STORE/escaped" ]
}

@test "load: hostile archives fail clearly and leave nothing" {
  hostile member-dotdot 'member "../outside": '
  hostile member-absolute 'member "/tmp/outside": '
  hostile symlink-out 'member "evil.json" links to "../../../../etc/passwd", outside the archive'
  hostile dotdot 'manifest.json: [0].Layers[0]: "../'
  hostile absolute 'manifest.json: [0].Layers[0]: "/etc/passwd" is not a path inside the archive'
  hostile many-layers 'manifest.json: [0].Layers: 5000 entries, at most 1024 allowed'
  hostile missing 'is missing'
  hostile diff-mismatch 'does not match its diff ID'
  hostile layer-traversal 'layer sha256:'
}

@test "load: OCI digest and size mismatches, missing blobs and truncation fail" {
  oci_variant() { # MODE
    rm -rf v && cp -r "$FIXTURES/oci/multi" v
    python3 - v "$1" <<'EOF'
import json, os, sys
d, mode = sys.argv[1], sys.argv[2]
blobs = os.path.join(d, "blobs", "sha256")
idx = json.load(open(os.path.join(d, "index.json")))
man = json.load(open(os.path.join(blobs, idx["manifests"][0]["digest"][7:])))
layer = os.path.join(blobs, man["layers"][0]["digest"][7:])
if mode == "digest":
    data = bytearray(open(layer, "rb").read()); data[100] ^= 1
    open(layer, "wb").write(bytes(data))
elif mode == "missing":
    os.unlink(layer)
elif mode == "size":
    idx["manifests"][0]["size"] = 99999999999999
    json.dump(idx, open(os.path.join(d, "index.json"), "w"))
EOF
  }
  oci_variant digest
  (cd v && tar cf ../v.tar .)
  run -125 rrun load -i v.tar
  [[ ${lines[0]} == 'rrun: cannot load "v.tar": layer sha256:'*' does not match its digest: got sha256:'* ]]
  assert_store_empty
  run -125 rrun load -i v # the layout dir itself
  [[ ${lines[0]} == *'does not match its digest'* ]]
  assert_store_empty

  oci_variant missing
  run -125 rrun load -i v
  [[ ${lines[0]} == *'layer sha256:'*'file "blobs/sha256/'*'" is missing'* ]]
  assert_store_empty

  oci_variant size
  run -125 rrun load -i v
  [[ ${lines[0]} == *'bytes, the manifest says 99999999999999'* ]]
  assert_store_empty

  oci_variant none
  (cd v && tar cf ../v.tar .)
  head -c 600000 v.tar >t.tar
  run -125 rrun load -i t.tar
  [[ ${lines[0]} == 'rrun: cannot load "t.tar": '*'runcated'* ]]
  [[ $output == *"hint: nothing from it was kept"* ]]
  assert_store_empty

  echo 'not an archive at all' >junk.tar
  run -125 rrun load -i junk.tar
  [[ ${lines[0]} == 'rrun: cannot load "junk.tar": '* ]]
  assert_store_empty
  tar cf empty-ish.tar -C "$FIXTURES" rootfs.owners
  run -125 rrun load -i empty-ish.tar
  [[ ${lines[0]} == *'not an image archive: no manifest.json (docker-archive) or index.json (OCI layout)' ]]
  [[ ${lines[1]} == 'hint: '*'rrun import'* ]]
}
