#!/bin/bash
# check.sh [IMAGE|DIR]: the real-GPU check of issue 20, for a machine with an NVIDIA GPU,
# its driver and cgroup v2 (docs/hpc.md, "GPUs"). Run it unchanged, as an unprivileged
# user, with rrun on PATH (or RRUN=path/to/rrun):
#
#   tests/gpu/check.sh docker.io/library/ubuntu:22.04   # an image (pulled or loaded)
#   tests/gpu/check.sh /scratch/rootfs/ubuntu-22.04      # an unpacked root: --rootfs
#
# Any image with a C library works: the driver's nvidia-smi and libraries are bound in,
# so no CUDA is needed in the image; a CUDA image also runs deviceQuery when it has one.
# An offline machine: `rrun load -i ubuntu.tar` first, or give a directory.
#
# What it checks, one "ok", "FAIL" or "skip" line each (the output is what docs/hpc.md
# records), exiting non-zero when any failed:
#   - rrun info lists the GPUs;
#   - --gpus all, --gpus device=0 and --gpus 1: nvidia-smi in the container lists the same
#     GPUs as on the host (driver discovery: an empty CDI spec dir);
#   - --device nvidia.com/gpu=all through CDI: the system's specs (/etc/cdi, /var/run/cdi)
#     when they name nvidia.com/gpu, a spec nvidia-ctk writes into a private dir when it
#     is installed, else driver discovery (no spec);
#   - libcuda.so.1 loadable (ld.so.conf entry, LD_LIBRARY_PATH), deviceQuery if present;
#   - cgroup v2 limits, with and without a GPU: --memory (a memory hog is OOM-killed,
#     exit 137, inspect's State.OOMKilled true), --cpus (cpu.max, and a busy loop held
#     near it), --pids-limit (pids.max, and a fork loop stopped).
# shellcheck disable=SC2016,SC2317 # sh -c scripts expand in the container; check calls the functions
set -uo pipefail
RRUN=${RRUN:-rrun}
TARGET=${1:-docker.io/library/ubuntu:22.04}
failed=0

if [[ -d $TARGET ]]; then
  IMG=(--rootfs "$TARGET")
else
  IMG=("$TARGET")
fi

check() { # NAME CMD...: ok when CMD succeeds
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then
    echo "ok   $name"
  else
    echo "FAIL $name"
    failed=1
  fi
  printf '%s\n' "$out" | sed 's/^/     /' | head -n 40
}

skip() { # NAME WHY
  echo "skip $1: $2"
}

run_ctr() { # rrun run options... -- COMMAND...
  local opts=()
  while (($#)) && [[ $1 != -- ]]; do
    opts+=("$1")
    shift
  done
  shift
  "$RRUN" run --rm "${opts[@]}" "${IMG[@]}" "$@"
}

# nvidia-smi -L in the container lists exactly the host's GPUs (or the first N of them).
same_gpus() { # N|all rrun-options...
  local n=$1 want got
  shift
  want=$(nvidia-smi -L)
  [[ $n == all ]] || want=$(head -n "$n" <<<"$want")
  got=$(run_ctr "$@" -- nvidia-smi -L) || {
    echo "$got"
    return 1
  }
  echo "$got"
  [[ $got == "$want" ]] || {
    echo "expected (host): $want"
    return 1
  }
}

if (($(id -u) == 0)); then
  echo "check.sh: run it as an unprivileged user (rrun is rootless)" >&2
  exit 2
fi
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "check.sh: no working nvidia-smi on the host: is the NVIDIA driver loaded?" >&2
  exit 2
fi
echo "# $(date -u +%FT%TZ) $(uname -r) $("$RRUN" version 2>/dev/null | head -n 1)"
echo "# driver $(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n 1)," \
  "cgroup $(stat -fc %T /sys/fs/cgroup), image ${IMG[*]}"
nvidia-smi -L | sed 's/^/# host: /'
ngpu=$(nvidia-smi -L | wc -l)

info_gpus() { # every host GPU's UUID appears in rrun info's "GPUs (--gpus)" lines
  local out uuid
  out=$("$RRUN" info) || return 1
  grep -A "$ngpu" 'GPUs (--gpus)' <<<"$out"
  for uuid in $(nvidia-smi --query-gpu=uuid --format=csv,noheader); do
    grep -q "nvidia [0-9]*: /dev/nvidia[0-9]* $uuid" <<<"$out" || return 1
  done
}
check "rrun info lists the GPUs" info_gpus

# Driver discovery: no CDI spec is read (an empty spec dir).
empty=$(mktemp -d)
cdi=$(mktemp -d)
trap 'rm -rf "$empty" "$cdi"' EXIT
export RRUN_CDI_SPEC_DIRS=$empty
check "--gpus all (driver discovery): nvidia-smi lists the host's $ngpu GPU(s)" \
  same_gpus all --gpus all
check "--gpus device=0 (driver discovery): the first GPU only" \
  same_gpus 1 --gpus device=0
check "--gpus 1 (driver discovery): one GPU" same_gpus 1 --gpus 1
check "--device nvidia.com/gpu=all without a CDI spec: driver discovery" \
  same_gpus all --device nvidia.com/gpu=all
# (nvidia-smi above loaded libnvidia-ml.so.1 the same way)
check "--gpus all: libcuda.so.1 is where the dynamic linker looks" \
  run_ctr --gpus all -- sh -c 'ls -l /usr/local/nvidia/lib64/libcuda.so.1 &&
    grep -x /usr/local/nvidia/lib64 /etc/ld.so.conf.d/000-rrun-devices.conf &&
    case ":$LD_LIBRARY_PATH:" in *:/usr/local/nvidia/lib64:*) ;; *) exit 1 ;; esac'
if run_ctr --gpus all -- sh -c 'command -v deviceQuery' >/dev/null 2>&1; then
  check "a CUDA program (deviceQuery)" run_ctr --gpus all -- deviceQuery
else
  skip "a CUDA program" "the image has no deviceQuery (nvidia-smi above needs no CUDA)"
fi

# CDI: the administrator's specs, else one nvidia-ctk writes into a private directory (no
# root needed to write it there), else none (discovery, checked above).
unset RRUN_CDI_SPEC_DIRS
if grep -qs 'nvidia.com/gpu' /etc/cdi/* /var/run/cdi/*; then
  check "CDI (system specs): --device nvidia.com/gpu=all" \
    same_gpus all --device nvidia.com/gpu=all
  check "CDI (system specs): --gpus all names the spec's devices" same_gpus all --gpus all
elif command -v nvidia-ctk >/dev/null; then
  if nvidia-ctk cdi generate --output="$cdi/nvidia.yaml" >"$cdi/log" 2>&1; then
    export RRUN_CDI_SPEC_DIRS=$cdi
    check "CDI (nvidia-ctk's spec): --device nvidia.com/gpu=all" \
      same_gpus all --device nvidia.com/gpu=all
    check "CDI (nvidia-ctk's spec): --device nvidia.com/gpu=0" \
      same_gpus 1 --device nvidia.com/gpu=0
    check "CDI (nvidia-ctk's spec): --gpus 1" same_gpus 1 --gpus 1
    unset RRUN_CDI_SPEC_DIRS
  else
    skip "CDI" "nvidia-ctk cdi generate failed: $(tail -n 1 "$cdi/log")"
  fi
else
  skip "CDI" "no spec for nvidia.com/gpu in /etc/cdi or /var/run/cdi, and no nvidia-ctk" \
    "(--device nvidia.com/gpu=all went through driver discovery above)"
fi

# cgroup v2 limits. rrun puts each container in a cgroup of its own (a systemd scope, or
# a delegated directory), and the limits need their controllers delegated to the user.
if [[ $(stat -fc %T /sys/fs/cgroup) != cgroup2fs ]]; then
  skip "cgroup limits" "/sys/fs/cgroup is not cgroup v2 only (hybrid or v1)"
  exit $failed
fi
# the memory hog: a string doubling until the limit kills the shell (no swap allowed)
hog='x=a; while :; do x="$x$x"; done'
name=rrun-gpu-check-oom-$$
"$RRUN" rm -f "$name" >/dev/null 2>&1
oom() { # rrun-options...: exit 137 and State.OOMKilled true
  local rc=0 out
  out=$("$RRUN" run --name "$name" --memory 64m --memory-swap 64m "$@" "${IMG[@]}" \
    sh -c "$hog" 2>&1) || rc=$?
  echo "$out" | tail -n 3
  echo "exit status $rc"
  out=$("$RRUN" inspect --format '{{.State.OOMKilled}} {{.State.ExitCode}}' "$name")
  echo "inspect: $out"
  "$RRUN" rm -f "$name" >/dev/null
  [[ $rc -eq 137 && $out == "true 137" ]]
}
check "--memory 64m: a memory hog is OOM-killed (exit 137, State.OOMKilled)" oom
check "--memory 64m --gpus all: the same with the GPUs passed" oom --gpus all
check "--cpus 0.5: cpu.max, and a busy loop of 3 s gets about 1.5 s of CPU" \
  run_ctr --cpus 0.5 -- sh -c 'cat /sys/fs/cgroup/cpu.max; grep -qx "50000 100000" /sys/fs/cgroup/cpu.max &&
    timeout 3 sh -c "while :; do :; done"; u=$(sed -n "s/^usage_usec //p" /sys/fs/cgroup/cpu.stat);
    echo "usage_usec $u"; [ "$u" -gt 1000000 ] && [ "$u" -lt 2200000 ]'
# the fork loop's shell dies at the first refused fork; the outer one reads pids.events
# with builtins only (a fork would be refused too while the sleeps hold the pids)
check "--pids-limit 32: pids.max, and a fork loop is stopped" \
  run_ctr --pids-limit 32 -- sh -c 'cat /sys/fs/cgroup/pids.max; grep -qx 32 /sys/fs/cgroup/pids.max || exit 1
    sh -c "for i in \$(seq 64); do sleep 5 & done; wait" 2>/dev/null
    m=0; while read -r k v; do [ "$k" = max ] && m=$v; done </sys/fs/cgroup/pids.events
    echo "forks refused: $m"; [ "$m" -gt 0 ]'
check "--gpus all --memory 1g --cpus 1 --pids-limit 100: nvidia-smi under limits" \
  same_gpus all --gpus all --memory 1g --cpus 1 --pids-limit 100
exit $failed
