#!/usr/bin/env python3
"""Both ends of net-tcp.bats' TCP checks: servers on the host, clients in the container.

  net-tcp-peer.py serve ADDR PORTFILE MODE [ARG...]
      a server on ADDR and a free port, written to PORTFILE once it listens (renamed into
      place, so a reader never sees half of it); what it saw goes to stdout
  net-tcp-peer.py MODE HOST PORT [ARG...]
      a client (run in the container's namespace); prints what it got, exits 1 on a
      wrong answer

Every socket has a timeout and the process an alarm: no run of it can hang. Payloads are
random bytes from a seed, so both ends can check them without sharing a file.
"""
import errno
import hashlib
import os
import random
import signal
import socket
import struct
import sys
import threading
import time

TIMEOUT = 10.0  # seconds any one socket operation may take
CHUNK = 1 << 20


def blob(seed, size):
    return random.Random(seed).randbytes(size)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def errname(err):
    return errno.errorcode.get(err.errno, str(err.errno)) if err.errno else type(err).__name__


def recv_all(sock, digest=None):
    """Read to EOF: the bytes (or, given a hashlib object, their count)."""
    parts, n = [], 0
    while True:
        data = sock.recv(CHUNK)
        if not data:
            return n if digest is not None else b"".join(parts)
        n += len(data)
        if digest is not None:
            digest.update(data)
        else:
            parts.append(data)


def recv_exact(sock, size):
    parts, n = [], 0
    while n < size:
        data = sock.recv(min(CHUNK, size - n))
        if not data:
            raise EOFError(f"EOF after {n} of {size} bytes")
        parts.append(data)
        n += len(data)
    return b"".join(parts)


def reset_close(sock):
    """Close with an RST rather than a FIN: SO_LINGER on, timeout 0."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def elapsed_ms(start):
    return int((time.monotonic() - start) * 1000)


def say(*words):
    print(*words, flush=True)


def say_next_recv(sock):
    """Block in recv and say how it ended (EOF, DATA, TIMEOUT or the errno's name) and
    after how many ms: what a reset looks like from this end."""
    start = time.monotonic()
    try:
        data = sock.recv(CHUNK)
        outcome = "EOF" if not data else "DATA"
    except socket.timeout:
        outcome = "TIMEOUT"
    except OSError as err:
        outcome = errname(err)
    say(outcome, elapsed_ms(start))


# ---- servers: each handles COUNT connections (or one), then exits

def serve_echo(conn):
    """Echo until EOF, then close (the client closes first)."""
    n = 0
    while True:
        data = conn.recv(CHUNK)
        if not data:
            break
        conn.sendall(data)
        n += len(data)
    conn.close()
    return n


def serve_sink(conn):
    digest = hashlib.sha256()
    n = recv_all(conn, digest)
    conn.close()
    say("received", n, digest.hexdigest())


def serve_source(conn, path):
    with open(path, "rb") as f:
        while True:
            data = f.read(CHUNK)
            if not data:
                break
            conn.sendall(data)
    conn.close()


def serve_halfclose_a(conn):
    got = recv_all(conn)
    say("received", len(got), "intact" if got == blob(1, 1 << 20) else "CORRUPT")
    conn.sendall(blob(2, 1 << 20))
    conn.close()


def serve_halfclose_b(conn):
    conn.sendall(blob(3, 1 << 20))
    conn.shutdown(socket.SHUT_WR)
    got = recv_all(conn)
    say("received", len(got), "intact" if got == blob(4, 100 << 10) else "CORRUPT")
    conn.close()


def serve_reset(conn):
    conn.sendall(b"hello\n")
    time.sleep(0.5)  # the client is in recv by now
    reset_close(conn)
    say("reset sent")


def serve_watch_reset(conn):
    if recv_exact(conn, 1) != b"x":
        say("bad request")
        return
    conn.sendall(b"ok")
    say_next_recv(conn)


SERVERS = {
    "echo": serve_echo,
    "sink": serve_sink,
    "source": serve_source,
    "halfclose-a": serve_halfclose_a,
    "halfclose-b": serve_halfclose_b,
    "reset": serve_reset,
    "watch-reset": serve_watch_reset,
}


def serve(addr, portfile, mode, count="1", *args):
    """Accept COUNT connections, each handled by its own thread; 0: until killed."""
    handler = SERVERS[mode]
    lsock = socket.socket(family(addr), socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((addr, 0))
    lsock.listen(128)
    with open(portfile + ".tmp", "w") as f:
        f.write(f"{lsock.getsockname()[1]}\n")
    os.rename(portfile + ".tmp", portfile)
    count = int(count)
    threads, errors, done = [], [], []

    def run(conn, i):
        conn.settimeout(TIMEOUT)
        try:
            result = handler(conn, *args)
            done.append(result or 0)
        except Exception as err:  # noqa: BLE001 (reported, and the exit status says so)
            errors.append(f"connection {i}: {err!r}")
            conn.close()

    i = 0
    while count == 0 or i < count:
        conn, _ = lsock.accept()
        print("accepted", i, file=sys.stderr, flush=True)
        t = threading.Thread(target=run, args=(conn, i))
        t.start()
        threads.append(t)
        i += 1
    for t in threads:
        t.join()
    for e in errors:
        say(e)
    if mode == "echo":
        say("echoed", len(done), "connections,", sum(done), "bytes")
    return 1 if errors else 0


# ---- clients

def connect(host, port):
    sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    sock.settimeout(TIMEOUT)
    return sock


def client_exchanges(host, port, count):
    """COUNT request/response exchanges on one connection, each answer checked."""
    sock = connect(host, port)
    rng = random.Random(7)
    good = sent = 0
    for i in range(int(count)):
        msg = f"{i}:".encode() + rng.randbytes(rng.randint(1, 2000))
        sock.sendall(msg)
        sent += len(msg)
        if recv_exact(sock, len(msg)) == msg:
            good += 1
    sock.shutdown(socket.SHUT_WR)
    rest = recv_all(sock)
    sock.close()
    say(f"answers right: {good} of {count}, {sent} bytes, then {len(rest)} bytes more")
    return 0 if good == int(count) and not rest else 1


def client_send(host, port, path):
    """Send a file, half-close, wait for the server's EOF (it has read everything)."""
    sock = connect(host, port)
    with open(path, "rb") as f:
        while True:
            data = f.read(CHUNK)
            if not data:
                break
            sock.sendall(data)
    sock.shutdown(socket.SHUT_WR)
    recv_all(sock)
    sock.close()
    return 0


def client_receive(host, port):
    sock = connect(host, port)
    digest = hashlib.sha256()
    n = recv_all(sock, digest)
    sock.close()
    say("received", n, digest.hexdigest())
    return 0


def client_connect_error(host, port):
    """Connect and expect to fail: the errno's name and how long it took."""
    start = time.monotonic()
    try:
        sock = socket.create_connection((host, int(port)), timeout=5)
    except socket.timeout:
        say("TIMEOUT", elapsed_ms(start))
        return 0
    except OSError as err:
        say(errname(err), elapsed_ms(start))
        return 0
    sock.close()
    say("CONNECTED", elapsed_ms(start))
    return 0


def client_halfclose_a(host, port):
    sock = connect(host, port)
    sock.sendall(blob(1, 1 << 20))
    sock.shutdown(socket.SHUT_WR)
    got = recv_all(sock)
    sock.close()
    ok = got == blob(2, 1 << 20)
    say("reply", len(got), "intact" if ok else "CORRUPT", "then EOF")
    return 0 if ok else 1


def client_halfclose_b(host, port):
    sock = connect(host, port)
    got = recv_all(sock)
    ok = got == blob(3, 1 << 20)
    say("received", len(got), "intact" if ok else "CORRUPT", "then EOF")
    sock.sendall(blob(4, 100 << 10))
    sock.close()
    return 0 if ok else 1


def client_expect_reset(host, port):
    """Read the greeting, then block in recv until the server's RST arrives."""
    sock = connect(host, port)
    if recv_exact(sock, 6) != b"hello\n":
        say("bad greeting")
        return 1
    say_next_recv(sock)
    return 0


def client_reset(host, port):
    sock = connect(host, port)
    sock.sendall(b"x")
    if recv_exact(sock, 2) != b"ok":
        say("bad answer")
        return 1
    reset_close(sock)
    say("reset sent")
    return 0


def client_parallel(host, port, count, size, hold="0", openfile=None):
    """COUNT connections at once, each sending SIZE bytes and reading their echo; with
    HOLD, all stay open after their echo: OPENFILE is made then, and HOLD seconds later
    they close."""
    count, size, hold = int(count), int(size), float(hold)
    results = [None] * count
    barrier = threading.Barrier(count + 1, timeout=TIMEOUT + hold)

    def one(i):
        try:
            sock = connect(host, port)
            data = blob(100 + i, size)
            sender = threading.Thread(target=sock.sendall, args=(data,))
            sender.start()
            got = recv_exact(sock, size)
            sender.join()
            results[i] = got == data
            if hold:
                barrier.wait()
                barrier.wait()
            sock.shutdown(socket.SHUT_WR)
            results[i] = results[i] and recv_all(sock) == b""
            sock.close()
        except Exception as err:  # noqa: BLE001
            results[i] = repr(err)
            if hold:
                barrier.abort()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    if hold:
        barrier.wait()
        if openfile:
            open(openfile, "w").close()
        time.sleep(hold)
        barrier.wait()
    for t in threads:
        t.join()
    good = sum(1 for r in results if r is True)
    say("intact:", good, "of", count)
    for i, r in enumerate(results):
        if r is not True:
            say(f"connection {i}: {r}")
    return 0 if good == count else 1


def client_sequential(host, port, count):
    """COUNT short connections one after another: connect, one request, close."""
    good = 0
    for i in range(int(count)):
        sock = connect(host, port)
        msg = f"request {i}\n".encode()
        sock.sendall(msg)
        if recv_exact(sock, len(msg)) == msg:
            good += 1
        sock.close()
    say("answered:", good, "of", count)
    return 0 if good == int(count) else 1


def client_idle(host, port, seconds):
    sock = connect(host, port)
    sock.sendall(b"a")
    first = recv_exact(sock, 1)
    time.sleep(float(seconds))
    sock.sendall(b"b")
    second = recv_exact(sock, 1)
    sock.close()
    say("answers", (first + second).decode())
    return 0 if first + second == b"ab" else 1


CLIENTS = {
    "exchanges": client_exchanges,
    "send": client_send,
    "receive": client_receive,
    "connect-error": client_connect_error,
    "halfclose-a": client_halfclose_a,
    "halfclose-b": client_halfclose_b,
    "expect-reset": client_expect_reset,
    "reset": client_reset,
    "parallel": client_parallel,
    "sequential": client_sequential,
    "idle": client_idle,
}


def main(argv):
    signal.alarm(60)  # SIGALRM ends the process: a last bound on any wait
    if len(argv) >= 4 and argv[0] == "serve":
        return serve(*argv[1:])
    if len(argv) >= 3 and argv[0] in CLIENTS:
        return CLIENTS[argv[0]](*argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
