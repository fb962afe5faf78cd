#!/usr/bin/env bats
# rrun as an OCI runtime (Slurm's oci.conf): rrun bundle IMAGE DIR, then the command lines
# oci.conf produces (run --bundle, state, kill -a, delete --force): config.json's process,
# env, cwd, mounts and root applied, the exit status passed on, valid state JSON for
# created, running and stopped containers, and errors naming the bad field.

load helpers

setup_file() {
  common_setup_file
  OCI_MISSING=
  command -v jq >/dev/null || OCI_MISSING="jq is not installed"
  export OCI_MISSING
  [[ -z $OCI_MISSING ]] || return 0
  BUNDLE=$BATS_FILE_TMPDIR/bundle
  rrun bundle "$FIXTURE_IMAGE" "$BUNDLE"
  export BUNDLE
}

teardown_file() {
  if [[ -n ${BUNDLE:-} && -d $BUNDLE ]]; then
    rrun bundle --remove "$BUNDLE"
  fi
}

setup() {
  [[ -z $OCI_MISSING ]] || skip "$OCI_MISSING"
}

teardown() {
  local id
  for id in o-run o-exit o-life o-cfg o-ro o-slurm.u.1.0.0; do
    rrun oci delete --force "$id" >/dev/null 2>&1 || true
  done
}

# A copy of the bundle's config.json changed by a jq filter, in a bundle whose rootfs is
# the shared one: edit_bundle DIR FILTER
edit_bundle() {
  mkdir -p "$1"
  jq --arg root "$BUNDLE/rootfs" ".root.path = \$root | $2" "$BUNDLE/config.json" >"$1/config.json"
}

@test "oci: rrun bundle writes rootfs and a config.json of the image" {
  run -0 jq -r '.ociVersion, .root.path, .process.cwd, (.process.args | join(" ")), .process.user.uid' "$BUNDLE/config.json"
  [ "${lines[0]}" = 1.0.2 ]
  [ "${lines[1]}" = rootfs ]
  [ "${lines[2]}" = / ]
  [ "${lines[3]}" = /bin/sh ]
  [ "${lines[4]}" = 0 ]
  [ -x "$BUNDLE/rootfs/bin/busybox" ]
  # tester's home keeps its owner: container uid 1000, a subordinate id outside
  [ "$(stat -c %u "$BUNDLE/rootfs/home/tester")" != "$(id -u)" ]
  run -125 rrun bundle "$FIXTURE_IMAGE" "$BUNDLE"
  [ "${lines[0]}" = "rrun: cannot write a bundle in \"$BUNDLE\": it is not empty" ]
}

@test "oci: run --bundle runs process.args with env and cwd, and its exit status is rrun's" {
  local b=$BATS_TEST_TMPDIR/b
  edit_bundle "$b" '.process.args = ["sh", "-c", "echo $OCI_VAR $(pwd) $(id -u):$(id -g) $(hostname); ls -ln /home"] | .process.env += ["OCI_VAR=set"] | .process.cwd = "/srv" | .process.user = {"uid": 1000, "gid": 1000} | .hostname = "ocihost"'
  run -0 rrun oci run --bundle "$b" o-run
  [ "${lines[0]}" = "set /srv 1000:1000 ocihost" ]
  [[ ${lines[2]} == *" 1000 "*" 1000 "*tester ]]
  edit_bundle "$b" '.process.args = ["sh", "-c", "exit 7"]'
  run -7 rrun oci run --bundle "$b" o-exit
  run -0 rrun oci state o-exit
  run -0 jq -r '.ociVersion, .id, .status, .pid, .bundle' <<<"$output"
  [ "$output" = $'1.0.2\no-exit\nstopped\n0\n'"$b" ]
}

@test "oci: the command lines of the oci.conf example in docs/hpc.md" {
  local b=$BATS_TEST_TMPDIR/b id=o-slurm.u.1.0.0
  edit_bundle "$b" '.process.args = ["sh", "-c", "echo task $SLURM_PROCID"] | .process.env += ["SLURM_PROCID=3"]'
  # RunTimeRun, then RunTimeQuery and RunTimeDelete as slurmstepd calls them
  run -0 rrun oci run --bundle "$b" "$id"
  [ "$output" = "task 3" ]
  run -0 rrun oci state "$id"
  [ "$(jq -r .status <<<"$output")" = stopped ]
  # kill of an ended container is an error, as with crun
  run -125 rrun oci kill -a "$id"
  [ "${lines[0]}" = "rrun: cannot kill container \"$id\": it is not running" ]
  run -0 rrun oci delete --force "$id"
  run -125 rrun oci state "$id"
  [ "$output" = "rrun: container \"$id\" does not exist" ]
  # runc's and crun's global options are accepted
  run -0 rrun oci --root "$BATS_TEST_TMPDIR" --rootless=true run --bundle "$b" "$id"
  [ "$output" = "task 3" ]
}

@test "oci: create, start, state while running, kill, state of the ended container, delete" {
  local b=$BATS_TEST_TMPDIR/b pid
  edit_bundle "$b" '.process.args = ["sleep", "60"]'
  run -0 rrun oci create --bundle "$b" o-life
  run -0 rrun oci state o-life
  [ "$(jq -r '.status, .pid' <<<"$output")" = $'created\n0' ]
  run -0 rrun oci start o-life
  wait_until bash -c "rrun oci state o-life | jq -e '.status == \"running\"'"
  pid=$(rrun oci state o-life | jq -r .pid)
  [ "$pid" -gt 1 ]
  [ "$(cat "/proc/$pid/comm")" = sleep ]
  run -125 rrun oci delete o-life
  run -0 rrun oci kill o-life KILL
  wait_until bash -c "rrun oci state o-life | jq -e '.status == \"stopped\"'"
  run -0 rrun oci state o-life
  [ "$(jq -r '.pid, .annotations["io.rrun.exit-code"]' <<<"$output")" = $'0\n137' ]
  run -0 rrun oci delete o-life
  run -125 rrun oci state o-life
}

@test "oci: mounts (bind, read-only bind, tmpfs) and a read-only root" {
  local b=$BATS_TEST_TMPDIR/b data=$BATS_TEST_TMPDIR/data
  mkdir -p "$data"
  echo from-host >"$data/f"
  edit_bundle "$b" '.process.args = ["sh", "-c", "cat /data/f /ro/f; echo w > /data/g; touch /ro/x 2>&1 | tail -1 | sed s/.*:\\ //; grep -c \" /scratch tmpfs\" /proc/mounts; touch /rootx 2>&1 | sed s/.*:\\ //"] | .mounts += [{"destination": "/data", "type": "bind", "source": "'"$data"'", "options": ["rbind", "rw"]}, {"destination": "/ro", "type": "none", "source": "'"$data"'", "options": ["bind", "ro"]}, {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m"]}] | .root.readonly = true'
  run -0 rrun oci run --bundle "$b" o-ro
  [ "$output" = $'from-host\nfrom-host\nRead-only file system\n1\nRead-only file system' ]
  [ "$(cat "$data/g")" = w ]
}

@test "oci: a bad config.json fails with the field and the file" {
  local b=$BATS_TEST_TMPDIR/b
  run -125 rrun oci run --bundle "$BATS_TEST_TMPDIR/none" o-cfg
  [ "$output" = "rrun: cannot use the bundle \"$BATS_TEST_TMPDIR/none\": no such directory" ]
  mkdir -p "$b"
  run -125 rrun oci run --bundle "$b" o-cfg
  [[ ${lines[0]} == "rrun: cannot use the bundle \"$b\": "*"config.json"* ]]
  echo '{"ociVersion": "1.0.2", "root": {"path": "rootfs"' >"$b/config.json"
  run -125 rrun oci run --bundle "$b" o-cfg
  [[ ${lines[0]} == "rrun: invalid $b/config.json: "* ]]
  edit_bundle "$b" 'del(.process.args)'
  run -125 rrun oci run --bundle "$b" o-cfg
  [ "${lines[0]}" = "rrun: invalid $b/config.json: process.args is missing" ]
  edit_bundle "$b" '.process.args = "sh"'
  run -125 rrun oci run --bundle "$b" o-cfg
  [ "${lines[0]}" = "rrun: invalid $b/config.json: process.args must be an array" ]
  edit_bundle "$b" '.root.path = "/no/such/dir"'
  run -125 rrun oci run --bundle "$b" o-cfg
  [ "${lines[0]}" = "rrun: invalid $b/config.json: root.path is not a directory" ]
  edit_bundle "$b" '.mounts += [{"destination": "/x", "type": "nfs", "source": "srv:/x"}]'
  run -125 rrun oci run --bundle "$b" o-cfg
  [ "${lines[0]}" = "rrun: invalid $b/config.json: mounts[6] has type \"nfs\", which rrun does not mount (bind and tmpfs only)" ]
  run -125 rrun oci state o-cfg
}
