#!/usr/bin/env python3
"""gone.py - a client that sends, half-closes and is gone before its echo comes back.

usage: gone.py HOST PORT BYTES PID

Stops the server PID (SIGSTOP), so that no echo can come back meanwhile; connects, sends up
to BYTES bytes in 16 KiB pieces as long as each is delivered to the server's kernel within
0.5 s (its receive buffer is the limit), half-closes (FIN) and waits until that is
delivered too; then closes and lets the server go on (SIGCONT). The server finds a
connection in CLOSE_WAIT holding a request, reads part of it and sends its echo; this
client's kernel, whose socket is closed, answers with a reset, and the server's next send()
fails with EPIPE: that raises SIGPIPE, which kills a server that neither ignores it nor
sends with MSG_NOSIGNAL. More than one read of the server's (64 KiB) must be sent for that
next send() to come. Prints "delivered N bytes and the end of input, then closed". Exit 0.
"""
import fcntl
import os
import signal
import socket
import struct
import sys
import time

try:
    from termios import TIOCOUTQ  # bytes (and FIN) sent but not yet acknowledged: Linux
except ImportError:
    TIOCOUTQ = None


def delivered(sock, limit):
    """Wait up to limit seconds until everything sent has been acknowledged."""
    if TIOCOUTQ is None:
        time.sleep(limit / 5)
        return True
    deadline = time.monotonic() + limit
    while True:
        pending = struct.unpack("i", fcntl.ioctl(sock.fileno(), TIOCOUTQ, b"\0" * 4))[0]
        if pending == 0:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)


def main():
    if len(sys.argv) != 5:
        print("usage: gone.py HOST PORT BYTES PID", file=sys.stderr)
        return 2
    host, port, total, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    os.kill(pid, signal.SIGSTOP)
    try:
        sock = socket.create_connection((host, port), timeout=5)
        sent = 0
        while sent < total:
            sent += sock.send(b"g" * min(16384, total - sent))
            if not delivered(sock, 0.5):
                break
        sock.shutdown(socket.SHUT_WR)
        delivered(sock, 0.5)
        sock.close()
    finally:
        os.kill(pid, signal.SIGCONT)
    print(f"delivered {sent} bytes and the end of input, then closed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
