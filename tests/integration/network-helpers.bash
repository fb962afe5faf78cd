# Shared by network-run.bats and network-ipv6.bats: a web server in a container, and GETs
# from a new one.

# A web server in a detached container on the given networks (RUN-OPTIONS): it answers
# hello-from-NAME.
web() { # NAME RUN-OPTIONS...
  local name=$1
  shift
  rrun run -d --name "$name" "$@" "$FIXTURE_IMAGE" \
    sh -c "mkdir -p /www && echo hello-from-$name >/www/index.html && exec httpd -f -p 80 -h /www"
}

# An HTTP GET with busybox nc (the fixture's static busybox wget crashes in getaddrinfo):
# the body's last line; exit 1 when nothing answers within 3 s.
# shellcheck disable=SC2016 # expanded by the container's shell
GET='get() { printf "GET / HTTP/1.0\r\n\r\n" >/tmp/req; nc -w 3 "$1" 80 </tmp/req >/tmp/resp && [ -s /tmp/resp ] || return 1; tail -n 1 /tmp/resp; }'

# GET from a new container with the given options, retried for up to 10 s.
fetch_from() { # ADDRESS RUN-OPTIONS...
  local ip=$1
  shift
  rrun run --rm "$@" "$FIXTURE_IMAGE" \
    sh -c "$GET; for i in \$(seq 20); do get $ip && exit 0; sleep 0.5; done; exit 1"
}
