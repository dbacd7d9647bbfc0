#!/usr/bin/env python3
"""exchange.py - send bytes to an echo server, read as many back, print what came back.

usage: exchange.py [--chunk N] [--delay SECS] [--hold | --half-close] [--timeout SECS]
                   HOST PORT FILE

Sends the bytes of FILE ('-': stdin) to HOST:PORT (IPv4 or IPv6 address or name) in writes
of at most N bytes (default: one write), sleeping SECS between writes (the "drip" peer:
--chunk 1 --delay 0.01), while a second thread reads. Without --half-close it never
half-closes: an echo server must answer without waiting for EOF. Once as many bytes came
back as were sent it writes them to stdout, raw, and flushes.
--hold       then keep the connection open until stdin reaches EOF or the server closes
             (tests drive this with a FIFO); FILE must not be '-' then.
--half-close shut down the write side (SHUT_WR) right after the last write, then read
             until the server closes: everything still pending must come back first.
--timeout S  give up when no byte arrives for S seconds (default 10).
Exit 0 when every byte came back; 1 with one line on stderr otherwise.
"""
import argparse
import select
import socket
import sys
import threading
import time


def send_all(sock, data, chunk, delay, half_close):
    for i in range(0, len(data), chunk):
        sock.sendall(data[i:i + chunk])
        if delay and i + chunk < len(data):
            time.sleep(delay)
    if half_close:
        sock.shutdown(socket.SHUT_WR)


def receive(sock, want, timeout):
    """Read until want bytes came back (want None: until EOF). Returns (bytes, saw EOF)."""
    got = bytearray()
    sock.settimeout(timeout)
    while want is None or len(got) < want:
        try:
            part = sock.recv(65536)
        except socket.timeout:
            break
        if not part:
            return bytes(got), True
        got += part
    return bytes(got), False


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
    sock = socket.create_connection((a.host, a.port), timeout=a.timeout)
    writer = threading.Thread(target=send_all,
                              args=(sock, data, a.chunk or max(len(data), 1), a.delay,
                                    a.half_close))
    writer.start()
    got, eof = receive(sock, None if a.half_close else len(data), a.timeout)
    writer.join()
    sys.stdout.buffer.write(got)
    sys.stdout.buffer.flush()
    if len(got) != len(data):
        print(f"exchange: got {len(got)} of {len(data)} bytes back", file=sys.stderr)
        return 1
    if a.half_close and not eof:
        print("exchange: the server did not close after the half-close", file=sys.stderr)
        return 1
    if a.hold:
        sock.settimeout(None)
        hold(sock)
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
