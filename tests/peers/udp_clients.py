#!/usr/bin/env python3
"""udp_clients.py - many quote clients at once, from one process, every reply matched by tag.

usage: udp_clients.py [--clients N] [--timeout MS] [--tries N] HOST PORT QUOTES_FILE

Opens N UDP sockets (default 1000), each connected to HOST PORT, and sends from every one of
them, all at once, a request whose tag names the client and the try ("client-17-try-1").
Each reply must be that tag, a space and one of the lines of QUOTES_FILE. A client with no
reply after --timeout ms (default 300) sends again with the next try's tag, up to --tries
(default 5) tries: the server's socket can hold only so many waiting datagrams, and the ones
that find it full are dropped by the kernel, as any datagram may be.

Prints one line:
  clients N, answered N, wrong 0, tries T, distinct quotes Q
and exits 0 when every client got a right reply to its own request, else 1 (and names the
first few faults on stderr).
"""
import argparse
import selectors
import socket
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("--tries", type=int, default=5)
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("quotes")
    args = p.parse_args()
    with open(args.quotes, "rb") as f:
        quotes = {line.rstrip(b"\r") for line in f.read().split(b"\n") if line.rstrip(b"\r")}

    family, kind, proto, _, addr = socket.getaddrinfo(args.host, args.port, 0,
                                                      socket.SOCK_DGRAM)[0]
    sel = selectors.DefaultSelector()
    socks, tries, sent_at, answer = [], [], [], {}
    faults = []

    def send(i):
        tries[i] += 1
        sent_at[i] = time.monotonic()
        socks[i].send(b"client-%d-try-%d" % (i, tries[i]))

    for i in range(args.clients):
        s = socket.socket(family, kind, proto)
        s.setblocking(False)
        s.connect(addr)
        socks.append(s)
        tries.append(0)
        sent_at.append(0.0)
        sel.register(s, selectors.EVENT_READ, i)
    for i in range(args.clients):
        send(i)

    wrong = 0
    deadline_step = args.timeout / 1000.0
    while len(answer) < args.clients:
        now = time.monotonic()
        waiting = [i for i in range(args.clients) if i not in answer]
        late = [i for i in waiting if now - sent_at[i] >= deadline_step]
        for i in late:
            if tries[i] >= args.tries:
                faults.append("client %d: no reply after %d tries" % (i, tries[i]))
                answer[i] = None
            else:
                send(i)
        if len(answer) == args.clients:
            break
        soonest = min(sent_at[i] for i in range(args.clients) if i not in answer)
        for key, _ in sel.select(max(0.0, soonest + deadline_step - time.monotonic())):
            i = key.data
            try:
                data = key.fileobj.recv(65536)
            except OSError as e:
                faults.append("client %d: %s" % (i, e.strerror))
                answer[i] = None
                sel.unregister(key.fileobj)
                continue
            if i in answer:
                continue  # a duplicate, after the reply was taken
            tag, _, quote = data.partition(b" ")
            if not tag.startswith(b"client-%d-try-" % i) or quote not in quotes:
                wrong += 1
                faults.append("client %d: wrong reply %r" % (i, data[:60]))
                answer[i] = None
            elif tag == b"client-%d-try-%d" % (i, tries[i]):
                answer[i] = quote
            # else: the reply to an earlier try, late: wait for the latest one

    answered = sum(1 for q in answer.values() if q is not None)
    distinct = len({q for q in answer.values() if q is not None})
    print("clients %d, answered %d, wrong %d, tries %d, distinct quotes %d"
          % (args.clients, answered, wrong, sum(tries), distinct))
    for fault in faults[:5]:
        print("udp_clients: " + fault, file=sys.stderr)
    for s in socks:
        s.close()
    sys.exit(0 if answered == args.clients else 1)


if __name__ == "__main__":
    main()
