#!/usr/bin/env bats
# issue 20: --device, --device-cgroup-rule, CDI devices, --gpus (CDI and driver discovery)
# and --rootfs, as the unprivileged test user.
#
# No GPU here: the fake driver tree ($RRUN_GPU_ROOT) and the CDI specs name device nodes
# that are symbolic links to harmless host nodes (/dev/zero, /dev/null, /dev/full). rrun
# follows them as it follows /dev/char links, checks that the target is a character
# device and binds it, so everything but the driver's answer is exercised; a user cannot
# mknod, and a tree the root harness made would test nothing more of rrun.

load helpers

setup_file() {
  common_setup_file
  local t=$BATS_FILE_TMPDIR
  # a driver tree as the NVIDIA driver leaves it
  mkdir -p "$t/gpu/dev/nvidia-caps" "$t/gpu/usr/lib/x86_64-linux-gnu" "$t/gpu/usr/bin" \
    "$t/gpu/proc/driver/nvidia/gpus/0000:01:00.0" "$t/gpu/proc/driver/nvidia/gpus/0000:02:00.0"
  ln -s /dev/zero "$t/gpu/dev/nvidia0"
  ln -s /dev/zero "$t/gpu/dev/nvidia1"
  ln -s /dev/null "$t/gpu/dev/nvidiactl"
  ln -s /dev/null "$t/gpu/dev/nvidia-uvm"
  ln -s /dev/null "$t/gpu/dev/nvidia-caps/nvidia-cap1"
  printf 'Model: \t Fake\nGPU UUID: \t GPU-11111111-aaaa\nDevice Minor: \t 0\n' \
    >"$t/gpu/proc/driver/nvidia/gpus/0000:01:00.0/information"
  printf 'Model: \t Fake\nGPU UUID: \t GPU-22222222-bbbb\nDevice Minor: \t 1\n' \
    >"$t/gpu/proc/driver/nvidia/gpus/0000:02:00.0/information"
  echo 'fake libcuda' >"$t/gpu/usr/lib/x86_64-linux-gnu/libcuda.so.535.1"
  ln -s libcuda.so.535.1 "$t/gpu/usr/lib/x86_64-linux-gnu/libcuda.so.1"
  echo 'fake nvml' >"$t/gpu/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1"
  echo 'not a driver library' >"$t/gpu/usr/lib/x86_64-linux-gnu/libz.so.1"
  printf '#!/bin/sh\necho "fake nvidia-smi:" /dev/nvidia[0-9]*\n' >"$t/gpu/usr/bin/nvidia-smi"
  chmod +x "$t/gpu/usr/bin/nvidia-smi"
  mkdir -p "$t/empty-cdi" "$t/lib"
  echo 'vendor lib' >"$t/lib/libvendor.so.1"
}

# A CDI spec dir with one spec (JSON): nvidia.com/gpu=0 and =1 over the fake nodes.
write_cdi_json() {
  local dir=$BATS_TEST_TMPDIR/cdi t=$BATS_FILE_TMPDIR
  mkdir -p "$dir"
  cat >"$dir/nvidia.json" <<JSON
{
  "cdiVersion": "0.5.0",
  "kind": "nvidia.com/gpu",
  "devices": [
    { "name": "0",
      "containerEdits": { "deviceNodes": [ { "path": "/dev/nvidia0", "hostPath": "$t/gpu/dev/nvidia0" } ] } },
    { "name": "1",
      "containerEdits": { "deviceNodes": [ { "path": "/dev/nvidia1", "hostPath": "$t/gpu/dev/nvidia1" } ] } }
  ],
  "containerEdits": {
    "env": [ "NVIDIA_VISIBLE_DEVICES=void", "CDI_TEST=json" ],
    "deviceNodes": [ { "path": "/dev/nvidiactl", "hostPath": "$t/gpu/dev/nvidiactl" } ],
    "mounts": [ { "hostPath": "$t/lib/libvendor.so.1", "containerPath": "/usr/lib/vendor/libvendor.so.1",
                  "options": [ "ro", "nosuid", "nodev", "bind" ] } ],
    "hooks": [
      { "hookName": "createContainer", "path": "/usr/bin/nvidia-ctk",
        "args": [ "nvidia-ctk", "hook", "update-ldcache", "--folder", "/usr/lib/vendor" ] },
      { "hookName": "createContainer", "path": "/usr/bin/nvidia-ctk",
        "args": [ "nvidia-ctk", "hook", "create-symlinks", "--link", "/usr/lib/vendor/libvendor.so.1::/opt/links/libvendor.so" ] },
      { "hookName": "createContainer", "path": "/usr/bin/nvidia-ctk",
        "args": [ "nvidia-ctk", "hook", "enable-cuda-compat", "--host-driver-version", "535.1" ] }
    ]
  }
}
JSON
  echo "$dir"
}

@test "device: --device binds a host node, at its own path or another, usable inside" {
  run -0 rrun run --rm --device /dev/zero:/dev/xvdc --device /dev/full "$FIXTURE_IMAGE" \
    sh -c 'test -c /dev/xvdc && test -c /dev/full && head -c 3 /dev/xvdc | od -An -tx1'
  [ "$(echo $output)" = '00 00 00' ]
}

@test "device: inspect shows HostConfig.Devices and the DeviceRequests of CDI names and --gpus" {
  local dir
  dir=$(write_cdi_json)
  run -0 rrun create --name devs --device /dev/zero:/dev/xvdc:r --device /dev/full "$FIXTURE_IMAGE" true
  run -0 rrun inspect devs
  run -0 python3 -c 'import json, sys
h = json.loads(sys.argv[1])[0]["HostConfig"]
print(json.dumps(h["Devices"], sort_keys=True)); print(json.dumps(h["DeviceRequests"]))' "$output"
  [ "${lines[0]}" = '[{"CgroupPermissions": "r", "PathInContainer": "/dev/xvdc", "PathOnHost": "/dev/zero"}, {"CgroupPermissions": "rwm", "PathInContainer": "/dev/full", "PathOnHost": "/dev/full"}]' ]
  [ "${lines[1]}" = '[]' ]
  RRUN_CDI_SPEC_DIRS=$dir run -0 rrun create --name gpus1 --device nvidia.com/gpu=1 "$FIXTURE_IMAGE" true
  run -0 rrun inspect gpus1
  run -0 python3 -c 'import json, sys
h = json.loads(sys.argv[1])[0]["HostConfig"]
print(json.dumps(h["Devices"])); print(json.dumps(h["DeviceRequests"], sort_keys=True))' "$output"
  [ "${lines[0]}" = '[]' ]
  [ "${lines[1]}" = '[{"Capabilities": null, "Count": 0, "DeviceIDs": ["nvidia.com/gpu=1"], "Driver": "cdi"}]' ]
  RRUN_CDI_SPEC_DIRS=$dir run -0 rrun create --name gpus2 --gpus all "$FIXTURE_IMAGE" true
  run -0 rrun inspect gpus2
  run -0 python3 -c 'import json, sys
h = json.loads(sys.argv[1])[0]["HostConfig"]
print(json.dumps(h["DeviceRequests"], sort_keys=True))' "$output"
  [ "$output" = '[{"Capabilities": [["gpu"]], "Count": -1, "DeviceIDs": [], "Driver": ""}]' ]
  RRUN_CDI_SPEC_DIRS=$dir run -0 rrun create --name gpus3 --gpus '"device=0,1"' "$FIXTURE_IMAGE" true
  run -0 rrun inspect --format '{{json .HostConfig.DeviceRequests}}' gpus3
  [[ $output == *'"DeviceIDs"'*'"0"'*'"1"'* ]]
  run -0 rrun rm devs gpus1 gpus2 gpus3
}

@test "device: permissions without w are accepted and the warning says they cannot be enforced" {
  run -0 --separate-stderr rrun run --rm --device /dev/zero:/dev/xvdc:r "$FIXTURE_IMAGE" test -c /dev/xvdc
  [ "$stderr" = 'rrun: warning: --device "/dev/zero:/dev/xvdc:r": rootless rrun cannot limit a device node to "r" (that needs a device cgroup); it is usable as its host permissions allow' ]
}

@test "device: bad --device values are refused with exit 125 before the image lookup" {
  run -125 rrun run --rm --device dev/zero "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --device "dev/zero": the host path must be absolute' ]
  run -125 rrun run --rm --device /dev/zero:/dev/x:rwx "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --device "/dev/zero:/dev/x:rwx": permissions "rwx" are not a combination of r, w and m' ]
  [ "${lines[1]}" = 'hint: r: read, w: write, m: mknod (the default is rwm)' ]
  run -125 rrun run --rm --device /dev/zero:dev/x "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --device "/dev/zero:dev/x": the container path must be absolute' ]
  run -125 rrun run --rm --device /dev/no-such-node "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --device "/dev/no-such-node": "/dev/no-such-node": No such file or directory' ]
  run -125 rrun run --rm --device /etc/hostname "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --device "/etc/hostname": "/etc/hostname" is not a device node' ]
  [ "${lines[1]}" = 'hint: bind files and directories with -v /etc/hostname:/etc/hostname' ]
}

@test "device: --device-cgroup-rule is checked and the warning explains why it is not applied" {
  run -0 --separate-stderr rrun run --rm --device-cgroup-rule 'c 195:* rwm' "$FIXTURE_IMAGE" true
  [ "$stderr" = 'rrun: warning: --device-cgroup-rule "c 195:* rwm" is not applied: cgroup v2 controls devices with an eBPF program, which an unprivileged user cannot attach; the container can open the nodes bound into it as their host permissions allow' ]
  run -125 rrun run --rm --device-cgroup-rule 'x 195:* rwm' "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --device-cgroup-rule "x 195:* rwm": expected TYPE MAJOR:MINOR PERMS' ]
  run -125 rrun run --rm --device-cgroup-rule 'c 195 rwm' "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --device-cgroup-rule "c 195 rwm": expected TYPE MAJOR:MINOR PERMS' ]
}

@test "device: a CDI device (JSON spec) brings its nodes, mounts, environment and hook edits" {
  local dir
  dir=$(write_cdi_json)
  RRUN_CDI_SPEC_DIRS=$dir run -0 --separate-stderr rrun run --rm --device nvidia.com/gpu=1 \
    "$FIXTURE_IMAGE" sh -c 'test -c /dev/nvidia1 && test -c /dev/nvidiactl && test ! -e /dev/nvidia0 &&
      echo "$CDI_TEST $NVIDIA_VISIBLE_DEVICES" && cat /usr/lib/vendor/libvendor.so.1 &&
      echo "$(readlink /opt/links/libvendor.so): $(cat /opt/links/libvendor.so)" && echo "$LD_LIBRARY_PATH" &&
      cat /etc/ld.so.conf.d/000-rrun-devices.conf && ! touch /usr/lib/vendor/libvendor.so.1 2>/dev/null && echo ro'
  [ "${lines[0]}" = 'json void' ]
  [ "${lines[1]}" = 'vendor lib' ]
  [ "${lines[2]}" = '/usr/lib/vendor/libvendor.so.1: vendor lib' ]
  [ "${lines[3]}" = '/usr/lib/vendor' ]
  [ "${lines[4]}" = '/usr/lib/vendor' ]
  [ "${lines[5]}" = 'ro' ]
  [ "$stderr" = 'rrun: warning: nvidia.com/gpu: the createContainer hook "/usr/bin/nvidia-ctk hook enable-cuda-compat" is not run (it needs an OCI bundle, which rrun does not make)' ]
  # all devices: the spec's hook is named once
  RRUN_CDI_SPEC_DIRS=$dir run -0 --separate-stderr rrun run --rm --device nvidia.com/gpu=all "$FIXTURE_IMAGE" true
  [ "$stderr" = 'rrun: warning: nvidia.com/gpu: the createContainer hook "/usr/bin/nvidia-ctk hook enable-cuda-compat" is not run (it needs an OCI bundle, which rrun does not make)' ]
}

# A CDI spec whose device vendor.com/hook=x has one hook per hook point ($1: JSON of one
# more hook, or empty). Host hooks are $BATS_TEST_TMPDIR/hooks/rec.sh; the startContainer
# hook is the same script bound into the container. Each writes what it saw into marks/.
write_cdi_hooks() {
  local dir=$BATS_TEST_TMPDIR/cdi-hooks h=$BATS_TEST_TMPDIR/hooks m=$BATS_TEST_TMPDIR/marks
  mkdir -p "$dir" "$h" "$m"
  cat >"$h/rec.sh" <<'SH'
#!/bin/sh
# $1: the hook point. stdin: the state JSON. The environment: only the spec's.
state=$(cat)
{
  echo "home=${HOME-unset} marks=$MARKS uid=$(id -u) host=$(cat /proc/sys/kernel/hostname)"
  echo "$state"
} >"$MARKS/$1"
echo "$1" >>"$MARKS/order"
SH
  printf '#!/bin/sh\necho "$1 says no" >&2\nexit 3\n' >"$h/fail.sh"
  printf '#!/bin/sh\nsleep 30\n' >"$h/slow.sh"
  chmod +x "$h/rec.sh" "$h/fail.sh" "$h/slow.sh"
  cat >"$dir/hooks.json" <<JSON
{
  "cdiVersion": "0.6.0",
  "kind": "vendor.com/hook",
  "devices": [ { "name": "x", "containerEdits": { "env": [ "HOOKED=yes" ] } } ],
  "containerEdits": {
    "mounts": [ { "hostPath": "$h/rec.sh", "containerPath": "/usr/local/bin/rec-hook", "options": [ "ro" ] },
                { "hostPath": "$m", "containerPath": "/marks" } ],
    "hooks": [
      { "hookName": "createRuntime", "path": "$h/rec.sh", "args": [ "rec.sh", "createRuntime" ], "env": [ "MARKS=$m" ] },
      { "hookName": "createContainer", "path": "$h/rec.sh", "args": [ "rec.sh", "createContainer" ], "env": [ "MARKS=$m" ], "timeout": 20 },
      { "hookName": "startContainer", "path": "/usr/local/bin/rec-hook", "args": [ "rec-hook", "startContainer" ], "env": [ "MARKS=/marks" ] },
      { "hookName": "poststart", "path": "$h/rec.sh", "args": [ "rec.sh", "poststart" ], "env": [ "MARKS=$m" ] },
      { "hookName": "poststop", "path": "$h/rec.sh", "args": [ "rec.sh", "poststop" ], "env": [ "MARKS=$m" ] }${1:+,
      $1}
    ]
  }
}
JSON
  echo "$dir"
}

@test "device: CDI hooks run at their OCI hook points with their args, env and the state on stdin" {
  local dir m=$BATS_TEST_TMPDIR/marks id
  dir=$(write_cdi_hooks)
  RRUN_CDI_SPEC_DIRS=$dir run -0 rrun run --name hooked --hostname hooked --device vendor.com/hook=x \
    "$FIXTURE_IMAGE" sh -c 'echo "$HOOKED"; cat /marks/order'
  [ "${lines[0]}" = yes ]
  # createRuntime, createContainer and startContainer ran before the command
  [ "${lines[1]}" = createRuntime ]
  [ "${lines[2]}" = createContainer ]
  [ "${lines[3]}" = startContainer ]
  [ "$(cat "$m/order")" = $'createRuntime\ncreateContainer\nstartContainer\npoststart\npoststop' ]
  id=$(rrun inspect --format '{{.Id}}' hooked)
  # createRuntime: on the host, as the user; createContainer: in the container's
  # namespaces as its root (before pivot_root: a host path); startContainer: in the container
  [ "$(sed -n 1p "$m/createRuntime")" = "home=unset marks=$m uid=$(id -u) host=$(cat /proc/sys/kernel/hostname)" ]
  [ "$(sed -n 1p "$m/createContainer")" = "home=unset marks=$m uid=0 host=hooked" ]
  [ "$(sed -n 1p "$m/startContainer")" = "home=unset marks=/marks uid=0 host=hooked" ]
  [[ $(sed -n 2p "$m/createRuntime") == '{"ociVersion":"1.0.2","id":"'$id'","status":"created","pid":'[0-9]*',"bundle":"'*'","annotations":{}}' ]]
  [ "$(sed -n 2p "$m/createContainer")" = "$(sed -n 2p "$m/createRuntime")" ]
  [ "$(sed -n 2p "$m/startContainer")" = "$(sed -n 2p "$m/createRuntime")" ]
  [[ $(sed -n 2p "$m/poststart") == '{"ociVersion":"1.0.2","id":"'$id'","status":"running","pid":'* ]]
  [[ $(sed -n 2p "$m/poststop") == '{"ociVersion":"1.0.2","id":"'$id'","status":"stopped","bundle":'* ]]
  rrun rm hooked
}

@test "device: a failing or hanging CDI hook stops the start with exit 125 (126: not executable), nothing left" {
  local dir h=$BATS_TEST_TMPDIR/hooks m=$BATS_TEST_TMPDIR/marks
  dir=$(write_cdi_hooks '{ "hookName": "createContainer", "path": "'"$BATS_TEST_TMPDIR"'/hooks/fail.sh", "args": [ "fail.sh", "createContainer" ] }')
  RRUN_CDI_SPEC_DIRS=$dir run -125 --separate-stderr rrun run --name hookfail --device vendor.com/hook=x "$FIXTURE_IMAGE" echo ran
  [ "$output" = '' ]
  [ "${stderr_lines[0]}" = 'createContainer says no' ]
  [ "${stderr_lines[1]}" = "rrun: cannot run the createContainer hook \"$h/fail.sh\": it exited with status 3" ]
  [ "${stderr_lines[2]}" = 'hint: the hook comes from a CDI spec of a --device or --gpus device (rrun info lists them); fix the spec or leave the device out' ]
  # the command never ran, the container is gone, poststop hooks ran
  [ "$(cat "$m/order")" = $'createRuntime\ncreateContainer\npoststop' ]
  run -0 rrun ps -a --format '{{.Names}}'
  [ "$output" = '' ]
  no_leftovers
  # a createRuntime hook past its timeout is killed (the test would hang 30 s otherwise)
  rm -f "$m"/*
  dir=$(write_cdi_hooks '{ "hookName": "createRuntime", "path": "'"$h"'/slow.sh", "timeout": 1 }')
  SECONDS=0
  RRUN_CDI_SPEC_DIRS=$dir run -125 rrun run --rm --device vendor.com/hook=x "$FIXTURE_IMAGE" echo ran
  [ "$SECONDS" -lt 20 ]
  [ "${lines[0]}" = "rrun: cannot run the createRuntime hook \"$h/slow.sh\": killed after its timeout of 1 s" ]
  no_leftovers
  # a startContainer hook that is no program in the container: 126, as podman
  dir=$(write_cdi_hooks '{ "hookName": "startContainer", "path": "/etc/passwd" }')
  RRUN_CDI_SPEC_DIRS=$dir run -126 rrun run --rm --device vendor.com/hook=x "$FIXTURE_IMAGE" echo ran
  [ "${lines[0]}" = 'rrun: cannot run the startContainer hook "/etc/passwd": Permission denied' ]
  no_leftovers
  # a host hook that does not exist: refused before anything is made
  dir=$(write_cdi_hooks '{ "hookName": "poststop", "path": "/no/such/hook" }')
  RRUN_CDI_SPEC_DIRS=$dir run -125 rrun run --rm --device vendor.com/hook=x "$FIXTURE_IMAGE" echo ran
  [ "${lines[0]}" = "rrun: cannot use CDI device \"vendor.com/hook\": poststop hook \"/no/such/hook\" of \"$dir/hooks.json\": No such file or directory" ]
  dir=$(write_cdi_hooks '{ "hookName": "afterwards", "path": "/bin/true" }')
  RRUN_CDI_SPEC_DIRS=$dir run -125 rrun run --rm --device vendor.com/hook=x "$FIXTURE_IMAGE" echo ran
  [ "${lines[0]}" = "rrun: cannot use CDI device \"vendor.com/hook\": hook \"/bin/true\" of \"$dir/hooks.json\": unknown hookName \"afterwards\"" ]
  no_leftovers
}

@test "device: a CDI YAML spec, nvidia.com/gpu=all, and --gpus over CDI" {
  local dir=$BATS_TEST_TMPDIR/cdi t=$BATS_FILE_TMPDIR
  mkdir -p "$dir"
  cat >"$dir/gpu.yaml" <<YAML
---
cdiVersion: 0.6.0
kind: nvidia.com/gpu
devices:
- name: "0"
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
      hostPath: $t/gpu/dev/nvidia0
    env: ["WHICH=zero"]
- name: GPU-22222222-bbbb
  containerEdits:
    deviceNodes:
    - {path: /dev/nvidia1, hostPath: '$t/gpu/dev/nvidia1'}
containerEdits:
  env:
  - CDI_TEST=yaml
YAML
  RRUN_CDI_SPEC_DIRS=$dir run -0 rrun run --rm --device nvidia.com/gpu=all "$FIXTURE_IMAGE" \
    sh -c 'ls /dev/nvidia[0-9]*; echo "$CDI_TEST"'
  [ "$output" = $'/dev/nvidia0\n/dev/nvidia1\nyaml' ]
  # docker's --gpus names the same devices when a spec for nvidia.com/gpu exists
  RRUN_CDI_SPEC_DIRS=$dir run -0 rrun run --rm --gpus '"device=GPU-22222222-bbbb"' "$FIXTURE_IMAGE" \
    sh -c 'ls /dev/nvidia[0-9]*'
  [ "$output" = /dev/nvidia1 ]
  RRUN_CDI_SPEC_DIRS=$dir run -0 rrun run --rm --gpus 1 "$FIXTURE_IMAGE" sh -c 'ls /dev/nvidia[0-9]*; echo $WHICH'
  [ "$output" = $'/dev/nvidia0\nzero' ]
}

@test "device: CDI errors name the spec file and the device" {
  local dir t=$BATS_FILE_TMPDIR
  dir=$(write_cdi_json)
  RRUN_CDI_SPEC_DIRS=$dir run -125 rrun run --rm --device nvidia.com/gpu=7 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = "rrun: cannot use --device \"nvidia.com/gpu=7\": no device \"7\" in $dir/nvidia.json" ]
  [ "${lines[1]}" = 'hint: nvidia.com/gpu has: 0, 1' ]
  RRUN_CDI_SPEC_DIRS=$dir run -125 rrun run --rm --device amd.com/gpu=0 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --device "amd.com/gpu=0": no CDI spec for amd.com/gpu' ]
  # a node the spec names is gone (a driver update)
  sed -i "s|$t/gpu/dev/nvidia1|$t/gpu/dev/nvidia9|" "$dir/nvidia.json"
  RRUN_CDI_SPEC_DIRS=$dir run -125 rrun run --rm --device nvidia.com/gpu=1 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = "rrun: cannot use CDI device \"nvidia.com/gpu=1\": device node \"$t/gpu/dev/nvidia9\" of \"$dir/nvidia.json\": No such file or directory" ]
  # a spec that does not parse or has no cdiVersion
  echo '{"kind": "nvidia.com/gpu", "devices": []}' >"$dir/nvidia.json"
  RRUN_CDI_SPEC_DIRS=$dir run -125 rrun run --rm --device nvidia.com/gpu=0 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = "rrun: invalid CDI spec \"$dir/nvidia.json\": no cdiVersion" ]
  printf 'cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices: [\n' >"$dir/nvidia.json"
  mv "$dir/nvidia.json" "$dir/nvidia.yaml"
  RRUN_CDI_SPEC_DIRS=$dir run -125 rrun run --rm --device nvidia.com/gpu=0 "$FIXTURE_IMAGE" true
  [[ ${lines[0]} == "rrun: invalid CDI spec \"$dir/nvidia.yaml\": line "* ]]
}

@test "gpus: --gpus all without CDI binds the driver's nodes, libraries and nvidia-smi" {
  RRUN_GPU_ROOT=$BATS_FILE_TMPDIR/gpu RRUN_CDI_SPEC_DIRS=$BATS_FILE_TMPDIR/empty-cdi \
    run -0 rrun run --rm --gpus all "$FIXTURE_IMAGE" sh -c 'nvidia-smi;
      ls /dev/nvidiactl /dev/nvidia-uvm /dev/nvidia-caps/nvidia-cap1 /usr/local/nvidia/lib64;
      cat /usr/local/nvidia/lib64/libcuda.so.1; echo "$LD_LIBRARY_PATH $NVIDIA_VISIBLE_DEVICES";
      cat /etc/ld.so.conf.d/000-rrun-devices.conf'
  [ "${lines[0]}" = 'fake nvidia-smi: /dev/nvidia0 /dev/nvidia1' ]
  [ "${lines[1]}" = /dev/nvidia-caps/nvidia-cap1 ]
  [ "${lines[2]}" = /dev/nvidia-uvm ]
  [ "${lines[3]}" = /dev/nvidiactl ]
  # no ld.so.cache in this tree: the library dirs are searched, every driver file bound
  [ "${lines[4]}" = /usr/local/nvidia/lib64: ]
  [ "${lines[5]}" = libcuda.so.1 ]
  [ "${lines[6]}" = libcuda.so.535.1 ]
  [ "${lines[7]}" = libnvidia-ml.so.1 ]
  [ "${lines[8]}" = 'fake libcuda' ]
  [ "${lines[9]}" = '/usr/local/nvidia/lib64 GPU-11111111-aaaa,GPU-22222222-bbbb' ]
  [ "${lines[10]}" = /usr/local/nvidia/lib64 ]
  [ "${#lines[@]}" -eq 11 ]
}

@test "gpus: --gpus N, device=INDEX|UUID and the host's NVIDIA_VISIBLE_DEVICES choose GPUs" {
  export RRUN_GPU_ROOT=$BATS_FILE_TMPDIR/gpu RRUN_CDI_SPEC_DIRS=$BATS_FILE_TMPDIR/empty-cdi
  run -0 rrun run --rm --gpus 1 "$FIXTURE_IMAGE" nvidia-smi
  [ "$output" = 'fake nvidia-smi: /dev/nvidia0' ]
  # the image's (here -e's) library path first, the driver's dir not twice
  run -0 rrun run --rm --gpus 1 -e LD_LIBRARY_PATH=/x:/usr/local/nvidia/lib64 -e PATH=/bin \
    "$FIXTURE_IMAGE" sh -c 'echo "$LD_LIBRARY_PATH $PATH"'
  [ "$output" = '/x:/usr/local/nvidia/lib64 /bin:/usr/local/nvidia/bin' ]
  run -0 rrun run --rm --gpus device=1 "$FIXTURE_IMAGE" nvidia-smi
  [ "$output" = 'fake nvidia-smi: /dev/nvidia1' ]
  run -0 rrun run --rm --gpus '"device=GPU-22222222-bbbb,0"' "$FIXTURE_IMAGE" nvidia-smi
  [ "$output" = 'fake nvidia-smi: /dev/nvidia0 /dev/nvidia1' ]
  NVIDIA_VISIBLE_DEVICES=1 run -0 rrun run --rm --gpus all "$FIXTURE_IMAGE" nvidia-smi
  [ "$output" = 'fake nvidia-smi: /dev/nvidia1' ]
  run -125 rrun run --rm --gpus 3 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --gpus 3: the machine has 2 NVIDIA GPUs' ]
  run -125 rrun run --rm --gpus device=GPU-33333333 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --gpus: no NVIDIA GPU "GPU-33333333"' ]
  [ "${lines[1]}" = 'hint: this machine has: 0 GPU-11111111-aaaa, 1 GPU-22222222-bbbb' ]
}

@test "gpus: --device nvidia.com/gpu=all|N|UUID without a CDI spec uses the driver's devices" {
  export RRUN_GPU_ROOT=$BATS_FILE_TMPDIR/gpu RRUN_CDI_SPEC_DIRS=$BATS_FILE_TMPDIR/empty-cdi
  run -0 rrun run --rm --device nvidia.com/gpu=all "$FIXTURE_IMAGE" sh -c 'nvidia-smi; echo "$LD_LIBRARY_PATH"'
  [ "$output" = $'fake nvidia-smi: /dev/nvidia0 /dev/nvidia1\n/usr/local/nvidia/lib64' ]
  run -0 rrun run --rm --device nvidia.com/gpu=1 "$FIXTURE_IMAGE" nvidia-smi
  [ "$output" = 'fake nvidia-smi: /dev/nvidia1' ]
  run -0 rrun run --rm --device nvidia.com/gpu=GPU-11111111-aaaa --device nvidia.com/gpu=1 "$FIXTURE_IMAGE" nvidia-smi
  [ "$output" = 'fake nvidia-smi: /dev/nvidia0 /dev/nvidia1' ]
  run -125 rrun run --rm --device nvidia.com/gpu=5 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: cannot use --gpus: no NVIDIA GPU "5"' ]
  [ "${lines[2]}" = 'hint: --device nvidia.com/gpu: there is no CDI spec for nvidia.com/gpu, so rrun looked for the driver'"'"'s devices' ]
}

@test "gpus: rrun exec in a --gpus container finds the driver's tools and libraries" {
  local id
  export RRUN_GPU_ROOT=$BATS_FILE_TMPDIR/gpu RRUN_CDI_SPEC_DIRS=$BATS_FILE_TMPDIR/empty-cdi
  id=$(rrun run -d --gpus device=1 "$FIXTURE_IMAGE" sleep 60)
  run -0 rrun exec "$id" sh -c 'nvidia-smi; echo "$LD_LIBRARY_PATH"'
  local out=$output
  run -0 rrun rm -f "$id"
  [ "$out" = $'fake nvidia-smi: /dev/nvidia1\n/usr/local/nvidia/lib64' ]
}

@test "gpus: an AMD GPU (no NVIDIA one): /dev/kfd and /dev/dri are passed" {
  local t=$BATS_TEST_TMPDIR/amd
  mkdir -p "$t/dev/dri"
  ln -s /dev/null "$t/dev/kfd"
  ln -s /dev/zero "$t/dev/dri/card0"
  ln -s /dev/zero "$t/dev/dri/renderD128"
  ln -s /dev/zero "$t/dev/dri/renderD129"
  export RRUN_GPU_ROOT=$t RRUN_CDI_SPEC_DIRS=$BATS_FILE_TMPDIR/empty-cdi
  run -0 rrun run --rm --gpus all "$FIXTURE_IMAGE" sh -c 'test -c /dev/kfd && echo /dev/dri/*'
  [ "$output" = '/dev/dri/card0 /dev/dri/renderD128 /dev/dri/renderD129' ]
  run -0 rrun run --rm --gpus device=1 "$FIXTURE_IMAGE" sh -c 'test -c /dev/kfd && echo /dev/dri/*'
  [ "$output" = '/dev/dri/card0 /dev/dri/renderD129' ]
  run -0 rrun info
  [[ $output == *"  GPUs (--gpus)            amd 128: /dev/dri/renderD128"$'\n'"                           amd 129: /dev/dri/renderD129"* ]]
}

@test "gpus: bad --gpus values and a machine without a GPU driver" {
  export RRUN_CDI_SPEC_DIRS=$BATS_FILE_TMPDIR/empty-cdi
  run -125 rrun run --rm --gpus 0 "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --gpus "0": unknown field "0"' ]
  run -125 rrun run --rm --gpus 'all,device=0' "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --gpus "all,device=0": give one of all, a count or device=' ]
  run -125 rrun run --rm --gpus '"device=0' "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = 'rrun: invalid --gpus ""device=0": an unclosed quote' ]
  RRUN_GPU_ROOT=$BATS_FILE_TMPDIR/empty-cdi run -125 rrun run --rm --gpus all "$FIXTURE_IMAGE" true
  [ "${lines[0]}" = "rrun: --gpus: no NVIDIA device nodes in $BATS_FILE_TMPDIR/empty-cdi/dev (is the driver loaded?)" ]
}

@test "gpus: rrun info lists the GPUs --gpus would pass and the CDI devices" {
  local dir
  dir=$(write_cdi_json)
  RRUN_GPU_ROOT=$BATS_FILE_TMPDIR/gpu RRUN_CDI_SPEC_DIRS=$dir run -0 rrun info
  [[ $output == *"  GPUs (--gpus)            nvidia 0: /dev/nvidia0 GPU-11111111-aaaa"$'\n'"                           nvidia 1: /dev/nvidia1 GPU-22222222-bbbb"* ]]
  [[ $output == *"  CDI devices              nvidia.com/gpu=0 ($dir/nvidia.json)"* ]]
  RRUN_GPU_ROOT=$BATS_FILE_TMPDIR/gpu RRUN_CDI_SPEC_DIRS=$dir run -0 rrun info --format json
  [[ $output == *'"uuid": "GPU-22222222-bbbb"'* ]]
}

@test "rootfs: --rootfs runs a directory through an overlay and leaves it unchanged" {
  local root=$BATS_TEST_TMPDIR/rootfs
  cp -a "$FIXTURES/rootfs" "$root"
  run -0 rrun run --rm --rootfs "$root" sh -c 'echo changed >/etc/motd-new; rm /bin/true; cat /etc/motd-new'
  [ "$output" = changed ]
  [ ! -e "$root/etc/motd-new" ]
  [ -e "$root/bin/true" ]
  # podman's :O suffix is accepted (rrun always overlays)
  run -0 rrun run --rm --rootfs "$root:O" cat /etc/hostname
  run -1 rrun run --rm --read-only --rootfs "$root" touch /new-file
  [ ! -e "$root/new-file" ]
}

@test "rootfs: a detached and a created --rootfs container record the directory" {
  local root=$BATS_TEST_TMPDIR/rootfs id
  cp -a "$FIXTURES/rootfs" "$root"
  run -0 rrun create --name rootfs-created --rootfs "$root" sh -c 'echo started >/started; cat /started'
  run -0 rrun start -a rootfs-created
  [ "$output" = started ]
  run -0 rrun ps -a --format '{{.Image}}' --filter name=rootfs-created
  [ "$output" = "$root" ]
  run -0 rrun rm rootfs-created
  [ ! -e "$root/started" ]
  id=$(rrun run -d --rootfs "$root" sleep 30)
  run -0 rrun exec "$id" cat /etc/hostname
  run -0 rrun rm -f "$id"
}

@test "rootfs: a missing directory is refused; a missing command exits 127" {
  run -125 rrun run --rm --rootfs "$BATS_TEST_TMPDIR/none" true
  [ "${lines[0]}" = "rrun: cannot use --rootfs \"$BATS_TEST_TMPDIR/none\": No such file or directory" ]
  mkdir "$BATS_TEST_TMPDIR/empty"
  run -127 rrun run --rm --rootfs "$BATS_TEST_TMPDIR/empty" /bin/sh -c true
  [ "${lines[0]}" = 'rrun: cannot execute "/bin/sh": No such file or directory' ]
}
