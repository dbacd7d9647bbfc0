#!/usr/bin/env python3
"""noread.py - a client that sends and never reads, until every buffer is full.

usage: noread.py HOST PORT

Sends blocks of bytes and never reads the echo. Soon the server's writes fill this
client's receive buffer and the server's send buffer, the server blocks in write() (TCP
flow control), stops reading, and then this client's own writes make no progress. After
0.3 s without progress it prints "blocked after N bytes" (flushed), then waits until
stdin reaches EOF (tests drive it with a FIFO) and closes; unread data makes Linux send
RST rather than FIN. Exit 0.
"""
import select
import socket
import sys


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
        try:
            sent += sock.send(block)
        except BlockingIOError:
            pass
    print(f"blocked after {sent} bytes", flush=True)
    sys.stdin.buffer.read()
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
