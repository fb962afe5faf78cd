#!/bin/bash
# bench/pull.sh [RUNS]: cold pull of a ~100 MB image in ~5000 files (4 gzip layers of
# random files) from a docker-registry on 127.0.0.1: rrun pull (download + extract) vs
# podman pull (download + extract) vs skopeo copy to an OCI dir (download only). Each run
# starts from an empty store. Prints the median, MB/s (of the compressed bytes) and the
# ratios. Then the layer-sharing case: an image sharing the 4 layers plus a small one.
# Run as an unprivileged user with a subordinate ID range. RRUN: the rrun binary.
set -euo pipefail

RUNS=${1:-3}
RRUN=${RRUN:-rrun}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/integration/registry-helpers.bash
source "$here/../tests/integration/registry-helpers.bash"

if [ "$(id -u)" = 0 ]; then
  echo "bench/pull.sh: run it as an unprivileged user (rootless is what is measured)" >&2
  exit 1
fi
for tool in docker-registry skopeo python3; do
  command -v "$tool" >/dev/null || { echo "bench/pull.sh: $tool is not installed" >&2; exit 1; }
done
have_podman=0
command -v podman >/dev/null && have_podman=1

T=$(mktemp -d)
cleanup() {
  reg_stop "$T/reg" || true
  for d in "$T"/rr*; do [ -d "$d" ] && "$RRUN" --root "$d" rmi -f "$REG/bench/big:latest" "$REG/bench/big2:latest" >/dev/null 2>&1 || true; done
  for d in "$T"/pd*; do
    [ -d "$d" ] && podman --root "$d" --runroot "$d-run" unshare rm -rf "$d" "$d-run" 2>/dev/null
  done
  rm -rf "$T" 2>/dev/null || true
}
trap cleanup EXIT

REG=$(reg_start "$T/reg")

# The image: 4 layers x 1250 files of 20 KB of random bytes (~100 MB), as an OCI layout.
python3 - "$T/oci" <<'EOF'
import gzip, hashlib, io, json, os, sys, tarfile
out = sys.argv[1]
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs)
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, h), "wb").write(data)
    return h
def layer(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    gz = gzip.compress(raw, compresslevel=1, mtime=0)
    return raw, gz
def image(tag, layers):
    descs, diff_ids = [], []
    for raw, gz in layers:
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                      "digest": "sha256:" + put(gz), "size": len(gz)})
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                      "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": "sha256:" + put(cfg), "size": len(cfg)},
                      "layers": descs}).encode()
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + put(man),
            "size": len(man), "annotations": {"org.opencontainers.image.ref.name": tag}}
base = [layer([("d%d/f%04d" % (l, i), os.urandom(20 * 1024)) for i in range(1250)]) for l in range(4)]
top = layer([("top/f%03d" % i, os.urandom(4096)) for i in range(100)])
index = {"schemaVersion": 2, "manifests": [image("big", base), image("big2", base + [top])]}
json.dump(index, open(os.path.join(out, "index.json"), "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(out, "oci-layout"), "w"))
print(sum(len(gz) for _, gz in base))
EOF
BYTES=$(python3 -c 'import json,os,sys; d=sys.argv[1]; i=json.load(open(d+"/index.json")); m=json.load(open(d+"/blobs/sha256/"+i["manifests"][0]["digest"][7:])); print(sum(l["size"] for l in m["layers"]))' "$T/oci")
push_oci "$T/oci" big "$REG/bench/big:latest"
push_oci "$T/oci" big2 "$REG/bench/big2:latest"
IMG=$REG/bench/big:latest
echo "image: $IMG, $((BYTES / 1000000)) MB compressed in 4 layers, 5000 files; $RUNS cold runs each"

now() { date +%s.%N; }
# time_runs NAME SETUP-PREFIX: runs "$@" RUNS times with {} replaced by a fresh dir.
declare -A MEDIAN
time_runs() {
  local name=$1 i d t0 t1
  shift
  local times=()
  for ((i = 0; i < RUNS; i++)); do
    d=$T/${name}$i
    local cmd=("${@//\{\}/$d}")
    t0=$(now)
    "${cmd[@]}" >/dev/null
    t1=$(now)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  MEDIAN[$name]=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-8s median %6.2f s  %7.1f MB/s   (runs: %s)\n' "$name" "${MEDIAN[$name]}" \
    "$(echo "$BYTES / 1000000 / ${MEDIAN[$name]}" | bc -l)" "${times[*]}"
}

time_runs rr "$RRUN" --root "{}" pull -q --tls-verify=false "$IMG"
time_runs sk skopeo copy -q --src-tls-verify=false "docker://$IMG" "oci:{}:big"
if ((have_podman)); then
  time_runs pd podman --root "{}" --runroot "{}-run" --storage-driver overlay --runtime runc \
    --cgroup-manager cgroupfs pull -q --tls-verify=false "$IMG"
fi

echo "rrun/skopeo (download only) time ratio: $(echo "${MEDIAN[rr]} / ${MEDIAN[sk]}" | bc -l | cut -c1-5)"
if ((have_podman)); then
  echo "podman/rrun time ratio (rrun speed-up): $(echo "${MEDIAN[pd]} / ${MEDIAN[rr]}" | bc -l | cut -c1-5)"
fi

# Layer sharing: with big in the store, big2 fetches only its small top layer.
t0=$(now)
"$RRUN" --root "$T/rr0" pull -q --tls-verify=false "$REG/bench/big2:latest" >/dev/null
t1=$(now)
printf 'shared base: rrun pull of big2 (only the new 0.4 MB layer) %.2f s\n' "$(echo "$t1 - $t0" | bc -l)"
