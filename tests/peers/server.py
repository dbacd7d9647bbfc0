#!/usr/bin/env python3
"""server.py - a misbehaving or unusual line server, for testing clients.

usage: server.py [--mode MODE] [-b ADDR] [PORT]

Listens on ADDR (default 127.0.0.1) port PORT (default 0: any free port), prints
"listening on ADDR:PORT" (flushed, the kit's contract, so start_server works with it) and
serves clients one at a time until SIGTERM or SIGINT, then exits 0. MODE:
  silent  read and discard everything, never answer (a client's --timeout must fire)
  close   wait for the first bytes, then close without answering (the client sees EOF)
  crlf    answer each line (LF, CRLF or CR terminated) with the line and CRLF
  cr      answer each line with the line and a lone CR
"""
import argparse
import re
import signal
import socket
import sys


def serve(conn, mode):
    pending = b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        if mode == "close":
            return
        if mode == "silent":
            continue
        pending += data
        ending = b"\r\n" if mode == "crlf" else b"\r"
        # A line ends at LF, CRLF or a lone CR not at the very end (its LF may follow).
        while True:
            m = re.search(rb"\r\n|\n|\r(?=.)", pending, re.S)
            if not m:
                break
            conn.sendall(pending[:m.start()] + ending)
            pending = pending[m.end():]


def main():
    p = argparse.ArgumentParser(description="a line server for testing clients")
    p.add_argument("--mode", choices=["silent", "close", "crlf", "cr"], default="silent")
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
    while True:
        conn, _ = lsock.accept()
        with conn:
            try:
                serve(conn, a.mode)
            except OSError:
                pass


if __name__ == "__main__":
    sys.exit(main())
