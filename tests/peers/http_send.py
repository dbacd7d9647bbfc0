#!/usr/bin/env python3
"""http_send.py - send exact bytes to an HTTP server and print every byte it answers.

usage: http_send.py [--chunk N] [--delay S] [--half-close] [--timeout S] [--report]
                    HOST PORT FILE...

Sends FILE (- for stdin) in one write, or N bytes at a time with S seconds between them,
while reading whatever the server sends; stops sending if the server closes. Then reads
until the server closes the connection (or --timeout S seconds, default 10, pass without a
byte: exit 3) and prints all the bytes received, raw, on stdout. --half-close shuts down
the sending side after the last byte. --report prints on stderr "closed after T s" (T from
the first byte sent; "no close, nothing more for S s" after a --timeout) and "sent N of M
bytes".

With several FILEs, each is sent on a connection of its own, one after the other, and
each answer is printed after a line "== FILE" (one python start for many exchanges).
"""
import argparse
import select
import socket
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--chunk", type=int, default=0)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--half-close", action="store_true")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--report", action="store_true")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("files", nargs="+")
    a = p.parse_args()
    if len(a.files) == 1:
        exchange(a, a.files[0])
        return
    for name in a.files:
        sys.stdout.buffer.write(b"== " + name.encode() + b"\n")
        exchange(a, name)
    sys.stdout.buffer.flush()


def exchange(a, name):
    data = sys.stdin.buffer.read() if name == "-" else open(name, "rb").read()
    sock = socket.create_connection((a.host, a.port), timeout=a.timeout)
    sock.setblocking(False)
    chunk = a.chunk if a.chunk > 0 else max(len(data), 1)
    sent, received, closed, gone = 0, bytearray(), False, False
    start = time.monotonic()
    next_send = start
    last_byte = start
    while not closed:
        now = time.monotonic()
        sending = sent < len(data) and not gone
        wait = max(0.0, next_send - now) if sending else a.timeout - (now - last_byte)
        if not sending and wait <= 0:
            report(a, start, sent, data, "no close, nothing more for %.1f s" % a.timeout)
            sys.stdout.buffer.write(received)
            sys.exit(3)
        readable, _, _ = select.select([sock], [], [], wait)
        if readable:
            try:
                got = sock.recv(65536)
            except ConnectionResetError:
                got = b""
            if not got:
                closed = True
            received += got
            last_byte = time.monotonic()
        elif sending and time.monotonic() >= next_send:
            try:
                sock.setblocking(True)
                sock.sendall(data[sent:sent + chunk])
                sock.setblocking(False)
                sent = min(len(data), sent + chunk)
                next_send = time.monotonic() + a.delay
                last_byte = time.monotonic()
                if sent == len(data) and a.half_close:
                    sock.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                gone = True  # the server is gone: read what it said
    report(a, start, sent, data, "closed after %.1f s" % (time.monotonic() - start))
    sys.stdout.buffer.write(received)


def report(a, start, sent, data, how):
    if a.report:
        print(how, file=sys.stderr)
        print(f"sent {sent} of {len(data)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
