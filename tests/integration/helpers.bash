# Shared code of the bats integration tests: `load helpers` at the top of each file.
#
# Environment (run.sh sets it; a developer can too):
#   RRUN                 the rrun binary (required)
#   RRUN_NET             the network helper (optional until the networking issue)
#   RRUN_STORAGE_DRIVER  overlay | fuse-overlayfs: passed to every rrun as --storage-driver
#   RRUN_TEST_FIXTURES   where fixtures are generated (default: a dir of this bats run)
#   RRUN_TEST_REGISTRY   127.0.0.1:PORT of the test registry (push_oci needs it)
#   RRUN_TEST_CGROUP     a delegated cgroup v2 directory (tests in delegated/ need it)
# shellcheck shell=bash
# shellcheck disable=SC2034 # variables here are used by the test files

bats_require_minimum_version 1.5.0

HELPERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCDIR=${RRUN_TEST_SRCDIR:-$(cd "$HELPERS_DIR/../.." && pwd)}
FIXTURE_SCRIPTS=$SRCDIR/tests/fixtures
FIXTURES=${RRUN_TEST_FIXTURES:-${BATS_RUN_TMPDIR:-/tmp}/fixtures}
FIXTURE_IMAGE=localhost/rrun-test-busybox:latest
# The test registry's repository prefix for this pass: the driver passes may run at the
# same time (run.sh), so each pushes under its own name.
TEST_REPO=rrun-test${RRUN_STORAGE_DRIVER:+-$RRUN_STORAGE_DRIVER}
STORAGE_ROOT=${XDG_DATA_HOME:-$HOME/.local/share}/rrun/storage
if [[ -n ${XDG_RUNTIME_DIR:-} ]]; then
  RUN_ROOT=$XDG_RUNTIME_DIR/rrun
else
  RUN_ROOT=${TMPDIR:-/tmp}/rrun-$(id -u)
fi
# docker's default capability set (chown dac_override fowner fsetid kill setgid setuid
# setpcap net_bind_service net_raw sys_chroot mknod audit_write setfcap) as CapEff shows it
DOCKER_DEFAULT_CAPS=00000000a80425fb
# The message for a missing command (docs/architecture.md, "Errors and messages").
MISSING_CMD_MSG='rrun: cannot execute "/no/such/cmd": No such file or directory'

# rrun with the storage driver of this pass, as a command line (for bash -c and tmux).
RRUN_CMD=("${RRUN:-rrun}")
if [[ -n ${RRUN_STORAGE_DRIVER:-} ]]; then
  RRUN_CMD+=(--storage-driver "$RRUN_STORAGE_DRIVER")
fi

# rrun with the storage driver of this pass.
rrun() {
  local -a global=()
  if [[ -n ${RRUN_STORAGE_DRIVER:-} ]]; then
    global+=(--storage-driver "$RRUN_STORAGE_DRIVER")
  fi
  "$RRUN" "${global[@]}" "$@"
}

# Fixtures are made once per run (lock: bats may run files in parallel with --jobs).
ensure_fixtures() {
  mkdir -p -- "$FIXTURES"
  (
    flock 9
    if [[ ! -f $FIXTURES/rootfs.tar ]]; then
      "$FIXTURE_SCRIPTS/make-rootfs.sh" "$FIXTURES" >&2 || exit 1
    fi
  ) 9>"$FIXTURES/.lock"
}

ensure_oci_fixtures() {
  ensure_fixtures
  (
    flock 9
    if [[ ! -f $FIXTURES/oci/multi/index.json || ! -f $FIXTURES/oci/volume/index.json 
        || ! -f $FIXTURES/oci/health/index.json ]]; then
      /usr/bin/python3 "$FIXTURE_SCRIPTS/make-oci.py" "$FIXTURES" "$FIXTURES/oci" >&2 || exit 1
    fi
  ) 9>"$FIXTURES/.lock"
}

# Import the busybox rootfs as $FIXTURE_IMAGE (once per file, from setup_file).
import_fixture() {
  ensure_fixtures || return 1
  rrun import "$FIXTURES/rootfs.tar" "$FIXTURE_IMAGE" >&2
}

# Push an OCI layout (make-oci.py) to the test registry: push_oci DIR NAME[:TAG] [--all]
push_oci() {
  local dir=$1 ref=$2
  shift 2
  [[ -n ${RRUN_TEST_REGISTRY:-} ]] || {
    echo "push_oci: RRUN_TEST_REGISTRY is not set (run.sh starts the registry)" >&2
    return 1
  }
  skopeo copy --quiet --dest-tls-verify=false "$@" "oci:$dir:latest" \
    "docker://$RRUN_TEST_REGISTRY/$ref"
}

# The setup every file needs; a file with its own setup_file calls this first.
common_setup_file() {
  if (($(id -u) == 0)); then
    echo "these tests must run as an unprivileged user: a rootless tool tested as root proves nothing" >&2
    echo "run tests/integration/run.sh as root to have it create a test user" >&2
    return 1
  fi
  [[ -n ${RRUN:-} && -x $RRUN ]] || {
    echo "RRUN must name the built rrun binary" >&2
    return 1
  }
  export RRUN RRUN_STORAGE_DRIVER FIXTURES FIXTURE_IMAGE
  if [[ ${RRUN_STORAGE_DRIVER:-} == fuse-overlayfs ]] && ! command -v fuse-overlayfs >/dev/null; then
    skip "fuse-overlayfs is not installed"
  fi
  import_fixture
}

setup_file() {
  common_setup_file
}

# Retry a command until it succeeds: at most 40 x 0.5 s.
wait_until() {
  local i
  for ((i = 0; i < 40; i++)); do
    if "$@"; then return 0; fi
    sleep 0.5
  done
  echo "wait_until: gave up after 20 s: $*" >&2
  return 1
}

# A process that has ended: gone, or a zombie (an orphan's parent here may be a PID 1
# that does not reap).
proc_ended() { # PID
  [[ ! -d /proc/$1 ]] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# True once the process has a handler for signal SIGNUM (its bit in SigCgt of
# /proc/PID/status): a shell's `trap` has run. A container's PID 1 ignores a signal it has
# no handler for, so a test that signals a trapping PID 1 waits for this first: the
# command may not have reached its `trap` yet when `run -d` returns or a record appears.
catches_signal() { # PID SIGNUM
  local mask
  mask=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
  [[ -n $mask ]] && (((16#$mask >> ($2 - 1)) & 1))
}

# The same for the PID 1 of a running container, by name.
pid1_catches_signal() { # CONTAINER SIGNUM
  local pid
  pid=$(rrun inspect --format '{{.State.Pid}}' "$1" 2>/dev/null)
  [[ $pid =~ ^[1-9][0-9]*$ ]] && catches_signal "$pid" "$2"
}

# First id of this user's subordinate range (uid or gid file), or nothing.
subid_base() { # [uid|gid]
  local file=/etc/subuid
  if [[ ${1:-uid} == gid ]]; then file=${RRUN_SUBGID_FILE:-/etc/subgid}; else file=${RRUN_SUBUID_FILE:-$file}; fi
  [[ -r $file ]] || return 0
  awk -F: -v n="$(id -un)" -v u="$(id -u)" '$1 == n || $1 == u { print $2; exit }' "$file"
}

subid_count() {
  awk -F: -v n="$(id -un)" -v u="$(id -u)" '$1 == n || $1 == u { print $3; exit }' \
    "${RRUN_SUBUID_FILE:-/etc/subuid}" 2>/dev/null
}

require_subid_range() {
  if [[ -z $(subid_base uid) || -z $(subid_base gid) ]]; then
    skip "$(id -un) has no subordinate id range (sudo ./subuid-setup.sh $(id -un))"
  fi
  if ! [[ -u /usr/bin/newuidmap ]] && ! getcap /usr/bin/newuidmap 2>/dev/null | grep -q cap_setuid; then
    skip "newuidmap is missing or not setuid (sudo ./subuid-setup.sh --fix)"
  fi
}

# An empty subuid/subgid file pointed at by RRUN_SUBUID_FILE: rrun falls back to a single
# mapping, as it must on a machine without ranges.
use_no_subid_range() {
  local empty=$BATS_TEST_TMPDIR/empty-subid
  : >"$empty"
  export RRUN_SUBUID_FILE=$empty RRUN_SUBGID_FILE=$empty
}

# All descendants of a pid (children first), from /proc/PID/task/*/children.
descendants() {
  local pid=$1 child
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}

# The container's PID 1 as the host sees it: the first descendant of rrun (pid given) in
# another PID namespace. Empty until it exists.
container_pid1() {
  local my_ns p
  my_ns=$(readlink /proc/self/ns/pid)
  for p in $(descendants "$1"); do
    if [[ $(readlink "/proc/$p/ns/pid" 2>/dev/null) != "$my_ns" && -e /proc/$p ]]; then
      echo "$p"
      return 0
    fi
  done
}

# Our processes that live in another user namespace (containers, fuse-overlayfs started
# inside one) and processes of our subordinate ids: after rrun exits there must be none.
container_leftovers() {
  local my_ns pid ns base count
  my_ns=$(readlink /proc/self/ns/user)
  for pid in $(pgrep -u "$(id -u)"); do
    ns=$(readlink "/proc/$pid/ns/user" 2>/dev/null) || continue
    if [[ $ns != "$my_ns" ]]; then
      echo "$pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
    fi
  done
  # Zombies are no leftovers: a detached container's monitor is reparented to the nearest
  # subreaper (or init), which reaps it when it gets to it.
  ps -u "$(id -u)" -o pid=,stat=,comm=,args= | awk '$2 !~ /^Z/ && ($3 == "fuse-overlayfs" || $3 == "rrun") { $2 = ""; $3 = ""; print }'
  base=$(subid_base uid)
  count=$(subid_count)
  if [[ -n $base && -n $count ]]; then
    ps -e -o pid=,uid=,args= | awk -v s="$base" -v c="$count" '$2 >= s && $2 < s + c'
  fi
}

# True when container_leftovers finds nothing (a command for wait_until: it runs the
# check each try, where `wait_until test -z "$(...)"` would expand it once).
no_container_leftovers() {
  [ -z "$(container_leftovers)" ]
}

# True once the container of the background rrun (pid given) has its PID 1.
has_container_pid1() { # RRUN-PID
  [ -n "$(container_pid1 "$1")" ]
}

# No processes, mounts or temp dirs left by rrun (issue 2: after ANY exit path).
no_leftovers() {
  local procs mounts tmps
  # processes may take a moment to go; what is still there after 20 s is reported below
  wait_until no_container_leftovers || true
  procs=$(container_leftovers | sort -u)
  mounts=$(grep -F -e "$STORAGE_ROOT" -e "$RUN_ROOT" /proc/self/mountinfo || true)
  tmps=$(
    if [[ -d $STORAGE_ROOT/tmp ]]; then find "$STORAGE_ROOT/tmp" -mindepth 1 -maxdepth 1; fi
    if [[ -d $STORAGE_ROOT/containers ]]; then find "$STORAGE_ROOT/containers" -mindepth 1 -maxdepth 1; fi
    if [[ -d $RUN_ROOT ]]; then find "$RUN_ROOT" -mindepth 1 \( -name '*tmp*' -o -path "$RUN_ROOT/containers/*" \); fi
  )
  if [[ -n $procs || -n $mounts || -n $tmps ]]; then
    {
      echo "left behind by rrun:"
      [[ -z $procs ]] || printf 'processes:\n%s\n' "$procs"
      [[ -z $mounts ]] || printf 'mounts visible on the host:\n%s\n' "$mounts"
      [[ -z $tmps ]] || printf 'directories:\n%s\n' "$tmps"
    } >&2
    return 1
  fi
}

# The host's view of a container's upper dir: containers/*/upper of the only container.
container_upper_dirs() {
  find "$STORAGE_ROOT/containers" -mindepth 2 -maxdepth 2 -name upper -type d 2>/dev/null
}

# The static UDP responder (tests/integration/udp-echo) copied to $BATS_TEST_TMPDIR/bin,
# for -v "$BATS_TEST_TMPDIR/bin:/t:ro", and a free UDP port of the host in UDP_PORT.
udp_echo_setup() {
  [[ -n ${UDP_ECHO:-} && -x $UDP_ECHO ]] || {
    echo "UDP_ECHO must name the built tests/integration/udp-echo" >&2
    return 1
  }
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  cp "$UDP_ECHO" "$BATS_TEST_TMPDIR/bin/udp-echo"
  UDP_PORT=$(python3 -c 'import socket; s=socket.socket(type=socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
}

# Two clients a and b through the published PORT to udp-echo at ADDR: each gets its own
# flow (one source port per client, from ADDR as the container sees it, the same for both
# of a client's datagrams) and its own replies.
udp_two_clients() { # PORT ADDR
  local re pa pb
  run -0 udp_clients "$1" a b
  [ "${#lines[@]}" -eq 4 ]
  re="^([ab][12]) -> echo ([ab][12]) from ${2//./\\.}:([0-9]+)\$"
  [[ ${lines[0]} =~ $re && ${BASH_REMATCH[1]} == a1 ]]
  pa=${BASH_REMATCH[3]}
  [[ ${lines[1]} =~ $re && ${BASH_REMATCH[1]} == b1 ]]
  pb=${BASH_REMATCH[3]}
  [ "$pa" != "$pb" ]
  [ "${lines[2]}" = "a2 -> echo a2 from $2:$pa" ]
  [ "${lines[3]}" = "b2 -> echo b2 from $2:$pb" ]
}

# From the host, clients (each its own socket, connected to 127.0.0.1:PORT, so a reply
# from any other address or port is not received) send A1, B1, .., A2, B2, .. in turn; each
# line printed is "MSG -> REPLY". A datagram without a reply in 0.5 s is sent again, for
# up to 15 s (the first may beat the server).
udp_clients() { # PORT NAME...
  python3 - "$@" <<'EOF'
import socket, sys, time
port, names = int(sys.argv[1]), sys.argv[2:]
socks = {}
for n in names:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", port))
    s.settimeout(0.5)
    socks[n] = s
deadline = time.monotonic() + 15
for rnd in (1, 2):
    for n in names:
        msg = f"{n}{rnd}"
        while True:
            if time.monotonic() > deadline:
                sys.exit(f"no reply to {msg}")
            socks[n].send(msg.encode())
            try:
                reply = socks[n].recv(2000).decode()
            except OSError:
                continue
            if reply.startswith(f"echo {msg} "):
                break
        print(f"{msg} -> {reply}")
EOF
}

# Start rrun in the background with output in files; sets RRUN_PID.
rrun_bg() {
  local -a global=()
  if [[ -n ${RRUN_STORAGE_DRIVER:-} ]]; then
    global+=(--storage-driver "$RRUN_STORAGE_DRIVER")
  fi
  # The binary itself, not the rrun function: $! must be rrun's pid for kill to reach it.
  # Not with bats' fd 3: a container a failed test leaves running would keep bats waiting.
  "$RRUN" "${global[@]}" "$@" >"$BATS_TEST_TMPDIR/bg.out" 2>"$BATS_TEST_TMPDIR/bg.err" 3>&- &
  RRUN_PID=$!
}

# Wait (bounded) for the background rrun and set BG_STATUS.
wait_bg() {
  local i
  for ((i = 0; i < 40; i++)); do
    if ! kill -0 "$RRUN_PID" 2>/dev/null; then break; fi
    sleep 0.5
  done
  if kill -0 "$RRUN_PID" 2>/dev/null; then
    kill -KILL "$RRUN_PID"
    echo "rrun (pid $RRUN_PID) did not exit within 20 s" >&2
  fi
  BG_STATUS=0
  wait "$RRUN_PID" || BG_STATUS=$?
}

# A tmux server of this test only (its own socket), for TTY tests.
tmux_t() {
  tmux -S "$BATS_TEST_TMPDIR/tmux.sock" "$@"
}

# capture-pane drops trailing spaces: match "/ #", not "/ # ".
tmux_pane_has() { # TEXT
  tmux_t capture-pane -p -t rrun | grep -qF -- "$1"
}

tmux_cleanup() {
  tmux_t kill-server 2>/dev/null || true
}
