#!/usr/bin/env bats
# rrun-test: one pass
# rrun-test: slurm
# srun --container=BUNDLE through Slurm's oci.conf naming rrun (tests/fixtures/slurm/
# oci.conf, as docs/hpc.md shows it), on the single-node Slurm the harness starts. Skipped
# where no Slurm controller answers or its oci.conf does not name rrun; `rrun oci` itself
# is tested with the same command lines in oci.bats.

load helpers

# Why this machine cannot run these tests ("" when it can): found once, in setup_file, and
# reported by setup as a skip of each test.
slurm_missing() {
  local conf
  command -v srun >/dev/null || { echo "Slurm is not installed (slurm-wlm)"; return; }
  [[ -n ${RRUN_TEST_SLURM_CONF:-} ]] || { echo "no Slurm cluster (run.sh starts one as root when slurm-wlm and munge are installed)"; return; }
  export SLURM_CONF=$RRUN_TEST_SLURM_CONF
  timeout 10 sinfo -h >/dev/null 2>&1 || { echo "no Slurm controller answers (the Slurm harness starts one)"; return; }
  conf=$(dirname "$SLURM_CONF")/oci.conf
  # slurmstepd runs the rrun oci.conf names: the built one.
  grep -q "\"$RRUN oci run " "$conf" 2>/dev/null || echo "$conf does not name the built rrun ($RRUN)"
}

setup_file() {
  common_setup_file
  if [[ -n ${RRUN_TEST_SLURM_CONF:-} ]]; then export SLURM_CONF=$RRUN_TEST_SLURM_CONF; fi
  SLURM_MISSING=$(slurm_missing)
  export SLURM_MISSING
  [[ -z $SLURM_MISSING ]] || return 0
  BUNDLE=$BATS_FILE_TMPDIR/bundle
  rrun bundle "$FIXTURE_IMAGE" "$BUNDLE"
  chmod 0755 "$BATS_FILE_TMPDIR"
  export BUNDLE
}

setup() {
  [[ -z $SLURM_MISSING ]] || skip "$SLURM_MISSING"
}

teardown_file() {
  if [[ -n ${BUNDLE:-} && -d $BUNDLE ]]; then
    rrun bundle --remove "$BUNDLE"
  fi
}

@test "slurm-oci: srun --container runs the task in an rrun container and passes its status" {
  run -0 timeout 120 srun -n1 --container="$BUNDLE" /bin/sh -c 'test -x /bin/busybox && echo in-bundle; echo home=$HOME'
  [[ $output == *"in-bundle"* ]]
  [[ $output == *"home=$HOME"* ]]
  run -3 timeout 120 srun -n1 --container="$BUNDLE" /bin/sh -c 'exit 3'
  # slurmstepd asks (as root) for the state, then deletes it: rrun hands those to the
  # user the ID names, and every task's container is gone once the step ended.
  wait_until bash -c "! $RRUN ps -a --format '{{.Names}}' | grep -q '\.$(id -un)\.'"
}
