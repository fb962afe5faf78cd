#!/usr/bin/env bats
# rrun-test: one pass
# rrun-test: slurm
# Slurm: the SPANK plugin (helpers/spank, pyxis' --container-* options) in a real
# single-node cluster that run.sh starts as root (tests/fixtures/slurm.sh), and rrun
# staying in the job's cgroup. Skips without that cluster (RRUN_TEST_SLURM_CONF) or
# without the plugin (SPANK_RRUN). Images come from the test registry.

load helpers

setup_file() {
  common_setup_file
  [[ -n ${RRUN_TEST_SLURM_CONF:-} ]] || return 0
  [[ -n ${RRUN_TEST_REGISTRY:-} ]] || return 0
  ensure_oci_fixtures
  mkdir -p "$XDG_CONFIG_HOME/rrun"
  printf '[registries]\ninsecure = %s\n' "$RRUN_TEST_REGISTRY" >"$XDG_CONFIG_HOME/rrun/rrun.conf"
  push_oci "$FIXTURES/oci/health" rrun-test/slurm:latest
  push_oci "$FIXTURES/oci/config" rrun-test/slurm-config:latest
}

setup() {
  [[ -n ${RRUN_TEST_SLURM_CONF:-} ]] || skip "no Slurm cluster (run.sh starts one as root when slurm-wlm and munge are installed)"
  [[ -n ${SPANK_RRUN:-} ]] || skip "the SPANK plugin was not built (libslurm-dev's slurm/spank.h is missing)"
  [[ -n ${RRUN_TEST_REGISTRY:-} ]] || skip "no test registry (run.sh starts one)"
  export SLURM_CONF=$RRUN_TEST_SLURM_CONF
  IMG=$RRUN_TEST_REGISTRY/rrun-test/slurm:latest
  # Each test pulls afresh, so that "one pull" is counted in the test that checks it.
  rrun rmi -f "$IMG" "$RRUN_TEST_REGISTRY/rrun-test/slurm-config:latest" >/dev/null 2>&1 || true
  cd "$BATS_TEST_TMPDIR"
}

# srun, bounded: a step that hangs fails the test instead of the run.
srun_t() {
  timeout 120 srun --quiet "$@"
}

host_userns() {
  readlink /proc/self/ns/user
}

@test "slurm: srun -n2 --container-image runs both ranks in containers, one pull" {
  run -0 --separate-stderr srun_t -n2 --container-image="$IMG" \
    /bin/sh -c 'echo "rank=$SLURM_PROCID ns=$(readlink /proc/self/ns/user) $(cat /etc/motd)"'
  [ "${#lines[@]}" -eq 2 ]
  [[ $output == *"rank=0 "* && $output == *"rank=1 "* ]]
  for l in "${lines[@]}"; do
    [[ $l == *" rrun test image" ]]
    [[ $l != *"ns=$(host_userns) "* ]]
  done
  # one task pulled, the other found the image in the store
  [ "$(grep -c 'rrun: slurm: pulling' <<<"$stderr")" -eq 1 ]
  # a second step pulls nothing
  run -0 --separate-stderr srun_t -n2 --container-image="$IMG" /bin/true
  [ -z "$stderr" ]
}

@test "slurm: each rank keeps the CPU binding Slurm gave it" {
  [ "$(nproc)" -ge 2 ] || skip "one CPU: nothing to bind apart"
  # shellcheck disable=SC2016 # expanded inside
  local cmd='echo "$SLURM_PROCID $(grep Cpus_allowed_list /proc/self/status | cut -f2)"'
  run -0 --separate-stderr srun_t -n2 --cpu-bind=cores /bin/sh -c "$cmd"
  local host
  host=$(sort <<<"$output")
  run -0 --separate-stderr srun_t -n2 --cpu-bind=cores --container-image="$IMG" /bin/sh -c "$cmd"
  echo "host: $host"
  echo "container: $output"
  [ "$(sort <<<"$output")" = "$host" ]
  # the two ranks have different CPUs
  [ "$(cut -d' ' -f2 <<<"$host" | sort -u | wc -l)" -eq 2 ]
}

@test "slurm: enroot's REGISTRY#IMAGE form, the job's environment below the image's, --container-env" {
  local img=${RRUN_TEST_REGISTRY}#rrun-test/slurm-config:latest
  export OVERRIDE=job JOBVAR=x
  run -0 --separate-stderr srun_t -n1 --container-image="$img" \
    /bin/sh -c 'echo "$OVERRIDE $IMG_ONLY $JOBVAR $SLURM_PROCID $SLURM_JOB_ID $(id -u)"'
  echo "$output"
  [[ $output =~ ^image\ from-image\ x\ 0\ [0-9]+\ $(id -u)$ ]]
  run -0 --separate-stderr srun_t -n1 --container-image="$img" --container-env=OVERRIDE \
    /bin/sh -c 'echo "$OVERRIDE"'
  [ "$output" = job ]
}

@test "slurm: --container-mounts binds SRC:DST and SRC:DST:ro, the home is mounted" {
  mkdir -p "$BATS_TEST_TMPDIR/data" "$BATS_TEST_TMPDIR/out"
  echo payload >"$BATS_TEST_TMPDIR/data/in.txt"
  echo at-home >"$HOME/home-marker"
  run -0 --separate-stderr srun_t -n1 --container-image="$IMG" \
    --container-mounts="$BATS_TEST_TMPDIR/data:/data:ro,$BATS_TEST_TMPDIR/out:/out" \
    /bin/sh -c 'cat /data/in.txt; echo written >/out/x; cat "$HOME/home-marker"; touch /data/no 2>/dev/null || echo read-only'
  echo "$output"
  [ "${lines[0]}" = payload ]
  [ "${lines[1]}" = at-home ]
  [ "${lines[2]}" = read-only ]
  [ "$(cat "$BATS_TEST_TMPDIR/out/x")" = written ]
  run -0 --separate-stderr srun_t -n1 --container-image="$IMG" --no-container-mount-home \
    /bin/sh -c 'test -e "$HOME/home-marker" && echo mounted || echo not-mounted'
  [ "$output" = not-mounted ]
  run -125 --separate-stderr srun_t -n1 --container-image="$IMG" --container-mounts=relative:/x /bin/true
  [[ $stderr == *'rrun: invalid --container-mounts entry "relative:/x": SRC and DST must be absolute paths'* ]]
}

@test "slurm: --container-workdir, --container-readonly, --container-remap-root" {
  run -0 --separate-stderr srun_t -n1 --container-image="$IMG" --container-workdir=/srv/data /bin/pwd
  echo "$output"
  [ "$output" = /srv/data ]
  run -0 --separate-stderr srun_t -n1 --container-image="$IMG" --container-readonly \
    --container-remap-root /bin/sh -c 'touch /x 2>/dev/null && echo writable || echo read-only'
  [ "$output" = read-only ]
  run -0 --separate-stderr srun_t -n1 --container-image="$IMG" --container-remap-root \
    /bin/sh -c 'touch /x && echo writable'
  [ "$output" = writable ]
  run -0 --separate-stderr srun_t -n1 --container-image="$IMG" --container-remap-root /bin/id -u
  [ "$output" = 0 ]
  run -0 --separate-stderr srun_t -n1 --container-image="$IMG" /bin/id -u
  [ "$output" = "$(id -u)" ]
}

@test "slurm: sbatch with the container options runs the job's steps in containers" {
  cat >"$BATS_TEST_TMPDIR/job.sh" <<'EOF'
#!/bin/sh
srun --quiet -n2 /bin/sh -c 'echo "step rank=$SLURM_PROCID $(cat /etc/motd)"'
EOF
  run timeout 120 sbatch --wait --quiet -n2 -o "$BATS_TEST_TMPDIR/job.out" -e "$BATS_TEST_TMPDIR/job.err" \
    --container-image="$IMG" "$BATS_TEST_TMPDIR/job.sh"
  echo "$output"
  cat "$BATS_TEST_TMPDIR/job.out" "$BATS_TEST_TMPDIR/job.err" || true
  [ "$status" -eq 0 ]
  run -0 sort "$BATS_TEST_TMPDIR/job.out"
  [ "${lines[0]}" = "step rank=0 rrun test image" ]
  [ "${lines[1]}" = "step rank=1 rrun test image" ]
}

@test "slurm: --container-name keeps the container's files for the next steps of the job" {
  # shellcheck disable=SC2016 # expanded by the job's shell
  run -0 --separate-stderr timeout 120 salloc --quiet -n1 /bin/bash -c '
    srun --quiet --container-name=work --container-image="$1" --container-remap-root /bin/sh -c "echo kept >/kept"
    srun --quiet --container-name=work /bin/cat /kept
    srun --quiet --container-name=work --container-image="$1" --container-remap-root /bin/sh -c "echo more >>/kept"
    srun --quiet --container-name=work /bin/cat /kept
    srun --quiet --container-image="$1" /bin/sh -c "cat /kept 2>/dev/null || echo fresh"' _ "$IMG"
  echo "$output"
  [ "$output" = "$(printf 'kept\nkept\nmore\nfresh')" ]
  # the name belongs to that job: a new job has no such container
  run -125 --separate-stderr srun_t -n1 --container-name=work /bin/true
  [[ $stderr == *'rrun: slurm: no container "work" in this job yet: the first step that names it needs --container-image'* ]]
}

@test "slurm: --container-image=FILE.sqsh runs both ranks from a squashfs file" {
  command -v mksquashfs >/dev/null || skip "mksquashfs is not installed (squashfs-tools)"
  command -v squashfuse >/dev/null || skip "squashfuse is not installed"
  mkdir "$BATS_TEST_TMPDIR/img"
  local file=$BATS_TEST_TMPDIR/img/slurm.sqsh
  rrun pull -q "$IMG" >/dev/null
  run -0 rrun image export --format squashfs "$IMG" -o "$file"
  rrun rmi -f "$IMG" >/dev/null
  run -0 --separate-stderr srun_t -n2 --container-image="$file" \
    /bin/sh -c 'echo "rank=$SLURM_PROCID ns=$(readlink /proc/self/ns/user) $(cat /etc/motd)"'
  echo "$output"
  echo "$stderr"
  [ "${#lines[@]}" -eq 2 ]
  [[ $output == *"rank=0 "* && $output == *"rank=1 "* ]]
  for l in "${lines[@]}"; do
    [[ $l == *" rrun test image" ]]
    [[ $l != *"ns=$(host_userns) "* ]]
  done
  # nothing pulled, nothing written next to the file
  [ -z "$stderr" ]
  [ "$(ls -A "$BATS_TEST_TMPDIR/img")" = slurm.sqsh ]
  # --container-name and --container-save commit onto a stored image: refused by name
  run -125 --separate-stderr srun_t -n1 --container-image="$file" --container-save="$BATS_TEST_TMPDIR/x.sqsh" /bin/true
  [[ $stderr == *"rrun: --container-save needs an image of the store, not the image file \"$file\""* ]]
}

@test "slurm: --container-save writes the container's files as a squashfs file that rrun run runs" {
  command -v mksquashfs >/dev/null || skip "mksquashfs is not installed (squashfs-tools)"
  command -v squashfuse >/dev/null || skip "squashfuse is not installed"
  mkdir "$BATS_TEST_TMPDIR/out"
  local file=$BATS_TEST_TMPDIR/out/saved.sqsh
  run -0 --separate-stderr srun_t -n2 --container-image="$IMG" --container-remap-root \
    --container-save="$file" /bin/sh -c 'echo "saved by $SLURM_PROCID" >/saved-file'
  echo "$stderr"
  # one file (task 0's container), no temporary file left beside it
  [ "$(ls -A "$BATS_TEST_TMPDIR/out")" = saved.sqsh ]
  run -0 --separate-stderr rrun run --rm "$file" /bin/sh -c 'cat /saved-file /etc/motd'
  [ "$output" = "$(printf 'saved by 0\nrrun test image')" ]
  # the image committed for the save went, the container too
  run -0 rrun images
  run ! grep -q 'rrun-slurm-[0-9]*/save-' <<<"$output"
  run -0 rrun ps -a
  run ! grep -q 'rrun-slurm-[0-9]*-[0-9]*-save' <<<"$output"
  # relative to the task's directory; a second save replaces the file
  run -0 --separate-stderr srun_t -n1 --chdir="$BATS_TEST_TMPDIR/out" --container-image="$IMG" \
    --container-remap-root --container-save=saved.sqsh /bin/sh -c 'echo again >/saved-file'
  run -0 --separate-stderr rrun run --rm "$file" /bin/cat /saved-file
  [ "$output" = again ]
  # a file that cannot be written fails the step with rrun's message
  run -125 --separate-stderr srun_t -n1 --container-image="$IMG" \
    --container-save="$BATS_TEST_TMPDIR/no-such-dir/x.sqsh" /bin/true
  echo "$stderr"
  [[ $stderr == *"rrun: slurm: cannot save the container to \"$BATS_TEST_TMPDIR/no-such-dir/x.sqsh\" (--container-save)"* ]]
}

@test "slurm: an image that cannot be pulled fails the step with rrun's message" {
  run -125 --separate-stderr srun_t -n1 --container-image="$RRUN_TEST_REGISTRY/rrun-test/no-such:latest" /bin/true
  [[ $stderr == *"rrun: slurm: cannot get the image \"$RRUN_TEST_REGISTRY/rrun-test/no-such:latest\" of --container-image"* ]]
  [[ $stderr == *"rrun: "*"no-such"* ]]
}

@test "slurm: the container's processes stay in the step's cgroup" {
  local pid cg i
  grep -qx 'ProctrackType=proctrack/cgroup' "$SLURM_CONF" || skip "Slurm runs without proctrack/cgroup here"
  timeout 120 srun --quiet -n1 --container-image="$IMG" /bin/sleep 4711 3>&- &
  local srun_pid=$!
  for ((i = 0; i < 80; i++)); do
    pid=$(pgrep -u "$(id -u)" -f '^/bin/sleep 4711$' || true)
    [[ -z $pid ]] || break
    sleep 0.25
  done
  [ -n "$pid" ]
  cg=$(cat "/proc/$pid/cgroup")
  kill "$srun_pid"
  wait "$srun_pid" || true
  echo "$cg"
  # the step's cgroup of Slurm's hierarchy (v1 freezer or v2), not a scope of rrun's
  grep -Eq ':/(.*/)?job_[0-9]+/step_0(/|$)' <<<"$cg"
  run ! grep -q 'rrun-' <<<"$cg"
}

@test "slurm: rrun inside a job asked for limits without a delegated cgroup warns and runs" {
  # pids: Slurm makes no step directory of that hierarchy (nor, without
  # ConstrainRAMSpace, of memory's); cgroup v1 where it does: the next test
  run -0 --separate-stderr srun_t -n1 "$RRUN" run --rm --pids-limit 64 "$FIXTURE_IMAGE" /bin/echo ran
  [ "$output" = ran ]
  [[ $stderr == *"rrun: warning: ignoring resource limits: the container stays in the cgroup of Slurm job "*", which is not delegated to you; the job's limits apply"* ]]
}

@test "slurm: cgroup v1: limits go in a child of the step's directories where they are yours" {
  local line dir
  line=$(srun_t -n1 /bin/cat /proc/self/cgroup | grep -E '^[0-9]+:memory:' || true)
  [[ $line =~ /job_[0-9]+/step_[0-9]+ ]] || skip "no cgroup v1 memory directory of Slurm's for the step (task/cgroup with ConstrainRAMSpace=yes)"
  run -0 --separate-stderr srun_t -n1 /bin/sh -c 'stat -c %U "/sys/fs/cgroup/memory$(grep -E "^[0-9]+:memory:" /proc/self/cgroup | cut -d: -f3)"'
  [ "$output" = "$(id -un)" ] || skip "the step's memory directory is not yours here"
  # the container's cgroup, seen from the step (inside, a cgroup namespace hides it)
  cat >"$BATS_TEST_TMPDIR/step.sh" <<'EOF'
#!/bin/sh
"$1" run --rm --memory 64m "$2" /bin/sleep 7 2>"$3" &
i=0 pid=
while [ $i -lt 100 ] && [ -z "$pid" ]; do
  pid=$(pgrep -u "$(id -u)" -f '^/bin/sleep 7$')
  i=$((i + 1))
  sleep 0.1
done
step=$(grep -E '^[0-9]+:memory:' /proc/self/cgroup | cut -d: -f3 | sed 's|/task_[0-9]*$||')
ctr=$(grep -E '^[0-9]+:memory:' "/proc/$pid/cgroup" | cut -d: -f3)
echo "$ctr"
cat "/sys/fs/cgroup/memory$ctr/memory.limit_in_bytes"
echo "step=$step"
kill "$pid"
wait
ls "/sys/fs/cgroup/memory$step" | grep -c '^rrun-' || true
EOF
  run --separate-stderr srun_t -n1 /bin/sh "$BATS_TEST_TMPDIR/step.sh" "$RRUN" "$FIXTURE_IMAGE" "$BATS_TEST_TMPDIR/rrun.err"
  echo "$output"
  cat "$BATS_TEST_TMPDIR/rrun.err"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} =~ /job_[0-9]+/step_[0-9]+/rrun-[0-9a-f]+$ ]]
  [ "${lines[1]}" = 67108864 ]
  [ "${lines[0]}" = "${lines[2]#step=}/${lines[0]##*/}" ]
  # removed when the container ended
  [ "${lines[3]}" = 0 ]
  run ! grep -q 'ignoring resource limits' "$BATS_TEST_TMPDIR/rrun.err"
}
