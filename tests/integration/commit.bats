#!/usr/bin/env bats
# rrun commit: a container's writable layer as a new image (stopped and running
# containers), deletions as OCI whiteouts (a removed file, a directory made opaque),
# owners and setuid bits as the container saw them, -c changes, -m, --author, history;
# and a committed image pushed to a registry, read by skopeo.

load helpers
load registry-helpers

setup_file() {
  common_setup_file
}

teardown() {
  rrun rm -f c-stopped c-live c-opaque c-push c-conf >/dev/null 2>&1 || true
  rrun rmi -f committed:1 committed:2 committed:3 committed:4 committed:5 >/dev/null 2>&1 || true
}

@test "commit: a stopped container's changes, deletions and owners become a layer" {
  run -0 rrun run --name c-stopped "$FIXTURE_IMAGE" sh -c \
    'echo hello >/newfile && chown 1000:50 /newfile && chmod 4755 /newfile && rm /etc/group && mkdir -p /d/e && echo f >/d/e/f && ln /newfile /hardlink'
  run -0 rrun commit -c 'CMD ["cat", "/newfile"]' -c 'ENV GREETING="hi there"' -c 'LABEL a=b' \
    -m "my change" --author "Ann <ann@example.org>" c-stopped committed:1
  [[ $output =~ ^[0-9a-f]{64}$ ]]
  local id=$output
  run -0 rrun run --rm committed:1
  [ "$output" = hello ]
  # the owner and the setuid bit as the container set them
  run -0 rrun run --rm committed:1 stat -c '%u:%g %a %h' /newfile
  [ "$output" = "1000:50 4755 2" ]
  # a removed file stays removed; the rest of /etc is there
  run -1 rrun run --rm committed:1 cat /etc/group
  run -0 rrun run --rm committed:1 sh -c 'cat /etc/passwd >/dev/null && cat /d/e/f && echo "$GREETING"'
  [ "$output" = "f
hi there" ]
  run -0 rrun image inspect --format '{{.Config.Cmd}} {{.Config.Labels}} {{.Author}}' committed:1
  [[ $output == *"cat /newfile"* ]]
  [[ $output == *"a:b"* ]]
  [[ $output == *"Ann <ann@example.org>"* ]]
  run -0 rrun history --no-trunc committed:1
  [[ ${lines[1]} == *"my change"* ]]
  [[ ${lines[1]} == *"${id:0:12}"* ]]
  # the image is the base plus one layer
  local base
  base=$(rrun image inspect --format '{{len .RootFS.Layers}}' "$FIXTURE_IMAGE")
  run -0 rrun image inspect --format '{{len .RootFS.Layers}}' committed:1
  [ "$output" = $((base + 1)) ]
}

@test "commit: a directory removed and made again hides what the image had (opaque)" {
  run -0 rrun run --name c-opaque "$FIXTURE_IMAGE" sh -c 'rm -rf /srv && mkdir /srv && echo only >/srv/only'
  run -0 rrun commit c-opaque committed:2
  run -0 rrun run --rm committed:2 ls /srv
  [ "$output" = only ]
}

@test "commit: a running container; a commit of a commit keeps both layers" {
  rrun_bg run --name c-live "$FIXTURE_IMAGE" sh -c 'echo live >/live && sleep 60'
  has_file() { rrun exec c-live test -f /live; }
  wait_until has_file
  run -0 rrun commit c-live committed:3
  run -0 rrun rm -f c-live
  wait_bg
  run -0 rrun run --name c-stopped committed:3 sh -c 'echo two >/two'
  run -0 rrun commit -c 'WORKDIR /srv' -c 'USER 1000' c-stopped committed:4
  run -0 rrun run --rm committed:4 sh -c 'cat /live /two; pwd; id -u'
  [ "$output" = "live
two
/srv
1000" ]
}

@test "commit: errors" {
  run -125 rrun commit
  [ "${lines[0]}" = "rrun: commit: expected a container and at most one image name, got 0 arguments" ]
  run -125 rrun commit no-such-container x:1
  [[ ${lines[0]} == *'"no-such-container"'* ]]
  run -0 rrun run --name c-stopped "$FIXTURE_IMAGE" true
  run -125 rrun commit -c 'FROM x' c-stopped committed:1
  [ "${lines[0]}" = 'rrun: invalid change "FROM x": "FROM" is not an instruction that changes the image config' ]
  run -125 rrun commit -c 'EXPOSE 99999' c-stopped committed:1
  [ "${lines[0]}" = 'rrun: invalid change "EXPOSE 99999": EXPOSE: invalid port "99999"' ]
}

@test "commit: a committed image pushes (gzip layers) and skopeo reads it" {
  command -v docker-registry >/dev/null || skip "docker-registry is not installed"
  command -v skopeo >/dev/null || skip "skopeo is not installed"
  local reg
  reg=$(reg_start "$BATS_TEST_TMPDIR/reg")
  printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$reg" >"$BATS_TEST_TMPDIR/r.conf"
  export RRUN_REGISTRIES_CONF=$BATS_TEST_TMPDIR/r.conf
  run -0 rrun run --name c-push "$FIXTURE_IMAGE" sh -c 'echo pushed >/p'
  run -0 rrun commit c-push committed:1
  run -0 rrun push -q committed:1 "$reg/c/committed:1"
  local digest=$output
  run -0 skopeo inspect --tls-verify=false "docker://$reg/c/committed:1"
  [[ $output == *"\"Digest\": \"$digest\""* ]]
  run -0 skopeo inspect --raw --tls-verify=false "docker://$reg/c/committed:1"
  [ "$(jq -r '.layers[-1].mediaType' <<<"$output")" = application/vnd.oci.image.layer.v1.tar+gzip ]
  run -0 skopeo copy -q --src-tls-verify=false "docker://$reg/c/committed:1" "oci:$BATS_TEST_TMPDIR/oci:x"
  run -0 rrun rmi committed:1
  run -0 rrun pull -q "$reg/c/committed:1"
  run -0 rrun run --rm "$reg/c/committed:1" cat /p
  [ "$output" = pushed ]
  reg_stop "$BATS_TEST_TMPDIR/reg"
}

# docker commits the container's Config: its -e, -w, -u and command stay in the image,
# and -c changes apply over them.
@test "commit: the container's -e, -w, -u and command go into the config; -c over them" {
  run -0 rrun run --name c-conf -e GREET=hello -e OTHER=1 -w /tmp -u 1000 "$FIXTURE_IMAGE" \
    sh -c 'echo "$GREET"'
  run -0 rrun commit -c 'ENV OTHER=2' c-conf committed:5
  run -0 rrun image inspect committed:5
  local c
  c=$(jq '.[0].Config' <<<"$output")
  [ "$(jq -r '.WorkingDir' <<<"$c")" = /tmp ]
  [ "$(jq -r '.User' <<<"$c")" = 1000 ]
  [ "$(jq -c '.Cmd' <<<"$c")" = '["sh","-c","echo \"$GREET\""]' ]
  [ "$(jq -r '.Env[] | select(startswith("GREET="))' <<<"$c")" = GREET=hello ]
  [ "$(jq -r '.Env[] | select(startswith("OTHER="))' <<<"$c")" = OTHER=2 ]
  run -0 rrun run --rm committed:5
  [ "$output" = hello ]
  run -0 rrun run --rm committed:5 sh -c 'pwd; id -u'
  [ "$output" = $'/tmp\n1000' ]
}

# --pause (default): a running container with a cgroup of its own is frozen during the
# commit and thawed after; --pause=false leaves it running.
@test "commit: pauses a running container and resumes it" {
  rrun_bg run --name c-live "$FIXTURE_IMAGE" sh -c 'echo live >/live && sleep 60'
  has_file() { rrun exec c-live test -f /live; }
  wait_until has_file
  run -0 rrun inspect --format '{{.State.Status}}' c-live
  run -0 rrun commit c-live committed:3
  run -0 rrun inspect --format '{{.State.Status}}' c-live
  [ "$output" = running ]
  run -0 rrun exec c-live cat /live
  [ "$output" = live ]
  run -0 rrun commit --pause=false c-live committed:4
  run -0 rrun commit -p c-live committed:4
  run -0 rrun inspect --format '{{.State.Status}}' c-live
  [ "$output" = running ]
  run -125 rrun commit --pause=maybe c-live committed:4
  [ "${lines[0]}" = 'rrun: commit: invalid --pause "maybe": expected true or false' ]
  run -0 rrun rm -f c-live
  wait_bg
}
