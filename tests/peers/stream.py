#!/usr/bin/env python3
"""stream.py - push BYTES random bytes through an echo server and compare checksums.

usage: stream.py [--chunk N] HOST PORT BYTES

One thread sends BYTES bytes of os.urandom data in writes of N bytes (default 65536) and
then half-closes (shutdown SHUT_WR); the main thread reads concurrently until EOF, so
neither side's buffers can fill up and deadlock. Prints two lines:
    sent BYTES SHA256
    received BYTES SHA256
The test compares them. Exit 0 when the connection ended normally (EOF), 1 otherwise.
"""
import argparse
import hashlib
import os
import socket
import sys
import threading


def sender(sock, total, chunk, result):
    digest = hashlib.sha256()
    left = total
    while left > 0:
        block = os.urandom(min(chunk, left))
        sock.sendall(block)
        digest.update(block)
        left -= len(block)
    sock.shutdown(socket.SHUT_WR)
    result["sent"] = f"{total} {digest.hexdigest()}"


def main():
    p = argparse.ArgumentParser(description="stream random bytes through an echo server")
    p.add_argument("--chunk", type=int, default=65536)
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("bytes", type=int)
    a = p.parse_args()
    sock = socket.create_connection((a.host, a.port))
    result = {}
    writer = threading.Thread(target=sender, args=(sock, a.bytes, a.chunk, result))
    writer.start()
    digest = hashlib.sha256()
    count = 0
    while True:
        part = sock.recv(262144)
        if not part:
            break
        digest.update(part)
        count += len(part)
    writer.join()
    sock.close()
    print("sent", result.get("sent", "nothing"))
    print(f"received {count} {digest.hexdigest()}")
    return 0 if "sent" in result else 1


if __name__ == "__main__":
    sys.exit(main())
