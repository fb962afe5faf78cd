#!/bin/bash
# Container life cycle (issue 14): run -d against run --rm, exec against nsenter, ps -a
# with 500 stopped containers, 100 concurrent run -d then rm -f of all. Medians of 21.
# Side by side with podman (runc, cgroupfs, file events: Debian 12's podman on a machine
# without systemd and with hybrid cgroups) where it runs: podman run -d and podman exec
# on the same busybox root (imported from IMG's rootfs tar: PODMAN_TAR), medians of 21.
# It removes every container of the user first, and leaves none: run it as a test user.
# The timings of one kind are interleaved with those they are compared with.
# Usage (as the user who runs containers):
#   RRUN=build/src/rrun IMG=localhost/busybox [PODMAN_TAR=rootfs.tar] bench/lifecycle.sh
# (RRUN may carry global options, e.g. RRUN="build/src/rrun --root DIR --runroot DIR".)
# STORE: the storage root RRUN uses (for the count of directories left); PS500=0 skips
# the 500 stopped containers (ps -a, prune) and the 100 concurrent runs.
R=${RRUN:-rrun}; IMG=${IMG:-localhost/busybox}; N=21
STORE=${STORE:-${XDG_DATA_HOME:-$HOME/.local/share}/rrun/storage}
errs=$(mktemp)
med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
t() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e-s)/1000 )); }
# podman returns before its conmon and cleanup processes are done: without a pause they run
# into the next timing (on 2 cores: rrun exec 34 ms and nsenter 23 ms right after podman
# exec, 23 and 16 ms after a 0.3 s pause). SETTLE=0 times them back to back.
SETTLE=${SETTLE:-0.3}
$R rm -f $($R ps -aq) >/dev/null 2>&1
# shellcheck disable=SC2206 # PODMAN_ARGS: extra global options, e.g. a private --root
P=(podman --runtime runc --cgroup-manager cgroupfs --events-backend file --log-level error ${PODMAN_ARGS:-})
PI=
if [ -n "${PODMAN_TAR:-}" ] && "${P[@]}" import "$PODMAN_TAR" localhost/bench/lifecycle >/dev/null 2>&1 \
  && "${P[@]}" run --rm --network none localhost/bench/lifecycle true >/dev/null 2>&1; then
  PI=localhost/bench/lifecycle
  "${P[@]}" rm -af -t 0 >/dev/null 2>&1
else
  echo "podman: not compared (no PODMAN_TAR, or podman cannot run containers here)"
fi
$R run --rm $IMG true
# Interleaved, one of each per round (the machine's load hits all alike): run --rm true,
# run -d sleep 100, and podman run -d sleep 100.
d=$(mktemp -d)
for i in $(seq $N); do
  t $R run --rm $IMG true >>"$d/rm"
  t $R run -d $IMG sleep 100 >>"$d/d"
  [ -z "$PI" ] || { t "${P[@]}" run -d $PI sleep 100 >>"$d/pd"; sleep "$SETTLE"; }
done
echo "run --rm true: $(med <"$d/rm") us"
echo "run -d sleep 100: $(med <"$d/d") us"
[ -z "$PI" ] || echo "podman run -d sleep 100: $(med <"$d/pd") us"
$R rm -f $($R ps -aq) >/dev/null
[ -z "$PI" ] || "${P[@]}" rm -af -t 0 >/dev/null 2>&1
$R run -d --name b1 $IMG sleep 1000 >/dev/null
pid=$($R ps --format json | sed -n 's/.*"Pid": \([0-9]*\).*/\1/p')
[ -z "$PI" ] || "${P[@]}" run -d --name pb1 $PI sleep 1000 >/dev/null
nsenter -t $pid -U --preserve-credentials -m -u -i -n -p -C true && echo nsenter-ok
# Interleaved: rrun exec, nsenter into the same namespaces (the floor), podman exec.
for i in $(seq $N); do
  t $R exec b1 true >>"$d/exec"
  t nsenter -t $pid -U --preserve-credentials -m -u -i -n -p -C true >>"$d/ns"
  [ -z "$PI" ] || { t "${P[@]}" exec pb1 true >>"$d/pexec"; sleep "$SETTLE"; }
done
echo "exec true: $(med <"$d/exec") us"
echo "nsenter true: $(med <"$d/ns") us"
[ -z "$PI" ] || echo "podman exec true: $(med <"$d/pexec") us"
rm -rf "$d"
$R rm -f b1 >/dev/null
if [ -n "$PI" ]; then
  "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  "${P[@]}" rmi -f $PI >/dev/null 2>&1
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "${PS500:-1}" = 1 ] || exit 0
for i in $(seq 500); do $R run $IMG true; done
echo "ps -a with $($R ps -aq | wc -l) containers: $(for i in $(seq $N); do t $R ps -a; done | med) us"
echo "ps -a --format json: $(for i in $(seq $N); do t $R ps -a --format json; done | med) us"
echo "run --rm true with 500 stopped: $(for i in $(seq $N); do t $R run --rm $IMG true; done | med) us"
s=$(date +%s%N); $R container prune -f >/dev/null; e=$(date +%s%N); echo "container prune of 500: $(( (e-s)/1000000 )) ms"
# 100 concurrent run -d, then rm -f of all
s=$(date +%s%N)
for i in $(seq 100); do $R run -d $IMG sleep 100 >/dev/null 2>>"$errs" & done; wait
e=$(date +%s%N); echo "100 concurrent run -d: $(( (e-s)/1000000 )) ms, running: $($R ps -q | wc -l), errors: $(wc -l <"$errs")"
s=$(date +%s%N); $R rm -f $($R ps -aq) >/dev/null; e=$(date +%s%N)
echo "rm -f of 100: $(( (e-s)/1000000 )) ms, left: $($R ps -aq | wc -l) records, $(ls "$STORE/containers" | wc -l) dirs"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
