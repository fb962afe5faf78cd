#!/bin/bash
# bench/push.sh [RUNS]: push of a ~100 MB image whose layers must be compressed (4 plain
# tar layers, as build and commit keep them: 5,000 files of 20 KB, half random, half
# text) to a docker-registry on 127.0.0.1, side by side in one run, medians of RUNS:
#   gzip  rrun push | skopeo copy from an OCI layout of the same plain layers | podman push
#   zstd  the same with --compression-format zstd (skopeo: --dest-compress-format zstd)
#   oci   rrun push oci:DIR:TAG | skopeo copy to oci:DIR:TAG (gzip; a new layout each run)
# Every run pushes to a new repository, and skopeo and podman start with no blob-info
# cache, so no one mounts or skips a blob an earlier run sent. Run as an unprivileged user
# with a subordinate ID range (podman). RRUN: the rrun binary. BENCH_PARTS: a subset.
set -euo pipefail

RUNS=${1:-3}
RRUN=${RRUN:-rrun}
PARTS=${BENCH_PARTS:-gzip zstd oci}
part() { [[ " $PARTS " == *" $1 "* ]]; }
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/integration/registry-helpers.bash
source "$here/../tests/integration/registry-helpers.bash"

if [ "$(id -u)" = 0 ]; then
  echo "bench/push.sh: run it as an unprivileged user" >&2
  exit 1
fi
for tool in docker-registry skopeo python3 bc; do
  command -v "$tool" >/dev/null || { echo "bench/push.sh: $tool is not installed" >&2; exit 1; }
done
have_podman=0
command -v podman >/dev/null && have_podman=1

# podman names an image pulled from oci:DIR after DIR, which must be lowercase
T=/tmp/pushbench-$$-$RANDOM
mkdir -m 0700 "$T"
RR=$T/rr
# podman refuses a runroot path longer than 50 characters
PDRUN=$(mktemp -d /tmp/pbpd.XXXXXX)
mkdir -m 0700 "$T/xdg"
# podman keeps its blob-info cache under XDG_DATA_HOME whatever --root says
PD=(env XDG_RUNTIME_DIR="$T/xdg" XDG_DATA_HOME="$T/pdd" podman --root "$T/pd" --runroot "$PDRUN" --storage-driver vfs
  --cgroup-manager cgroupfs --events-backend none --runtime runc)
cleanup() {
  reg_stop "$T/reg" 2>/dev/null || true
  "$RRUN" --root "$RR" system reset -f >/dev/null 2>&1 || true
  if ((have_podman)); then
    "${PD[@]}" system reset -f >/dev/null 2>&1 || true
    local pause
    pause=$(cat "$T/xdg/libpod/tmp/pause.pid" 2>/dev/null) || true
    if [ -n "$pause" ]; then kill "$pause" 2>/dev/null || true; fi
  fi
  rm -rf "$T" "$PDRUN" 2>/dev/null || true
}
trap cleanup EXIT

# The image, as an OCI layout with plain (uncompressed) layers.
python3 - "$T/oci" <<'EOF'
import hashlib, io, json, os, random, sys, tarfile
out = sys.argv[1]
blobs = os.path.join(out, "blobs", "sha256"); os.makedirs(blobs)
def put(data):
    h = hashlib.sha256(data).hexdigest(); open(os.path.join(blobs, h), "wb").write(data); return h
words = [b"layer", b"image", b"registry", b"container", b"rootless", b"push", b"blob",
         b"digest", b"manifest", b"config", b"zstd", b"gzip"]
rnd = random.Random(17)
descs = []
for l in range(4):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for i in range(1250):
            text = b" ".join(rnd.choice(words) for _ in range(1700))[:10 * 1024]
            data = os.urandom(10 * 1024) + text
            ti = tarfile.TarInfo("d%d/f%04d" % (l, i)); ti.size = len(data); ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + put(raw), "size": len(raw)})
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                  "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in descs]}}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + put(cfg), "size": len(cfg)},
                  "layers": descs}).encode()
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
           "digest": "sha256:" + put(man), "size": len(man), "annotations": {"org.opencontainers.image.ref.name": "big"}}]},
          open(os.path.join(out, "index.json"), "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(out, "oci-layout"), "w"))
EOF
echo "image: $(du -sm "$T/oci/blobs" | cut -f1) MB of plain layers"
"$RRUN" --root "$RR" pull -q "oci:$T/oci:big" >/dev/null
BIG=docker.io/library/big:latest
if ((have_podman)); then
  if ! "${PD[@]}" pull -q "oci:$T/oci:big" >/dev/null 2>"$T/pd-err"; then
    echo "podman does not work here, left out: $(tail -1 "$T/pd-err")" >&2
    have_podman=0
  fi
fi
PDBIG=
if ((have_podman)); then PDBIG=$("${PD[@]}" images -q | head -1); fi
REG=$(reg_start "$T/reg")

now() { date +%s.%N; }
declare -A MED
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# timed NAME PREP-FUNCTION COMMAND...: PREP runs before each run, untimed. A failed run
# stops the benchmark.
timed() {
  local name=$1 prep=$2 i t0 t1 times=()
  shift 2
  for ((i = 0; i < RUNS; i++)); do
    $prep
    t0=$(now)
    "$@" >/dev/null 2>"$T/err" || { echo "$name failed: $(cat "$T/err")" >&2; exit 1; }
    t1=$(now)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  MED[$name]=$(median "${times[@]}")
  printf '%-12s median %7.3f s   (runs: %s)\n' "$name" "${MED[$name]}" "${times[*]}"
}
noop() { :; }
# no blob-info cache (podman's under XDG_DATA_HOME, skopeo's under HOME): neither may
# mount or skip a blob an earlier run sent
fresh() {
  rm -rf "$T/pdd" "$T/skh" "$T/layout"
  mkdir -p "$T/skh"
}
ratio() { echo "$1 / $2" | bc -l | cut -c1-5; }

for c in gzip zstd; do
  part "$c" || continue
  timed "rr-$c" fresh bash -c "\"$RRUN\" --root \"$RR\" push -q --tls-verify=false --compression-format $c $BIG $REG/rr/$c\$RANDOM\$RANDOM:1"
  timed "sk-$c" fresh bash -c "HOME=$T/skh skopeo copy -q --dest-compress-format $c --dest-tls-verify=false oci:$T/oci:big docker://$REG/sk/$c\$RANDOM\$RANDOM:1"
  if ((have_podman)); then
    timed "pd-$c" fresh bash -c "$(printf '%q ' "${PD[@]}") push -q --tls-verify=false --compression-format $c $PDBIG docker://$REG/pd/$c\$RANDOM\$RANDOM:1"
  fi
done
if part oci; then
  timed rr-oci fresh "$RRUN" --root "$RR" push -q "$BIG" "oci:$T/layout:big"
  timed sk-oci fresh bash -c "HOME=$T/skh skopeo copy -q --dest-compress-format gzip oci:$T/oci:big oci:$T/layout:big"
fi

echo
r() { [ -n "${MED[$1]:-}" ] && [ -n "${MED[$2]:-}" ] && ratio "${MED[$1]}" "${MED[$2]}" || echo -; }
echo "gzip push, rrun/skopeo:  $(r rr-gzip sk-gzip)   rrun/podman: $(r rr-gzip pd-gzip)"
echo "zstd push, rrun/skopeo:  $(r rr-zstd sk-zstd)   rrun/podman: $(r rr-zstd pd-zstd)"
echo "oci:DIR,   rrun/skopeo:  $(r rr-oci sk-oci)"
