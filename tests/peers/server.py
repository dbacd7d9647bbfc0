#!/usr/bin/env python3
"""server.py - a misbehaving or unusual line server, for testing clients.

usage: server.py [--mode MODE] [-b ADDR] [PORT]

Listens on ADDR (default 127.0.0.1) port PORT (default 0: any free port), prints
"listening on ADDR:PORT" (flushed, the kit's contract, so start_server works with it) and
serves clients one at a time until SIGTERM or SIGINT, then exits 0. A line ends at LF, CRLF
or a lone CR. MODE:
  silent        read and discard everything, never answer (a client's --timeout must fire)
  close         wait for the first bytes, then close without answering (the client sees EOF)
  crlf          answer each line with the line and CRLF
  cr            answer each line with the line and a lone CR
  pieces        answer each line in three writes 30 ms apart: its first half, its second
                half, then LF (one reply, three reads)
  split-crlf    answer each line with the line and CR, then 50 ms later the LF (a CRLF split
                across two reads)
  endless       on the first bytes, send "x" without a line end, until the client goes away
                (32 MiB at most), then wait for it to close
  last-word     echo each line; once the client half-closes, say "that was N lines" (no line
                end) and close
  summary       echo each line; once the client half-closes, say in one write
                "N lines\\nfirst: FIRST\\nlast: LAST\\n" and close (several lines in one read)
  never-closes  echo each line; once the client half-closes, keep the connection open
"""
import argparse
import re
import signal
import socket
import sys
import time

# A line ends at LF, CRLF, or a lone CR not at the very end (its LF may follow).
LINE_END = re.compile(rb"\r\n|\n|\r(?=.)", re.S)


def lines_of(conn):
    """Yield each line the client sends, without its ending; the unterminated rest at EOF."""
    pending = b""
    while True:
        data = conn.recv(65536)
        if not data:
            break
        pending += data
        while True:
            m = LINE_END.search(pending)
            if not m:
                break
            yield pending[:m.start()]
            pending = pending[m.end():]
    if pending.rstrip(b"\r"):
        yield pending.rstrip(b"\r")


def endless(conn):
    block = b"x" * 65536
    try:
        for _ in range(512):
            conn.sendall(block)
    except OSError:
        return
    while conn.recv(65536):
        pass


def serve(conn, mode, kept):
    if mode == "close":
        conn.recv(65536)
        return
    if mode == "silent":
        while conn.recv(65536):
            pass
        return
    if mode == "endless":
        conn.recv(65536)
        endless(conn)
        return
    seen = []
    for line in lines_of(conn):
        seen.append(line)
        if mode == "crlf":
            conn.sendall(line + b"\r\n")
        elif mode == "cr":
            conn.sendall(line + b"\r")
        elif mode == "pieces":
            half = len(line) // 2
            for part in (line[:half], line[half:], b"\n"):
                conn.sendall(part)
                time.sleep(0.03)
        elif mode == "split-crlf":
            conn.sendall(line + b"\r")
            time.sleep(0.05)
            conn.sendall(b"\n")
        else:
            conn.sendall(line + b"\n")
    # The client has half-closed: its input has ended.
    if mode == "last-word":
        conn.sendall(b"that was %d lines" % len(seen))
    elif mode == "summary" and seen:
        conn.sendall(b"%d lines\nfirst: %s\nlast: %s\n" % (len(seen), seen[0], seen[-1]))
    elif mode == "never-closes":
        kept.append(conn.dup())


def main():
    p = argparse.ArgumentParser(description="a line server for testing clients")
    p.add_argument("--mode", default="silent",
                   choices=["silent", "close", "crlf", "cr", "pieces", "split-crlf", "endless",
                            "last-word", "summary", "never-closes"])
    p.add_argument("-b", dest="addr", default="127.0.0.1")
    p.add_argument("port", type=int, nargs="?", default=0)
    a = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    family = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((a.addr, a.port))
    lsock.listen(16)
    port = lsock.getsockname()[1]
    shown = f"[{a.addr}]" if family == socket.AF_INET6 else a.addr
    print(f"listening on {shown}:{port}", flush=True)
    kept = []
    while True:
        conn, _ = lsock.accept()
        with conn:
            try:
                serve(conn, a.mode, kept)
            except OSError:
                pass


if __name__ == "__main__":
    sys.exit(main())
