#!/usr/bin/env bats
# issue 5: rrun stats reads a running container's own cgroup (delegated subtree).

load ../helpers
load delegated

@test "stats: a running container in a delegated subtree has a cgroup and a CPU figure" {
  rrun_bg run --rm --name busy "$FIXTURE_IMAGE" \
    sh -c 'trap "exit 0" TERM; echo ready; while :; do :; done'
  wait_until grep -q ready "$BATS_TEST_TMPDIR/bg.out"
  run -0 rrun stats --no-stream --format json busy
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert len(r)==1 and r[0]["Name"]=="busy" and r[0]["CgroupAvailable"], r; assert r[0]["CPUPercent"] > 1, r; assert r[0]["MemoryUsage"] is None or r[0]["MemoryUsage"] > 0, r' "$output"
  run -0 rrun stats --no-stream busy
  [[ ${lines[1]} == *busy*%* ]]
  kill -TERM "$RRUN_PID"
  wait_bg
  no_leftovers
}
