#!/bin/bash
# Start-up time of `rrun run --rm --network none IMG true`, side by side with bubblewrap,
# rootless podman and plain unshare on the same busybox root file system (issue 2).
# Run as an unprivileged user with a subuid range:   bench/startup.sh [RUNS]
# Environment: RRUN (default build/src/rrun), RUNS (default 20), RUNROOT (session: the
# run root on tmpfs, as under a login session's $XDG_RUNTIME_DIR; disk: beside the store).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RRUN=${RRUN:-$top/build/src/rrun}
RUNS=${1:-${RUNS:-20}}
[ "$(id -u)" != 0 ] || { echo "startup.sh: run it as an unprivileged user" >&2; exit 2; }

work=$(mktemp -d)
# rrun's run root (state.json, the /etc files it binds) lives where a login session keeps
# it, under $XDG_RUNTIME_DIR, a tmpfs; without one (su, ssh without pam_systemd) /dev/shm
# stands in. RUNROOT=disk puts it beside the store instead, as rrun's /tmp/rrun-UID
# fallback does on a machine whose /tmp is a disk (on the development VM's ext4, mounted
# with discard and without a journal, each removed file waits for a discard).
case ${RUNROOT:-session} in
  disk) run=$work/run ;;
  session) run=$(mktemp -d -p "${XDG_RUNTIME_DIR:-/dev/shm}" rrun-bench.XXXXXX) ;;
  *) echo "startup.sh: RUNROOT must be session or disk" >&2; exit 2 ;;
esac
# The store holds files of subordinate ids (the fixture has owners like 1000), which only
# rrun can remove (system reset goes through the user namespace).
cleanup() {
  "$RRUN" --root "$work/storage" --runroot "$run" system reset -f >/dev/null 2>&1 || true
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work" "$run"
  if [ -n "${podman_img:-}" ]; then podman rmi -f "$podman_img" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
"$top/tests/fixtures/make-rootfs.sh" "$work" >/dev/null
root=(--root "$work/storage" --runroot "$run")
"$RRUN" "${root[@]}" import "$work/rootfs.tar" bench/busybox >/dev/null

cmds=(
  "rrun (kernel overlay)=$RRUN ${root[*]} --storage-driver overlay run --rm --network none bench/busybox true"
  "rrun (fuse-overlayfs)=$RRUN ${root[*]} --storage-driver fuse-overlayfs run --rm --network none bench/busybox true"
  "bwrap=bwrap --unshare-all --ro-bind $work/rootfs / --proc /proc --dev /dev /bin/true"
  "unshare -Urmpfiu=unshare -Urmpfiu true"
)
if command -v podman >/dev/null; then
  podman_img=localhost/rrun-bench-busybox:latest
  podman import "$work/rootfs.tar" "$podman_img" >/dev/null
  # Debian 12's podman needs runc and cgroupfs on a machine without systemd.
  cmds+=("podman=podman --runtime runc --cgroup-manager cgroupfs run --rm --network none $podman_img true")
fi
echo "# $(uname -r), $(nproc) cores, $RUNS runs each, $(date -u +%Y-%m-%d), run root: $run ($(stat -f -c %T "$run"))"
python3 "$here/timeit.py" "$RUNS" "${cmds[@]}" | tee "$work/out"
python3 - "$work/out" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]).read().splitlines()[1:]:
    m = re.match(r"(.+?)\s+([\d.]+)\s+[\d.]+\s+[\d.]+$", line)
    rows[m[1].strip()] = float(m[2])
k, f, b = rows["rrun (kernel overlay)"], rows["rrun (fuse-overlayfs)"], rows["bwrap"]
print(f"rrun kernel overlay / bwrap = {k / b:.2f}x (goal <= 2)")
print(f"rrun fuse-overlayfs / bwrap = {f / b:.2f}x (goal <= 4)")
if "podman" in rows:
    print(f"podman / rrun kernel overlay = {rows['podman'] / k:.1f}x (goal >= 15)")
PY
