#!/usr/bin/env bats
# rrun build: every instruction, multi-stage with --target and COPY --from, heredocs,
# .dockerignore with exceptions, the cache (hits, invalidation at the changed step,
# --no-cache, build args), a failing RUN, parse errors, whiteouts, owners and setuid
# bits across a build, the flags (-f, -f -, -q, --iidfile, --label, --build-arg), and a
# built image pushed and read by skopeo.

load helpers
load registry-helpers

setup_file() {
  common_setup_file
}

setup() {
  CTX=$BATS_TEST_TMPDIR/ctx
  mkdir -p "$CTX"
}

teardown() {
  local n
  for n in b-all:1 b-multi:1 b-multi:t b-here:1 b-ign:1 b-cache:1 b-fail:1 b-own:1 b-flags:1 b-stdin:1 b-push:1; do
    rrun rmi -f "$n" >/dev/null 2>&1 || true
  done
}

@test "build: every instruction sets what docker sets" {
  echo hello >"$CTX/hello.txt"
  cat >"$CTX/Dockerfile" <<EOF
# syntax=docker/dockerfile:1
FROM $FIXTURE_IMAGE
ARG GREETING=hi
ENV APP_HOME=/srv/app \\
    MODE=\${GREETING:-none}-\${UNSET:+alt}x
WORKDIR \$APP_HOME
COPY hello.txt ./
RUN echo "\$MODE" > mode.txt && test "\$GREETING" = hi
LABEL org.example.a=b "c d"=e
EXPOSE 8080 53/udp
VOLUME ["/data"]
USER 1000:1000
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD ["true"]
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo child
MAINTAINER someone
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat mode.txt hello.txt; id -u"]
EOF
  run -0 rrun build -t b-all:1 "$CTX"
  [[ ${lines[0]} == "STEP 1/17: FROM $FIXTURE_IMAGE" ]]
  [[ ${lines[-1]} =~ ^[0-9a-f]{64}$ ]]
  run -0 rrun run --rm b-all:1
  [ "$output" = "hi-x
hello
1000" ]
  run -0 rrun image inspect --format '{{.Config.WorkingDir}}|{{.Config.User}}|{{.Config.StopSignal}}|{{json .Config.ExposedPorts}}|{{json .Config.Volumes}}|{{json .Config.Entrypoint}}' b-all:1
  [ "$output" = '/srv/app|1000:1000|SIGINT|{"8080/tcp":{},"53/udp":{}}|{"/data":{}}|["/bin/sh","-c"]' ]
  run -0 rrun image inspect --format '{{json .Config.Labels}}' b-all:1
  [[ $output == *'"org.example.a":"b"'* && $output == *'"c d":"e"'* && $output == *'"maintainer":"someone"'* ]]
  run -0 rrun image inspect b-all:1
  [[ $output == *'"OnBuild"'*'"RUN echo child"'* ]]
  [[ $output == *'"Healthcheck"'* ]]
  [[ $output == *'"Shell"'* ]]
  # the ARG is not kept in the image
  run -0 rrun run --rm b-all:1 'echo "[$GREETING]"'
  [ "$output" = "[]" ]
  # one history entry per step after FROM and ARG
  run -0 rrun history -q b-all:1
  [ "${#lines[@]}" -ge 16 ]
}

@test "build: multi-stage with --target, COPY --from, unused stages skipped" {
  cat >"$CTX/Dockerfile" <<EOF
FROM $FIXTURE_IMAGE AS build
RUN mkdir -p /out && echo built >/out/app && echo gone >/out/tmp
RUN rm /out/tmp
FROM $FIXTURE_IMAGE AS broken
RUN exit 3
FROM scratch AS final
COPY --from=build /out /
COPY --from=build /bin/busybox /bin/busybox
CMD ["/bin/busybox", "cat", "/app"]
EOF
  run -0 rrun build -t b-multi:1 "$CTX"
  [[ $output != *"exit 3"* ]]
  run -0 rrun run --rm b-multi:1
  [ "$output" = built ]
  run -0 rrun run --rm b-multi:1 /bin/busybox ls /
  [[ $output != *tmp* ]]
  # --target stops at the named stage
  run -0 rrun build --target build -t b-multi:t "$CTX"
  run -0 rrun run --rm b-multi:t cat /out/app
  [ "$output" = built ]
  run -125 rrun build --target nope "$CTX"
  [ "${lines[0]}" = "rrun: no stage \"nope\" in $CTX/Dockerfile" ]
}

@test "build: heredocs in RUN and COPY" {
  cat >"$CTX/Dockerfile" <<EOF
FROM $FIXTURE_IMAGE
ENV WHO=world
RUN <<EOT
echo one >/one
echo two >>/one
EOT
COPY <<EOF2 /greeting
hello \${WHO}
EOF2
COPY <<'RAW' /raw
keep \$WHO
RAW
RUN cat <<EOT >/three
three
EOT
EOF
  run -0 rrun build -q -t b-here:1 "$CTX"
  [ "${#lines[@]}" = 1 ]
  run -0 rrun run --rm b-here:1 cat /one /greeting /raw /three
  [ "$output" = 'one
two
hello world
keep $WHO
three' ]
}

@test "build: .dockerignore with wildcards, ** and ! exceptions" {
  mkdir -p "$CTX/src/deep" "$CTX/logs" "$CTX/node_modules/keep"
  touch "$CTX/src/a.c" "$CTX/src/deep/b.c" "$CTX/src/deep/b.o" "$CTX/logs/x.log" "$CTX/logs/keep.log" \
    "$CTX/node_modules/junk" "$CTX/node_modules/keep/k" "$CTX/secret.key"
  printf '# comment\n**/*.o\nlogs\n!logs/keep.log\nnode_modules\n!node_modules/keep\n*.key\n' >"$CTX/.dockerignore"
  cat >"$CTX/Dockerfile" <<EOF
FROM $FIXTURE_IMAGE
COPY . /ctx/
COPY src/*.c /c/
EOF
  run -0 rrun build -q -t b-ign:1 "$CTX"
  run -0 rrun run --rm b-ign:1 sh -c 'cd /ctx && find . -type f | sort; ls /c'
  [ "$output" = "./.dockerignore
./Dockerfile
./logs/keep.log
./node_modules/keep/k
./src/a.c
./src/deep/b.c
a.c" ]
  # an excluded file named explicitly is not there to copy
  printf 'FROM %s\nCOPY secret.key /\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [[ $output == *"rrun: $CTX/Dockerfile:2: COPY: \"secret.key\" not found: it is excluded by .dockerignore"* ]]
}

# .containerignore wins over .dockerignore (as podman reads them); the escape directive;
# COPY --link; docker's predefined proxy ARGs reach RUN without an ARG line and stay out
# of the cache key and the history.
@test "build: .containerignore, # escape=, COPY --link, predefined proxy args" {
  touch "$CTX/a.txt" "$CTX/b.txt"
  printf 'a.txt\n' >"$CTX/.containerignore"
  printf 'b.txt\n' >"$CTX/.dockerignore"
  cat >"$CTX/Dockerfile" <<EOF
# escape=\`
FROM $FIXTURE_IMAGE
COPY --link *.txt /t/
RUN echo "proxy=\$HTTP_PROXY" >/proxy && \`
    ls /t >/list
EOF
  run -0 rrun build -q --build-arg HTTP_PROXY=http://proxy.example:3128 -t b-ign:1 "$CTX"
  local id=$output
  run -0 rrun run --rm b-ign:1 cat /list /proxy
  [ "$output" = "b.txt
proxy=http://proxy.example:3128" ]
  run -0 rrun history --no-trunc b-ign:1
  [[ $output != *proxy.example* ]]
  # another proxy: not a reason to rebuild
  run -0 rrun build --build-arg HTTP_PROXY=http://other.example:3128 -t b-ign:1 "$CTX"
  [ "$(grep -c 'Using cache' <<<"$output")" = 2 ]
  [ "${lines[-1]}" = "$id" ]
}

@test "build: the cache is used, invalidated at the changed step, and --no-cache" {
  echo v1 >"$CTX/data"
  cat >"$CTX/Dockerfile" <<EOF
FROM $FIXTURE_IMAGE
ARG LEVEL=1
RUN echo before >/before
COPY data /data
RUN echo "level \$LEVEL" >/after
EOF
  run -0 rrun build -t b-cache:1 "$CTX"
  local first=${lines[-1]}
  [[ $output != *"Using cache"* ]]
  run -0 rrun build -t b-cache:1 "$CTX"
  [ "$(grep -c 'Using cache' <<<"$output")" = 3 ]
  [ "${lines[-1]}" = "$first" ]
  # the same content with a new mtime is still a hit
  touch -d '2001-01-01' "$CTX/data"
  run -0 rrun build -t b-cache:1 "$CTX"
  [ "${lines[-1]}" = "$first" ]
  # a changed file: the RUN before it is cached, the COPY and what follows are not
  echo v2 >"$CTX/data"
  run -0 rrun build -t b-cache:1 "$CTX"
  [ "$(grep -c 'Using cache' <<<"$output")" = 1 ]
  [[ $output == *"STEP 3/5: RUN echo before >/before"*"--> Using cache"*"STEP 4/5: COPY data /data"* ]]
  run -0 rrun run --rm b-cache:1 cat /data /after
  [ "$output" = "v2
level 1" ]
  # a build arg in use: the RUN steps after it run again
  run -0 rrun build --build-arg LEVEL=2 -t b-cache:1 "$CTX"
  [[ $output == *"STEP 3/5: RUN echo before >/before"*"--> "[0-9a-f]* ]]
  run -0 rrun run --rm b-cache:1 cat /after
  [ "$output" = "level 2" ]
  run -0 rrun build --no-cache -t b-cache:1 "$CTX"
  [[ $output != *"Using cache"* ]]
}

@test "build: a failing RUN names the step and line, exits with its status, tags nothing" {
  cat >"$CTX/Dockerfile" <<EOF
FROM $FIXTURE_IMAGE
RUN echo first
RUN echo about to fail; exit 7
RUN echo never
EOF
  run -7 rrun build -t b-fail:1 "$CTX"
  [[ $output == *"about to fail"* ]]
  [[ $output != *"STEP 4/4"* ]]
  [ "${lines[-1]}" = "rrun: step 3/4 ($CTX/Dockerfile:3) failed: RUN echo about to fail; exit 7: the command exited with status 7" ]
  run -125 rrun image inspect b-fail:1
  # no container is left behind
  run -0 rrun ps -a -q
  [ -z "$output" ]
}

@test "build: parse errors name the file, line and instruction" {
  printf 'FROM %s\nRUN true\nFROBNICATE now\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [ "${lines[0]}" = "rrun: $CTX/Dockerfile:3: FROBNICATE: unknown instruction" ]
  printf 'RUN true\n' >"$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [ "${lines[0]}" = "rrun: $CTX/Dockerfile:1: RUN: the first instruction must be FROM (or ARG before it)" ]
  rm "$CTX/Dockerfile"
  run -125 rrun build "$CTX"
  [[ ${lines[0]} == "rrun: cannot read \"$CTX/Dockerfile\": "* ]]
  [ "${lines[1]}" = "hint: put a Dockerfile (or Containerfile) in the context, or name one with -f FILE" ]
}

@test "build: owners, setuid bits and whiteouts across steps" {
  echo data >"$CTX/f"
  cat >"$CTX/Dockerfile" <<EOF
FROM $FIXTURE_IMAGE
RUN echo x >/owned && chown 1000:50 /owned && chmod 4755 /owned && echo y >/removed
COPY --chown=tester:staff --chmod=0640 f /copied
COPY --chown=1000 f /tmp/sub/
RUN rm /removed /etc/group
EOF
  run -0 rrun build -q -t b-own:1 "$CTX"
  run -0 rrun run --rm b-own:1 stat -c '%n %u:%g %a' /owned /copied /tmp/sub/f
  [ "$output" = "/owned 1000:50 4755
/copied 1000:50 640
/tmp/sub/f 1000:1000 644" ]
  # /tmp kept its mode though COPY wrote below it
  run -0 rrun run --rm b-own:1 stat -c '%a' /tmp
  [ "$output" = 1777 ]
  run -1 rrun run --rm b-own:1 ls /removed
  run -1 rrun run --rm b-own:1 cat /etc/group
}

@test "build: -f, -f -, Containerfile, --iidfile, --label, --build-arg from the environment" {
  printf 'FROM %s\nARG FROMENV\nRUN echo "$FROMENV" >/env\n' "$FIXTURE_IMAGE" >"$CTX/Containerfile"
  FROMENV=yes run -0 rrun build -q --build-arg FROMENV --iidfile "$BATS_TEST_TMPDIR/iid" \
    --label built.by=rrun -t b-flags:1 "$CTX"
  [ "$(cat "$BATS_TEST_TMPDIR/iid")" = "sha256:$output" ]
  run -0 rrun run --rm b-flags:1 cat /env
  [ "$output" = yes ]
  run -0 rrun image inspect --format '{{json .Config.Labels}}' b-flags:1
  [ "$output" = '{"built.by":"rrun"}' ]
  printf 'FROM %s\nRUN echo other >/o\n' "$FIXTURE_IMAGE" >"$BATS_TEST_TMPDIR/Other"
  run -0 rrun build -q -f "$BATS_TEST_TMPDIR/Other" -t b-flags:1 "$CTX"
  run -0 rrun run --rm b-flags:1 cat /o
  [ "$output" = other ]
  run -0 rrun build -q -f - -t b-stdin:1 "$CTX" <<<"FROM $FIXTURE_IMAGE
CMD [\"echo\", \"from stdin\"]"
  run -0 rrun run --rm b-stdin:1
  [ "$output" = "from stdin" ]
  run -125 rrun build --pull=sometimes "$CTX"
  [ "${lines[0]}" = 'rrun: invalid --pull "sometimes": expected always, missing or never' ]
}

@test "build: a built image pushes to a registry; skopeo copies it" {
  command -v docker-registry >/dev/null || skip "docker-registry is not installed"
  command -v skopeo >/dev/null || skip "skopeo is not installed"
  local reg digest
  reg=$(reg_start "$BATS_TEST_TMPDIR/reg")
  printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$reg" >"$BATS_TEST_TMPDIR/r.conf"
  export RRUN_REGISTRIES_CONF=$BATS_TEST_TMPDIR/r.conf
  printf 'FROM %s\nRUN echo pushed >/p\nCMD ["cat", "/p"]\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -0 rrun build -q -t b-push:1 "$CTX"
  run -0 rrun push -q b-push:1 "$reg/b/push:1"
  digest=$output
  run -0 skopeo inspect --tls-verify=false "docker://$reg/b/push:1"
  [[ $output == *"\"Digest\": \"$digest\""* ]]
  run -0 skopeo copy -q --src-tls-verify=false "docker://$reg/b/push:1" "oci:$BATS_TEST_TMPDIR/oci:x"
  run -0 rrun rmi b-push:1
  run -0 rrun run --rm "$reg/b/push:1"
  [ "$output" = pushed ]
  reg_stop "$BATS_TEST_TMPDIR/reg"
}

@test "build: builder prune empties the cache and removes untagged step images only" {
  # the entries of this file's other tests first
  run -0 rrun builder prune -f
  printf 'FROM %s\nRUN echo one >/one\nENV A=1\nRUN echo two >/two\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -0 rrun build -q -t b-cache:1 "$CTX"
  local id=$output
  run -0 rrun builder prune -f
  # three steps made images (RUN, ENV, RUN); the last one is tagged and stays
  [ "$output" = "Removed 3 cache entries and 2 step images" ]
  run -0 rrun run --rm b-cache:1 cat /one /two
  [ "$output" = "one
two" ]
  run -0 rrun build -t b-cache:1 "$CTX"
  [[ $output != *"Using cache"* ]]
  [ "${lines[-1]}" != "$id" ]
  run -0 rrun builder prune -f
  [ "$output" = "Removed 3 cache entries and 2 step images" ]
}

@test "build: COPY never follows a symlink out of an image's layers or the context" {
  mkdir -p "$BATS_TEST_TMPDIR/host"
  echo "host secret" >"$BATS_TEST_TMPDIR/host/secret"
  cat >"$CTX/Dockerfile" <<EOF
FROM $FIXTURE_IMAGE AS base
RUN ln -s $BATS_TEST_TMPDIR/host /data
FROM $FIXTURE_IMAGE
COPY --from=base /data/secret /stolen
EOF
  run -125 rrun build -q "$CTX"
  [[ $output == *"$CTX/Dockerfile:4: COPY: \"/data/secret\" not found in the --from image"* ]]
  # a context path through a link that leaves the context
  ln -s "$BATS_TEST_TMPDIR/host" "$CTX/out"
  printf 'FROM %s\nCOPY out/secret /stolen\n' "$FIXTURE_IMAGE" >"$CTX/Dockerfile"
  run -125 rrun build -q "$CTX"
  [[ $output == *"$CTX/Dockerfile:2: COPY: \"out/secret\" leads out of the build context through a symlink"* ]]
}
