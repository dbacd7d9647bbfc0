#!/usr/bin/env python3
"""http_paths.py - ask a server for many request targets, one connection each.

usage: http_paths.py HOST PORT < TARGETS

For each line of stdin (a request target, sent exactly as written, any bytes), sends
"GET TARGET HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n" on a new connection, reads the
answer until the server closes (10 s at most), and prints a line "== TARGET" followed by
the answer's bytes, raw.
"""
import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    out = sys.stdout.buffer
    for line in sys.stdin.buffer.read().split(b"\n"):
        if not line:
            continue
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(b"GET " + line + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while True:
                got = s.recv(65536)
                if not got:
                    break
                answer += got
        out.write(b"== " + line + b"\n" + answer)
    out.flush()


if __name__ == "__main__":
    main()
