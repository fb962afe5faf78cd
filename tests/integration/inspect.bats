#!/usr/bin/env bats
# issue 3's image commands: inspect (images and running containers, --format templates),
# history (empty layers, sizes), image prune (dangling, -a, confirmation, orphan layers),
# images' filters and flags, and the `rrun image` group.

load helpers
load registry-helpers

setup_file() {
  common_setup_file
  export ITMP
  ITMP=$(mktemp -d)
  # A dangling-free start: the images these tests make are theirs alone.
  rrun import "$FIXTURES/rootfs.tar" localhost/rrun-test-inspect >/dev/null
}

teardown_file() {
  [[ -n ${ITMP:-} ]] || return 0
  reg_stop "$ITMP/reg"
  rm -rf "$ITMP"
}

teardown() {
  if [[ -n ${RRUN_PID:-} ]]; then
    kill "$RRUN_PID" 2>/dev/null || true
    wait_bg || true
  fi
}

json() { # FILTER (python expression over `d`) < JSON
  /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# Wait (bounded) until a container of that name is running.
wait_running() {
  wait_until bash -c '"$RRUN" inspect --type container --format "{{.Name}}" "$1" >/dev/null 2>&1' _ "$1"
}

full_id() {
  rrun images --no-trunc -q "$1" | head -1
}

# ---- image inspect ----------------------------------------------------------------------

@test "image inspect: podman's fields, one object per image" {
  local id
  id=$(full_id localhost/rrun-test-inspect)
  [[ $id == sha256:* ]]
  run -0 rrun image inspect localhost/rrun-test-inspect
  [ "$(json 'len(d)' <<<"$output")" = 1 ]
  [ "$(json 'd[0]["Id"]' <<<"$output")" = "${id#sha256:}" ]
  [ "$(json 'd[0]["RepoTags"]' <<<"$output")" = "['localhost/rrun-test-inspect:latest']" ]
  [ "$(json 'd[0]["Os"]' <<<"$output")" = linux ]
  [ "$(json 'len(d[0]["RootFS"]["Layers"])' <<<"$output")" = 1 ]
  [[ $(json 'd[0]["RootFS"]["Layers"][0]' <<<"$output") == sha256:* ]]
  [ "$(json 'd[0]["History"][0]["created_by"]' <<<"$output")" = "rrun import" ]
  [ "$(json 'd[0]["Size"] > 0' <<<"$output")" = True ]
  [ "$(json 'd[0]["Config"]["Env"][0][:5]' <<<"$output")" = PATH= ]
  # by short id too, and two at once
  run -0 rrun image inspect "${id:7:12}" localhost/rrun-test-inspect
  [ "$(json 'len(d)' <<<"$output")" = 2 ]
}

@test "inspect --format: field paths, json, join, index" {
  local id arch
  id=$(full_id localhost/rrun-test-inspect)
  run -0 rrun inspect --format '{{.Id}}' localhost/rrun-test-inspect
  [ "$output" = "${id#sha256:}" ]
  run -0 rrun image inspect localhost/rrun-test-inspect --format '{{.Os}}/{{.Architecture}}'
  # an imported image has the host's architecture, in OCI's (GOARCH) spelling
  case $(uname -m) in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  armv7l | armv6l) arch=arm ;;
  *) arch=$(uname -m) ;;
  esac
  [ "$output" = "linux/$arch" ]
  run -0 rrun inspect --format '{{.Config.Env}}' localhost/rrun-test-inspect
  [[ $output == "[PATH=/"*"]" ]]
  run -0 rrun inspect --format '{{json .Config}}' localhost/rrun-test-inspect
  [ "$(json 'd["Env"][0][:5]' <<<"$output")" = PATH= ]
  run -0 rrun inspect --format '{{join .RepoTags ","}} {{len .RootFS.Layers}} {{index .RepoTags 0}}' \
    localhost/rrun-test-inspect
  [ "$output" = "localhost/rrun-test-inspect:latest 1 localhost/rrun-test-inspect:latest" ]
  # one line per object
  run -0 rrun inspect --format '{{.Os}}' localhost/rrun-test-inspect localhost/rrun-test-inspect
  [ "${#lines[@]}" -eq 2 ]
}

@test "inspect --format: an unsupported template is refused before anything is printed" {
  run -125 --separate-stderr rrun inspect --format '{{range .RepoTags}}{{.}}{{end}}' \
    localhost/rrun-test-inspect
  [ -z "$output" ]
  [[ ${stderr_lines[0]} == 'rrun: invalid --format "{{range .RepoTags}}{{.}}{{end}}": unsupported template action "range .RepoTags"' ]]
  [[ ${stderr_lines[1]} == "hint: rrun's --format supports {{.Field.Path}}"* ]]
  run -125 --separate-stderr rrun inspect --format '{{.Id.Foo}}' localhost/rrun-test-inspect
  [ "${stderr_lines[0]}" = 'rrun: cannot apply --format to "localhost/rrun-test-inspect": cannot evaluate field Foo of .Id.Foo (the value there is a string)' ]
}

@test "inspect: a missing name is an error; the others are still printed" {
  run -125 --separate-stderr rrun inspect --format '{{.Os}}' rrun-test-no-such localhost/rrun-test-inspect
  [ "$output" = linux ]
  [ "${stderr_lines[0]}" = 'rrun: no such object "rrun-test-no-such"' ]
  run -125 --separate-stderr rrun image inspect rrun-test-no-such
  [ "$output" = "[]" ]
  [[ ${stderr_lines[0]} == 'rrun: image "rrun-test-no-such" not found' ]]
  run -125 --separate-stderr rrun inspect --type container localhost/rrun-test-inspect
  [[ ${stderr_lines[0]} == 'rrun: no container "localhost/rrun-test-inspect"' ]]
  run -125 --separate-stderr rrun inspect --type volume x
  [[ ${stderr_lines[0]} == 'rrun: invalid --type "volume": expected container, image or all' ]]
}

# ---- container inspect ------------------------------------------------------------------

@test "inspect: a running container, before an image of the same name" {
  mkdir -p "$BATS_TEST_TMPDIR/vol"
  rrun_bg run --rm --init --name rrun-test-inspect --network none \
    -v "$BATS_TEST_TMPDIR/vol:/data:ro" --tmpfs /scratch "$FIXTURE_IMAGE" sleep 30
  wait_running rrun-test-inspect
  run -0 rrun inspect rrun-test-inspect
  [ "$(json 'd[0]["Name"]' <<<"$output")" = rrun-test-inspect ]
  [ "$(json 'd[0]["Path"]' <<<"$output")" = sleep ]
  [ "$(json 'd[0]["Args"]' <<<"$output")" = "['30']" ]
  [ "$(json 'd[0]["State"]["Running"]' <<<"$output")" = True ]
  [ "$(json 'd[0]["ImageName"]' <<<"$output")" = "$FIXTURE_IMAGE" ]
  [ "sha256:$(json 'd[0]["Image"]' <<<"$output")" = "$(full_id "$FIXTURE_IMAGE")" ]
  [ "$(json 'd[0]["HostConfig"]["NetworkMode"]' <<<"$output")" = none ]
  [ "$(json '[(m["Type"], m["Destination"], m["RW"]) for m in d[0]["Mounts"]]' <<<"$output")" = \
    "[('bind', '/data', False), ('tmpfs', '/scratch', True)]" ]
  # State.Pid is the container's PID 1 as the host sees it (here rrun's --init)
  local pid
  pid=$(json 'd[0]["State"]["Pid"]' <<<"$output")
  [ "$pid" = "$(container_pid1 "$RRUN_PID")" ]
  run -0 rrun ps --format json
  [ "$(json "[c['Pid'] for c in d if c['Name'] == 'rrun-test-inspect'][0]" <<<"$output")" = "$pid" ]
  # --type image skips the container and finds the image of that name
  run -0 rrun inspect --type image --format '{{.RepoTags}}' rrun-test-inspect
  [ "$output" = "[localhost/rrun-test-inspect:latest]" ]
  run -0 rrun inspect --format '{{.State.Pid}}' rrun-test-inspect
  [ "$output" = "$pid" ]
}

@test "inspect: published ports as rrun port shows them" {
  [[ -n ${RRUN_NET:-} && -x $RRUN_NET ]] || skip "RRUN_NET (the network helper) is not built"
  rrun_bg run --rm --init --name rrun-test-ports -p 127.0.0.1::80 "$FIXTURE_IMAGE" sleep 30
  wait_until bash -c '[[ -n $("$RRUN" port rrun-test-ports) ]]'
  run -0 rrun port rrun-test-ports
  local line=$output port
  [[ $line == "80/tcp -> 127.0.0.1:"* ]]
  port=${line##*:}
  run -0 rrun inspect --format '{{.Ports}} {{.HostConfig.NetworkMode}} {{json .NetworkSettings.Ports}}' rrun-test-ports
  [ "$output" = "[$line] slirp {\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$port\"}]}" ]
}

# ---- history ----------------------------------------------------------------------------

@test "history: an imported image has one step with its layer's size" {
  run -0 rrun history localhost/rrun-test-inspect
  [[ ${lines[0]} == "IMAGE"*"CREATED"*"CREATED BY"*"SIZE"*"COMMENT" ]]
  [ "${#lines[@]}" -eq 2 ]
  [[ ${lines[1]} == "$(full_id localhost/rrun-test-inspect | cut -c8-19) "*"rrun import"*"MB"*"imported from"* ]]
  run -0 rrun history --format json localhost/rrun-test-inspect
  [ "$(json 'd[0]["size"] == 0' <<<"$output")" = False ]
  [ "$(json 'd[0]["CreatedBy"]' <<<"$output")" = "rrun import" ]
  run -125 --separate-stderr rrun history
  [[ ${stderr_lines[0]} == "rrun: history: expected IMAGE" ]]
}

@test "history: empty layers have no size, the others their layer's, newest first" {
  command -v docker-registry >/dev/null || skip "docker-registry is not installed"
  command -v skopeo >/dev/null || skip "skopeo is not installed"
  local reg
  reg=$(reg_start "$ITMP/reg")
  # Two layers, four steps: two of them (ENV, CMD) made no layer.
  /usr/bin/python3 - "$ITMP/hist" <<'EOF'
import gzip, hashlib, io, json, os, sys, tarfile
out = sys.argv[1]
os.makedirs(os.path.join(out, "blobs", "sha256"))
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(os.path.join(out, "blobs", "sha256", h), "wb").write(data)
    return {"digest": "sha256:" + h, "size": len(data)}
def layer(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in files:
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = 0o755
            t.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    d = put(gzip.compress(raw, mtime=0))
    d["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
    return d, "sha256:" + hashlib.sha256(raw).hexdigest()
l1, d1 = layer([("bin/busybox", open("/bin/busybox", "rb").read())])
l2, d2 = layer([("etc/small", b"x" * 100)])
step = "/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef in / with a long tail"
cfg = {"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:04Z",
       "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
       "rootfs": {"type": "layers", "diff_ids": [d1, d2]},
       "history": [{"created": "2024-01-01T00:00:01Z", "created_by": step},
                   {"created": "2024-01-01T00:00:02Z", "created_by": "ENV PATH=/bin", "empty_layer": True},
                   {"created": "2024-01-01T00:00:03Z", "created_by": "RUN echo\tsmall", "comment": "buildkit"},
                   {"created": "2024-01-01T00:00:04Z", "created_by": "CMD [\"/bin/sh\"]", "empty_layer": True}]}
c = put(json.dumps(cfg).encode()); c["mediaType"] = "application/vnd.oci.image.config.v1+json"
m = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": c, "layers": [l1, l2]}).encode())
m.update(mediaType="application/vnd.oci.image.manifest.v1+json",
         annotations={"org.opencontainers.image.ref.name": "v1"})
json.dump({"schemaVersion": 2, "manifests": [m]}, open(os.path.join(out, "index.json"), "w"))
open(os.path.join(out, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
EOF
  push_oci "$ITMP/hist" v1 "$reg/rrtest/hist:v1"
  printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$reg" >"$ITMP/registries.conf"
  export RRUN_REGISTRIES_CONF=$ITMP/registries.conf
  run -0 rrun pull -q "$reg/rrtest/hist:v1"
  unset RRUN_REGISTRIES_CONF
  run -0 rrun history --format json "$reg/rrtest/hist:v1"
  [ "$(json '[(e["CreatedBy"][:6], e["size"] > 0, e["empty_layer"]) for e in d]' <<<"$output")" = \
    "[('CMD [\"', False, True), ('RUN ec', True, False), ('ENV PA', False, True), ('/bin/s', True, False)]" ]
  [ "$(json 'd[2]["size"] == 0 and d[1]["size"] < d[3]["size"]' <<<"$output")" = True ]
  [ "$(json '[e["id"] == "<missing>" for e in d]' <<<"$output")" = "[False, True, True, True]" ]
  [ "$(json 'd[1]["comment"]' <<<"$output")" = buildkit ]
  # the two layer sizes add up to the image's size
  [ "$(json 'd[1]["size"] + d[3]["size"]' <<<"$output")" = \
    "$(rrun image inspect --format '{{.Size}}' "$reg/rrtest/hist:v1")" ]
  run -0 rrun history "$reg/rrtest/hist:v1"
  [ "${#lines[@]}" -eq 5 ]
  [[ ${lines[1]} == *' CMD ["/bin/sh"] '*'0 B'* ]]
  [[ ${lines[2]} == '<missing> '*'RUN echo small '*buildkit ]]
  # docker cuts CREATED BY at 45 characters; --no-trunc keeps it
  [[ ${lines[4]} == *'/bin/sh -c #(nop) ADD file:0123456789abcdef0…'* ]]
  run -0 rrun history --no-trunc "$reg/rrtest/hist:v1"
  [[ ${lines[4]} == *'in / with a long tail'* ]]
  [[ ${lines[1]} == sha256:* ]]
  run -0 rrun history -q "$reg/rrtest/hist:v1"
  [ "${#lines[@]}" -eq 4 ]
  [ "${lines[3]}" = "<missing>" ]
  # RepoDigests name the manifest digest
  run -0 rrun image inspect --format '{{.Digest}} {{.RepoDigests}}' "$reg/rrtest/hist:v1"
  [[ $output == "sha256:"*" [$reg/rrtest/hist@sha256:"*"]" ]]
  run -0 rrun rmi "$reg/rrtest/hist:v1"
}

# ---- images -----------------------------------------------------------------------------

@test "images: -a is the default listing; -q, --no-trunc, --digests, filters" {
  local id
  rrun import "$FIXTURES/rootfs.tar" localhost/rrun-test-filter >/dev/null
  # importing the name again leaves the first image dangling (<none>), as docker
  rrun import "$FIXTURES/rootfs.tar" localhost/rrun-test-filter >/dev/null
  # JSON, not the table: its CREATED column ("59 seconds ago") may turn between two calls
  run -0 rrun images --format json
  local plain=$output
  run -0 rrun images -a --format json
  [ "$output" = "$plain" ]
  run -0 rrun images
  [[ $output == *"<none>"*"<none>"* ]]
  run -0 rrun images --filter dangling=true -q
  [ "${#lines[@]}" -ge 1 ]
  for id in "${lines[@]}"; do
    [[ $id =~ ^[0-9a-f]{12}$ ]]
    [ "$(rrun image inspect --format '{{len .RepoTags}}' "$id")" = 0 ]
  done
  run -0 rrun images --filter dangling=false
  [[ $output != *"<none>"* ]]
  run -0 rrun images --filter reference='rrun-test-f*'
  [ "${#lines[@]}" -eq 2 ]
  [[ ${lines[1]} == "localhost/rrun-test-filter "* ]]
  run -0 rrun images localhost/rrun-test-filter --no-trunc -q
  [[ $output =~ ^sha256:[0-9a-f]{64}$ ]]
  run -0 rrun images --digests --filter reference=rrun-test-filter
  [[ ${lines[0]} == "REPOSITORY"*"TAG"*"DIGEST"*"IMAGE ID"* ]]
  [[ ${lines[1]} == *"<none>"* ]]
  run -125 --separate-stderr rrun images --filter label=x
  [ "${stderr_lines[0]}" = 'rrun: invalid --filter "label=x"' ]
  run -0 rrun images --format json --filter reference=rrun-test-filter
  [ "$(json '[i["Dangling"] for i in d]' <<<"$output")" = "[False]" ]
  run -0 rrun rmi localhost/rrun-test-filter
}

# ---- image prune ------------------------------------------------------------------------

@test "image prune: removes dangling images only; -a also unused named ones, never used ones" {
  local dangling
  rrun import "$FIXTURES/rootfs.tar" localhost/rrun-test-prune >/dev/null
  rrun import "$FIXTURES/rootfs.tar" localhost/rrun-test-prune >/dev/null
  dangling=$(rrun images --filter dangling=true --no-trunc -q)
  [ -n "$dangling" ]
  run -0 rrun image prune -f
  [ "${lines[0]}" = "Deleted Images:" ]
  for id in $dangling; do
    [[ $output == *"deleted: $id"* ]]
  done
  [[ ${lines[-1]} == "Total reclaimed space: "* ]]
  run -0 rrun images --filter dangling=true -q
  [ -z "$output" ]
  run -0 rrun images -q localhost/rrun-test-prune
  [ -n "$output" ]
  # a second prune finds nothing
  run -0 rrun image prune -f
  [ "$output" = "Total reclaimed space: 0 B" ]

  # -a: named images go too, but not one a running container uses
  rrun_bg run --rm --init --name rrun-test-prune-user --network none localhost/rrun-test-inspect sleep 30
  wait_running rrun-test-prune-user
  run -0 rrun image prune -a -f
  [[ $output == *"untagged: localhost/rrun-test-prune:latest"* ]]
  [[ $output != *"rrun-test-inspect"* ]]
  run -0 rrun images -q localhost/rrun-test-inspect
  [ -n "$output" ]
  run -0 rrun images -q localhost/rrun-test-prune
  [ -z "$output" ]
  kill "$RRUN_PID"
  wait_bg
  RRUN_PID=
  # the fixture images other tests use come back
  rrun import "$FIXTURES/rootfs.tar" "$FIXTURE_IMAGE" >/dev/null
  rrun import "$FIXTURES/rootfs.tar" localhost/rrun-test-inspect >/dev/null
  no_leftovers
}

@test "image prune: without -f it asks, and only y goes on (end of input is no)" {
  rrun import "$FIXTURES/rootfs.tar" localhost/rrun-test-ask >/dev/null
  rrun import "$FIXTURES/rootfs.tar" localhost/rrun-test-ask >/dev/null
  run -125 --separate-stderr rrun image prune </dev/null
  [ -z "$output" ]
  [ "${stderr_lines[0]}" = "WARNING! This will remove all dangling images." ]
  [[ $stderr == *"rrun: image prune cancelled: not confirmed"* ]]
  [ -n "$(rrun images --filter dangling=true -q)" ]
  run -125 --separate-stderr bash -c 'echo n | "$@" image prune' _ "${RRUN_CMD[@]}"
  [ -n "$(rrun images --filter dangling=true -q)" ]
  run -0 --separate-stderr bash -c 'echo y | "$@" image prune' _ "${RRUN_CMD[@]}"
  [[ $stderr == *"Are you sure you want to continue? [y/N]"* ]]
  [[ $output == "Deleted Images:"* ]]
  [ -z "$(rrun images --filter dangling=true -q)" ]
  rrun rmi localhost/rrun-test-ask
}

@test "image prune: layers no image uses go once they are an hour old" {
  local layer old young
  # A layer left by a killed pull: a copy of a real one under a chain id no image names.
  layer=$(find "$STORAGE_ROOT/layers" -mindepth 1 -maxdepth 1 | head -1)
  old=$STORAGE_ROOT/layers/$(printf 'a%.0s' {1..64})
  young=$STORAGE_ROOT/layers/$(printf 'b%.0s' {1..64})
  mkdir -p "$old/diff" "$young/diff"
  echo data >"$old/diff/file"
  echo '{"id":"x","diff_id":"sha256:x","parent":null,"size":5000000}' >"$old/layer.json"
  cp "$old/layer.json" "$young/layer.json"
  touch -d '2 hours ago' "$old/layer.json"
  run -0 rrun image prune -f
  [ "$output" = "Total reclaimed space: 5 MB" ]
  [ ! -e "$old" ]
  [ -d "$young" ]
  [ -d "$layer" ]
  rm -rf "$young"
  run -0 rrun run --rm "$FIXTURE_IMAGE" true
}

# ---- the image group --------------------------------------------------------------------

@test "image group: ls, list, tag, rm, inspect, history are the top-level commands" {
  # the JSON form: the table's CREATED column is relative ("About a minute ago") and may
  # change between two calls
  run -0 rrun image ls --format json
  [ "$output" = "$(rrun images --format json)" ]
  [ "$(json 'len(d) > 0 and all(i["Id"] for i in d)' <<<"$output")" = True ]
  run -0 rrun image ls
  [ "${lines[0]}" = "$(rrun images | head -n1)" ]
  run -0 rrun image list -q
  [ "$output" = "$(rrun images -q)" ]
  run -0 rrun image tag localhost/rrun-test-inspect rrun-test-group:v2
  run -0 rrun image inspect --format '{{.Id}}' rrun-test-group:v2
  [ "$output" = "$(rrun inspect --format '{{.Id}}' localhost/rrun-test-inspect)" ]
  run -0 rrun image history -q rrun-test-group:v2
  run -0 rrun image rm rrun-test-group:v2
  [ "$output" = "Untagged: localhost/rrun-test-group:v2" ]
  run -0 rrun image --help
  [[ $output == *"prune"*"remove unused images and layers"* ]]
  run -125 --separate-stderr rrun image frobnicate
  [ "${stderr_lines[0]}" = 'rrun: image: unknown subcommand "frobnicate"' ]
  run -125 --separate-stderr rrun image
  [ "${stderr_lines[0]}" = 'rrun: image: missing subcommand' ]
}
