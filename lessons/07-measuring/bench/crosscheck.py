#!/usr/bin/env python3
"""bench/crosscheck.py - an independent measurement of an echo server, for crosscheck.sh.

crosscheck.py stream HOST PORT SECONDS: one connection, 4 MiB kept in flight (what
echo-load -s 65536 -w 64 keeps), prints the MB/s echoed back.
crosscheck.py reqrep HOST PORT SECONDS: one connection, one 64-byte request at a time,
prints requests/s and the median round trip in microseconds.
Written without any code of echo-load's, in another language, so that a bug in one is
unlikely to be repeated in the other. It counts bytes; it does not check them.
"""
import selectors
import socket
import sys
import time


def connect(host, port):
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def stream(s, seconds):
    chunk = memoryview(bytes(range(256)) * 1024)  # 256 KiB writes; a view slices without copying
    in_flight = 4 << 20  # what echo-load -s 65536 -w 64 keeps in flight
    buf = bytearray(256 << 10)
    sent = received = 0
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        for _, events in sel.select(timeout=0.1):
            if events & selectors.EVENT_WRITE and sent - received < in_flight:
                try:
                    sent += s.send(chunk[: min(len(chunk), in_flight - (sent - received))])
                except BlockingIOError:
                    pass
            if events & selectors.EVENT_READ:
                try:
                    n = s.recv_into(buf)
                except BlockingIOError:
                    continue
                if n == 0:
                    sys.exit("crosscheck.py: the server closed the connection")
                received += n
    print("%.2f" % (received / (time.perf_counter() - start) / 1e6))


def reqrep(s, seconds):
    request, times = b"x" * 63 + b"\n", []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter_ns()
        s.sendall(request)
        got = 0
        while got < len(request):
            n = len(s.recv(4096))
            if n == 0:
                sys.exit("crosscheck.py: the server closed the connection")
            got += n
        times.append(time.perf_counter_ns() - t)
    times.sort()
    print("%.0f %.0f" % (len(times) / seconds, times[len(times) // 2] / 1e3))


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in ("stream", "reqrep"):
        sys.exit("usage: crosscheck.py stream|reqrep HOST PORT SECONDS")
    sock = connect(sys.argv[2], int(sys.argv[3]))
    (stream if sys.argv[1] == "stream" else reqrep)(sock, float(sys.argv[4]))
    sock.close()
