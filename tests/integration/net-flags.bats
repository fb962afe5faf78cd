#!/usr/bin/env bats
# rrun-test: one pass
# (one storage-driver pass: the network and cgroup code do not depend on the driver)
# The documented network flags of `rrun run` on the default (slirp) network: --dns,
# --dns-search, --dns-option, --add-host, -P/--publish-all and --network slirp:OPTIONS.
# (net.bats tests rrun-net alone; net-modes.bats the container: and ns: modes.)

load helpers

setup_file() {
  common_setup_file
  [[ -n ${RRUN_NET:-} ]] || skip "RRUN_NET is not set (meson test sets it)"
}

teardown() {
  if [[ -n ${RRUN_PID:-} ]] && kill -0 "$RRUN_PID" 2>/dev/null; then
    kill -TERM "$RRUN_PID"
    wait_bg
  fi
}

@test "run --dns, --dns-search, --dns-option: the container's resolv.conf, slirp's DNS first" {
  run -0 rrun run --rm --dns 192.0.2.53 --dns 192.0.2.54 --dns-search example.test \
    --dns-search corp.test --dns-option ndots:2 --dns-option timeout:1 "$FIXTURE_IMAGE" \
    cat /etc/resolv.conf
  [ "$output" = "search example.test corp.test
nameserver 10.0.2.3
nameserver 192.0.2.53
nameserver 192.0.2.54
options ndots:2 timeout:1" ]
  run -125 rrun run --rm --dns not-an-ip "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --dns "not-an-ip": not an IP address' ]
  no_leftovers
}

@test "run --add-host on the default network: a line in /etc/hosts that the resolver uses" {
  run -0 rrun run --rm --add-host db.test:192.0.2.7 --add-host v6.test:2001:db8::7 \
    "$FIXTURE_IMAGE" sh -c 'cat /etc/hosts; echo ---; ping -c1 -W1 db.test 2>&1 | head -n1'
  echo "$output"
  [[ $output == *$'\n192.0.2.7\tdb.test\n'* ]]
  [[ $output == *$'\n2001:db8::7\tv6.test\n'* ]]
  # busybox's resolver reads /etc/hosts: the name resolves (the ping itself may not answer)
  [[ ${lines[-1]} == "PING db.test (192.0.2.7)"* ]]
  run -125 rrun run --rm --add-host no-ip "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --add-host "no-ip": expected name:ip' ]
  run -125 rrun run --rm --add-host db.test:999.1.1.1 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --add-host "db.test:999.1.1.1": "999.1.1.1" is not an IP address' ]
  no_leftovers
}

@test "run --network slirp:OPTIONS: cidr and mtu reach tap0, the route and resolv.conf" {
  run -0 rrun run --rm --network slirp:cidr=10.0.7.0/24,mtu=1500 "$FIXTURE_IMAGE" \
    sh -c 'ip -o -4 addr show tap0; ip -o link show tap0; ip route show default; cat /etc/resolv.conf'
  echo "$output"
  [[ ${lines[0]} == *"tap0"*"inet 10.0.7.100/24"* ]]
  [[ ${lines[1]} == *"tap0"*" mtu 1500 "* ]]
  [[ ${lines[2]} == "default via 10.0.7.2 dev tap0"* ]]
  [[ $output == *$'\nnameserver 10.0.7.3'* || ${lines[3]} == "nameserver 10.0.7.3" ]]
  run -125 rrun run --rm --network slirp:mtu=100 "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == *'invalid --network option "mtu=100": expected 1280 to 65520'* ]]
  run -125 rrun run --rm --network slirp:no_such_option=1 "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == 'rrun: '*'no_such_option'* ]]
  no_leftovers
}

# An image whose config exposes 8080/tcp: the fixture's OCI layout with ExposedPorts added
# and its Entrypoint, Cmd, User and WorkingDir dropped (config and manifest re-hashed), loaded as localhost/rrun-test-exposed:latest.
load_exposed_image() {
  ensure_oci_fixtures
  local dir=$BATS_TEST_TMPDIR/exposed
  cp -r "$FIXTURES/oci/config" "$dir"
  python3 - "$dir" <<'EOF'
import hashlib, json, os, sys
d = sys.argv[1]
blobs = os.path.join(d, "blobs", "sha256")
def put(obj):
    data = json.dumps(obj, separators=(",", ":")).encode()
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, h), "wb") as f:
        f.write(data)
    return "sha256:" + h, len(data)
idx = json.load(open(os.path.join(d, "index.json")))
desc = idx["manifests"][0]
man = json.load(open(os.path.join(blobs, desc["digest"][7:])))
cfg = json.load(open(os.path.join(blobs, man["config"]["digest"][7:])))
c = cfg.setdefault("config", {})
c["ExposedPorts"] = {"8080/tcp": {}}
for k in ("Entrypoint", "Cmd", "User", "WorkingDir"):  # the test gives its own command
    c.pop(k, None)
man["config"]["digest"], man["config"]["size"] = put(cfg)
desc["digest"], desc["size"] = put(man)
desc.setdefault("annotations", {})["org.opencontainers.image.ref.name"] = "latest"
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
EOF
  local out
  out=$(rrun load -i "$dir")
  # a ref.name that is a tag alone gives no name: the image loads untagged
  [[ $out == "Loaded image ID: sha256:"* ]]
  rrun tag "${out#Loaded image ID: sha256:}" localhost/rrun-test-exposed:latest
}

@test "run -P / --publish-all: every exposed port on a free host port, reachable" {
  load_exposed_image
  local flag port
  for flag in -P --publish-all; do
    rrun_bg run --rm --init --name exposed "$flag" localhost/rrun-test-exposed:latest \
      sh -c 'mkdir -p /www && echo hello-from-P >/www/index.html && echo ready && exec httpd -f -p 8080 -h /www'
    wait_until grep -qx ready "$BATS_TEST_TMPDIR/bg.out"
    run rrun port exposed
    echo "port: $output"
    echo "rrun run: $(cat "$BATS_TEST_TMPDIR/bg.out" "$BATS_TEST_TMPDIR/bg.err")"
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ ${lines[0]} =~ ^8080/tcp\ -\>\ [0-9.]+:([0-9]+)$ ]]
    port=${BASH_REMATCH[1]}
    ((port > 0 && port != 8080))
    wait_until curl -fsS "http://127.0.0.1:$port/index.html"
    run -0 curl -fsS "http://127.0.0.1:$port/index.html"
    [ "$output" = hello-from-P ]
    kill -TERM "$RRUN_PID"
    wait_bg
    [ "$BG_STATUS" -eq 143 ]
  done
  # without -P nothing is published
  run -0 rrun run --rm localhost/rrun-test-exposed:latest true
  run -0 rrun rmi localhost/rrun-test-exposed:latest
  no_leftovers
}
