#!/usr/bin/env python3
"""dns.py ADDR PORT NAME COUNT: send COUNT A queries for NAME over UDP, one at a time, and
print the median, p90 and p99 round trip in microseconds (bench/dns.sh)."""
import socket
import struct
import sys
import time

addr, port, name, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
qname = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((addr, port))
s.settimeout(2)
times = []
for i in range(count + 50):
    qid = i & 0xFFFF
    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1)
    t0 = time.perf_counter_ns()
    s.send(msg)
    while True:
        reply = s.recv(4096)
        if struct.unpack(">H", reply[:2])[0] == qid:
            break
    t1 = time.perf_counter_ns()
    ancount = struct.unpack(">H", reply[6:8])[0]
    if ancount < 1:
        sys.exit(f"dns.py: no answer for {name}")
    if i >= 50:  # warm-up
        times.append((t1 - t0) / 1000)
times.sort()
print(f"median {times[len(times) // 2]:.0f} us  p90 {times[len(times) * 9 // 10]:.0f} us  "
      f"p99 {times[len(times) * 99 // 100]:.0f} us  ({count} queries)")
