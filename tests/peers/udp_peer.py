#!/usr/bin/env python3
"""udp_peer.py - send exact datagrams back to back, print exactly what comes back.

usage: udp_peer.py [--expect N] [--wait MS] [--from] HOST PORT DATAGRAM...

Sends each DATAGRAM as one datagram, one sendto() each, without waiting in between, from one
socket (not connected), then prints every datagram that comes back, one line each:
  LEN "BYTES"
with bytes outside printable ASCII (and the quote and backslash) written as \\xNN; --from adds
" from ADDR:PORT", the address the datagram came from (a socket that is not connected takes
datagrams from anyone, so it sees a reply a connected one would drop). It stops
after --expect datagrams (default: as many as it sent), or once --wait ms (default 1000)
pass without one. A DATAGRAM is its text, or zeros:N (N zero bytes), or x:N (N bytes "x"),
or empty: (an empty datagram). Exit status 0, or 1 when fewer came back than expected.
"""
import argparse
import socket
import sys


def datagram(spec):
    if spec.startswith("zeros:"):
        return bytes(int(spec[6:]))
    if spec.startswith("x:"):
        return b"x" * int(spec[2:])
    if spec == "empty:":
        return b""
    return spec.encode()


def shown(data):
    return "".join(chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C) else "\\x%02x" % b
                   for b in data)


def endpoint(addr):
    host, port = addr[0], addr[1]
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--expect", type=int)
    p.add_argument("--wait", type=int, default=1000)
    p.add_argument("--from", dest="sender", action="store_true")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("datagrams", nargs="+")
    args = p.parse_args()
    family, kind, proto, _, addr = socket.getaddrinfo(args.host, args.port, 0,
                                                      socket.SOCK_DGRAM)[0]
    s = socket.socket(family, kind, proto)
    for spec in args.datagrams:
        s.sendto(datagram(spec), addr)
    expect = args.expect if args.expect is not None else len(args.datagrams)
    s.settimeout(args.wait / 1000.0)
    got = 0
    while got < expect:
        try:
            data, source = s.recvfrom(65536)
        except socket.timeout:
            break
        sender = " from %s" % endpoint(source) if args.sender else ""
        print('%d "%s"%s' % (len(data), shown(data), sender), flush=True)
        got += 1
    sys.exit(0 if got >= expect else 1)


if __name__ == "__main__":
    main()
