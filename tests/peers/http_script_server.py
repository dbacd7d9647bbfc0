#!/usr/bin/env python3
"""http_script_server.py - an HTTP server that answers with scripted bytes, for clients.

usage: http_script_server.py [-b ADDR] DIR

Listens on ADDR (default 127.0.0.1) on a free port, prints "listening on ADDR:PORT"
(flushed: start_server reads it) and serves each connection in a thread of its own until
SIGTERM, then exits 0. For each connection it reads the request head and takes the last component of
its path, NAME ("/a/b?x" gives "b", "/" gives "index"):
  - DIR/NAME is sent exactly as it is (a whole raw response: status line, headers,
    body, right or wrong on purpose), with every "{PORT}" replaced by the port; then the
    connection is closed;
  - DIR/NAME.hold is sent the same way, and the connection is held open until the
    client closes it (a server that stops in the middle);
  - anything else gets a 404.
Each request head received is appended to DIR/requests.log.
"""
import os
import signal
import socket
import sys
import threading


def name_of(head):
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    path = parts[1] if len(parts) > 1 else "/"
    path = path.split("?", 1)[0].rstrip("/")
    return path.rsplit("/", 1)[-1] or "index"


def serve(conn, directory, port):
    with conn:
        answer(conn, directory, port)


def answer(conn, directory, port):
    head = b""
    while b"\r\n\r\n" not in head:
        got = conn.recv(65536)
        if not got:
            return
        head += got
    with open(os.path.join(directory, "requests.log"), "ab") as log:
        log.write(head)
    name = name_of(head)
    hold = False
    path = os.path.join(directory, name)
    if os.path.isfile(path + ".hold"):
        path, hold = path + ".hold", True
    if os.path.isfile(path):
        with open(path, "rb") as f:
            reply = f.read().replace(b"{PORT}", str(port).encode())
    else:
        reply = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    try:
        conn.sendall(reply)
        while hold and conn.recv(65536):
            pass
    except (BrokenPipeError, ConnectionResetError):
        pass


def main():
    args = sys.argv[1:]
    addr = "127.0.0.1"
    if len(args) == 3 and args[0] == "-b":
        addr, args = args[1], args[2:]
    if len(args) != 1:
        sys.exit("usage: http_script_server.py [-b ADDR] DIR")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((addr, 0))
    lsock.listen(16)
    port = lsock.getsockname()[1]
    shown = f"[{addr}]" if family == socket.AF_INET6 else addr
    print(f"listening on {shown}:{port}", flush=True)
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=serve, args=(conn, args[0], port), daemon=True).start()


if __name__ == "__main__":
    main()
