#!/usr/bin/env python3
"""noread.py - a client that sends and never reads, until every buffer is full.

usage: noread.py HOST PORT

Sends blocks of bytes and never reads the echo. Soon the server's writes fill this
client's receive buffer and the server's send buffer, the server blocks in write() (TCP
flow control), stops reading, and then this client's own writes make no progress. After
0.3 s without progress it prints "blocked after N bytes" (flushed), then waits until
stdin reaches EOF (tests drive it with a FIFO) and closes; unread data makes Linux send
RST rather than FIN. Exit 0.
A server that never blocks it (it reads on and drops the echo) or ends the connection makes
it print one line instead and exit 1 at once: "never blocked: sent N bytes" (after 64 MiB),
or "the connection failed after N bytes: REASON".
"""
import select
import socket
import sys

NEVER_BLOCKED = 64 << 20  # far more than any path's buffers hold


def main():
    if len(sys.argv) != 3:
        print("usage: noread.py HOST PORT", file=sys.stderr)
        return 2
    sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
    sock.setblocking(False)
    block = b"n" * 65536
    sent = 0
    while True:
        _, writable, _ = select.select([], [sock], [], 0.3)
        if not writable:
            break
        if sent >= NEVER_BLOCKED:
            print(f"never blocked: sent {sent} bytes", flush=True)
            return 1
        try:
            sent += sock.send(block)
        except BlockingIOError:
            pass
        except OSError as e:
            print(f"the connection failed after {sent} bytes: {e.strerror}", flush=True)
            return 1
    print(f"blocked after {sent} bytes", flush=True)
    sys.stdin.buffer.read()
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
