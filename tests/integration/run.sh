#!/bin/bash
# shellcheck disable=SC2317 # cleanup functions run from the EXIT trap
# The integration entry point (meson test suite "integration"): prints one TAP stream.
#
# As root (CI): makes /dev/fuse and /dev/net/tun 0666 (old modes back at exit), creates
# the test user rrun-test with a subuid range from subuid-setup.sh, a delegated cgroup v2
# subtree, and a registry on 127.0.0.1; runs tests/integration/root/*.bats as root, then
# every tests/integration/*.bats once per storage driver as the test user (setpriv, fresh
# HOME and XDG dirs; a file marked "# rrun-test: one pass" in the first pass only), then tests/integration/delegated/*.bats with the runner moved into
# the delegated subtree first. As any other user: the same passes, minus what needs root.
#
# As root with two or more drivers, the passes after the first run at the same time as it,
# as a second test user ("<user>-b", its own subuid range, home and store), their TAP kept
# in files and folded into the stream after the first pass: most tests wait on processes,
# so the suite takes about 60% of the time of sequential passes (RRUN_TEST_PARALLEL=0
# runs them one after another).
#
# Environment: RRUN (required), RRUN_NET (optional), RRUN_TEST_DRIVERS (default
# "overlay fuse-overlayfs"), RRUN_TEST_FILTER (a bats --filter regex), RRUN_TEST_USER_NAME
# (default rrun-test; another name lets two runs share the machine), RRUN_TEST_PARALLEL.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
TEST_USER=${RRUN_TEST_USER_NAME:-rrun-test}
TEST_USER_B=$TEST_USER-b
TEST_GECOS="rrun integration test user"
SANE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

if [[ -z ${RRUN:-} || ! -x ${RRUN:-} ]]; then
  printf '1..1\nnot ok 1 setup: RRUN must name the built rrun binary (meson test sets it)\n'
  exit 1
fi
RRUN=$(readlink -f -- "$RRUN")
if [[ -n ${RRUN_NET:-} ]]; then RRUN_NET=$(readlink -f -- "$RRUN_NET"); fi
export RRUN RRUN_NET
if ! command -v bats >/dev/null; then
  printf '1..1\nnot ok 1 setup: bats is not installed (apt-get install bats)\n'
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rrun-it.XXXXXX")
chmod 0755 "$WORK"
TAP_COUNT=0
FAILED=0
declare -A OLD_MODES=()
CREATED_USERS=()
BG_PID=
PARALLEL=0
CGROUP_DIR=
REGISTRY_STARTED=0
SLURM_STARTED=0
DNS53_PID=

log() { printf '# %s\n' "$*"; }

# A pass that could not run at all still has to show up as a failure in the TAP stream.
tap_fail() {
  TAP_COUNT=$((TAP_COUNT + 1))
  FAILED=1
  printf 'not ok %d %s\n' "$TAP_COUNT" "$*"
}

# Run one bats invocation (args: prefix, command...) and fold its TAP into ours:
# renumbered, names prefixed, its own plan dropped (ours comes at the end). Sets
# PASS_COUNT to the number of tests it reported.
tap_pass() {
  local prefix=$1 status counts
  shift
  counts=$WORK/counts.$RANDOM
  "$@" 2>&1 | awk -v off="$TAP_COUNT" -v prefix="$prefix" -v counts="$counts" '
    /^1\.\.[0-9]+$/ { next }
    /^(not )?ok [0-9]+/ {
      notok = ($1 == "not"); n++
      sub(/^(not )?ok [0-9]+ ?/, "")
      printf "%s %d %s%s\n", notok ? "not ok" : "ok", off + n, prefix, $0
      if (notok) bad++
      fflush(); next
    }
    /^#/ { print; fflush(); next }
    { print "# " $0; fflush() }
    END { print n + 0, bad + 0 > counts }'
  status=${PIPESTATUS[0]}
  local n=0 bad=0
  if [[ -f $counts ]]; then read -r n bad <"$counts"; fi
  TAP_COUNT=$((TAP_COUNT + n))
  PASS_COUNT=$n
  if ((bad)); then FAILED=1; fi
  if ((status != 0 && bad == 0)); then
    tap_fail "${prefix}bats exited with status $status without a failed test (see the lines above)"
  fi
}

# ---------------------------------------------------------------- cleanup

kill_user_processes() {
  # The test user's processes and those of its subordinate ids (container processes).
  local uid=$1 start=${2:-0} count=${3:-0} pids
  for sig in TERM KILL; do
    pids=$(ps -e -o pid=,uid= | awk -v u="$uid" -v s="$start" -v c="$count" -v me=$$ '
      $2 == u || (c > 0 && $2 >= s && $2 < s + c) { if ($1 != me) print $1 }')
    [[ -n $pids ]] || return 0
    # shellcheck disable=SC2086 # a list of pids
    kill -s "$sig" $pids 2>/dev/null
    for ((i = 0; i < 20; i++)); do
      pids=$(ps -e -o pid=,uid= | awk -v u="$uid" -v s="$start" -v c="$count" '
        $2 == u || (c > 0 && $2 >= s && $2 < s + c) { print $1 }')
      [[ -n $pids ]] || return 0
      sleep 0.25
    done
  done
}

remove_cgroup() {
  local dir=$1
  [[ -n $dir && -d $dir ]] || return 0
  if [[ -e $dir/cgroup.kill ]]; then echo 1 >"$dir/cgroup.kill" 2>/dev/null; fi
  for ((i = 0; i < 40; i++)); do
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
    [[ -d $dir ]] || return 0
    sleep 0.25
  done
  log "cannot remove cgroup $dir"
}

remove_test_user() { # NAME
  local name=$1 uid range start count
  uid=$(id -u "$name" 2>/dev/null) || return 0
  range=$(awk -F: -v n="$name" '$1 == n { print $2, $3; exit }' /etc/subuid)
  read -r start count <<<"${range:-0 0}"
  kill_user_processes "$uid" "$start" "$count"
  "$srcdir/subuid-setup.sh" --remove "$name" >/dev/null
  userdel "$name" 2>/dev/null || log "cannot remove user $name"
}

cleanup() {
  local dev name
  if [[ -n $BG_PID ]]; then kill "$BG_PID" 2>/dev/null; fi
  if ((REGISTRY_STARTED)); then "$srcdir/tests/fixtures/registry.sh" stop "$WORK/registry"; fi
  if ((SLURM_STARTED)); then "$srcdir/tests/fixtures/slurm.sh" stop "$WORK/slurm"; fi
  if [[ -n $DNS53_PID ]]; then kill "$DNS53_PID" 2>/dev/null; wait "$DNS53_PID" 2>/dev/null; fi
  if ((EUID == 0)); then
    remove_cgroup "$CGROUP_DIR"
    for name in "${CREATED_USERS[@]}"; do remove_test_user "$name"; done
    for dev in "${!OLD_MODES[@]}"; do chmod "${OLD_MODES[$dev]}" "$dev"; done
  fi
  rm -rf -- "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---------------------------------------------------------------- root setup

cgroup2_mount() {
  awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo
}

setup_root() {
  local dev mode mnt
  for dev in /dev/fuse /dev/net/tun; do
    [[ -c $dev ]] || continue
    mode=$(stat -c %a "$dev")
    if [[ $mode != 666 ]]; then
      OLD_MODES[$dev]=$mode
      chmod 0666 "$dev"
    fi
  done

  make_test_user "$TEST_USER" "$WORK" || return 1
  TEST_UID=$(id -u "$TEST_USER")
  TEST_GID=$(id -g "$TEST_USER")
  if ((${#drivers[@]} > 1)) && [[ ${RRUN_TEST_PARALLEL:-1} != 0 ]]; then
    if make_test_user "$TEST_USER_B" "$WORK/b"; then
      PARALLEL=1
    else
      log "no second test user: the driver passes run one after another"
    fi
  fi

  # A delegated cgroup v2 subtree, as systemd's Delegate=yes would hand over.
  mnt=$(cgroup2_mount)
  if [[ -n $mnt ]] && mkdir "$mnt/rrun-test-$$" 2>/dev/null; then
    CGROUP_DIR=$mnt/rrun-test-$$
    chown "$TEST_UID:$TEST_GID" "$CGROUP_DIR" "$CGROUP_DIR"/cgroup.{procs,subtree_control,threads}
    export RRUN_TEST_CGROUP=$CGROUP_DIR RRUN_TEST_CGROUP_MOUNT=$mnt
  else
    log "no cgroup v2 hierarchy to delegate; delegated tests will skip"
  fi
}

# A test user (NAME, WORK-DIR for its home, run, tmp and fixtures dirs) with a subuid
# range; refuses a user of that name that this harness did not create.
make_test_user() {
  local name=$1 dir=$2 uid gid d
  if id "$name" >/dev/null 2>&1; then
    if [[ $(getent passwd "$name" | cut -d: -f5) != "$TEST_GECOS" ]]; then
      tap_fail "setup: a user $name exists that this harness did not create; not touching it"
      return 1
    fi
    log "removing $name left over from an earlier run"
    remove_test_user "$name"
  fi
  if ! useradd -M -d "$dir/home" -s /bin/bash -c "$TEST_GECOS" -U "$name"; then
    tap_fail "setup: cannot create the test user $name"
    return 1
  fi
  CREATED_USERS+=("$name")
  if ! "$srcdir/subuid-setup.sh" "$name" | sed 's/^/# /'; then
    tap_fail "setup: subuid-setup.sh $name failed"
    return 1
  fi
  uid=$(id -u "$name")
  gid=$(id -g "$name")
  install -d -m 0755 "$dir"
  for d in home run tmp fixtures; do
    install -d -m 0700 -o "$uid" -g "$gid" "$dir/$d"
  done
  # Can the test user reach the binaries and the tests at all?
  if ! setpriv --reuid="$uid" --regid="$gid" --init-groups \
    test -x "$RRUN" -a -r "$here/helpers.bash"; then
    tap_fail "setup: $name cannot read $RRUN or $here (check the directory modes)"
    return 1
  fi
}

start_registry() {
  local reg
  mkdir -p "$WORK/registry"
  if reg=$("$srcdir/tests/fixtures/registry.sh" start "$WORK/registry"); then
    REGISTRY_STARTED=1
    export RRUN_TEST_REGISTRY=$reg
    log "registry at $reg"
  else
    tap_fail "setup: cannot start docker-registry on 127.0.0.1 (see above)"
  fi
}

# A DNS server on port 53 of a loopback address (root only: the port is privileged), as a
# container's --dns server on the host's loopback (a test user cannot bind port 53):
# dnsmasq answering upstream-only.rrun.test with 192.0.2.77 and refusing the rest, its
# address in RRUN_TEST_DNS53 (127.53.N.1, N random: runs side by side each get one).
# Started only when a test file asks for it ("# rrun-test: dns53").
start_dns53() {
  local ip _
  command -v dnsmasq >/dev/null || { log "no dnsmasq: the tests of RRUN_TEST_DNS53 will skip"; return 0; }
  for _ in 1 2 3 4 5; do
    ip=127.53.$((RANDOM % 250 + 1)).1
    dnsmasq --keep-in-foreground --no-resolv --no-hosts --listen-address="$ip" \
      --bind-interfaces --port=53 --address=/upstream-only.rrun.test/192.0.2.77 \
      --pid-file= --log-facility=- 2>/dev/null &
    DNS53_PID=$!
    for _ in $(seq 40); do
      if ss -lnu 2>/dev/null | grep -q " $ip:53 "; then
        export RRUN_TEST_DNS53=$ip
        log "DNS server on $ip:53"
        return 0
      fi
      kill -0 "$DNS53_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill "$DNS53_PID" 2>/dev/null
    wait "$DNS53_PID" 2>/dev/null
    DNS53_PID=
  done
  log "cannot start dnsmasq on a loopback port 53: the tests of RRUN_TEST_DNS53 will skip"
}

# A single-node Slurm cluster (root only: slurmd runs as root) with rrun's SPANK plugin
# ($SPANK_RRUN, which meson sets where it built it) for slurm.bats, which skips without
# RRUN_TEST_SLURM_CONF. Started only when a test file asks for it ("# rrun-test: slurm").
start_slurm() {
  local out line=
  if [[ -n ${SPANK_RRUN:-} ]]; then line="required $SPANK_RRUN rrun=$RRUN"; fi
  if out=$(SLURM_OCI_RRUN=$RRUN "$srcdir/tests/fixtures/slurm.sh" start "$WORK/slurm" "$line" 2>&1); then
    SLURM_STARTED=1
    export RRUN_TEST_SLURM_CONF=${out##*SLURM_CONF=}
    log "slurm: $RRUN_TEST_SLURM_CONF (plugin: ${SPANK_RRUN:-not built})"
  else
    SLURM_STARTED=1 # stop what did start
    printf '%s\n' "$out" | sed 's/^/# /'
    log "no Slurm cluster: the Slurm tests will skip"
  fi
}

# ---------------------------------------------------------------- passes

shopt -s nullglob
core_files=("$here"/*.bats)
# Files marked "# rrun-test: one pass" do not depend on the storage driver: they run in
# the first driver pass only, so that each of their tests counts once.
once_files=()
for f in "${core_files[@]}"; do
  if grep -qx '# rrun-test: one pass' "$f"; then once_files+=("$f"); fi
done
root_files=("$here"/root/*.bats)
delegated_files=("$here"/delegated/*.bats)
read -r -a drivers <<<"${RRUN_TEST_DRIVERS:-overlay fuse-overlayfs}"
bats_args=(--tap)
if [[ -n ${RRUN_TEST_FILTER:-} ]]; then bats_args+=(--filter "$RRUN_TEST_FILTER"); fi

# The environment of the unprivileged passes: built from scratch, not root's.
user_env() {
  local home=$1 run=$2 tmp=$3 fixtures=$4
  local -a e=(
    "HOME=$home" "USER=$TEST_NAME" "LOGNAME=$TEST_NAME" "PATH=$SANE_PATH" "SHELL=/bin/bash"
    "TERM=${TERM:-xterm}" "LANG=C.UTF-8" "TMPDIR=$tmp"
    "XDG_RUNTIME_DIR=$run" "XDG_DATA_HOME=$home/.local/share"
    "XDG_CONFIG_HOME=$home/.config" "XDG_CACHE_HOME=$home/.cache"
    "RRUN_TEST_FIXTURES=$fixtures" "RRUN_TEST_SRCDIR=$srcdir"
  )
  local v
  for v in $(compgen -e); do
    case $v in
    RRUN | RRUN_NET | NET_DRIVER | SYSCALL_PROBE | UDP_ECHO | RRUN_TEST_REGISTRY | RRUN_TEST_CGROUP | RRUN_TEST_CGROUP_MOUNT | RRUN_TEST_SLURM_CONF | RRUN_TEST_DNS53 | SPANK_RRUN | RRUN_LOG | ASAN_OPTIONS | UBSAN_OPTIONS) e+=("$v=${!v}") ;;
    esac
  done
  printf '%s\0' "${e[@]}"
}

# Each file is one bats run, so that a file that ran no test at all (a broken @test line,
# a file bats could not read) is a failure; with RRUN_TEST_FILTER none may match.
ran_tests() { # PREFIX FILE
  if ((PASS_COUNT == 0)) && [[ -z ${RRUN_TEST_FILTER:-} ]]; then
    tap_fail "$1${2##*/}: ran zero tests"
  fi
}

run_user_bats() { # PREFIX CGROUP-OR-EMPTY FILES...
  local prefix=$1 cg=$2 f
  shift 2
  for f in "$@"; do
    run_user_bats_file "$prefix" "$cg" "$f"
    ran_tests "$prefix" "$f"
  done
}

run_user_bats_file() { # PREFIX CGROUP-OR-EMPTY FILE
  local prefix=$1
  shift
  tap_pass "$prefix" bats_as_user "$@"
}

# bats on one file as the pass's user (TEST_UID, TEST_GID, TEST_NAME, USER_* dirs), its
# TAP on stdout; in the cgroup CGROUP-OR-EMPTY first.
bats_as_user() { # CGROUP-OR-EMPTY FILE
  local cg=$1
  shift
  local -a envv
  mapfile -d '' envv < <(user_env "$USER_HOME" "$USER_RUN" "$USER_TMP" "$USER_FIXTURES")
  if ((EUID == 0)); then
    # Move this subshell into the subtree first (as root), so everything the test user
    # starts lives in the delegated cgroup.
    # shellcheck disable=SC2016 # expanded by the inner bash
    bash -c '
      if [[ -n $1 ]]; then echo "$BASHPID" >"$1/cgroup.procs" || exit 1; fi
      shift
      exec "$@"' _ "$cg" \
      setpriv --reuid="$TEST_UID" --regid="$TEST_GID" --init-groups \
      env -i "${envv[@]}" RRUN_STORAGE_DRIVER="${DRIVER:-}" \
      bats "${bats_args[@]}" "$@"
  else
    env -i "${envv[@]}" RRUN_STORAGE_DRIVER="${DRIVER:-}" \
      bats "${bats_args[@]}" "$@"
  fi
}

# The files of a driver pass: every core file, but the "one pass" files in the first only.
pass_files() { # FIRST(0|1)
  local f
  PASS_FILES=()
  for f in "${core_files[@]}"; do
    if (($1)) || [[ " ${once_files[*]} " != *" $f "* ]]; then PASS_FILES+=("$f"); fi
  done
}

# The passes after the first, as the second test user, in the background: each file's TAP
# and bats status in $WORK/bg/DRIVER.N.{tap,rc}, folded in by fold_background_passes.
start_background_passes() {
  mkdir -p "$WORK/bg"
  (
    TEST_NAME=$TEST_USER_B
    TEST_UID=$(id -u "$TEST_USER_B") TEST_GID=$(id -g "$TEST_USER_B")
    USER_HOME=$WORK/b/home USER_RUN=$WORK/b/run USER_TMP=$WORK/b/tmp
    USER_FIXTURES=$WORK/b/fixtures
    pass_files 0
    for DRIVER in "${drivers[@]:1}"; do
      n=0
      for f in "${PASS_FILES[@]}"; do
        n=$((n + 1))
        bats_as_user "" "$f" >"$WORK/bg/$DRIVER.$n.tap" 2>&1
        echo $? >"$WORK/bg/$DRIVER.$n.rc"
      done
    done
  ) &
  BG_PID=$!
}

fold_background_passes() {
  local n f
  wait "$BG_PID"
  BG_PID=
  pass_files 0
  for DRIVER in "${drivers[@]:1}"; do
    n=0
    for f in "${PASS_FILES[@]}"; do
      n=$((n + 1))
      # shellcheck disable=SC2016 # expanded by the inner bash
      tap_pass "[$DRIVER] " bash -c 'cat "$1" 2>/dev/null; exit "$(cat "$2" 2>/dev/null || echo 1)"' _ \
        "$WORK/bg/$DRIVER.$n.tap" "$WORK/bg/$DRIVER.$n.rc"
      ran_tests "[$DRIVER] " "$f"
    done
  done
}

run_driver_passes() {
  local first=1
  if ((PARALLEL)); then
    start_background_passes
    DRIVER=${drivers[0]}
    pass_files 1
    run_user_bats "[$DRIVER] " "" "${PASS_FILES[@]}"
    fold_background_passes
    return
  fi
  for DRIVER in "${drivers[@]}"; do
    pass_files "$first"
    if ((${#PASS_FILES[@]})); then run_user_bats "[$DRIVER] " "" "${PASS_FILES[@]}"; fi
    first=0
  done
}

if ((EUID == 0)); then
  TEST_NAME=$TEST_USER
  if setup_root; then
    USER_HOME=$WORK/home USER_RUN=$WORK/run USER_TMP=$WORK/tmp USER_FIXTURES=$WORK/fixtures
    export RRUN_TEST_USER=$TEST_USER
    start_registry
    if grep -qx '# rrun-test: slurm' "${core_files[@]}" /dev/null; then start_slurm; fi
    if grep -qx '# rrun-test: dns53' "${core_files[@]}" /dev/null; then start_dns53; fi
    for f in "${root_files[@]}"; do
      tap_pass "[root] " env RRUN_TEST_SRCDIR="$srcdir" PATH="$SANE_PATH" \
        bats "${bats_args[@]}" "$f"
      ran_tests "[root] " "$f"
    done
    run_driver_passes
    if ((${#delegated_files[@]})); then
      DRIVER=${drivers[0]:-}
      run_user_bats "[delegated] " "$CGROUP_DIR" "${delegated_files[@]}"
    fi
  fi
else
  TEST_NAME=$(id -un)
  USER_HOME=$WORK/home USER_RUN=$WORK/run USER_TMP=$WORK/tmp USER_FIXTURES=$WORK/fixtures
  for d in "$USER_HOME" "$USER_RUN" "$USER_TMP" "$USER_FIXTURES"; do install -d -m 0700 "$d"; done
  log "not root: running as $TEST_NAME; the root-only tests are left out"
  start_registry
  run_driver_passes
  if ((${#delegated_files[@]})); then
    DRIVER=${drivers[0]:-}
    run_user_bats "[delegated] " "" "${delegated_files[@]}"
  fi
fi

printf '1..%d\n' "$TAP_COUNT"
exit "$FAILED"
