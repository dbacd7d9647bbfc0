#!/usr/bin/env python3
"""udp_relay.py - a UDP relay that loses, duplicates, delays and reorders datagrams on purpose.

usage: udp_relay.py [-b ADDR] [--up SCRIPT] [--down SCRIPT]
                    [--seed N] [--drop P] [--dup P] [--reorder P] [--delay MS]
                    SERVER_HOST SERVER_PORT

It binds ADDR (default 127.0.0.1) on a free port, prints "listening on ADDR:PORT" (flushed),
and relays every datagram a client sends it to the server, from a socket of its own for each
client, and every reply back to that client. What happens to each datagram is decided, in
order, per direction ("up": client to server, "down": server to client):

  - first by the SCRIPT of that direction, a comma-separated list of actions, one per
    datagram: pass, drop, dup (sent twice), hold (kept, and sent right after the next
    datagram in the same direction: the two swap), delay=MS (sent MS milliseconds later);
  - once the script is used up, at random from --seed N with the probabilities --drop,
    --dup and --reorder (a reorder is a hold) and otherwise pass: the same seed gives the
    same decisions for the same datagrams;
  - without --seed, pass.

--delay MS delays every datagram passed at random, by up to MS milliseconds.

One line per datagram on stderr: its direction and number, the client, its first bytes,
and what happened to it ("request 1 from 127.0.0.1:40000 "5f1c2a9e-1": dropped"). SIGTERM or
SIGINT ends it with exit status 0.
"""
import argparse
import heapq
import random
import selectors
import signal
import socket
import sys
import time


def shown(data, limit=40):
    text = "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x22 else "." for b in data[:limit])
    return '"%s%s"' % (text, "..." if len(data) > limit else "")


def endpoint(addr):
    host, port = addr[0], addr[1]
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


class Direction:
    """The decisions for one direction: its script first, then the seeded dice."""

    def __init__(self, name, script, rng, args):
        self.name = name
        self.script = [a for a in script.split(",") if a] if script else []
        self.rng = rng
        self.args = args
        self.count = 0
        self.held = []  # (send function, label) kept by "hold"

    def decide(self):
        self.count += 1
        if self.script:
            return self.script.pop(0)
        if self.rng is None:
            return "pass"
        r = self.rng.random()
        if r < self.args.drop:
            return "drop"
        r -= self.args.drop
        if r < self.args.dup:
            return "dup"
        r -= self.args.dup
        if r < self.args.reorder:
            return "hold"
        return "pass"


class Relay:
    def __init__(self, args):
        self.args = args
        rng = random.Random(args.seed) if args.seed is not None else None
        self.delay_rng = random.Random(args.seed if args.seed is not None else 0)
        self.up = Direction("request", args.up, rng, args)
        self.down = Direction("reply", args.down, rng, args)
        family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
        self.listen = socket.socket(family, socket.SOCK_DGRAM)
        self.listen.bind((args.bind, 0))
        self.server = socket.getaddrinfo(args.host, args.port, 0, socket.SOCK_DGRAM)[0]
        self.upstream = {}  # client address -> socket connected to the server
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listen, selectors.EVENT_READ, None)
        self.timers = []  # (due, sequence, function)
        self.seq = 0

    def log(self, direction, client, data, what):
        print("%s %d %s %s %s: %s" % (direction.name, direction.count,
                                      "from" if direction is self.up else "to",
                                      endpoint(client), shown(data), what),
              file=sys.stderr, flush=True)

    def later(self, ms, fn):
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + ms / 1000.0, self.seq, fn))

    def handle(self, direction, client, data, send):
        action = direction.decide()
        if action == "drop":
            self.log(direction, client, data, "dropped")
            return
        if action == "hold":
            self.log(direction, client, data, "held back, to go after the next one")
            direction.held.append(send)
            return
        if action.startswith("delay="):
            ms = int(action.split("=", 1)[1])
            self.log(direction, client, data, "delayed %d ms" % ms)
            self.later(ms, send)
            return
        copies = 2 if action == "dup" else 1
        self.log(direction, client, data, "duplicated" if copies == 2 else "passed")
        for _ in range(copies):
            if self.args.delay > 0:
                self.later(self.delay_rng.uniform(0, self.args.delay), send)
            else:
                send()
        released, direction.held = direction.held, []
        for fn in released:
            fn()

    def upstream_for(self, client):
        sock = self.upstream.get(client)
        if sock is None:
            family, kind, proto, _, addr = self.server
            sock = socket.socket(family, kind, proto)
            sock.connect(addr)
            self.upstream[client] = sock
            self.sel.register(sock, selectors.EVENT_READ, client)
        return sock

    def from_client(self):
        data, client = self.listen.recvfrom(65536)
        sock = self.upstream_for(client)

        def send():
            try:
                sock.send(data)
            except OSError as e:  # the server refused (ICMP): the client will time out
                print("request to server: %s" % e.strerror, file=sys.stderr, flush=True)

        self.handle(self.up, client, data, send)

    def from_server(self, sock, client):
        try:
            data = sock.recv(65536)
        except OSError as e:
            print("reply from server: %s" % e.strerror, file=sys.stderr, flush=True)
            return

        def send():
            self.listen.sendto(data, client)

        self.handle(self.down, client, data, send)

    def run(self):
        host, port = self.listen.getsockname()[:2]
        print("listening on %s" % endpoint((host, port)), flush=True)
        while True:
            timeout = None
            if self.timers:
                timeout = max(0.0, self.timers[0][0] - time.monotonic())
            for key, _ in self.sel.select(timeout):
                if key.data is None:
                    self.from_client()
                else:
                    self.from_server(key.fileobj, key.data)
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                heapq.heappop(self.timers)[2]()


def main():
    p = argparse.ArgumentParser(description="A UDP relay that loses datagrams on purpose.")
    p.add_argument("-b", "--bind", default="127.0.0.1")
    p.add_argument("--up", default="", help="actions for client-to-server datagrams")
    p.add_argument("--down", default="", help="actions for server-to-client datagrams")
    p.add_argument("--seed", type=int)
    p.add_argument("--drop", type=float, default=0.0)
    p.add_argument("--dup", type=float, default=0.0)
    p.add_argument("--reorder", type=float, default=0.0)
    p.add_argument("--delay", type=float, default=0.0, help="random delay, up to MS")
    p.add_argument("host")
    p.add_argument("port", type=int)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    Relay(args).run()


if __name__ == "__main__":
    main()
