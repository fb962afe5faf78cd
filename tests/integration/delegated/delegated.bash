# Shared by the delegated/*.bats files: run.sh moves the runner into $RRUN_TEST_CGROUP, a
# cgroup v2 subtree owned by the test user as systemd's Delegate=yes gives it
# (cgroup.procs, cgroup.subtree_control, cgroup.threads chowned).

setup_file() {
  common_setup_file
  [[ -n ${RRUN_TEST_CGROUP:-} && -w ${RRUN_TEST_CGROUP:-/nonexistent}/cgroup.procs ]] ||
    skip "no delegated cgroup v2 subtree (RRUN_TEST_CGROUP)"
  export RRUN_TEST_CGROUP
}

require_controller() { # NAME
  grep -qw "$1" "$RRUN_TEST_CGROUP/cgroup.controllers" ||
    skip "the $1 controller is not delegated to $RRUN_TEST_CGROUP (has: $(cat "$RRUN_TEST_CGROUP/cgroup.controllers"))"
}

# A failed assertion must not leave the container running for the next test.
teardown() {
  if [[ -n ${RRUN_PID:-} ]] && kill -0 "$RRUN_PID" 2>/dev/null; then
    kill -KILL "$RRUN_PID" 2>/dev/null || true
    wait "$RRUN_PID" 2>/dev/null || true
  fi
}

# The per-container leaves rrun made below the delegated directory.
leaves() {
  find "$RRUN_TEST_CGROUP" -mindepth 1 -maxdepth 2 -type d -name 'rrun-*' ! -name rrun-host | sort
}
