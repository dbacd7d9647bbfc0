#!/usr/bin/env python3
"""http_pyserver.py - python's own http.server serving a directory, for testing clients.

usage: http_pyserver.py DIR

Serves DIR with http.server's SimpleHTTPRequestHandler on 127.0.0.1, a free port; prints
"listening on 127.0.0.1:PORT" (flushed) and exits 0 on SIGTERM. Its log goes to stderr.
"""
import functools
import http.server
import signal
import sys


def main():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
