#!/bin/bash
# check.sh [IMAGE]: the real-GPU check of issue 20, for a machine with an NVIDIA GPU and
# its driver. Run as an unprivileged user with rrun on PATH (or RRUN=path/to/rrun):
#
#   tests/gpu/check.sh docker.io/nvidia/cuda:12.4.1-base-ubuntu22.04
#
# Any image works for nvidia-smi (the driver's nvidia-smi is bound in); a CUDA image
# also runs the deviceQuery-like check when it has one. Prints one "ok"/"FAIL" line per
# check and exits non-zero if any failed. Paste the output into docs/hpc.md ("GPUs").
set -uo pipefail
RRUN=${RRUN:-rrun}
IMAGE=${1:-docker.io/library/ubuntu:22.04}
failed=0

check() { # NAME CMD...
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then
    echo "ok   $name"
  else
    echo "FAIL $name"
    failed=1
  fi
  sed 's/^/     /' <<<"$out" | head -40
}

if (($(id -u) == 0)); then
  echo "check.sh: run it as an unprivileged user (rrun is rootless)" >&2
  exit 2
fi
echo "# $(date -u +%FT%TZ) $(uname -r) $("$RRUN" version 2>/dev/null | head -1)"
command -v nvidia-smi >/dev/null && nvidia-smi -L | sed 's/^/# host: /'
check "rrun info lists the GPUs" sh -c "'$RRUN' info | sed -n '/^devices:/,\$p'"
# Driver discovery: no CDI spec is read (an empty spec dir).
empty=$(mktemp -d)
check "--gpus all (driver discovery): nvidia-smi sees the GPUs" \
  env RRUN_CDI_SPEC_DIRS="$empty" "$RRUN" run --rm --gpus all "$IMAGE" nvidia-smi -L
check "--gpus device=0 (driver discovery): one GPU" \
  env RRUN_CDI_SPEC_DIRS="$empty" "$RRUN" run --rm --gpus device=0 "$IMAGE" nvidia-smi -L
check "--gpus all: libcuda.so.1 is loadable in the image" \
  env RRUN_CDI_SPEC_DIRS="$empty" "$RRUN" run --rm --gpus all "$IMAGE" \
  sh -c 'ls -l /usr/local/nvidia/lib64/libcuda.so.1 && echo "$LD_LIBRARY_PATH"'
if "$RRUN" run --rm --gpus all "$IMAGE" sh -c 'command -v deviceQuery' >/dev/null 2>&1; then
  check "a CUDA program (deviceQuery)" "$RRUN" run --rm --gpus all "$IMAGE" deviceQuery
fi
# CDI, where the NVIDIA container toolkit is installed: a spec written by nvidia-ctk into
# a private directory (no root needed to write it there).
if command -v nvidia-ctk >/dev/null; then
  cdi=$(mktemp -d)
  if nvidia-ctk cdi generate --output="$cdi/nvidia.yaml" >/dev/null 2>&1; then
    check "CDI --device nvidia.com/gpu=all: nvidia-smi" \
      env RRUN_CDI_SPEC_DIRS="$cdi" "$RRUN" run --rm --device nvidia.com/gpu=all "$IMAGE" nvidia-smi -L
    check "CDI --gpus 1: nvidia-smi" \
      env RRUN_CDI_SPEC_DIRS="$cdi" "$RRUN" run --rm --gpus 1 "$IMAGE" nvidia-smi -L
  else
    echo "skip CDI: nvidia-ctk cdi generate failed"
  fi
  rm -rf "$cdi"
else
  echo "skip CDI: nvidia-ctk is not installed"
fi
rm -rf "$empty"
exit $failed
