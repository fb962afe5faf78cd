#!/usr/bin/env bats
# The registry client against real registries (Debian's docker-registry on 127.0.0.1):
# fetch by tag and digest, short names through registries.conf, index platform choice,
# a corrupted blob, TLS errors, login/logout with an htpasswd registry, and the bearer-token
# flow (Docker Hub's) against a registry that verifies signed tokens.
# RRUN: the rrun binary. RRUN_TEST_REGISTRY: 127.0.0.1:PORT started by the harness
# (a private one is started when it is unset).
# Only `rrun __fetch` runs, which has no image store, so run.sh runs this file in one
# storage-driver pass only:
# rrun-test: one pass

bats_require_minimum_version 1.5.0
load registry-helpers

setup_file() {
    if [ "$(id -u)" = 0 ]; then
        echo "registry.bats must run as an unprivileged user" >&2
        return 1
    fi
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    command -v skopeo >/dev/null || skip "skopeo is not installed"
    export RRUN=${RRUN:-rrun}
    export REGTMP=$(mktemp -d)
    # A scratch registry of our own: its storage is ours to corrupt.
    export SCRATCH=$(reg_start "$REGTMP/scratch")
    export REG=${RRUN_TEST_REGISTRY:-$SCRATCH}
    make_busybox_oci "$REGTMP/oci" v1 > "$REGTMP/digest"
    push_oci "$REGTMP/oci" v1 "$REG/rrtest/busybox:v1"
    push_oci "$REGTMP/oci" v1 "$SCRATCH/rrtest/busybox:v1"
    make_multiarch_oci "$REGTMP/multi" m1 > "$REGTMP/multi-digests"
    skopeo copy -q --all --dest-tls-verify=false "oci:$REGTMP/multi:m1" \
        "docker://$REG/rrtest/multi:m1" >&2
}

teardown_file() {
    [ -n "${REGTMP:-}" ] || return 0
    reg_stop "$REGTMP/scratch"
    [ -d "$REGTMP/auth" ] && reg_stop "$REGTMP/auth"
    [ -d "$REGTMP/token" ] && reg_stop "$REGTMP/token"
    rm -rf "$REGTMP"
}

# the terminal of the login prompt test, whatever happened in it
teardown() {
    tmux -S "$BATS_TEST_TMPDIR/tmux.sock" kill-server 2>/dev/null || true
}

setup() {
    OUT=$(mktemp -d "$REGTMP/out.XXXXXX")
    export REGISTRY_AUTH_FILE=$REGTMP/auth.json
    unset RRUN_REGISTRIES_CONF
}

@test "fetch: by tag, every blob verified, nothing temporary left" {
    run -0 "$RRUN" __fetch --tls-verify=false "$REG/rrtest/busybox:v1" "$OUT"
    [ "${lines[0]}" = "name $REG/rrtest/busybox:v1" ]
    [ "${lines[2]}" = "manifest $(cat "$REGTMP/digest") application/vnd.oci.image.manifest.v1+json" ]
    [ "$(grep -c '^layer ' <<< "$output")" = 2 ]
    local first
    first=$(grep '^layer ' <<< "$output" | head -1 | cut -d' ' -f2)
    # manifest + config + 2 layers
    run -0 check_blob_dir "$OUT"
    [ "$output" = 4 ]
    # the first layer really is busybox
    run -0 tar -tzf "$OUT/blobs/sha256/${first#sha256:}"
    [[ "$output" == *"./bin/busybox"* ]]
}

@test "fetch: by digest, and a digest the registry does not have" {
    local d
    d=$(cat "$REGTMP/digest")
    run -0 "$RRUN" __fetch --tls-verify=false "$REG/rrtest/busybox@$d" "$OUT"
    [ "${lines[2]}" = "manifest $d application/vnd.oci.image.manifest.v1+json" ]
    run -125 "$RRUN" __fetch --tls-verify=false \
        "$REG/rrtest/busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000" "$OUT"
    [ "${lines[0]}" = "rrun: cannot fetch \"$REG/rrtest/busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000\" from $REG: HTTP 404: manifest unknown (MANIFEST_UNKNOWN)" ]
}

@test "fetch: a missing tag names registry, reference and status" {
    run -125 "$RRUN" __fetch --tls-verify=false "$REG/rrtest/busybox:nope" "$OUT"
    [ "$output" = "rrun: cannot fetch \"$REG/rrtest/busybox:nope\" from $REG: HTTP 404: manifest unknown (MANIFEST_UNKNOWN)" ]
}

@test "fetch: TLS verification is on by default, with a hint" {
    run -125 "$RRUN" __fetch "$REG/rrtest/busybox:v1" "$OUT"
    [[ "${lines[0]}" == "rrun: cannot reach registry $REG: "*"wrong version number" ]]
    [ "${lines[1]}" = "hint: if $REG serves plain HTTP or a self-signed certificate, pass --tls-verify=false or mark it insecure in registries.conf" ]
}

@test "fetch: short name through unqualified-search-registries, insecure from registries.conf" {
    cat > "$REGTMP/registries.conf" <<EOC
unqualified-search-registries = ["$SCRATCH", "$REG"]
[[registry]]
location = "$SCRATCH"
insecure = true
[[registry]]
location = "$REG"
insecure = true
EOC
    export RRUN_REGISTRIES_CONF=$REGTMP/registries.conf
    # rrtest/multi is only on $REG when the harness gave one; on the scratch one otherwise.
    run -0 "$RRUN" __fetch rrtest/busybox:v1 "$OUT"
    [ "${lines[0]}" = "name $SCRATCH/rrtest/busybox:v1" ]
    # both search registries are tried and named (the same one twice when REG is SCRATCH)
    run -125 "$RRUN" __fetch rrtest/none:v1 "$OUT"
    [ "${lines[0]}" = "rrun: cannot find image \"rrtest/none:v1\" in any search registry ($SCRATCH, $REG)" ]
    [ "${lines[1]}" = "hint: check the name, or give it in full (registry/repository:tag)" ]
}

@test "fetch: an alias from registries.conf" {
    printf '[aliases]\n"bb" = "%s/rrtest/busybox"\n[[registry]]\nlocation = "%s"\ninsecure = true\n' \
        "$REG" "$REG" > "$REGTMP/alias.conf"
    RRUN_REGISTRIES_CONF=$REGTMP/alias.conf run -0 "$RRUN" __fetch bb:v1 "$OUT"
    [ "${lines[0]}" = "name $REG/rrtest/busybox:v1" ]
}

@test "fetch: an image index picks this machine's platform or --platform" {
    local idx a b
    read -r idx a b < "$REGTMP/multi-digests"
    run -0 "$RRUN" __fetch --tls-verify=false --platform linux/arm64 "$REG/rrtest/multi:m1" "$OUT"
    [ "${lines[2]}" = "index $idx" ]
    [ "${lines[3]}" = "manifest $b application/vnd.oci.image.manifest.v1+json" ]
    run -0 "$RRUN" __fetch --tls-verify=false --platform linux/amd64 "$REG/rrtest/multi:m1" "$OUT"
    [ "${lines[3]}" = "manifest $a application/vnd.oci.image.manifest.v1+json" ]
    run -125 "$RRUN" __fetch --tls-verify=false --platform linux/s390x "$REG/rrtest/multi:m1" "$OUT"
    [ "${lines[0]}" = "rrun: cannot pull \"$REG/rrtest/multi:m1\": no image for platform linux/s390x; the image is built for: linux/amd64, linux/arm64" ]
    [ "${lines[1]}" = "hint: pick one with --platform" ]
}

@test "fetch: a blob whose content does not match its digest is refused and not kept" {
    local layer data
    run -0 "$RRUN" __fetch --tls-verify=false "$SCRATCH/rrtest/busybox:v1" "$OUT/first"
    layer=$(grep '^layer ' <<< "$output" | tail -1 | cut -d' ' -f2)
    data=$REGTMP/scratch/storage/docker/registry/v2/blobs/sha256/${layer:7:2}/${layer#sha256:}/data
    [ -f "$data" ]
    # same size, different bytes
    python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[-1]^=0xff; open(p,"wb").write(b)' "$data"
    run -125 "$RRUN" __fetch --tls-verify=false "$SCRATCH/rrtest/busybox:v1" "$OUT/second"
    [[ "$output" == "rrun: cannot use blob $layer of \"$SCRATCH/rrtest/busybox:v1\": its content does not match its digest (got sha256:"*")" ]]
    [ ! -e "$OUT/second/blobs/sha256/${layer#sha256:}" ]
    [ -z "$(ls -A "$OUT/second/blobs/sha256" | grep '^\.' || true)" ]
}

@test "login: htpasswd registry, wrong and right password, fetch, logout" {
    command -v htpasswd >/dev/null || skip "htpasswd (apache2-utils) is not installed"
    htpasswd -Bbc "$REGTMP/htpasswd" alice 's3cret:x' 2>/dev/null
    AREG=$(reg_start "$REGTMP/auth" "$REGTMP/htpasswd")
    push_oci "$REGTMP/oci" v1 "$AREG/private/busybox:v1" --dest-creds 'alice:s3cret:x'

    run -125 "$RRUN" __fetch --tls-verify=false "$AREG/private/busybox:v1" "$OUT"
    [ "${lines[0]}" = "rrun: cannot fetch \"$AREG/private/busybox:v1\" from $AREG: HTTP 401: authentication required (UNAUTHORIZED)" ]
    [ "${lines[1]}" = "hint: the image may not exist, or it is private: log in with rrun login $AREG" ]

    run -125 "$RRUN" login --tls-verify=false -u alice --password-stdin "$AREG" <<< "wrong"
    [ "$output" = "rrun: cannot log in to $AREG as \"alice\": the registry refused the user name or password (HTTP 401)" ]
    [ ! -e "$REGISTRY_AUTH_FILE" ]

    run -125 "$RRUN" login -u alice --password-stdin "$AREG" <<< "s3cret:x"
    [[ "${lines[0]}" == "rrun: cannot reach registry $AREG: "* ]]

    run -0 "$RRUN" login --tls-verify=false -u alice --password-stdin "http://$AREG/" <<< "s3cret:x"
    [ "$output" = "Login Succeeded!" ]
    [ "$(stat -c %a "$REGISTRY_AUTH_FILE")" = 600 ]
    grep -q "\"$AREG\"" "$REGISTRY_AUTH_FILE"

    run -0 "$RRUN" __fetch --tls-verify=false "$AREG/private/busybox:v1" "$OUT"
    run -0 check_blob_dir "$OUT"
    [ "$output" = 4 ]

    run -0 "$RRUN" logout "$AREG"
    [ "$output" = "Removed login credentials for $AREG" ]
    run -125 "$RRUN" logout "$AREG"
    [ "$output" = "rrun: cannot log out of \"$AREG\": not logged in ($REGISTRY_AUTH_FILE)" ]
    run -125 "$RRUN" __fetch --tls-verify=false "$AREG/private/busybox:v1" "$OUT/again"
}

@test "login: credentials from docker's config.json are used and logout points at them" {
    command -v htpasswd >/dev/null || skip "htpasswd (apache2-utils) is not installed"
    [ -d "$REGTMP/auth" ] || skip "needs the htpasswd registry of the previous test"
    AREG=$(sed -n 's/^  addr: //p' "$REGTMP/auth/config.yml")
    unset REGISTRY_AUTH_FILE
    export DOCKER_CONFIG=$REGTMP/docker XDG_RUNTIME_DIR=$REGTMP/xdg XDG_CONFIG_HOME=$REGTMP/cfg
    mkdir -p "$DOCKER_CONFIG"
    printf '{"auths":{"http://%s/v1/":{"auth":"%s"}}}' "$AREG" "$(printf 'alice:s3cret:x' | base64)" \
        > "$DOCKER_CONFIG/config.json"
    run -0 "$RRUN" __fetch --tls-verify=false "$AREG/private/busybox:v1" "$OUT"
    run -125 "$RRUN" logout "$AREG"
    [ "${lines[0]}" = "rrun: cannot log out of \"$AREG\": not logged in ($XDG_RUNTIME_DIR/containers/auth.json)" ]
    [ "${lines[1]}" = "hint: credentials for \"$AREG\" are in $DOCKER_CONFIG/config.json; rrun does not change that file" ]
}

# Retry a command until it succeeds: at most 80 x 0.25 s.
wait_for() {
    local i
    for ((i = 0; i < 80; i++)); do
        if "$@"; then return 0; fi
        sleep 0.25
    done
    echo "wait_for: gave up after 20 s: $*" >&2
    return 1
}

# The htpasswd registry of the login tests: the one a previous test started, or a new one.
auth_registry() {
    if [ ! -d "$REGTMP/auth" ]; then
        htpasswd -Bbc "$REGTMP/htpasswd" alice 's3cret:x' 2>/dev/null
        reg_start "$REGTMP/auth" "$REGTMP/htpasswd" >/dev/null
    fi
    sed -n 's/^  addr: //p' "$REGTMP/auth/config.yml"
}

@test "login: -p works with a warning; logout -a removes the logins of every registry" {
    command -v htpasswd >/dev/null || skip "htpasswd (apache2-utils) is not installed"
    AREG=$(auth_registry)
    [ -n "$AREG" ]
    run -0 --separate-stderr "$RRUN" login --tls-verify=false -u alice -p 's3cret:x' "$AREG"
    [ "$output" = "Login Succeeded!" ]
    [ "$stderr" = "rrun: warning: a password on the command line is visible to other users; use --password-stdin" ]
    run -125 "$RRUN" login --tls-verify=false -u alice -p wrong "$AREG"
    [[ ${lines[-1]} == "rrun: cannot log in to $AREG as \"alice\": the registry refused the user name or password (HTTP 401)" ]]
    # the same registry under a second name: two entries in the auth file
    local other=localhost:${AREG#*:}
    run -0 "$RRUN" login --tls-verify=false -u alice --password-stdin "$other" <<< "s3cret:x"
    [ "$(jq -r '.auths | keys | join(" ")' "$REGISTRY_AUTH_FILE")" = "$AREG $other" ]
    run -125 "$RRUN" logout -a "$AREG"
    [ "${lines[0]}" = "rrun: logout: expected one registry, or --all" ]
    run -0 "$RRUN" logout -a
    [ "$output" = "Removed login credentials for all registries ($REGISTRY_AUTH_FILE)" ]
    if [ -e "$REGISTRY_AUTH_FILE" ]; then
        [ "$(jq -r '.auths // {} | length' "$REGISTRY_AUTH_FILE")" = 0 ]
    fi
    run -125 "$RRUN" logout "$AREG"
    [[ ${lines[0]} == "rrun: cannot log out of \"$AREG\": not logged in"* ]]
    run -125 "$RRUN" logout "$other"
}

@test "login: on a terminal it prompts for the user and the password, not echoing the password" {
    command -v htpasswd >/dev/null || skip "htpasswd (apache2-utils) is not installed"
    command -v tmux >/dev/null || skip "tmux is not installed"
    AREG=$(auth_registry)
    [ -n "$AREG" ]
    local sock=$BATS_TEST_TMPDIR/tmux.sock st=$BATS_TEST_TMPDIR/status
    printf '%q ' "$RRUN" login --tls-verify=false "$AREG" >"$BATS_TEST_TMPDIR/login.sh"
    printf '; echo $? >%q.tmp; mv %q.tmp %q; sleep 60\n' "$st" "$st" "$st" >>"$BATS_TEST_TMPDIR/login.sh"
    # (fd 3 closed: a tmux server left holding bats' output would keep bats waiting)
    tmux -S "$sock" new-session -d -s login -x 100 -y 10 \
        "REGISTRY_AUTH_FILE=$REGISTRY_AUTH_FILE bash $BATS_TEST_TMPDIR/login.sh" 3>&-
    pane_has() { tmux -S "$sock" capture-pane -p -t login | grep -qF -- "$1"; }
    # capture-pane drops trailing spaces: "Username:", not "Username: "
    wait_for pane_has "Username:"
    tmux -S "$sock" send-keys -t login alice Enter
    wait_for pane_has "Password:"
    tmux -S "$sock" send-keys -t login 's3cret:x' Enter
    wait_for test -f "$st"
    local screen
    screen=$(tmux -S "$sock" capture-pane -p -t login)
    tmux -S "$sock" kill-server || true
    echo "$screen"
    [ "$(cat "$st")" = 0 ]
    # the user name echoed, the password not
    [[ $screen == *"Username: alice"* ]]
    [[ $screen == *"Login Succeeded!"* ]]
    [[ $screen != *s3cret* ]]
    grep -q "\"$AREG\"" "$REGISTRY_AUTH_FILE"
    run -0 "$RRUN" logout "$AREG"
}

# The registry verifies RS256 tokens from tests/fixtures/token-server.py (x5c chain in
# its rootcertbundle): rrun must follow the WWW-Authenticate Bearer challenge to the realm
# with service and scope, anonymously or with the stored credentials.
@test "bearer token: anonymous pull of a public image, login for a private one" {
    command -v openssl >/dev/null || skip "openssl is not installed"
    printf 'alice:s3cret\n' > "$REGTMP/token-users"
    TREG=$(reg_start_token "$REGTMP/token" "$REGTMP/token-users")
    push_oci "$REGTMP/oci" v1 "$TREG/public/busybox:v1" --dest-creds alice:s3cret
    push_oci "$REGTMP/oci" v1 "$TREG/private/busybox:v1" --dest-creds alice:s3cret
    : > "$REGTMP/token/token/requests.log"

    run -0 "$RRUN" __fetch --tls-verify=false "$TREG/public/busybox:v1" "$OUT/public"
    run -0 check_blob_dir "$OUT/public"
    [ "$output" = 4 ]
    grep -qx "anonymous repository:public/busybox:pull" "$REGTMP/token/token/requests.log"

    run -125 "$RRUN" __fetch --tls-verify=false "$TREG/private/busybox:v1" "$OUT/private"
    [ "${lines[0]}" = "rrun: cannot fetch \"$TREG/private/busybox:v1\" from $TREG: HTTP 401: authentication required (UNAUTHORIZED)" ]
    [ ! -e "$OUT/private/blobs/sha256" ] || [ -z "$(ls -A "$OUT/private/blobs/sha256")" ]

    run -125 "$RRUN" login --tls-verify=false -u alice --password-stdin "$TREG" <<< "wrong"
    [ "$output" = "rrun: cannot log in to $TREG as \"alice\": the registry refused the user name or password (HTTP 401)" ]
    grep -qx "refused alice" "$REGTMP/token/token/requests.log"

    run -0 "$RRUN" login --tls-verify=false -u alice --password-stdin "$TREG" <<< "s3cret"
    run -0 "$RRUN" __fetch --tls-verify=false "$TREG/private/busybox:v1" "$OUT/private"
    run -0 check_blob_dir "$OUT/private"
    [ "$output" = 4 ]
    grep -qx "user alice repository:private/busybox:pull" "$REGTMP/token/token/requests.log"
    run -0 "$RRUN" logout "$TREG"
}
