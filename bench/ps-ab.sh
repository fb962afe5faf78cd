#!/bin/bash
# rrun ps -a of two builds on the same records, interleaved (issue 14): CPU time
# (perf stat task-clock) and elapsed time, medians of N. On a loaded machine the elapsed
# time is mostly waiting for a CPU; the CPU time is what an idle machine would take.
# Usage (as the user who owns the store):
#   OLD=old/rrun NEW=build/src/rrun ST=STORAGE_ROOT RUN=RUN_ROOT [N=21] [ARGS=...] bench/ps-ab.sh
G="--root ${ST:?} --runroot ${RUN:?}"
N=${N:-21}
med() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
one() {
  local s e c
  s=$(date +%s%N)
  c=$(perf stat -x, -e task-clock "$@" 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}')
  e=$(date +%s%N)
  echo "$c $(((e - s) / 1000))"
}
d=$(mktemp -d)
for _ in $(seq "$N"); do
  # shellcheck disable=SC2086 # G and ARGS: options split on spaces
  one "${OLD:?}" $G ps -a ${ARGS:-} >>"$d/old"
  # shellcheck disable=SC2086
  one "${NEW:?}" $G ps -a ${ARGS:-} >>"$d/new"
done
for k in old new; do
  echo "$k: cpu $(awk '{print $1}' "$d/$k" | med) ms, elapsed $(awk '{print $2/1000}' "$d/$k" | med) ms"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$d"
