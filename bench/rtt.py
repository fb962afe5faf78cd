#!/usr/bin/env python3
"""Request/response latency: rtt.py HOST PORT echo|http N

echo: one TCP connection (TCP_NODELAY), N sequential 1-byte round trips to an echo server.
http: N sequential HTTP/1.0 GETs of a small file, a new connection each (as curl does).
Retries the first connection for up to 10 s (the server may still be starting). Prints
"median_ms p90_ms total_s". Exits non-zero on a wrong or short answer."""
import socket
import statistics
import sys
import time

host, port, mode, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])


def connect():
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def echo_once(s):
    s.sendall(b"x")
    if s.recv(1) != b"x":
        sys.exit("rtt.py: short echo")


def get_once():
    s = connect()
    s.sendall(b"GET /index.html HTTP/1.0\r\nHost: bench\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    if not data.startswith(b"HTTP/1.") or b" 200 " not in data.split(b"\r\n", 1)[0]:
        sys.exit("rtt.py: bad HTTP answer: %r" % data[:80])


deadline = time.monotonic() + 10
while True:  # warm-up, and wait for the server
    try:
        if mode == "echo":
            sock = connect()
            echo_once(sock)
        else:
            get_once()
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.1)

times = []
start = time.monotonic()
for _ in range(n):
    t = time.perf_counter()
    if mode == "echo":
        echo_once(sock)
    else:
        get_once()
    times.append((time.perf_counter() - t) * 1000)
total = time.monotonic() - start
times.sort()
print("%.3f %.3f %.2f" % (statistics.median(times), times[int(len(times) * 0.9)], total))
