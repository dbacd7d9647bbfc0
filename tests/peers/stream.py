#!/usr/bin/env python3
"""stream.py - push BYTES pseudo-random bytes through an echo server and check every one.

usage: stream.py [--chunk N] [--slow] [--timeout SECS] HOST PORT BYTES

One thread sends BYTES bytes in writes of N bytes (default 65536) and then half-closes
(shutdown SHUT_WR); the main thread reads until EOF, checking each byte as it comes.
Without --slow it reads concurrently, so neither side's buffers fill up.

--slow       the slow reader: read nothing until the sender has sent everything, or the
             server has taken none of its bytes for 0.3 s (at most 5 s); then read it all.
             Meanwhile every buffer on the way back fills, and the server's send() can
             take only part of what it is given, or nothing (EAGAIN): a server that does
             not send the rest loses it.
--timeout S  give up when no byte arrives for S seconds (default 10).

The bytes are a 1 MiB random block repeated, each repeat rotated by a different amount, so
that a lost, repeated or reordered piece shows as a difference at a known offset.

Prints:
    sent BYTES SHA256               what the sender handed to the kernel, and its digest
    received BYTES SHA256           what came back
then, when something went wrong, any of:
    send failed: REASON             the sender could not send everything (the count above)
    receive ended: REASON           a reset or a timeout instead of EOF
    first difference at byte N      the first byte received that is not the one sent there
Exit 0 when everything was sent and the connection ended by EOF; 1 otherwise.
"""
import argparse
import fcntl
import hashlib
import os
import select
import socket
import struct
import sys
import threading
import time

try:
    from termios import TIOCOUTQ  # bytes sent but not yet acknowledged: Linux
except ImportError:
    TIOCOUTQ = None

POOL_SIZE = 1 << 20
POOL = os.urandom(POOL_SIZE)
STEP = 7919  # each repeat of the pool is rotated by this much more than the one before


def expected(offset, size):
    """The size bytes of the stream from offset on."""
    out = bytearray()
    while size > 0:
        block, within = divmod(offset, POOL_SIZE)
        start = (within + block * STEP) % POOL_SIZE
        take = min(size, POOL_SIZE - within, POOL_SIZE - start)
        out += POOL[start:start + take]
        offset += take
        size -= take
    return bytes(out)


def sender(sock, total, chunk, state):
    digest = hashlib.sha256()
    try:
        while state["sent"] < total:
            block = expected(state["sent"], min(chunk, total - state["sent"]))
            sock.sendall(block)
            digest.update(block)
            state["sent"] += len(block)
        sock.shutdown(socket.SHUT_WR)
    except OSError as e:
        state["error"] = e.strerror or type(e).__name__
    state["digest"] = digest.hexdigest()
    state["done"] = True


def unsent(sock):
    """Bytes this socket's kernel still holds unacknowledged (Linux), or None."""
    if TIOCOUTQ is None:
        return None
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), TIOCOUTQ, b"\0" * 4))[0]


def wait_until_stalled(sock, state):
    """--slow: wait until the sender is done, or the server has stopped taking its bytes:
    bytes waiting in this socket's send queue, their count unchanged for 0.3 s (5 s at
    most). A sender merely short of CPU does not count: the queue it filled drains while
    the server reads on."""
    deadline = time.monotonic() + 5
    last, since = None, time.monotonic()
    while not state["done"] and time.monotonic() < deadline:
        now = (unsent(sock), state["sent"])
        if now != last or now[0] == 0:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= 0.3:
            return
        time.sleep(0.02)


def main():
    p = argparse.ArgumentParser(description="stream bytes through an echo server")
    p.add_argument("--chunk", type=int, default=65536)
    p.add_argument("--slow", action="store_true")
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("bytes", type=int)
    a = p.parse_args()
    sock = socket.create_connection((a.host, a.port))
    state = {"sent": 0, "done": False}
    writer = threading.Thread(target=sender, args=(sock, a.bytes, a.chunk, state))
    writer.start()
    if a.slow:
        wait_until_stalled(sock, state)
    digest = hashlib.sha256()
    count, differs, end = 0, None, None
    while True:
        ready, _, _ = select.select([sock], [], [], a.timeout)
        if not ready:
            end = "no byte came for %g s" % a.timeout
            break
        try:
            part = sock.recv(262144)
        except OSError as e:
            end = e.strerror or type(e).__name__
            break
        if not part:
            break
        if differs is None and part != expected(count, len(part)):
            want = expected(count, len(part))
            differs = count + next(i for i in range(len(part)) if i >= len(want) or part[i] != want[i])
        digest.update(part)
        count += len(part)
    if end is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # the sender may still be blocked: let it fail
        except OSError:
            pass
    writer.join()
    sock.close()
    print(f"sent {state['sent']} {state['digest']}")
    print(f"received {count} {digest.hexdigest()}")
    if "error" in state:
        print(f"send failed: {state['error']}")
    if end is not None:
        print(f"receive ended: {end}")
    if differs is not None:
        print(f"first difference at byte {differs}")
    return 0 if "error" not in state and end is None else 1


if __name__ == "__main__":
    sys.exit(main())
