#!/usr/bin/env python3
"""http_idle.py - open N connections to a server and hold them, saying nothing.

usage: http_idle.py HOST PORT N

Connects N times (raising its own open-file limit as far as allowed), prints "open N" once
every connection is established, then holds them all until stdin ends. Then it prints
"closed by the server: K" (the connections the server had closed meanwhile) and closes
them all. A failed connect ends it with a python error (exit 1).
"""
import resource
import select
import socket
import sys


def main():
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64 if hard == resource.RLIM_INFINITY else min(hard, n + 64)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.connect((host, port))  # loopback: the kernel completes it in the backlog
        socks.append(s)
    print(f"open {len(socks)}", flush=True)
    sys.stdin.read()
    # A connection the server closed is readable (EOF) or in error: count those.
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN)
    print(f"closed by the server: {len(poller.poll(0))}", flush=True)
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
