#!/bin/bash
# run-fuzz.sh TARGET CORPUS: run a libFuzzer target for FUZZ_SECONDS (default 15) on a copy
# of the corpus in the tree (new inputs go to a scratch directory, not into the tree), then
# print the executions. A crash fails the run and leaves crash-* in the scratch directory.
set -euo pipefail
target=$1 corpus=$2
seconds=${FUZZ_SECONDS:-15}
work=$(mktemp -d "${TMPDIR:-/tmp}/rrun-fuzz.XXXXXX")
mkdir "$work/new"
status=0
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/new" "$corpus" >"$work/log" 2>&1 || status=$?
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$work/log" || true
if ((status != 0)); then
  tail -60 "$work/log"
  echo "fuzz: $target failed (status $status); artifacts in $work" >&2
  exit 1
fi
rm -rf "$work"
