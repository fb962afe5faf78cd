#!/bin/bash
# Slurm (issue 18): a step whose tasks run in rrun containers through the SPANK plugin
# (helpers/spank) against a plain step plus one `rrun run --rm` with the plugin's --network
# host --ipc host, and 8 tasks against 1, and a start from a squashfs file of the image
# (rrun image export) against a start from the store, both through srun.
# Medians of N (default 11) runs, round robin, the image already in the store.
# Needs a running cluster with the plugin (tests/fixtures/slurm.sh start DIR "required
# build/helpers/spank/spank_rrun.so rrun=$PWD/build/src/rrun", as root) and runs as the
# user who runs containers:
#   SLURM_CONF=DIR/slurm.conf RRUN=build/src/rrun IMG=localhost/busybox bench/slurm.sh [N]
set -euo pipefail
R=${RRUN:-rrun}
IMG=${IMG:-localhost/busybox}
N=${1:-11}
: "${SLURM_CONF:?SLURM_CONF must name the slurm.conf of the cluster}"
export SLURM_CONF

# microseconds of one run of a command; its output is dropped, a failure stops the bench
t() {
  local s e
  s=$(date +%s%N)
  "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
  e=$(date +%s%N)
  echo $(((e - s) / 1000))
}
med() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# warm up: the image in the store, the node's caches; the squashfs file in a directory
# of its own, removed at the end
$R run --rm "$IMG" /bin/true
srun --quiet -n1 --container-image="$IMG" /bin/true
sqdir=$(mktemp -d "${TMPDIR:-/tmp}/rrun-bench-slurm.XXXXXX")
trap 'rm -rf -- "$sqdir"' EXIT
SQSH=$sqdir/image.sqsh
$R image export --format squashfs "$IMG" -o "$SQSH" >/dev/null
srun --quiet -n1 --container-image="$SQSH" /bin/true

declare -A times
cases=(plain rrun srun_ctr plain8 srun_ctr8 srun_sqsh)
for ((i = 0; i < N; i++)); do
  times[plain]+="$(t srun --quiet -n1 /bin/true) "
  times[rrun]+="$(t "$R" run --rm --network host --ipc host "$IMG" /bin/true) "
  times[srun_ctr]+="$(t srun --quiet -n1 --container-image="$IMG" /bin/true) "
  times[plain8]+="$(t srun --quiet -O -n8 /bin/true) "
  times[srun_ctr8]+="$(t srun --quiet -O -n8 --container-image="$IMG" /bin/true) "
  times[srun_sqsh]+="$(t srun --quiet -n1 --container-image="$SQSH" /bin/true) "
done
declare -A m
for c in "${cases[@]}"; do
  # shellcheck disable=SC2086 # a list of numbers
  m[$c]=$(printf '%s\n' ${times[$c]} | med)
done
printf 'runs: %s (medians, ms)\n' "$N"
printf 'srun -n1 /bin/true                          %8.1f\n' "$(bc -l <<<"${m[plain]} / 1000")"
printf 'rrun run --rm --network host --ipc host IMG /bin/true %.1f\n' "$(bc -l <<<"${m[rrun]} / 1000")"
printf 'srun -n1 --container-image=IMG /bin/true    %8.1f\n' "$(bc -l <<<"${m[srun_ctr]} / 1000")"
printf '  ratio to srun + rrun run:                 %8.2f (goal <= 1.5)\n' \
  "$(bc -l <<<"${m[srun_ctr]} / (${m[plain]} + ${m[rrun]})")"
printf 'srun -O -n8 /bin/true                       %8.1f\n' "$(bc -l <<<"${m[plain8]} / 1000")"
printf 'srun -O -n8 --container-image=IMG /bin/true %8.1f\n' "$(bc -l <<<"${m[srun_ctr8]} / 1000")"
printf '  8 tasks / 1 task (containers):            %8.2f (goal <= 2)\n' \
  "$(bc -l <<<"${m[srun_ctr8]} / ${m[srun_ctr]}")"
printf 'srun -n1 --container-image=FILE.sqsh /bin/true %5.1f\n' "$(bc -l <<<"${m[srun_sqsh]} / 1000")"
printf '  squashfs file / store:                    %8.2f (goal <= 1.5)\n' \
  "$(bc -l <<<"${m[srun_sqsh]} / ${m[srun_ctr]}")"
