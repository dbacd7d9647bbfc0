#!/usr/bin/env python3
"""rst.py - a client that sends without reading, then resets the connection (RST).

usage: rst.py HOST PORT BYTES

Sends up to BYTES bytes and never reads, stopping early when its writes make no progress
for 0.3 s (the server is then blocked writing the echo back). Then it closes with
SO_LINGER {on, 0 s}: the kernel discards what is queued and sends RST instead of FIN, so
the server's next read or write fails with ECONNRESET (or EPIPE). Prints
"sent N bytes, then reset". Exit 0; when the server ends the connection first, "the
connection failed after N bytes: REASON", exit 1.
"""
import select
import socket
import struct
import sys


def main():
    if len(sys.argv) != 4:
        print("usage: rst.py HOST PORT BYTES", file=sys.stderr)
        return 2
    host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sock = socket.create_connection((host, port))
    sock.setblocking(False)
    block = b"r" * 65536
    sent = 0
    while sent < total:
        _, writable, _ = select.select([], [sock], [], 0.3)
        if not writable:
            break
        try:
            sent += sock.send(block[:min(len(block), total - sent)])
        except BlockingIOError:
            pass
        except OSError as e:
            print(f"the connection failed after {sent} bytes: {e.strerror}", flush=True)
            return 1
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    print(f"sent {sent} bytes, then reset", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
