#!/usr/bin/env bats
# rrun build, the rest of the dockerfile:1 syntax: RUN --mount (bind, cache, tmpfs,
# secret) with --secret, RUN --network, ADD of local tar archives and of URLs with
# --checksum, ONBUILD triggers, the predefined proxy and platform ARGs, FROM --platform,
# and unknown flags refused.

load helpers
load registry-helpers

setup_file() {
  common_setup_file
}

setup() {
  CTX=$BATS_TEST_TMPDIR/ctx
  mkdir -p "$CTX"
  HTTPD_PID=
}

teardown() {
  local n
  if [[ -n $HTTPD_PID ]]; then
    kill "$HTTPD_PID" 2>/dev/null || true
    wait "$HTTPD_PID" 2>/dev/null || true
  fi
  for n in bm-base:1 bm-child:1 bm-grand:1 bm-tar:1 bm-url:1 bm-mnt:1 bm-sec:1 bm-proxy:1 bm-plat:1; do
    rrun rmi -f "$n" >/dev/null 2>&1 || true
  done
}

# Serve directory $1 over HTTP on the loopback; sets PORT and HTTPD_PID.
serve() {
  PORT=$(reg_free_port)
  busybox httpd -f -p "127.0.0.1:$PORT" -h "$1" &
  HTTPD_PID=$!
  wait_until curl -sS -o /dev/null "http://127.0.0.1:$PORT/"
}

@test "build: ONBUILD triggers run in the child build, right after FROM, and are not passed on" {
  echo from-context >"$CTX/f.txt"
  cat >"$CTX/Dockerfile" <<EOF
FROM $FIXTURE_IMAGE
ONBUILD COPY f.txt /onbuild/f.txt
ONBUILD RUN echo triggered >/onbuild/ran
EOF
  run -0 rrun build -q -t bm-base:1 "$CTX"
  run -0 rrun run --rm bm-base:1 sh -c 'ls /onbuild 2>&1 || echo absent'
  [[ $output == *absent* ]]
  run -0 rrun image inspect --format '{{json .Config.OnBuild}}' bm-base:1
  [[ $output == *'COPY f.txt /onbuild/f.txt'* ]]

  printf 'FROM bm-base:1\nRUN cat /onbuild/ran /onbuild/f.txt >/result\n' >"$CTX/Dockerfile"
  run -0 rrun build -t bm-child:1 "$CTX"
  [[ $output == *"STEP 2/4: COPY f.txt /onbuild/f.txt"* ]]
  [[ $output == *"STEP 3/4: RUN echo triggered >/onbuild/ran"* ]]
  run -0 rrun run --rm bm-child:1 cat /result
  [ "$output" = "triggered
from-context" ]
  run -0 rrun image inspect --format '{{json .Config.OnBuild}}' bm-child:1
  [[ $output == null || $output == '[]' ]]
  # A grandchild runs nothing more.
  printf 'FROM bm-child:1\nRUN test ! -e /again\n' >"$CTX/Dockerfile"
  run -0 rrun build -t bm-grand:1 "$CTX"
  [[ $output == *"STEP 1/2: FROM bm-child:1"* ]]
  [[ $output != *"triggered"* ]]
}

@test "build: ONBUILD refuses FROM, MAINTAINER and ONBUILD ONBUILD" {
  printf 'FROM %s\nONBUILD FROM scratch\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [[ $output == *"Dockerfile:2: ONBUILD cannot trigger FROM"* ]]
  printf 'FROM %s\nONBUILD ONBUILD RUN true\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [[ $output == *"ONBUILD cannot trigger ONBUILD"* ]]
}

@test "build: ADD extracts a local tar archive (gzip too) with its owners and modes; COPY does not" {
  mkdir -p "$BATS_TEST_TMPDIR/tree/sub"
  echo inner >"$BATS_TEST_TMPDIR/tree/sub/inner.txt"
  chmod 0750 "$BATS_TEST_TMPDIR/tree/sub"
  ln -s sub/inner.txt "$BATS_TEST_TMPDIR/tree/link"
  tar -C "$BATS_TEST_TMPDIR/tree" --owner=123 --group=456 -czf "$CTX/tree.tar.gz" .
  echo 'not an archive' >"$CTX/plain.tar"
  cat >"$CTX/Dockerfile" <<EOF
FROM $FIXTURE_IMAGE
ADD tree.tar.gz /opt/x
ADD plain.tar /opt/
COPY tree.tar.gz /opt/copied.tar.gz
EOF
  run -0 rrun build -q -t bm-tar:1 "$CTX"
  run -0 rrun run --rm bm-tar:1 sh -c 'cat /opt/x/sub/inner.txt; readlink /opt/x/link; stat -c "%u:%g %a" /opt/x/sub/inner.txt /opt/x/sub; cat /opt/plain.tar; test -f /opt/copied.tar.gz && echo kept'
  [ "$output" = "inner
sub/inner.txt
123:456 644
123:456 750
not an archive
kept" ]
}

@test "build: ADD of a hostile archive member outside its root is refused and nothing is tagged" {
  python3 - "$CTX/evil.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    data = b"x"
    info = tarfile.TarInfo("../../escape")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
EOF
  printf 'FROM %s\nADD evil.tar /opt/\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -125 rrun build -t bm-tar:1 "$CTX"
  [[ $output == *'has a member "../../escape" outside its root'* ]]
  run -125 rrun image inspect bm-tar:1
}

@test "build: ADD of a URL downloads it (mode 600, not extracted), checks --checksum" {
  mkdir "$BATS_TEST_TMPDIR/www"
  echo payload >"$BATS_TEST_TMPDIR/www/data.txt"
  serve "$BATS_TEST_TMPDIR/www"
  sum=$(sha256sum "$BATS_TEST_TMPDIR/www/data.txt" | cut -d' ' -f1)
  cat >"$CTX/Dockerfile" <<EOF
FROM $FIXTURE_IMAGE
ADD --checksum=sha256:$sum http://127.0.0.1:$PORT/data.txt /dl/
ADD http://127.0.0.1:$PORT/data.txt?x=1 /named.txt
EOF
  run -0 rrun build -q -t bm-url:1 "$CTX"
  run -0 rrun run --rm bm-url:1 sh -c 'cat /dl/data.txt /named.txt; stat -c %a /dl/data.txt'
  [ "$output" = "payload
payload
600" ]
  printf 'FROM %s\nADD --checksum=sha256:%064d http://127.0.0.1:%s/data.txt /dl/\n' "$FIXTURE_IMAGE" 0 "$PORT" >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [[ $output == *"the download's digest is sha256:$sum, not sha256:0000"* ]]
  printf 'FROM %s\nADD http://127.0.0.1:%s/missing /dl/\n' "$FIXTURE_IMAGE" "$PORT" >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [[ $output == *"cannot download http://127.0.0.1:$PORT/missing: HTTP status 404"* ]]
  printf 'FROM %s\nCOPY http://127.0.0.1:%s/data.txt /dl/\n' "$FIXTURE_IMAGE" "$PORT" >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [[ $output == *"COPY cannot fetch"*"use ADD for a URL"* ]]
}

@test "build: RUN --mount=type=bind sees the context read only, leaves no trace, and its files key the cache" {
  echo v1 >"$CTX/input.txt"
  echo secret-ish >"$CTX/ignored.txt"
  echo ignored.txt >"$CTX/.dockerignore"
  cat >"$CTX/Dockerfile" <<EOF
FROM $FIXTURE_IMAGE
RUN --mount=type=bind,target=/ctx cat /ctx/input.txt >/copy && (test ! -e /ctx/ignored.txt && echo no-ignored >>/copy) && (touch /ctx/new 2>/dev/null || echo read-only >>/copy)
RUN --mount=type=bind,source=input.txt,target=/one.txt,rw cat /one.txt >>/copy && echo changed >/one.txt
EOF
  run -0 rrun build -t bm-mnt:1 "$CTX"
  run -0 rrun run --rm bm-mnt:1 sh -c 'cat /copy; ls -d /ctx /one.txt 2>&1 | grep -c "No such"'
  [ "$output" = "v1
no-ignored
read-only
v1
2" ]
  [ "$(cat "$CTX/input.txt")" = v1 ]
  run -0 rrun build -t bm-mnt:1 "$CTX"
  [[ $output == *"STEP 2/3"*"Using cache"*"STEP 3/3"*"Using cache"* ]]
  echo v2 >"$CTX/input.txt"
  run -0 rrun build -t bm-mnt:1 "$CTX"
  [[ $output != *"Using cache"* ]]
  run -0 rrun run --rm bm-mnt:1 head -1 /copy
  [ "$output" = v2 ]
}

@test "build: RUN --mount=type=cache keeps its files across builds and --no-cache; tmpfs is empty and gone" {
  cat >"$CTX/Dockerfile" <<EOF
FROM $FIXTURE_IMAGE
RUN --mount=type=cache,target=/var/cache/x,id=bm-test-cache --mount=type=tmpfs,target=/scratch,size=1m \
    (cat /var/cache/x/count 2>/dev/null || echo 0) >/seen && echo \$((\$(cat /seen) + 1)) >/var/cache/x/count && \
    echo t >/scratch/t && df /scratch | grep -c tmpfs >/tmpfs-seen
EOF
  run -0 rrun build --no-cache -t bm-mnt:1 "$CTX"
  run -0 rrun run --rm bm-mnt:1 sh -c 'cat /seen /tmpfs-seen; test -e /var/cache/x || echo no-cache-dir; test -e /scratch || echo no-scratch'
  first=${lines[0]}
  [ "${lines[1]}" = 1 ]
  [ "${lines[2]}" = no-cache-dir ]
  [ "${lines[3]}" = no-scratch ]
  run -0 rrun build --no-cache -t bm-mnt:1 "$CTX"
  run -0 rrun run --rm bm-mnt:1 cat /seen
  [ "$output" = $((first + 1)) ]
}

@test "build: RUN --mount=type=secret reads a --secret that stays out of the image, history and cache" {
  echo s3cr3t >"$BATS_TEST_TMPDIR/token"
  cat >"$CTX/Dockerfile" <<EOF
FROM $FIXTURE_IMAGE
RUN --mount=type=secret,id=token cat /run/secrets/token | tr s S >/used && stat -c %a /run/secrets/token >>/used
RUN --mount=type=secret,id=envtok,target=/etc/tok,mode=0440 cat /etc/tok >>/used
RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent
EOF
  TOK=from-env run -0 rrun build -t bm-sec:1 --secret id=token,src="$BATS_TEST_TMPDIR/token" --secret id=envtok,env=TOK "$CTX"
  run -0 rrun run --rm bm-sec:1 sh -c 'cat /used; echo; test -e /run/secrets || echo no-secrets-dir; test -e /etc/tok || echo no-tok'
  [ "$output" = "S3cr3t
400
from-env
no-secrets-dir
no-tok" ]
  run -0 rrun image history --no-trunc bm-sec:1
  [[ $output != *s3cr3t* && $output != *from-env* ]]
  run -0 rrun run --rm bm-sec:1 sh -c 'grep -rl -e s3cr3t -e from-env /bin /etc /run /used /var 2>/dev/null | wc -l'
  [ "$output" = 1 ] # /used alone (from-env, by design of the step)
  printf 'FROM %s\nRUN --mount=type=secret,id=need,required=true true\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [[ $output == *'secret "need" is required but was not given'* ]]
  [[ $output == *"hint: pass it: rrun build --secret id=need,src=FILE"* ]]
  run -125 rrun build --secret id=x,src=/nonexistent/file "$CTX"
  [[ $output == *'--secret x: cannot read "/nonexistent/file"'* ]]
}

@test "build: bad RUN --mount values, RUN --network=none, and unknown flags are refused by name" {
  printf 'FROM %s\nRUN --mount=type=ssh true\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [[ $output == *"Dockerfile:2: RUN: invalid --mount=type=ssh: type=ssh is not supported"* ]]
  printf 'FROM %s\nRUN --mount=type=cache,target=/c,uid=1000 true\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [[ $output == *"uid=/gid= other than 0 are not supported"* ]]
  printf 'FROM %s\nRUN --mount=type=bind true\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [[ $output == *"a target is needed (target=PATH)"* ]]
  printf 'FROM %s\nRUN --frobnicate true\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [[ $output == *"Dockerfile:2: RUN: unknown flag --frobnicate"* ]]
  printf 'FROM %s\nCOPY --checksum=sha256:00 a /\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [[ $output == *"Dockerfile:2: COPY: unknown flag --checksum"* ]]
  printf 'FROM %s\nRUN --network=none sh -c "ip -o link | grep -v -c lo: >/links || true"\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -0 rrun build -t bm-mnt:1 "$CTX"
  run -0 rrun run --rm bm-mnt:1 cat /links
  [ "$output" = 0 ]
  printf 'FROM %s\nRUN --security=insecure true\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [[ $output == *"a rootless build cannot give a step more than the user has"* ]]
}

@test "build: proxy build args reach RUN without ARG and stay out of the cache key; platform ARGs" {
  cat >"$CTX/Dockerfile" <<EOF
ARG BASE=$FIXTURE_IMAGE
FROM --platform=\$BUILDPLATFORM \$BASE
ARG TARGETARCH
RUN echo "\$http_proxy|\$TARGETARCH" >/p
EOF
  run -0 rrun build -t bm-proxy:1 --build-arg http_proxy=http://proxy.example:3128 "$CTX"
  run -0 rrun run --rm bm-proxy:1 cat /p
  arch=$(dpkg --print-architecture)
  [ "$output" = "http://proxy.example:3128|$arch" ]
  run -0 rrun image history --no-trunc bm-proxy:1
  [[ $output != *proxy.example* ]]
  run -0 rrun build -t bm-proxy:1 --build-arg http_proxy=http://other:1 "$CTX"
  [[ $output == *"STEP 3/3"*"Using cache"* ]]
  printf 'FROM --platform=linux/s390x %s\nRUN true\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -125 rrun build -t bm-plat:1 "$CTX"
  [[ $output == *"FROM --platform=linux/s390x: only this machine's platform (linux/$arch) can run RUN steps"* ]]
  [[ $output == *"hint: a foreign platform needs CPU emulation"* ]]
}

@test "build: a cached rebuild reads no unchanged context file (stat cache); a change with the same size and mtime is seen" {
  for i in $(seq 1 30); do echo "$i" >"$CTX/f$i"; done
  printf 'FROM %s\nCOPY . /x\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  sleep 2.1 # files changed in the last 2 s are never cached
  run -0 --separate-stderr rrun --log-level info build -t bm-mnt:1 "$CTX"
  [[ $stderr == *"build context: 31 files read to digest them"* ]]
  run -0 --separate-stderr rrun --log-level info build -t bm-mnt:1 "$CTX"
  [[ $stderr == *"build context: 0 files read to digest them"* ]]
  [[ $stderr == *"Using cache"* ]]
  # Same size, mtime put back: the ctime still tells.
  cp -p "$CTX/f2" "$BATS_TEST_TMPDIR/f2.orig"
  echo 9 >"$CTX/f2"
  touch -r "$BATS_TEST_TMPDIR/f2.orig" "$CTX/f2"
  sleep 2.1
  run -0 --separate-stderr rrun --log-level info build -t bm-mnt:1 "$CTX"
  [[ $stderr == *"build context: 1 files read to digest them"* ]]
  [[ $stderr != *"Using cache"* ]]
  run -0 rrun run --rm bm-mnt:1 cat /x/f2
  [ "$output" = 9 ]
  run -0 rrun builder prune -f
  run -0 --separate-stderr rrun --log-level info build -t bm-mnt:1 "$CTX"
  [[ $stderr == *"build context: 31 files read to digest them"* ]]
}
