#!/bin/bash
# bench/build.sh [RUNS]: rrun build, push and COPY side by side with podman build (buildah)
# and skopeo, medians of RUNS:
#   cold    a multi-stage busybox Dockerfile with 5 RUN steps, empty cache
#   cached  a fully cached rebuild of a 10-step Dockerfile
#   copy    COPY of a 5,000-file context (cache off) vs tar -c | tar -x of the same tree,
#           and the same build fully cached (the context digested through the stat cache)
#   push    a ~100 MB image (4 gzip layers) to a local docker-registry vs skopeo copy
# The base image is the test fixtures' busybox rootfs, imported into both engines. Run as
# an unprivileged user with a subordinate ID range. RRUN: the rrun binary.
set -euo pipefail

RUNS=${1:-3}
RRUN=${RRUN:-rrun}
PARTS=${BENCH_PARTS:-cold cached copy push} # a subset: BENCH_PARTS="cached copy"
part() { [[ " $PARTS " == *" $1 "* ]]; }
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/integration/registry-helpers.bash
source "$here/../tests/integration/registry-helpers.bash"

if [ "$(id -u)" = 0 ]; then
  echo "bench/build.sh: run it as an unprivileged user" >&2
  exit 1
fi
have_podman=0
command -v podman >/dev/null && have_podman=1

T=$(mktemp -d)
RR=$T/rr
PD=(podman --root "$T/pd" --runroot "$T/pd-run" --storage-driver overlay --cgroup-manager cgroupfs --events-backend none --runtime runc)
cleanup() {
  reg_stop "$T/reg" 2>/dev/null || true
  "$RRUN" --root "$RR" system reset -f >/dev/null 2>&1 || true
  ((have_podman)) && "${PD[@]}" system reset -f >/dev/null 2>&1 || true
  rm -rf "$T" 2>/dev/null || true
}
trap cleanup EXIT

"$here/../tests/fixtures/make-rootfs.sh" "$T/fx" >/dev/null
"$RRUN" --root "$RR" import "$T/fx/rootfs.tar" bb >/dev/null
((have_podman)) && "${PD[@]}" import -q "$T/fx/rootfs.tar" localhost/bb >/dev/null

now() { date +%s.%N; }
declare -A MED
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# timed NAME PREP-FUNCTION COMMAND...: PREP runs before each run, untimed.
timed() {
  local name=$1 prep=$2 i t0 t1 times=()
  shift 2
  for ((i = 0; i < RUNS; i++)); do
    $prep
    t0=$(now)
    "$@" >/dev/null 2>&1
    t1=$(now)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  MED[$name]=$(median "${times[@]}")
  printf '%-14s median %7.3f s   (runs: %s)\n' "$name" "${MED[$name]}" "${times[*]}"
}
ratio() { echo "$1 / $2" | bc -l | cut -c1-5; }
noop() { :; }

# cold: multi-stage, 5 RUN steps
if part cold; then
mkdir -p "$T/cold"
cat >"$T/cold/Dockerfile" <<'EOF'
FROM localhost/bb AS build
RUN mkdir -p /out && echo one >/out/1
RUN echo two >/out/2
RUN seq 1 1000 >/out/seq
FROM localhost/bb
COPY --from=build /out /out
RUN cat /out/1 /out/2 >/out/both
RUN wc -l /out/seq >/out/count
EOF
rr_clear() { "$RRUN" --root "$RR" image prune -f >/dev/null 2>&1 || true; }
pd_clear() { "${PD[@]}" image prune -f >/dev/null 2>&1 || true; }
timed rr-cold rr_clear "$RRUN" --root "$RR" build --no-cache -q --network none "$T/cold"
((have_podman)) && timed pd-cold pd_clear "${PD[@]}" build --no-cache -q --network none --layers "$T/cold"
fi

# cached: 10 steps, built once, then timed
if part cached; then
mkdir -p "$T/cached"
echo data >"$T/cached/file"
cat >"$T/cached/Dockerfile" <<'EOF'
FROM localhost/bb
ENV A=1
RUN echo 1 >/one
COPY file /file
RUN echo 2 >/two
WORKDIR /srv
LABEL x=y
RUN echo 3 >/three
EXPOSE 80
CMD ["cat", "/one"]
EOF
"$RRUN" --root "$RR" build -q --network none "$T/cached" >/dev/null
timed rr-cached noop "$RRUN" --root "$RR" build -q --network none "$T/cached"
if ((have_podman)); then
  "${PD[@]}" build -q --network none --layers "$T/cached" >/dev/null 2>&1
  timed pd-cached noop "${PD[@]}" build -q --network none --layers "$T/cached"
fi
fi

# copy: 5,000 files of 4 KB
if part copy; then
mkdir -p "$T/copy/tree"
python3 - "$T/copy/tree" <<'EOF'
import os, sys
root = sys.argv[1]
for d in range(50):
    os.makedirs(f"{root}/d{d}")
    for f in range(100):
        open(f"{root}/d{d}/f{f}", "wb").write(os.urandom(4096))
EOF
printf 'FROM localhost/bb\nCOPY tree /tree\n' >"$T/copy/Dockerfile"
timed rr-copy noop "$RRUN" --root "$RR" build --no-cache -q "$T/copy"
tarcopy() { rm -rf "$T/tarout"; mkdir "$T/tarout"; tar -C "$T/copy" -cf - tree | tar -C "$T/tarout" -xf -; }
timed tar-copy noop tarcopy
((have_podman)) && timed pd-copy noop "${PD[@]}" build --no-cache -q "$T/copy"
# The same COPY fully cached: the context is digested again; with the stat cache no
# unchanged file is read (files changed in the last 2 s are always read).
sleep 2.1
"$RRUN" --root "$RR" build -q "$T/copy" >/dev/null
timed rr-copy-cached noop "$RRUN" --root "$RR" build -q "$T/copy"
if ((have_podman)); then
  "${PD[@]}" build -q --layers "$T/copy" >/dev/null 2>&1
  timed pd-copy-cached noop "${PD[@]}" build -q --layers "$T/copy"
fi
fi

# push: ~100 MB in 4 gzip layers, loaded from an OCI layout
if part push; then
python3 - "$T/oci" <<'EOF'
import gzip, hashlib, io, json, os, sys, tarfile
out = sys.argv[1]
blobs = os.path.join(out, "blobs", "sha256"); os.makedirs(blobs)
def put(data):
    h = hashlib.sha256(data).hexdigest(); open(os.path.join(blobs, h), "wb").write(data); return h
descs, diffs = [], []
for l in range(4):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for i in range(1250):
            data = os.urandom(20 * 1024); ti = tarfile.TarInfo("d%d/f%04d" % (l, i)); ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue(); gz = gzip.compress(raw, compresslevel=1, mtime=0)
    descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + put(gz), "size": len(gz)})
    diffs.append("sha256:" + hashlib.sha256(raw).hexdigest())
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": diffs}}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + put(cfg), "size": len(cfg)},
                  "layers": descs}).encode()
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
           "digest": "sha256:" + put(man), "size": len(man), "annotations": {"org.opencontainers.image.ref.name": "big"}}]},
          open(os.path.join(out, "index.json"), "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(out, "oci-layout"), "w"))
EOF
"$RRUN" --root "$RR" load -q -i "$T/oci" >/dev/null
BIG=$("$RRUN" --root "$RR" images -q | head -1)
REG=$(reg_start "$T/reg")
n=0
fresh_repo() { n=$((n + 1)); }
timed rr-push fresh_repo bash -c "\"$RRUN\" --root \"$RR\" push -q --tls-verify=false $BIG $REG/rr/big\$RANDOM:1"
timed sk-push noop bash -c "HOME=$T/skh\$RANDOM skopeo copy -q --dest-tls-verify=false oci:$T/oci:big docker://$REG/sk/big\$RANDOM:1"
fi

echo
r() { [ -n "${MED[$1]:-}" ] && [ -n "${MED[$2]:-}" ] && ratio "${MED[$1]}" "${MED[$2]}" || echo -; }
echo "cold multi-stage build, podman/rrun:    $(r pd-cold rr-cold)"
echo "cached 10-step rebuild, podman/rrun:    $(r pd-cached rr-cached)"
echo "COPY of 5,000 files, rrun/tar:          $(r rr-copy tar-copy)"
echo "cached COPY of 5,000 files, podman/rrun: $(r pd-copy-cached rr-copy-cached)"
echo "push of ~100 MB, rrun/skopeo:           $(r rr-push sk-push)"
