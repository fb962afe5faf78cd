# Helpers for registry tests: a throwaway docker-registry on 127.0.0.1 (optionally with
# htpasswd auth) and a small OCI layout made from busybox-static, pushed with skopeo.
# Every wait is bounded.

# A free TCP port on 127.0.0.1 (checked with ss; bounded tries).
reg_free_port() {
    local port _
    for _ in $(seq 1 50); do
        port=$(( 20000 + RANDOM % 30000 ))
        if ! ss -Htln "sport = :$port" | grep -q .; then
            echo "$port"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}

# reg_start DIR [HTPASSWD_FILE]: start docker-registry with storage in DIR; prints
# 127.0.0.1:PORT. The pid is in DIR/pid.
reg_start() {
    local dir=$1 htpasswd=${2:-} auth=""
    if [ -n "$htpasswd" ]; then
        auth="auth:
  htpasswd:
    realm: rrun-test
    path: $htpasswd"
    fi
    _reg_start_with "$dir" "$auth"
}

# reg_start_token DIR USERS_FILE: a registry behind the bearer-token flow (as Docker Hub
# uses): tests/fixtures/token-server.py in DIR/token issues tokens (anonymous: pull of
# public/*; users from USERS_FILE: anything). Prints 127.0.0.1:PORT of the registry.
reg_start_token() {
    local dir=$1 users=$2 fixtures tport _
    fixtures=$(cd "$BATS_TEST_DIRNAME/../fixtures" && pwd)
    mkdir -p "$dir/token"
    python3 "$fixtures/token-server.py" "$dir/token" "$users" > "$dir/token/log" 2>&1 &
    echo $! > "$dir/token/pid"
    for _ in $(seq 1 80); do
        [ -s "$dir/token/port" ] && break
        sleep 0.25
    done
    if [ ! -s "$dir/token/port" ]; then
        echo "token-server.py did not start:" >&2
        cat "$dir/token/log" >&2
        return 1
    fi
    tport=$(cat "$dir/token/port")
    _reg_start_with "$dir" "auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: rrun-test-registry
    issuer: rrun-test-issuer
    rootcertbundle: $dir/token/cert.pem"
}

_reg_start_with() {
    local dir=$1 auth=$2 port _
    port=$(reg_free_port) || return 1
    mkdir -p "$dir/storage"
    cat > "$dir/config.yml" <<EOC
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$auth
EOC
    # docker-registry reads REGISTRY_* variables as configuration overrides, and
    # REGISTRY_AUTH_FILE (podman's auth.json path) would become its "auth.file" setting.
    # shellcheck disable=SC2046
    env $(env | sed -n 's/^\(REGISTRY_[A-Za-z0-9_]*\)=.*/-u \1/p') \
        docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
    echo $! > "$dir/pid"
    # (up to 20 s, as for the token server: a loaded machine starts it slowly)
    for _ in $(seq 1 80); do
        if curl -s -o /dev/null "http://127.0.0.1:$port/v2/"; then
            echo "127.0.0.1:$port"
            return 0
        fi
        sleep 0.25
    done
    echo "docker-registry did not start:" >&2
    cat "$dir/log" >&2
    reg_stop "$dir"
    return 1
}

reg_stop() {
    local dir=$1 pid _
    if [ -f "$dir/token/pid" ]; then
        kill "$(cat "$dir/token/pid")" 2>/dev/null || true
        rm -f "$dir/token/pid"
    fi
    [ -f "$dir/pid" ] || return 0
    pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/pid"
}

_sha256() { sha256sum "$1" | cut -d' ' -f1; }
_size() { stat -c %s "$1"; }

# oci_add_blob LAYOUT FILE: move FILE into LAYOUT's blobs; prints its hex digest.
oci_add_blob() {
    local layout=$1 file=$2 hex
    hex=$(_sha256 "$file")
    mkdir -p "$layout/blobs/sha256"
    mv "$file" "$layout/blobs/sha256/$hex"
    echo "$hex"
}

# make_busybox_oci LAYOUT TAG [ARCH]: an OCI layout with two gzip layers (busybox + sh
# link; a file in /etc) tagged TAG.
make_busybox_oci() {
    local layout=$1 tag=$2 arch=${3:-amd64} work l1 l2 d1 d2 cfg m
    work=$(mktemp -d)
    mkdir -p "$layout" "$work/r1/bin" "$work/r2/etc"
    cp /bin/busybox "$work/r1/bin/busybox"
    ln -s busybox "$work/r1/bin/sh"
    echo "hello from layer 2 ($arch)" > "$work/r2/etc/hello"
    tar --numeric-owner --owner=0 --group=0 -C "$work/r1" -cf "$work/l1.tar" .
    tar --numeric-owner --owner=0 --group=0 -C "$work/r2" -cf "$work/l2.tar" .
    d1=$(_sha256 "$work/l1.tar"); d2=$(_sha256 "$work/l2.tar")
    gzip -n -c "$work/l1.tar" > "$work/l1.tgz"; gzip -n -c "$work/l2.tar" > "$work/l2.tgz"
    local s1 s2
    s1=$(_size "$work/l1.tgz"); s2=$(_size "$work/l2.tgz")
    l1=$(oci_add_blob "$layout" "$work/l1.tgz"); l2=$(oci_add_blob "$layout" "$work/l2.tgz")
    printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' \
        "$arch" "$d1" "$d2" > "$work/config.json"
    local cs
    cs=$(_size "$work/config.json")
    cfg=$(oci_add_blob "$layout" "$work/config.json")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
        "$cfg" "$cs" "$l1" "$s1" "$l2" "$s2" > "$work/manifest.json"
    local ms
    ms=$(_size "$work/manifest.json")
    m=$(oci_add_blob "$layout" "$work/manifest.json")
    echo '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
        "$m" "$ms" "$tag" > "$layout/index.json"
    rm -rf "$work"
    echo "sha256:$m"
}

# push_oci LAYOUT TAG REGISTRY/NAME:TAG [skopeo args...]
push_oci() {
    local layout=$1 tag=$2 dest=$3
    shift 3
    skopeo copy -q --dest-tls-verify=false "$@" "oci:$layout:$tag" "docker://$dest" >&2
}

# make_multiarch_oci LAYOUT TAG: an OCI layout whose TAG is an image index of two images,
# linux/amd64 and linux/arm64 (busybox is the host's; only the config says arm64).
make_multiarch_oci() {
    local layout=$1 tag=$2 a b work ia ib idx is
    work=$(mktemp -d)
    a=$(make_busybox_oci "$work/a" a amd64)
    b=$(make_busybox_oci "$work/b" b arm64)
    mkdir -p "$layout/blobs/sha256"
    cp -n "$work"/a/blobs/sha256/* "$work"/b/blobs/sha256/* "$layout/blobs/sha256/"
    ia=$(_size "$layout/blobs/sha256/${a#sha256:}")
    ib=$(_size "$layout/blobs/sha256/${b#sha256:}")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"os":"linux","architecture":"amd64"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}' \
        "$a" "$ia" "$b" "$ib" > "$work/index.json"
    is=$(_size "$work/index.json")
    idx=$(oci_add_blob "$layout" "$work/index.json")
    echo '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
        "$idx" "$is" "$tag" > "$layout/index.json"
    rm -rf "$work"
    echo "sha256:$idx $a $b"
}

# check_blob_dir DIR: every file in DIR/blobs/sha256 is named by its own sha256, and no
# temporary file is left.
check_blob_dir() {
    local f n=0
    for f in "$1"/blobs/sha256/* "$1"/blobs/sha256/.[!.]*; do
        [ -e "$f" ] || continue
        case $(basename "$f") in
            .*) echo "left behind: $f" >&2; return 1 ;;
        esac
        if [ "$(sha256sum "$f" | cut -d' ' -f1)" != "$(basename "$f")" ]; then
            echo "digest mismatch: $f" >&2
            return 1
        fi
        n=$((n + 1))
    done
    echo "$n"
}
