#!/usr/bin/env python3
"""small-buffers.py - a client against a slow server, with socket buffers too small for a line.

usage: unshare -rn small-buffers.py [--mode echo|reset] [--stop] [--idle SECS] [--limit SECS]
                                    REPORT -- CLIENT [ARG...]

Run it in a network namespace of its own (`unshare -rn`: a private loopback, no root
needed where user namespaces are allowed). There it brings the loopback up and shrinks
TCP's buffers to 4 KiB (net.ipv4.tcp_wmem and tcp_rmem of this namespace only), so one
long line no longer fits in them: send() then takes part of it and waits, or returns early.
On an ordinary machine a socket's send buffer grows to megabytes, and a client's partial
write never shows.

It listens on 127.0.0.1 port 0, runs CLIENT ARG... 127.0.0.1 PORT (stdin, stdout and stderr
its own) and serves that one connection:
  echo   reads 1024 bytes at a time, 2 ms apart (a slow reader), and echoes each whole line
         back (LF ending). With --stop, while a line has begun and not ended, it stops and
         continues the client (SIGSTOP, SIGCONT) every 20 ms, as Ctrl-Z and fg would: a
         blocking send() interrupted that way returns early, with part of the line sent.
         A line that stays unfinished for --idle seconds (default 1) with nothing more
         arriving is given up: the server closes the connection.
  reset  reads 8 KiB, then half-closes (FIN) and closes with SO_LINGER 0 (RST) while the
         client is still writing: a write after that is refused with EPIPE, and raises
         SIGPIPE in a program that neither ignores it nor sends with MSG_NOSIGNAL.
Writes REPORT, one "key value" a line: port, received (bytes), lines (whole lines),
unfinished (bytes of a line whose end never came). Exits with the client's status (128+N when
signal N ended it; 124 when it ran longer than --limit seconds, default 10, and was killed).
"""
import argparse
import fcntl
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def private_loopback():
    """Bring lo up and make TCP's buffers small, in this network namespace."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))
    for name in ("tcp_wmem", "tcp_rmem"):
        with open(f"/proc/sys/net/ipv4/{name}", "w") as f:
            f.write("4096 4096 4096")


def stop_and_continue(pid):
    """SIGSTOP, wait (50 ms at most) until the process is stopped, SIGCONT."""
    os.kill(pid, signal.SIGSTOP)
    for _ in range(50):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in "Tt":
                    break
        except OSError:
            break
        time.sleep(0.001)
    os.kill(pid, signal.SIGCONT)


def serve_echo(conn, client, stop, idle):
    received, lines, pending = 0, 0, b""
    last_data, last_stop = time.monotonic(), 0.0
    conn.setblocking(False)
    while True:
        ready, _, _ = select.select([conn], [], [], 0.02)
        now = time.monotonic()
        if ready:
            data = conn.recv(1024)
            if not data:
                break
            received += len(data)
            pending += data
            last_data = now
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                lines += 1
                conn.setblocking(True)
                conn.sendall(line + b"\n")
                conn.setblocking(False)
            time.sleep(0.002)
        if pending and now - last_data > idle:
            break  # the rest of the line is not coming
        if stop and pending and now - last_stop > 0.02 and client.poll() is None:
            stop_and_continue(client.pid)
            last_stop = time.monotonic()
    return received, lines, len(pending)


def serve_reset(conn):
    received = 0
    while received < 8192:
        data = conn.recv(1024)
        if not data:
            break
        received += len(data)
    conn.shutdown(socket.SHUT_WR)
    time.sleep(0.05)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return received, 0, 0


def main():
    p = argparse.ArgumentParser(description="a client against a slow server, small buffers")
    p.add_argument("--mode", choices=["echo", "reset"], default="echo")
    p.add_argument("--stop", action="store_true")
    p.add_argument("--idle", type=float, default=1.0)
    p.add_argument("--limit", type=float, default=10.0)
    p.add_argument("report")
    p.add_argument("client", nargs="+")
    a = p.parse_args()
    private_loopback()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]
    client = subprocess.Popen(a.client + ["127.0.0.1", str(port)])
    deadline = time.monotonic() + a.limit
    received = lines = unfinished = 0
    ready, _, _ = select.select([lsock], [], [], a.limit)
    if ready:
        conn, _ = lsock.accept()
        try:
            if a.mode == "echo":
                received, lines, unfinished = serve_echo(conn, client, a.stop, a.idle)
            else:
                received, lines, unfinished = serve_reset(conn)
        except OSError:
            pass
        conn.close()
    try:
        status = client.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        client.kill()
        client.wait()
        status = 124
    if status < 0:
        status = 128 - status
    with open(a.report, "w") as f:
        f.write(f"port {port}\nreceived {received}\nlines {lines}\nunfinished {unfinished}\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
