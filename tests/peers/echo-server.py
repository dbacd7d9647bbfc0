#!/usr/bin/env python3
"""echo-server in Python: lesson 03's program written again, to prove that the lesson's tests
judge behaviour, not C. CI runs lesson 03's tests against it:

    make test LESSON=03 USE='echo-server=python3 tests/peers/echo-server.py'

It keeps the same contract as the C program: options, messages, exit codes, one client at
a time, every byte echoed, SIGINT/SIGTERM exit 0."""

import errno
import os
import signal
import socket
import sys
import time

NAME = "echo-server"
USAGE = "usage: echo-server [-b ADDR] [--once] [-q] PORT"
BACKLOG = 128
RETRY_SECONDS = 0.1
# accept() errors that concern the connection being accepted, not the server (Linux's
# accept(2)): log the error and accept the next client.
ONE_CLIENT_ERRORS = {errno.EPROTO, errno.ENOPROTOOPT, errno.EHOSTDOWN, errno.EHOSTUNREACH,
                     errno.EOPNOTSUPP, errno.ENETUNREACH, errno.ENETDOWN, errno.EPERM,
                     getattr(errno, "ENONET", errno.EPROTO)}


class Stop(Exception):
    """SIGINT or SIGTERM arrived: leave whatever call is blocked, close, exit 0."""


def bad_usage(message):
    print(f"{NAME}: {message}\n{USAGE}", file=sys.stderr)
    sys.exit(2)


def parse(argv):
    opts = {"addr": "127.0.0.1", "once": False, "quiet": False}
    words = []
    args = iter(argv)
    for arg in args:
        if arg in ("-h", "--help"):
            print(USAGE + "\nEcho every byte each client sends, one client at a time.")
            sys.exit(0)
        elif arg in ("-b", "--bind"):
            value = next(args, None)
            if value is None:
                bad_usage(f"option {arg} needs a value")
            opts["addr"] = value
        elif arg.startswith("--bind="):
            opts["addr"] = arg[len("--bind="):]
        elif arg in ("-q", "--quiet"):
            opts["quiet"] = True
        elif arg == "--once":
            opts["once"] = True
        elif arg.startswith("--") and "=" in arg and arg.split("=")[0] in ("--once", "--quiet", "--help"):
            bad_usage(f"option {arg.split('=')[0]} takes no value: {arg}")
        elif arg.startswith("--"):
            bad_usage(f"unknown option: {arg.split('=')[0]}")
        elif arg.startswith("-") and len(arg) > 1:
            bad_usage(f"unknown option: -{arg[1]}")
        else:
            words.append(arg)
    if not words:
        bad_usage("missing PORT")
    if len(words) > 1:
        bad_usage(f"unexpected argument: {words[1]}")
    port = words[0]
    if not port.isdigit() or len(port) > 5 or int(port) > 65535:
        bad_usage(f"port must be a number from 0 to 65535: {port}")
    opts["port"] = port
    return opts


def endpoint(address):
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listen(addr, port):
    try:
        infos = socket.getaddrinfo(addr, int(port), socket.AF_UNSPEC, socket.SOCK_STREAM, 0,
                                   socket.AI_PASSIVE)
    except socket.gaierror as e:
        fail(f"cannot listen on {addr} port {port}: {e.strerror}")
    reason = "no address"
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind(address)
            sock.listen(BACKLOG)
            return sock
        except OSError as e:
            reason = e.strerror
            sock.close()
    fail(f"cannot listen on {addr} port {port}: {reason}")


def fail(message):
    print(f"{NAME}: {message}", file=sys.stderr)
    sys.exit(1)


def log(opts, text):
    if not opts["quiet"]:
        print(text, file=sys.stderr, flush=True)


def serve(conn, who, opts):
    """Echo until EOF; every byte goes back before the next read (sendall resends)."""
    log(opts, f"connection from {who}")
    reason = None
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
    except OSError as e:
        reason = e.strerror
    finally:
        conn.close()
        log(opts, f"closed {who}" + (f": {reason}" if reason else ""))


def main():
    opts = parse(sys.argv[1:])

    def on_stop(signo, frame):
        raise Stop()

    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGTERM, on_stop)
    listener = listen(opts["addr"], opts["port"])
    print(f"listening on {endpoint(listener.getsockname())}", flush=True)
    shortage_told = False
    try:
        while True:
            try:
                conn, peer = listener.accept()
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    if not shortage_told:
                        print(f"{NAME}: accept: {e.strerror}: trying again every 100 ms",
                              file=sys.stderr, flush=True)
                    shortage_told = True
                    time.sleep(RETRY_SECONDS)
                    continue
                if e.errno == errno.ECONNABORTED:
                    continue
                if e.errno in ONE_CLIENT_ERRORS:  # that connection failed, not the server
                    print(f"{NAME}: accept: {e.strerror}: skipping that connection", file=sys.stderr, flush=True)
                    continue
                fail(f"accept: {e.strerror}")
            serve(conn, endpoint(peer), opts)
            if opts["once"]:
                break
    except Stop:
        pass
    finally:
        listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
