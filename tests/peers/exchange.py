#!/usr/bin/env python3
"""exchange.py - send bytes to an echo server, read as many back, print what came back.

usage: exchange.py [--chunk N] [--delay SECS] [--hold | --half-close] [--timeout SECS]
                   HOST PORT FILE

Sends the bytes of FILE ('-': stdin) to HOST:PORT (IPv4 or IPv6 address or name) in writes
of at most N bytes (default: one write), sleeping SECS between writes (the "drip" peer:
--chunk 1 --delay 0.01), while a second thread reads. Without --half-close it never
half-closes: an echo server must answer without waiting for EOF. Once as many bytes came
back as were sent (or the server closed, or nothing came for a while) it writes what came
back to stdout, raw, and flushes.
--hold       then keep the connection open until stdin reaches EOF or the server closes
             (tests drive this with a FIFO); FILE must not be '-' then.
--half-close shut down the write side (SHUT_WR) right after the last write, then read
             until the server closes: everything still pending must come back first.
--timeout S  give up when no byte arrives for S seconds (default 10).
Exit 0 when every byte came back; 1 otherwise, with what went wrong on stderr: "exchange:
cannot connect ...", "exchange: sending failed: REASON", "exchange: got N of M bytes back,
then the server closed the connection" (or "then nothing more came for S s", "then the
connection failed: REASON").
"""
import argparse
import select
import socket
import sys
import threading
import time


def send_all(sock, data, chunk, delay, half_close, failed):
    try:
        for i in range(0, len(data), chunk):
            sock.sendall(data[i:i + chunk])
            if delay and i + chunk < len(data):
                time.sleep(delay)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
    except OSError as e:
        failed.append(e.strerror or type(e).__name__)


def receive(sock, want, timeout):
    """Read until want bytes came back (want None: until EOF). Returns (bytes, how it
    ended: None when want bytes came, else "EOF", "timeout" or the error's text)."""
    got = bytearray()
    sock.settimeout(timeout)
    while want is None or len(got) < want:
        try:
            part = sock.recv(65536)
        except socket.timeout:
            return bytes(got), "timeout"
        except OSError as e:
            return bytes(got), e.strerror or type(e).__name__
        if not part:
            return bytes(got), "EOF"
        got += part
    return bytes(got), None


def ending(how, timeout):
    """How the reading ended, in words."""
    if how == "EOF":
        return "then the server closed the connection"
    if how == "timeout":
        return f"then nothing more came for {timeout:g} s"
    return f"then the connection failed: {how}"


def hold(sock):
    # Wait for stdin EOF (the test lets go) or the server closing (it stopped).
    while True:
        ready, _, _ = select.select([sys.stdin.buffer, sock], [], [])
        if sock in ready and not sock.recv(65536):
            return
        if sys.stdin.buffer in ready and not sys.stdin.buffer.read1(65536):
            return


def main():
    p = argparse.ArgumentParser(description="send bytes to an echo server, print the echo")
    p.add_argument("--chunk", type=int, default=0)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--hold", action="store_true")
    p.add_argument("--half-close", action="store_true")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("file")
    a = p.parse_args()
    if a.file == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(a.file, "rb") as f:
            data = f.read()
    try:
        sock = socket.create_connection((a.host, a.port), timeout=a.timeout)
    except OSError as e:
        print(f"exchange: cannot connect to {a.host} port {a.port}: {e.strerror or e}",
              file=sys.stderr)
        return 1
    failed = []
    writer = threading.Thread(target=send_all,
                              args=(sock, data, a.chunk or max(len(data), 1), a.delay,
                                    a.half_close, failed))
    writer.start()
    got, how = receive(sock, None if a.half_close else len(data), a.timeout)
    if how is not None and how != "EOF":
        try:
            sock.shutdown(socket.SHUT_RDWR)  # a sender still blocked fails now
        except OSError:
            pass
    writer.join()
    sys.stdout.buffer.write(got)
    sys.stdout.buffer.flush()
    if failed:
        print(f"exchange: sending failed: {failed[0]}", file=sys.stderr)
    if len(got) != len(data) or (how is not None and how != "EOF"):
        print(f"exchange: got {len(got)} of {len(data)} bytes back, {ending(how, a.timeout)}",
              file=sys.stderr)
        return 1
    if a.half_close and how != "EOF":
        print("exchange: the server did not close after the half-close", file=sys.stderr)
        return 1
    if failed:
        return 1
    if a.hold:
        sock.settimeout(None)
        hold(sock)
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
