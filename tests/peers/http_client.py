#!/usr/bin/env python3
"""http_client.py - python's http.client against a server: keep-alive, HEAD, status codes.

usage: http_client.py HOST PORT METHOD:PATH...

Sends the requests one after another on one connection (http.client.HTTPConnection, which
reuses it as long as the server keeps it open) and prints, for each, one line
"METHOD PATH STATUS REASON length=N sha256=HEX12 type=CONTENT-TYPE", then
"connections: N", the number of TCP connections it needed.
"""
import hashlib
import http.client
import sys


def main():
    host, port, requests = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    sockets = set()
    for item in requests:
        method, path = item.split(":", 1)
        conn.request(method, path)
        sockets.add(id(conn.sock))
        resp = conn.getresponse()
        body = resp.read()
        digest = hashlib.sha256(body).hexdigest()[:12]
        print(f"{method} {path} {resp.status} {resp.reason} length={len(body)} "
              f"sha256={digest} type={resp.getheader('Content-Type')}")
    conn.close()
    print(f"connections: {len(sockets)}")


if __name__ == "__main__":
    main()
